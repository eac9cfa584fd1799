"""Shared fixtures: small sites declared inline, and a real Chromium."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "content" / "2022" / "liangshan-xiang.md"


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create a small site from {relative path: text} (text is dedented)."""
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path):
    """Return a function that lays out a site in a fresh folder."""

    def make(files: dict[str, str | bytes], *, with_seed: bool = False) -> Path:
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        if with_seed:
            (root / "content" / "2022").mkdir(parents=True, exist_ok=True)
            shutil.copy(SEED, root / "content" / "2022" / SEED.name)
        return write_files(root, files)

    return make


def _browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(CHROMIUM)


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright.

    Skips only outside CI; in CI (CI=true) a missing browser is a failure.
    """
    if not _browser_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install Debian's chromium and playwright for browser tests")
        pytest.skip("chromium or playwright not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()
