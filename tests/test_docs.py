"""The docs agree with the code: every setting documented, the quick start's
commands work as written, links between documents resolve."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from helpers import REPO
from site_gen.config import _TYPES
from site_gen.model import REPORT_KEYS, SOURCE_KEYS

DOCS = REPO / "docs"
OWN_DOCS = ("index.md", "quickstart.md", "sources.md", "checks.md", "deploying.md", "theming.md",
            "configuration.md")


def run_blocks(markdown: str) -> list[str]:
    """The ```sh blocks right after a `<!-- run -->` line, in order."""
    return re.findall(r"<!-- run -->\n```sh\n(.*?)```", markdown, re.S)


def test_configuration_doc_mentions_every_setting():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert rows == set(_TYPES), sorted(rows ^ set(_TYPES))


def test_sources_doc_mentions_every_frontmatter_key():
    text = (DOCS / "sources.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert rows == set(REPORT_KEYS), sorted(rows ^ set(REPORT_KEYS))
    for key in SOURCE_KEYS:
        assert f"`{key}`" in text, key


def test_docs_links_resolve():
    documents = [REPO / "README.md"] + [DOCS / name for name in OWN_DOCS]
    for doc in documents:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).is_file(), (doc.name, target)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in ("quickstart", "sources", "importing", "checks", "preview", "deploying", "configuration",
                 "theming", "search", "data"):
        assert f"({name}.md)" in index, name
    assert "docs/index.md" in (REPO / "README.md").read_text(encoding="utf-8")


def test_quickstart_commands_work_as_written(tmp_path):
    """Run the quick start's marked blocks in order in an empty folder
    (`site-gen serve` blocks, so only its --help is run)."""
    blocks = run_blocks((DOCS / "quickstart.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    script = "\n".join(blocks)
    assert "site-gen new" in script and "site-gen build" in script and "site-gen serve" in script
    script = re.sub(r"^site-gen serve\b.*$", "site-gen serve --help >/dev/null", script, flags=re.M)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "site-gen").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m site_gen "$@"\n')
    (shim / "site-gen").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(REPO))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (work / "my-archive" / "output" / "2023" / "example-bureau" / "index.html").is_file()
    assert (work / "my-archive-offline" / "index.html").is_file()


def test_quickstart_error_example_is_what_check_prints(tmp_path):
    """The mistake the quick start shows is printed exactly so."""
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    shown = re.search(r"```\n(content/2023/example-bureau\.md:.*?)\n```", text, re.S).group(1)
    source = re.search(r"cat > content/2023/example-bureau.md <<'EOF'\n(.*?)\nEOF", text, re.S).group(1)
    site = tmp_path / "site"
    (site / "content" / "2023").mkdir(parents=True)
    (site / "content" / "2023" / "example-bureau.md").write_text(
        source.replace("level: county", "level: countty"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "site_gen", "check", str(site)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert shown in done.stdout + done.stderr
