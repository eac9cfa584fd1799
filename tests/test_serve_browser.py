"""The dev server end to end in Chromium: edit, break, fix, and watch the open page follow."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SEED

pytestmark = pytest.mark.browser

WAIT_MS = 5000
PAGE = "2022/liangshan-xiang/"


def start(site: Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    """`site-gen serve` in a subprocess and the URL it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "site_gen", "serve", str(site), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if m := re.search(r"serving (http://\S+)", line):
            return proc, m.group(1)
    stop(proc)
    raise AssertionError("site-gen serve printed no URL")


def stop(proc: subprocess.Popen) -> None:
    """Ctrl-C (so it removes its temporary folder), then kill if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def served(make_site):
    site = make_site({"site.yaml": "title: 测试档案\n"}, with_seed=True)
    procs = []
    proc, url = start(site)
    procs.append(proc)
    try:
        yield site, url, procs
    finally:
        for proc in procs:
            stop(proc)


def test_edit_break_fix_in_an_open_page(served, page) -> None:
    site, url, _ = served
    source = site / "content/2022" / SEED.name
    page.goto(url + PAGE)
    main = page.locator("main")
    assert "總體情況" in main.inner_text()
    page.wait_for_function("() => !!document.querySelector('script[src=\"/__site-gen__/reload.js\"]')")

    # Edit a word of prose: the open page reloads by itself.
    edited = source.read_text(encoding="utf-8").replace("總體情況", "總體概況", 1)
    source.write_text(edited, encoding="utf-8")
    page.locator("main", has_text="總體概況").wait_for(timeout=WAIT_MS)

    # Break the YAML: the overlay shows the located message; the last good page stays.
    source.write_text(edited.replace("year: 2022\n", "year: [2022\n", 1), encoding="utf-8")
    overlay = page.locator("#site-gen-overlay")
    overlay.wait_for(state="visible", timeout=WAIT_MS)
    text = overlay.locator("pre").inner_text()
    assert re.match(r"content/2022/liangshan-xiang\.md:\d+:\d+: invalid YAML", text), text
    assert "站点构建失败" in overlay.inner_text()
    assert "總體概況" in main.inner_text()

    # Fix it: the overlay goes.
    source.write_text(edited.replace("總體概況", "總體狀況", 1), encoding="utf-8")
    page.locator("main", has_text="總體狀況").wait_for(timeout=WAIT_MS)
    overlay.wait_for(state="detached", timeout=WAIT_MS)


def test_page_reconnects_after_the_server_restarts(served, page) -> None:
    site, url, procs = served
    page.goto(url + PAGE)
    page.wait_for_function("() => !!document.querySelector('script[src=\"/__site-gen__/reload.js\"]')")
    stop(procs[0])
    source = site / "content/2022" / SEED.name
    source.write_text(source.read_text(encoding="utf-8").replace("總體情況", "重啟之後", 1), encoding="utf-8")
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    proc, _ = start(site, port)
    procs.append(proc)
    page.locator("main", has_text="重啟之後").wait_for(timeout=10000)  # includes a cold build


def test_only_the_pages_a_build_changed_reload(served, page) -> None:
    """Editing a report's prose reloads its page and leaves the other open
    pages where they are; a title edit (shown on the home page) reloads the
    home page too."""
    site, url, _ = served
    source = site / "content/2022" / SEED.name
    home = page.context.new_page()
    for tab, path in ((page, PAGE), (home, "")):
        tab.goto(url + path)
        tab.wait_for_function("() => !!document.querySelector('script[src=\"/__site-gen__/reload.js\"]')")
        tab.evaluate("() => { window.__notReloaded = true; }")

    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("總體情況", "總體概況", 1), encoding="utf-8")
    page.locator("main", has_text="總體概況").wait_for(timeout=WAIT_MS)
    page.evaluate("() => { window.__notReloaded = true; }")
    time.sleep(1.0)  # the home page has had its poll answered by now
    assert home.evaluate("() => window.__notReloaded === true")

    title = re.search(r"^title: (.+)$", text, re.M).group(1)
    source.write_text(text.replace(f"title: {title}", f"title: {title}（修订）", 1), encoding="utf-8")
    home.wait_for_function("() => window.__notReloaded !== true", timeout=WAIT_MS)
    assert "（修订）" in home.locator("main").inner_text()
