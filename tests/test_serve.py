"""The dev server: request resolution, reload injection, change classification,
debouncing, builds while editing, and once for real over loopback."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from site_gen.serve import Builder, Debouncer, bind_error, classify, classify_path, resolve_request, serve
from site_gen.serve.watch import Layout, Watcher
from site_gen.serve.web import RESERVED, App, LiveState, inject, reload_tag, url_segments

from conftest import REPO, SEED

SECRET = "TOP-SECRET-OUTSIDE"
SITE_YAML = "title: 测试档案\nlanguage: zh-Hans\n"


# --- a build folder laid out by hand ---------------------------------------------

@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET, encoding="utf-8")
    site = tmp_path / "site"
    files = {
        "index.html": "<!DOCTYPE html><html><body><h1>首页</h1></body></html>",
        "2022/index.html": "<!DOCTYPE html><html><body><h1>2022年</h1></body></html>",
        "2022/x/index.html": "<!DOCTYPE html><html><body><p>报告</p></BODY></html>",
        "2022/x/report.json": '{"year": 2022}',
        "404.html": "<!DOCTYPE html><html><body><h1>找不到页面</h1></body></html>",
        "feed.xml": "<?xml version='1.0'?><feed/>",
        "sitemap.xml": "<urlset/>",
        "static/site.css": "body{}",
        "static/search.js": "var a = 1;",
        "data/table.csv": "年份,数量\n2022,5\n",
        "static/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "robots.txt": "User-agent: *\n",
        "static/empty/.keep": "",
        ".site-gen-output": "",
    }
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (site / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (site / "inner.html").symlink_to(site / "index.html")
    return site


def body_text(response) -> str:
    body = response.body
    return (body.read_bytes() if isinstance(body, Path) else body).decode("utf-8", "replace")


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/../../../../etc/passwd",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/2022/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2e%2e%5csecret.txt",
    "/..\\secret.txt",
    "/2022\\..\\..\\secret.txt",
    "/secret.txt%00.html",
    "/index.html%00",
    "/%ff%fe",
    "/leak.txt",
    "/out/secret.txt",
    "/out/",
    "//etc/passwd",
    "/etc/passwd",
    str(Path("/etc/passwd")),
    "http://evil.example/../secret.txt",
    "secret.txt",
    "/.site-gen-output",
])
def test_nothing_outside_the_build_folder_is_served(root: Path, path: str) -> None:
    response = resolve_request(root, path)
    assert response.status in (400, 404)
    assert SECRET not in body_text(response)
    if isinstance(response.body, Path):
        assert response.body.resolve().is_relative_to(root.resolve())


def test_symlink_inside_the_folder_is_served(root: Path) -> None:
    response = resolve_request(root, "/inner.html")
    assert response.status == 200
    assert "首页" in body_text(response)


@pytest.mark.parametrize("path, location", [
    ("/2022", "/2022/"),
    ("/2022/x", "/2022/x/"),
    ("/2022?q=1", "/2022/?q=1"),
    ("//2022", "/2022/"),  # never a protocol-relative redirect to another host
    ("/2022/./x", None),
])
def test_folder_without_slash_redirects(root: Path, path: str, location: str | None) -> None:
    response = resolve_request(root, path)
    if location is None:
        assert response.status == 400
        return
    assert response.status == 301
    assert response.headers["Location"] == location


def test_folder_with_index_is_served(root: Path) -> None:
    response = resolve_request(root, "/2022/x/")
    assert (response.status, response.body) == (200, (root / "2022/x/index.html").resolve())
    assert resolve_request(root, "/?utm=1").body == (root / "index.html").resolve()


@pytest.mark.parametrize("path", ["/nope", "/nope/", "/2022/y/", "/static/empty/", "/static/empty",
                                  "/feed.xml/", "/2022/x/report.json/"])
def test_missing_pages_get_the_sites_404(root: Path, path: str) -> None:
    response = resolve_request(root, path)
    assert response.status == 404
    assert response.content_type == "text/html; charset=utf-8"
    assert response.body == (root / "404.html").resolve()


def test_404_without_a_404_page_and_without_a_build(tmp_path: Path) -> None:
    response = resolve_request(tmp_path / "not-built-yet", "/")
    assert response.status == 404
    assert "找不到页面" in body_text(response)


@pytest.mark.parametrize("path, ctype", [
    ("/", "text/html; charset=utf-8"),
    ("/2022/x/report.json", "application/json; charset=utf-8"),
    ("/feed.xml", "application/xml; charset=utf-8"),
    ("/sitemap.xml", "application/xml; charset=utf-8"),
    ("/static/site.css", "text/css; charset=utf-8"),
    ("/static/search.js", "text/javascript; charset=utf-8"),
    ("/data/table.csv", "text/csv; charset=utf-8"),
    ("/static/logo.svg", "image/svg+xml; charset=utf-8"),
    ("/robots.txt", "text/plain; charset=utf-8"),
])
def test_content_types(root: Path, path: str, ctype: str) -> None:
    response = resolve_request(root, path)
    assert response.status == 200
    assert response.headers["Content-Type"] == ctype


@pytest.mark.parametrize("raw, segments", [
    ("/", []),
    ("/2022/x/?q=%2F", ["2022", "x"]),
    ("/%E6%8A%A5%E5%91%8A/", ["报告"]),
    ("/a//b", ["a", "b"]),
    ("/a/%2fb", None),
    ("/a/%5Cb", None),
    ("/a/..", None),
    ("/a/.", None),
    ("/a%00", None),
    ("relative", None),
])
def test_url_segments(raw: str, segments: list[str] | None) -> None:
    assert url_segments(raw) == segments


# --- the reload script goes into HTML responses only -------------------------------

def test_reload_script_injected_into_html_only(root: Path) -> None:
    app = App(root, LiveState(epoch=41))
    for path in ("/", "/2022/x/", "/nope"):
        response = app.respond(path)
        soup = BeautifulSoup(response.body, "html.parser")
        scripts = soup.body.find_all("script")
        assert [s["src"] for s in scripts] == [f"{RESERVED}reload.js"], path
        assert scripts[-1]["data-epoch"] == "41"
        assert scripts[-1].find_next_sibling() is None  # last thing in <body>
    for path in ("/feed.xml", "/static/search.js", "/static/site.css", "/2022/x/report.json",
                 "/static/logo.svg", "/data/table.csv"):
        response = app.respond(path)
        assert response.body == (root / path.lstrip("/")).read_bytes(), path


def test_inject_before_last_body_or_at_end() -> None:
    tag = reload_tag(7)
    assert inject(b"<p></body></body >", tag) == b"<p></body>" + tag + b"</body >"
    assert inject(b"<p>no body", tag) == b"<p>no body" + tag


def test_reload_script_is_served_and_builds_overlay_with_text_content(root: Path) -> None:
    response = App(root, LiveState()).respond(f"{RESERVED}reload.js")
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    script = response.body.decode("utf-8")
    assert "textContent" in script and "innerHTML" not in script
    assert "visibilitychange" in script


def test_poll_answers_when_epoch_or_error_moves(root: Path) -> None:
    state = LiveState(epoch=5)
    app = App(root, state, poll_seconds=0.05)
    first = json.loads(app.respond(f"{RESERVED}poll?epoch=5&error=-1").body)
    assert first == {"epoch": 5, "error": None, "error_id": 0, "reload": False}
    started = time.monotonic()
    assert json.loads(app.respond(f"{RESERVED}poll?epoch=5&error=0").body)["epoch"] == 5
    assert time.monotonic() - started >= 0.04  # waited: nothing moved
    state.succeeded(changed=False)
    assert state.snapshot()["epoch"] == 5  # a build that changed nothing sends no reload
    state.failed("content/x.md:3:1: bad")
    moved = json.loads(app.respond(f"{RESERVED}poll?epoch=5&error=0").body)
    assert moved == {"epoch": 5, "error": "content/x.md:3:1: bad", "error_id": 1, "reload": False}
    state.succeeded(changed=True)
    assert state.snapshot() == {"epoch": 6, "error": None, "error_id": 2}
    assert json.loads(app.respond(f"{RESERVED}poll?epoch=5&error=2").body)["reload"] is True
    assert app.respond(f"{RESERVED}poll?epoch=x").status == 400


def test_a_build_reloads_only_the_pages_it_changed(root: Path) -> None:
    """Each epoch remembers the files its build changed: a page whose file
    did not change keeps its place (the poll says reload: false), a page
    that waited through several builds reloads if any of them touched it,
    and a stylesheet or a full build reloads every page."""
    state = LiveState(epoch=10)
    app = App(root, state, poll_seconds=0.05)

    def reload(path: str, since: int) -> bool:
        return json.loads(app.respond(f"{RESERVED}poll?epoch={since}&error=0&path={quote(path)}").body)["reload"]

    state.succeeded(changed=True, files=["2022/a/index.html", "2022/index.html", "data/reports.json"])  # 11
    assert reload("/2022/a/", 10) and reload("/2022/", 10)
    assert not reload("/2021/a/", 10) and not reload("/", 10)
    state.succeeded(changed=True, files=["2021/a/index.html"])  # 12
    assert reload("/2021/a/", 10) and reload("/2021/a/", 11) and not reload("/2021/a/", 12)
    assert reload("/2022/a/", 10)
    assert not reload("/2022/a/", 11) and not reload("/2022/a/", 12)
    state.succeeded(changed=True, files=["2023/new/index.html"])  # 13: a page that did not exist
    assert reload("/2023/new/", 12)  # its URL showed the 404 page until now
    assert reload("/2023/new", 12)  # without the slash: the folder's index.html
    state.succeeded(changed=True, files=["static/site.css"])  # 14
    assert reload("/2021/a/", 13) and reload("/", 13)
    state.succeeded(changed=True, files=None)  # 15: a full build
    assert reload("/2021/a/", 14)
    assert reload("/2021/a/", 3) and reload("/2021/a/", 99)  # epochs not remembered: another server's
    assert json.loads(app.respond(f"{RESERVED}poll?epoch=14&error=0").body)["reload"]  # no path: any change
    assert reload("/../etc/passwd", 14)  # not a page: any change
    state.succeeded(changed=True, files=["search/p/0a.js", "search/d/0/3.js"])  # 16: the index alone
    assert reload("/search/", 15) and not reload("/2021/a/", 15)  # the search page reads the index as it runs


def test_a_poll_for_a_path_too_long_for_a_file_name_is_answered(root: Path) -> None:
    app = App(root, LiveState(epoch=1), poll_seconds=0.01)
    for path in ("/" + "页" * 300 + "/", "/" + ("a" * 200 + "/") * 30):
        response = app.respond(f"{RESERVED}poll?epoch=1&error=0&path={quote(path)}")
        assert response.status == 200 and json.loads(response.body)["reload"] is False


def test_a_404_page_reloads_when_the_404_page_changes(root: Path) -> None:
    state = LiveState(epoch=1)
    app = App(root, state, poll_seconds=0.05)
    state.succeeded(changed=True, files=["404.html"])
    poll = f"{RESERVED}poll?epoch=1&error=0&path="
    assert json.loads(app.respond(poll + "/no/such/page/").body)["reload"]
    assert not json.loads(app.respond(poll + "/index.html").body)["reload"]


# --- classifying changed paths ---------------------------------------------------

SITE = Path("/srv/archive")
LAYOUT = Layout.default(SITE)


@pytest.mark.parametrize("rel, kind", [
    ("content/2022/x.md", "content"),
    ("content/2022", "content"),
    ("content", "content"),
    ("content/pages/about.md", "content"),
    ("content/2022/.x.md.swp", "ignored"),
    ("content/2022/.x.md.swx", "ignored"),
    ("content/2022/x.md~", "ignored"),
    ("content/2022/#x.md#", "ignored"),
    ("content/2022/.#x.md", "ignored"),
    ("content/2022/4913", "ignored"),
    ("content/2022/.~lock.x.md#", "ignored"),
    ("content/2022/x.md.tmp", "ignored"),
    ("content/.git/index", "ignored"),
    ("content/.hidden/x.md", "ignored"),
    ("themes/default/templates/report.html", "theme"),
    ("themes/mine/static/site.css", "theme"),
    ("themes/mine/static/.site.css.swp", "ignored"),
    ("site.yaml", "config"),
    ("agencies.yaml", "data"),
    ("output/index.html", "ignored"),
    (".site-gen-cache/state.pickle", "ignored"),
    ("README.md", "ignored"),
    ("site.yaml~", "ignored"),
    ("contentx/2022/x.md", "ignored"),
])
def test_classify_path(rel: str, kind: str) -> None:
    assert classify_path(SITE / rel, LAYOUT) == kind
    assert classify_path(str(SITE / rel), LAYOUT) == kind


def test_classify_batch() -> None:
    paths = [SITE / "content/2022/.x.md.swp", SITE / "content/2022/x.md", SITE / "site.yaml", "",
             SITE / "output/index.html"]
    assert classify(paths, LAYOUT) == {"content", "config"}
    assert classify([SITE / "content/2022/4913", SITE / "content/x.md~"], LAYOUT) == set()


def test_classify_outside_content_dir() -> None:
    layout = Layout(SITE, Path("/data/reports"), SITE / "themes", SITE / "site.yaml", SITE / "data/agencies.yaml")
    assert classify_path("/data/reports/2022/x.md", layout) == "content"
    assert classify_path(SITE / "content/2022/x.md", layout) == "ignored"
    assert classify_path(SITE / "data/agencies.yaml", layout) == "data"


# --- debouncing with a fake clock ------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_debounce_waits_for_quiet() -> None:
    clock = FakeClock()
    d = Debouncer(quiet=0.05, longest=0.5, clock=clock)
    assert d.remaining() is None and d.take() == set()
    d.add({"content"})
    assert d.take() == set()
    clock.now += 0.03
    d.add({"theme"})  # the burst goes on
    clock.now += 0.03
    assert d.remaining() == pytest.approx(0.02)
    assert d.take() == set()
    clock.now += 0.02
    assert d.take() == {"content", "theme"}
    assert d.remaining() is None


def test_debounce_gives_up_waiting_after_longest() -> None:
    clock = FakeClock()
    d = Debouncer(quiet=0.05, longest=0.2, clock=clock)
    for _ in range(10):
        d.add({"content"})
        clock.now += 0.04
        if d.take():
            break
    assert clock.now - 100.0 == pytest.approx(0.2)


def test_debounce_ignores_empty_batches() -> None:
    d = Debouncer(clock=FakeClock())
    d.add(set())
    assert d.remaining() is None


# --- builds while editing ----------------------------------------------------------

@pytest.fixture
def seed_site(make_site) -> Path:
    return make_site({"site.yaml": SITE_YAML}, with_seed=True)


def break_yaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("year: 2022\n", "year: [2022\n", 1), encoding="utf-8")


def test_builder_keeps_last_good_pages_and_reports_errors(seed_site: Path, tmp_path: Path, capsys) -> None:
    state = LiveState(epoch=1)
    builder = Builder(seed_site, tmp_path / "work", state)
    assert builder.build() is not None
    assert state.snapshot() == {"epoch": 2, "error": None, "error_id": 0}
    page = tmp_path / "work/site/2022/liangshan-xiang/index.html"
    good = page.read_bytes()

    assert builder.build().changed is False
    assert state.snapshot()["epoch"] == 2

    source = seed_site / "content/2022/liangshan-xiang.md"
    break_yaml(source)
    assert builder.build() is None
    snap = state.snapshot()
    assert snap["epoch"] == 2 and snap["error_id"] == 1
    assert re.match(r"content/2022/liangshan-xiang\.md:\d+:\d+: ", snap["error"])
    assert snap["error"] in capsys.readouterr().err
    assert page.read_bytes() == good

    shutil.copy(SEED, source)
    os.utime(source, ns=(time.time_ns(), time.time_ns()))
    builder.build()
    assert state.snapshot()["error"] is None


def test_builder_shows_a_figure_edit_before_the_rest_of_the_build(seed_site: Path, tmp_path: Path, capsys,
                                                                    monkeypatch) -> None:
    """A figure edit: the report's page is put in place and its open pages
    told first (one epoch with that page alone), then the rest of the build
    (the year and table pages) moves the epoch again; the page is not
    written twice. Requests are not held while the rest renders."""
    state = LiveState(epoch=1)
    builder = Builder(seed_site, tmp_path / "work", state)
    assert builder.build() is not None
    source = seed_site / "content/2022/liangshan-xiang.md"
    text = source.read_text(encoding="utf-8")
    assert "new_received: [0, 0, 0, 0, 0, 0, 0]" in text
    source.write_text(text.replace("new_received: [0, 0, 0, 0, 0, 0, 0]", "new_received: [7, 0, 0, 0, 0, 0, 7]", 1),
                      encoding="utf-8")
    import site_gen.build as build_module
    held, real_render = [], build_module.render_jobs

    def render_jobs(*args, **kwargs):
        held.append(state.build_lock.locked())
        return real_render(*args, **kwargs)

    monkeypatch.setattr(build_module, "render_jobs", render_jobs)
    result = builder.build()
    assert result is not None and held == [False, False]  # the early pages, then the rest
    page = "2022/liangshan-xiang/index.html"
    assert state.snapshot()["epoch"] == 4 and page not in result.written
    assert state.changed_for(2, {page}) and not state.changed_for(3, {page})
    assert state.changed_for(3, {"2022/index.html"})
    out = capsys.readouterr().out
    assert "showed 1 edited page in" in out and out.index("showed 1 edited page") < out.rindex("built in")


def test_watcher_sees_edits_new_folders_and_ignores_swap_files(seed_site: Path, tmp_path: Path) -> None:
    debouncer = Debouncer(quiet=0.05)
    watcher = Watcher(seed_site, debouncer)
    watcher.start()
    try:
        (seed_site / "content/2022/.liangshan-xiang.md.swp").write_text("x")
        (seed_site / "content/2022/4913").write_text("")
        (seed_site / "README.md").write_text("x")
        assert debouncer.wait(timeout=0.4) == set()

        source = seed_site / "content/2022/liangshan-xiang.md"
        source.write_text(source.read_text(encoding="utf-8") + "\n補充。\n", encoding="utf-8")
        assert debouncer.wait(timeout=3) == {"content"}

        moved = tmp_path / "elsewhere" / "2023"
        moved.mkdir(parents=True)
        shutil.copy(SEED, moved / "x.md")
        moved.rename(seed_site / "content/2023")
        assert debouncer.wait(timeout=3) == {"content"}
        (seed_site / "content/2023").rename(tmp_path / "gone")
        assert debouncer.wait(timeout=3) == {"content"}

        (seed_site / "site.yaml").write_text(SITE_YAML + "latest_count: 5\n", encoding="utf-8")
        assert debouncer.wait(timeout=3) == {"config"}
    finally:
        watcher.stop()


# --- binding -----------------------------------------------------------------------

def test_port_in_use_is_one_clear_line(seed_site: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert serve(seed_site, host="127.0.0.1", port=port, open_browser=False, poll=False) == 1
    err = capsys.readouterr().err
    assert err == (f"error: port {port} on 127.0.0.1 is already in use; stop the other server "
                   "or choose another port with --port (--port 0 picks a free one)\n")


def test_bind_error_other_reasons() -> None:
    assert bind_error("no.such.host", 80, OSError(-2, "Name or service not known")) == \
        "error: cannot listen on no.such.host:80: Name or service not known"


# --- once for real, over loopback --------------------------------------------------

class Server:
    """`site-gen serve` in a subprocess; its URL read from stdout."""

    def __init__(self, site: Path) -> None:
        # PYTHONFAULTHANDLER: SIGABRT makes it print every thread's stack
        # (see `interrupt`), so a shutdown that hangs says where.
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "site_gen", "serve", str(site), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self.url = self._read_until(r"serving (http://\S+)").group(1)
        self.workdir = Path(re.search(r"into (\S+)$", self.lines[0]).group(1))

    def _read_until(self, pattern: str, timeout: float = 20.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"no {pattern!r} in output: {self.lines}")

    def get(self, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url.rstrip("/") + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, dict(e.headers), e.read()

    def state(self) -> dict:
        return json.loads(self.get(f"{RESERVED}state")[2])

    def wait_for(self, test, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.state()
            if test(snap):
                return snap
            time.sleep(0.05)
        raise AssertionError(f"state never matched: {self.state()}")

    def interrupt(self, timeout: float = 10.0) -> int:
        """Ctrl-C: the exit status, or a failure showing where each thread
        was stuck when it did not exit in time."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            try:
                _, err = self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                err = "(no stacks: it did not take SIGABRT either)"
            raise AssertionError(f"serve did not exit within {timeout} s of SIGINT; its threads:\n{err[-8000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # lets it remove its temporary folder
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def live(seed_site: Path):
    server = Server(seed_site)
    try:
        yield server
    finally:
        server.kill()


def test_serve_for_real(live: Server, seed_site: Path) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", live.url)
    status, headers, body = live.get("/2022/liangshan-xiang/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    soup = BeautifulSoup(body, "html.parser")
    assert "總體情況" in soup.get_text()
    assert soup.body.find_all("script")[-1]["src"] == f"{RESERVED}reload.js"

    assert live.get("/2022/liangshan-xiang")[0] == 200  # urllib followed the redirect
    status, _, body = live.get("/no-such-page/")
    assert status == 404 and BeautifulSoup(body, "html.parser").find("h1") is not None
    status, headers, body = live.get("/2022/liangshan-xiang/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    assert live.get("/", method="POST")[0] == 405
    assert live.get("/%2e%2e/%2e%2e/etc/passwd")[0] == 400
    assert live.get("/feed.xml")[1]["Content-Type"] == "application/xml; charset=utf-8"

    epoch = live.state()["epoch"]
    source = seed_site / "content/2022/liangshan-xiang.md"
    source.write_text(source.read_text(encoding="utf-8").replace("總體情況", "總體概況", 1), encoding="utf-8")
    live.wait_for(lambda s: s["epoch"] > epoch)
    assert "總體概況" in live.get("/2022/liangshan-xiang/")[2].decode("utf-8")
    assert not any(p.name == ".site-gen-cache" for p in seed_site.iterdir())
    assert not (seed_site / "output").exists()

    assert live.interrupt() == 0
    assert not live.workdir.exists()


def test_polling_watcher_sees_an_edit(seed_site: Path) -> None:
    debouncer = Debouncer(quiet=0.05)
    watcher = Watcher(seed_site, debouncer, poll=True)
    watcher.start()
    try:
        time.sleep(0.5)  # the poller's first snapshot is taken in its own thread
        source = seed_site / "content/2022/liangshan-xiang.md"
        source.write_text(source.read_text(encoding="utf-8") + "\n補充。\n", encoding="utf-8")
        assert debouncer.wait(timeout=3) == {"content"}
    finally:
        watcher.stop()


def test_many_errors_are_cut_short(tmp_path: Path, capsys) -> None:
    state = LiveState()
    Builder(tmp_path, tmp_path / "work", state)._failed([f"content/{i}.md:1:1: bad" for i in range(60)])
    lines = state.snapshot()["error"].splitlines()
    assert len(lines) == 51
    assert lines[-1] == "… and 10 more errors (run `site-gen check` to list them all)"
    assert state.snapshot()["error"] in capsys.readouterr().err
