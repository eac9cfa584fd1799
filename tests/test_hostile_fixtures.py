"""Replay every input that once broke site-gen (tests/fixtures/hostile/*.md):
each must end in a report or a located error, quickly, in a fresh process."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import FIXTURES

HOSTILE = sorted(p for p in (FIXTURES / "hostile").glob("*.md") if p.name != "README.md")
SCRIPT = """
import sys
from pathlib import Path
from site_gen.content import MarkdownRenderer, read_source
from site_gen.errors import BuildFailed, SiteGenError
from site_gen.model import report_from_source
path = Path(sys.argv[1])
try:
    report_from_source(read_source(path, path.parent), MarkdownRenderer())
    print("ok")
except (SiteGenError, BuildFailed) as exc:
    errors = exc.errors if isinstance(exc, BuildFailed) else [exc]
    assert all(e.path == path.name for e in errors), errors
    print("refused:", errors[0])
"""


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_hostile_fixture_ends_in_result_or_located_error(path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(("ok", "refused: " + path.name + ":"))
