"""Watching the site: which changes matter, when a burst is over, and the watchdog glue.

`classify_path` sorts one changed path into a kind (content, theme, config,
data or ignored) with no filesystem access, so it is tested as a table.
`Debouncer` gathers the kinds of a burst of events (editors write a temporary
file, then rename it) and says when the burst is over; its clock is injected.
`Watcher` feeds watchdog events through both and keeps the watches in step
with the settings (the content folder may be renamed in site.yaml).
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from ..config import load_config
from ..errors import SiteGenError

CONTENT, THEME, CONFIG, DATA, IGNORED = "content", "theme", "config", "data", "ignored"

# Editors' swap, backup, lock and temporary files; hidden files and folders.
_TEMP_NAME = re.compile(r"(^\.|^#.*#$|~$|\.sw[a-p]$|\.swx$|\.tmp$|\.bak$|^4913$|\.crdownload$|\.part$)",
                        re.IGNORECASE)
# Event types that do not change a file (the build itself opens every source).
_QUIET_EVENTS = frozenset({"opened", "closed_no_write"})


@dataclass(frozen=True)
class Layout:
    """Where a site keeps what the dev server watches; absolute paths."""

    root: PurePath
    content: PurePath
    themes: PurePath
    config: PurePath
    data: PurePath

    @classmethod
    def default(cls, root: Path) -> "Layout":
        return cls(root, root / "content", root / "themes", root / "site.yaml", root / "agencies.yaml")


def is_temp_name(name: str) -> bool:
    """True for editors' swap/backup/temporary files and hidden files."""
    return bool(_TEMP_NAME.search(name))


def _inside(path: PurePath, folder: PurePath) -> PurePath | None:
    try:
        return path.relative_to(folder)
    except ValueError:
        return None


def classify_path(path: str | PurePath, layout: Layout) -> str:
    """The kind of one changed path: content, theme, config, data or ignored."""
    path = PurePath(path)
    if path == layout.config:
        return CONFIG
    if path == layout.data:
        return DATA
    for folder, kind in ((layout.content, CONTENT), (layout.themes, THEME)):
        rel = _inside(path, folder)
        if rel is None:
            continue
        if any(is_temp_name(part) for part in rel.parts):
            return IGNORED
        return kind
    return IGNORED


def classify(paths: Iterable[str | PurePath], layout: Layout) -> set[str]:
    """The kinds a batch of changed paths touches; ignored paths add nothing."""
    return {classify_path(p, layout) for p in paths if p} - {IGNORED}


class Debouncer:
    """Collect kinds until a burst is over: `quiet` seconds without an event,
    or `longest` seconds after its first event, whichever comes first."""

    def __init__(self, quiet: float = 0.05, longest: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet, self.longest, self.clock = quiet, longest, clock
        self._kinds: set[str] = set()
        self._first: float | None = None
        self._last = 0.0
        self._cond = threading.Condition()

    def add(self, kinds: Iterable[str]) -> None:
        kinds = set(kinds)
        if not kinds:
            return
        with self._cond:
            now = self.clock()
            if self._first is None:
                self._first = now
            self._last = now
            self._kinds |= kinds
            self._cond.notify_all()

    def _remaining(self) -> float | None:
        if self._first is None:
            return None
        due = min(self._last + self.quiet, self._first + self.longest)
        return max(0.0, due - self.clock())

    def remaining(self) -> float | None:
        """Seconds until the pending batch is due (0: now); None when idle."""
        with self._cond:
            return self._remaining()

    def take(self) -> set[str]:
        """The pending kinds if the burst is over (then forget them), else an empty set."""
        with self._cond:
            if self._remaining() != 0.0:
                return set()
            kinds, self._kinds, self._first = self._kinds, set(), None
            return kinds

    def wait(self, timeout: float = 1.0) -> set[str]:
        """Block until a batch is due or `timeout` passes; return it (or an empty set)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                left = deadline - time.monotonic()
                remaining = self._remaining()
                if remaining == 0.0:
                    kinds, self._kinds, self._first = self._kinds, set(), None
                    return kinds
                if left <= 0:
                    return set()
                self._cond.wait(left if remaining is None else min(left, remaining))


def site_layout(site: Path, previous: Layout | None = None) -> Layout:
    """The layout the site's settings describe; the previous one if they are broken."""
    try:
        config = load_config(site)
    except SiteGenError:
        return previous or Layout.default(site)
    return Layout(site, config.content_path, site / "themes", site / "site.yaml",
                  (site / config.agencies_file).resolve())


class Watcher(FileSystemEventHandler):
    """Feeds watchdog events, classified, into a Debouncer."""

    def __init__(self, site: Path, debouncer: Debouncer, *, poll: bool = False) -> None:
        self.site = site
        self.debouncer = debouncer
        self.layout = site_layout(site)
        self.observer: BaseObserver = PollingObserver(timeout=0.5) if poll else Observer()
        self._watches: dict[tuple[str, bool], tuple[ObservedWatch, tuple[int, int]]] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _QUIET_EVENTS or (event.is_directory and event.event_type == "modified"):
            return  # a folder's own "modified" repeats what its entries' events say
        paths = [os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")]
        self.debouncer.add(classify(paths, self.layout))

    def wanted(self) -> set[tuple[str, bool]]:
        """(folder, recursive) pairs to watch for the current layout."""
        layout = self.layout
        folders = {(str(layout.root), False), (str(layout.content), True), (str(layout.themes), True),
                   (str(layout.data.parent), False)}
        return {(path, rec) for path, rec in folders if os.path.isdir(path)}

    def sync(self) -> None:
        """Re-read the layout and (re)schedule watches for folders that appeared,
        went away or were replaced by another folder of the same name."""
        self.layout = site_layout(self.site, self.layout)
        wanted = self.wanted()
        for key in list(self._watches):
            watch, ident = self._watches[key]
            if key not in wanted or _identity(key[0]) != ident:
                self._unschedule(watch)
                del self._watches[key]
        for key in sorted(wanted - set(self._watches)):
            try:
                watch = self.observer.schedule(self, key[0], recursive=key[1])
            except OSError:
                continue  # removed in between; the next sync tries again
            self._watches[key] = (watch, _identity(key[0]))

    def _unschedule(self, watch: ObservedWatch) -> None:
        try:
            self.observer.unschedule(watch)
        except (KeyError, OSError):
            pass

    def start(self) -> None:
        self.sync()
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)


def _identity(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)
