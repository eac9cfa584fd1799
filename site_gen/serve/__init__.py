"""`site-gen serve`: build into a temporary folder, serve it, rebuild on change.

    bind the port -> build once -> serve HTTP in a thread -> watch
    -> (burst of changes) -> rebuild -> bump the epoch -> open pages whose files
       (or the styles and scripts every page uses) changed reload

The main thread runs every build (builds are not thread-safe) and takes
Ctrl-C; HTTP handlers run in capped daemon threads and wait while a build
moves files into place (and through the first build), so they never read a
half-swapped folder.  When sources changed beyond their prose, the changed
reports' pages are put in place first and their open pages reload at once;
the rest of the build follows.  A failed build leaves the last good pages in
place and shows its errors in the terminal and as an overlay in open pages.
"""
from __future__ import annotations

import contextlib
import errno
import shutil
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from typing import Callable, TextIO

from ..build import BuildResult, build_site, forget_outputs
from ..errors import BuildFailed, SiteGenError
from .watch import Debouncer, Watcher, classify, classify_path
from .web import App, DevServer, LiveState, Response, resolve_request

__all__ = ["serve", "Builder", "classify", "classify_path", "Debouncer", "resolve_request", "Response",
           "listen", "bind_error"]


MAX_ERRORS_SHOWN = 50


class Builder:
    """Runs builds into `workdir/site` with the cache in `workdir/cache`."""

    def __init__(self, site: Path, workdir: Path, state: LiveState, *,
                 out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.site = site
        self.output = workdir / "site"
        self.cache = workdir / "cache"
        self.state = state
        self._out, self._err = out, err

    def build(self) -> BuildResult | None:
        """One build; updates the live state. None when it failed.

        Requests wait through the first build (there is nothing to serve
        yet); after that only while a build moves files into place."""
        started = time.perf_counter()
        first = not self.output.is_dir()
        shown: list[str] = []

        def early(paths: list[str]) -> None:
            shown.extend(paths)
            self.state.succeeded(True, paths)
            self._say(f"showed {len(paths)} edited page{'s' if len(paths) != 1 else ''} in "
                      f"{time.perf_counter() - started:.2f}s; building the rest")

        with self.state.build_lock if first else contextlib.nullcontext():
            try:
                result = build_site(self.site, out_dir=self.output, cache_dir=self.cache, portable=False,
                                    state_in_memory=True, early=None if first else early,
                                    guard=None if first else self.state.build_lock)
            except Exception as exc:
                forget_outputs(self.cache, shown)  # shown ahead of a build that failed: remake them next time
                if isinstance(exc, BuildFailed):
                    return self._failed([str(e) for e in exc.errors])
                if isinstance(exc, SiteGenError):
                    return self._failed([str(exc)])
                return self._failed([f"internal error: {type(exc).__name__}: {exc}"])  # must not stop the preview
        self.state.succeeded(result.changed, None if result.full else [*result.written, *result.removed])
        self._say(_summary(result, time.perf_counter() - started))
        return result

    def _failed(self, errors: list[str]) -> None:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > len(shown):
            shown.append(f"… and {len(errors) - len(shown)} more errors (run `site-gen check` to list them all)")
        text = "\n".join(shown)
        self.state.failed(text)
        err = self._err or sys.stderr
        print(text, file=err, flush=True)
        print(f"build failed ({len(errors)} error{'s' if len(errors) != 1 else ''}); "
              "still serving the last good pages", file=err, flush=True)
        return None

    def _say(self, line: str) -> None:
        print(line, file=self._out or sys.stdout, flush=True)


def _summary(result: BuildResult, seconds: float) -> str:
    if not result.changed:
        return f"rebuilt in {seconds:.2f}s: no page changed"
    what = f"{len(result.written)} written, {len(result.removed)} removed"
    if result.full:
        what = f"{result.reports} reports, {result.pages} pages, {what}"
    slowest = sorted(result.timings.items(), key=lambda kv: -kv[1])[:3]
    stages = ", ".join(f"{name} {value:.2f}s" for name, value in slowest)
    return f"built in {seconds:.2f}s: {what}" + (f" ({stages})" if stages else "")


def bind_error(host: str, port: int, exc: OSError) -> str:
    """The one line printed when the server cannot listen."""
    if exc.errno == errno.EADDRINUSE:
        return (f"error: port {port} on {host} is already in use; stop the other server "
                f"or choose another port with --port (--port 0 picks a free one)")
    if exc.errno == errno.EACCES:
        return f"error: not allowed to listen on {host}:{port}; choose a port above 1023 with --port"
    return f"error: cannot listen on {host}:{port}: {exc.strerror or exc}"


def listen(host: str, port: int, app: App) -> DevServer:
    """Bind the server socket (raises OSError)."""
    return DevServer((host, port), app)


def server_url(server: DevServer, host: str) -> str:
    port = server.server_address[1]
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(site: Path, *, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          poll: bool = False) -> int:
    """Preview `site` with live reload until Ctrl-C; returns the exit status."""
    site = Path(site).resolve()
    if not site.is_dir():
        raise SiteGenError(f"no such folder `{site}`", None, None, None,
                           "give the archive folder that holds site.yaml and content/")
    state = LiveState()
    workdir = Path(tempfile.mkdtemp(prefix="site-gen-serve-"))
    app = App(workdir / "site", state)
    try:
        server = listen(host, port, app)
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        print(bind_error(host, port, exc), file=sys.stderr, flush=True)
        return 1
    return _run(site, server, state, workdir, server_url(server, host), host=host,
                open_browser=open_browser, poll=poll)


def _run(site: Path, server: DevServer, state: LiveState, workdir: Path, url: str, *, host: str,
         open_browser: bool, poll: bool) -> int:
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    debouncer = Debouncer()
    watcher = Watcher(site, debouncer, poll=poll)
    builder = Builder(site, workdir, state)
    http = threading.Thread(target=server.serve_forever, name="site-gen-http", daemon=True)
    try:
        print(f"building {site} into {workdir}", flush=True)
        print(f"serving {url}  (Ctrl-C to stop)", flush=True)
        if host not in ("127.0.0.1", "::1", "localhost"):
            print(f"warning: listening on {host}; other machines can read this preview", flush=True)
        watcher.start()
        builder.build()
        http.start()
        print(f"watching {_watched(watcher)}{' (polling)' if poll else ''}", flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        _rebuild_forever(debouncer, watcher, builder)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old_term)
        _stop(server, http, watcher, state, workdir)
    print("stopped", flush=True)
    return 0


def _rebuild_forever(debouncer: Debouncer, watcher: Watcher, builder: Builder,
                     running: Callable[[], bool] = lambda: True) -> None:
    while running():
        if debouncer.wait(timeout=1.0):
            watcher.sync()
            builder.build()


def _watched(watcher: Watcher) -> str:
    layout = watcher.layout
    names = []
    for path, suffix in ((layout.content, "/"), (layout.themes, "/"), (layout.config, ""), (layout.data, "")):
        try:
            names.append(path.relative_to(layout.root).as_posix() + suffix)
        except ValueError:
            names.append(str(path) + suffix)
    return ", ".join(names)


def _stop(server: DevServer, http: threading.Thread, watcher: Watcher, state: LiveState, workdir: Path) -> None:
    state.close()
    if http.is_alive():
        server.shutdown()
    server.server_close()
    try:
        watcher.stop()
    except RuntimeError:
        pass  # never started
    shutil.rmtree(workdir, ignore_errors=True)
