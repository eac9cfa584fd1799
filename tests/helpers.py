"""Helpers for tests: build sites, parse their HTML, snapshot folders."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from site_gen.build import build_site

REPO = Path(__file__).resolve().parent.parent
SEED_TEXT = REPO.parent / "shared" / "seeds" / "000_05d8cabf3faf2b39.txt"
SEED_SOURCE = REPO / "content" / "2022" / "liangshan-xiang.md"


def build(site: Path, **kwargs):
    return build_site(site, **kwargs)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "site_gen", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def internal_links(output: Path):
    """(page, link, resolved file) for every internal href/src in the site."""
    for page in sorted(output.rglob("*.html")):
        doc = soup(page)
        for tag in doc.find_all(["a", "link", "script", "img"]):
            url = tag.get("href") or tag.get("src")
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("#"):
                continue
            path = unquote(parts.path)
            if path.startswith("/"):
                target = output / path.lstrip("/")
            else:
                target = (page.parent / path)
            if url.endswith("/") or target.is_dir():
                target = target / "index.html"
            yield page.relative_to(output).as_posix(), url, target


def seed_numbers_in_order() -> list[str]:
    """Every table figure of the raw seed, in the order it prints them."""
    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    return [line[:-2] for line in lines if line.endswith(" |") and re.fullmatch(r"-?\d+(\.\d+)?", line[:-2])]
