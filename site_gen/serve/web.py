"""HTTP for the dev server: safe path resolution, the reload channel, the handler.

`resolve_request(root, raw_path)` turns a request path into a `Response` with
no sockets involved: it refuses anything that could leave the build folder
(``..``, encoded slashes and dots, backslashes, NUL, symlinks leading out),
redirects a folder without its trailing slash, and answers missing pages with
the site's own 404.html.  `App.respond` adds the live-reload script to HTML
responses only, and answers the long-poll the script waits on.
"""
from __future__ import annotations

import json
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

RESERVED = "/__site-gen__/"
POLL_SECONDS = 20.0
MAX_HANDLERS = 256  # connections served at once; more wait in the listen queue
MAX_POLLERS = 32
HOLD_SECONDS = 60.0

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".webmanifest": "application/manifest+json; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
}
HTML = TYPES[".html"]
NOT_FOUND_PAGE = ("<!DOCTYPE html>\n<html lang=\"zh-Hans\"><head><meta charset=\"utf-8\"><title>404 找不到页面</title>"
                  "</head><body><h1>404 找不到页面</h1><p>预览服务器上没有这个地址。</p></body></html>\n").encode("utf-8")
_UNSAFE_ESCAPES = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Path = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def content_type(path: Path) -> str:
    """The Content-Type of a file, with charset=utf-8 for every text type."""
    known = TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _text(status: int, message: str) -> Response:
    return Response(status, {"Content-Type": "text/plain; charset=utf-8"}, message.encode("utf-8") + b"\n")


def url_segments(raw_path: str) -> list[str] | None:
    """The decoded path segments of a request, or None if the path is unsafe.

    Empty segments (``//``) are dropped; ``.``, ``..``, backslashes, NUL and
    encoded slashes are refused outright rather than normalised.
    """
    path = raw_path
    if "://" in path.split("?", 1)[0]:
        path = urlsplit(path).path or "/"
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or _UNSAFE_ESCAPES.search(path):
        return None
    segments = []
    for raw in path.split("/"):
        if not raw:
            continue
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if segment in (".", "..") or any(c in segment for c in "\\/\0"):
            return None
        segments.append(segment)
    return segments


def _inside(path: Path, root: Path) -> Path | None:
    """`path` with symlinks resolved, if it exists and stays inside `root`."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if real.is_relative_to(root) else None


def not_found(root: Path) -> Response:
    """404 with the site's own 404.html when it has one."""
    page = _inside(root / "404.html", root) if root.is_dir() else None
    body: bytes | Path = page if page is not None and page.is_file() else NOT_FOUND_PAGE
    return Response(404, {"Content-Type": HTML}, body)


def redirect(location: str) -> Response:
    return Response(301, {"Location": location, "Content-Type": "text/plain; charset=utf-8"},
                    f"moved to {location}\n".encode("utf-8"))


def resolve_request(root: Path, raw_path: str) -> Response:
    """What to answer to GET `raw_path` from the build folder `root`.

    The body is a Path (a file inside `root`) or bytes; no reload script yet.
    """
    segments = url_segments(raw_path)
    if segments is None:
        return _text(400, "bad request path")
    try:
        base = root.resolve(strict=True)
    except OSError:
        return not_found(root)
    if any(s.startswith(".") for s in segments):
        return not_found(base)
    target = _inside(base.joinpath(*segments), base)
    if target is None:
        return not_found(base)
    path_part = raw_path.split("?", 1)[0].split("#", 1)[0]
    if target.is_dir():
        index = _inside(target / "index.html", base)
        if index is None or not index.is_file():
            return not_found(base)
        if not path_part.endswith("/"):
            query = raw_path.split("?", 1)[1].split("#", 1)[0] if "?" in raw_path else ""
            location = "/" + "/".join(quote(s) for s in segments) + "/"
            return redirect(location + ("?" + quote(query, safe="=&;+%") if query else ""))
        return Response(200, {"Content-Type": HTML}, index)
    if target.is_file() and not path_part.endswith("/"):
        return Response(200, {"Content-Type": content_type(target)}, target)
    return not_found(base)


def reload_tag(epoch: int) -> bytes:
    return f'<script src="{RESERVED}reload.js" data-epoch="{epoch}"></script>'.encode("ascii")


def inject(html: bytes, tag: bytes) -> bytes:
    """Insert `tag` before the last </body>, or at the end when there is none."""
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + tag
    at = matches[-1].start()
    return html[:at] + tag + html[at:]


def reload_script() -> bytes:
    return resources.files(__package__).joinpath("reload.js").read_bytes()


EPOCHS_KEPT = 256  # builds whose changed files are remembered for pages that poll late


def _touches_every_page(rel: str) -> bool:
    """A changed file that any page may use: a stylesheet, script or image
    (not a page, nor a data or search file that pages only link to)."""
    return not rel.endswith((".html", ".json", ".csv", ".xml", ".txt")) and not rel.startswith(("search/", "data/"))


def page_files(segments: list[str]) -> set[str]:
    """The output files a page at these URL segments may be made from: the
    file itself, or its folder's index.html."""
    joined = "/".join(segments)
    return {joined, f"{joined}/index.html"} if joined else {"index.html"}


class LiveState:
    """What open pages wait on: the epoch (moves after a build that changed
    files) and the current build error; plus the lock builds hold.

    Each epoch remembers the files its build changed, so a page asks whether
    anything it shows changed since the epoch it was served at, and reloads
    only then (editing one report no longer reloads every open page)."""

    def __init__(self, epoch: int | None = None) -> None:
        self.epoch = epoch if epoch is not None else int(time.time() * 1000)
        self.error: str | None = None
        self.error_id = 0
        self.build_lock = threading.Lock()
        self.closed = False
        self._cond = threading.Condition()
        self._changes: list[tuple[int, frozenset[str] | None]] = []  # (epoch, files; None: every page)

    def snapshot(self) -> dict:
        with self._cond:
            return {"epoch": self.epoch, "error": self.error, "error_id": self.error_id}

    def succeeded(self, changed: bool, files: Iterable[str] | None = None) -> None:
        """A build finished; `files` are the output files it wrote or removed
        (None: any page may have changed)."""
        with self._cond:
            if changed:
                self.epoch += 1
                kept = None if files is None else frozenset(files)
                if kept is not None and any(_touches_every_page(rel) for rel in kept):
                    kept = None
                self._changes = [*self._changes[-(EPOCHS_KEPT - 1):], (self.epoch, kept)]
            if self.error is not None:
                self.error, self.error_id = None, self.error_id + 1
            self._cond.notify_all()

    def changed_for(self, since: int, files: set[str] | None) -> bool:
        """Whether a page made from one of `files` (None: unknown) and served
        at epoch `since` must reload to show the current build."""
        with self._cond:
            if since == self.epoch:
                return False
            if files is None or since > self.epoch or not self._changes or self._changes[0][0] > since + 1:
                return True  # another server's epoch, or older than what is remembered
            return any(e > since and (changed is None or not changed.isdisjoint(files))
                       for e, changed in self._changes)

    def failed(self, text: str) -> None:
        with self._cond:
            if text != self.error:
                self.error, self.error_id = text, self.error_id + 1
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_change(self, epoch: int, error_id: int, timeout: float, files: set[str] | None = None) -> dict:
        """Wait until the epoch or the error differs from what the page knows;
        `reload` says whether the page (made from `files`) changed since."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self.epoch == epoch and self.error_id == error_id and not self.closed
                   and (left := deadline - time.monotonic()) > 0):
                self._cond.wait(left)
            return {"epoch": self.epoch, "error": self.error, "error_id": self.error_id,
                    "reload": self.changed_for(epoch, files)}  # the same epoch as the answer


class App:
    """Answers requests for one build folder; HTML gets the reload script."""

    def __init__(self, root: Path, state: LiveState, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.root = root
        self.state = state
        self.poll_seconds = poll_seconds
        self._pollers = threading.BoundedSemaphore(MAX_POLLERS)

    def respond(self, raw_path: str) -> Response:
        """The full response to a GET, body as bytes."""
        if raw_path.startswith(RESERVED):
            return self._own(raw_path)
        held = self.state.build_lock.acquire(timeout=HOLD_SECONDS)  # hold requests while a build runs
        try:
            response = resolve_request(self.root, raw_path)
            if isinstance(response.body, Path):
                response.body = response.body.read_bytes()
        except OSError:
            response = _text(500, "could not read the file; try again")
        finally:
            if held:
                self.state.build_lock.release()
        if response.content_type.startswith("text/html"):
            response.body = inject(response.body, reload_tag(self.state.snapshot()["epoch"]))
        return response

    def _own(self, raw_path: str) -> Response:
        split = urlsplit(raw_path)
        name = split.path[len(RESERVED):]
        if name == "reload.js":
            return Response(200, {"Content-Type": TYPES[".js"]}, reload_script())
        if name == "poll":
            return self._poll(parse_qs(split.query))
        if name == "state":
            return _json(200, self.state.snapshot())
        return _text(404, "not found")

    def _poll(self, query: dict[str, list[str]]) -> Response:
        try:
            epoch = int(query.get("epoch", ["0"])[0])
            error_id = int(query.get("error", ["-1"])[0])
        except ValueError:
            return _text(400, "epoch and error must be numbers")
        files = self._files_of(query["path"][0]) if "path" in query else None
        if not self._pollers.acquire(blocking=False):
            return Response(503, {"Content-Type": TYPES[".json"], "Retry-After": "2"}, b'{"busy": true}')
        try:
            return _json(200, self.state.wait_change(epoch, error_id, self.poll_seconds, files))
        finally:
            self._pollers.release()

    def _files_of(self, path: str) -> set[str] | None:
        """The output files the page at `path` is made from (the 404 page too,
        while it has no file of its own); None for a path that is not one."""
        segments = url_segments(path)
        if segments is None or any(s.startswith(".") for s in segments) or segments[:1] == ["search"]:
            return None  # not a page; or the search page, which reads the index files as it runs
        files = page_files(segments)
        if not any(_is_file(self.root / rel) for rel in files):
            files.add("404.html")
        return files


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, say: no such page
        return False


def _json(status: int, data: dict) -> Response:
    return Response(status, {"Content-Type": TYPES[".json"]}, json.dumps(data, ensure_ascii=False).encode("utf-8"))


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD through `App.respond`; every other method is refused."""

    server_version = "site-gen"
    sys_version = ""
    timeout = 10  # a client that stops sending does not keep a slot for ever
    server: "DevServer"

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _refuse(self) -> None:
        self._send(Response(405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"},
                            b"only GET and HEAD\n"), head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _answer(self, head: bool) -> None:
        self._send(self.server.app.respond(self.path), head)

    def _send(self, response: Response, head: bool) -> None:
        body = response.body if isinstance(response.body, bytes) else b""
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # the terminal shows builds and errors, not every request


class DevServer(ThreadingHTTPServer):
    """A threading server with daemon threads and a cap on concurrent handlers."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: App) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._slots = threading.BoundedSemaphore(MAX_HANDLERS)
        super().__init__(address, Handler)

    def process_request(self, request, client_address) -> None:
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
