"""`site-gen new DIR`: a ready archive skeleton that builds at once.

The skeleton is the folder `skeleton/` beside this module: a commented
site.yaml, an example report (the seed report), an about page and an empty
theme folder with a README.  Nothing is ever overwritten: the target must be
missing or an empty folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import SiteGenError

SKELETON = Path(__file__).resolve().parent / "skeleton"
# Files stored under another name in the package (a dot file would be skipped by packaging).
RENAMED = {"gitignore.txt": ".gitignore"}


def skeleton_files() -> dict[str, Path]:
    """Relative path in the new site -> file in the package, sorted."""
    files = {}
    for path in sorted(SKELETON.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(SKELETON).as_posix()
            files[RENAMED.get(rel, rel)] = path
    return files


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise SiteGenError("exists and is not a folder", str(target), None, None,
                           "name a new folder; site-gen new never overwrites anything")
    if target.is_dir() and any(target.iterdir()):
        raise SiteGenError("the folder is not empty", str(target), None, None,
                           "name a new or empty folder; site-gen new never overwrites your files")


def create_site(target: Path) -> list[Path]:
    """Create an archive skeleton in `target` (missing or empty); return the files made."""
    target = Path(target)
    _check_target(target)
    target.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for rel, source in skeleton_files().items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": fail rather than overwrite, even if a file appeared meanwhile
        with open(path, "xb") as handle:
            handle.write(source.read_bytes())
        made.append(path)
    for folder in ("themes/site/templates", "themes/site/static"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    return made


def next_steps(target: Path) -> str:
    """What to do after `site-gen new`, for the command line."""
    where = os.path.relpath(target) if not Path(target).is_absolute() else str(target)
    return (f"created an archive in {where}\n"
            "next:\n"
            f"  cd {where}\n"
            "  site-gen serve          # preview at http://127.0.0.1:8000/ while you edit\n"
            "  site-gen build          # write the site into output/\n"
            "then add one Markdown file per report under content/<year>/ (see docs/sources.md)")
