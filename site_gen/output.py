"""The output folder: staged writes, atomic swaps, recovery and the lock.

A full build is written into a fresh sibling folder and swapped in with two
renames only when complete.  An incremental build writes its changed files
into a staging folder, records a commit journal, then moves them into place;
a build killed before the journal is written leaves `output/` untouched, and
one killed after it is rolled forward by the next run.  Either way every file
in `output/` is always a complete file from some finished build.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from .errors import SiteGenError

MARKER = ".site-gen-output"


def _sibling(out: Path, suffix: str) -> Path:
    return out.parent / f".{out.name}.{suffix}"


@contextmanager
def build_lock(cache_dir: Path, rel: str) -> Iterator[None]:
    """Hold an exclusive lock so two builds of one site never interleave."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise SiteGenError("another site-gen build of this site is running", rel, None, None,
                               "wait for it to finish, then run this command again") from None
        raise
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def check_output_owner(out: Path, rel: str) -> None:
    """Refuse to replace a non-empty folder that site-gen did not make."""
    if out.is_symlink():
        raise SiteGenError("output folder is a symbolic link; site-gen will not replace it", rel)
    if out.exists() and not out.is_dir():
        raise SiteGenError("output path exists and is not a folder", rel, None, None,
                           "set `output_dir` in site.yaml to a folder name")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SiteGenError("output folder has files site-gen did not write; refusing to replace it",
                           rel, None, None, "move them away, or set `output_dir` to another folder")


def recover(out: Path) -> None:
    """Finish or undo whatever a killed build left behind."""
    old, new = _sibling(out, "old"), _sibling(out, "new")
    if not out.exists() and old.is_dir():
        old.rename(out)  # killed between the two renames of a swap
    if new.exists():
        shutil.rmtree(new)
    if old.exists():
        shutil.rmtree(old)
    staging = _sibling(out, "staging")
    journal = staging / "COMMIT.json"
    if journal.is_file():
        _apply(out, staging, json.loads(journal.read_text("utf-8")))
    if staging.exists():
        shutil.rmtree(staging)


class FreshOutput:
    """A whole new output folder, swapped in by `commit`."""

    def __init__(self, out: Path):
        self.out = out
        self.root = _sibling(out, "new")
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        (self.root / MARKER).write_text("site-gen output; safe to delete\n", "utf-8")
        self.files_root = self.root

    def commit(self, written: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        old = _sibling(self.out, "old")
        if self.out.exists():
            self.out.rename(old)
        self.root.rename(self.out)
        if old.exists():
            shutil.rmtree(old)

    def abandon(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class StagedChanges:
    """Changed files of an incremental build, moved into `out` by `commit`."""

    def __init__(self, out: Path):
        self.out = out
        self.root = _sibling(out, "staging")
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.files_root = self.root / "files"

    def commit(self, written: Iterable[str], removed: Iterable[str]) -> None:
        plan = {"write": sorted(set(written)), "remove": sorted(set(removed))}
        journal = self.root / "COMMIT.json"
        tmp = journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(plan), "utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.rename(journal)
        _apply(self.out, self.root, plan)
        shutil.rmtree(self.root)

    def abandon(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _apply(out: Path, staging: Path, plan: dict) -> None:
    """Move staged files into place and delete removed ones (idempotent: a
    file moved already is no longer staged). A folder is made only when a
    move finds it missing: most files go into folders that exist."""
    files, target = f"{staging}/files/", f"{out}/"
    for rel in plan["write"]:
        src, dest = files + rel, target + rel
        try:
            os.replace(src, dest)
        except FileNotFoundError:
            if not os.path.exists(src):
                continue  # moved by the run that was killed
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(src, dest)
    for rel in plan["remove"]:
        target = out / rel
        if target.is_file():
            target.unlink()
            _prune_empty_dirs(target.parent, out)


def _prune_empty_dirs(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def write_file(path: Path | str, data: bytes) -> None:
    """Write `data` to a new or existing file, making its folder if missing.

    The folder is made only when opening fails: most files go into a folder
    that exists already (a report's page and its JSON, a year's pages), and
    asking for it first costs a failed mkdir and a stat per file."""
    try:
        handle = open(path, "wb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle = open(path, "wb")
    with handle:
        handle.write(data)


def _open_regular(path: Path | str) -> BinaryIO | None:
    """The file at `path` opened for reading if it is a regular file (not
    through a symbolic link), else None. Opened without blocking: a FIFO
    left where a page was would otherwise wait for a writer forever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return open(fd, "rb")


def same_bytes(path: str, data: bytes) -> bool:
    """Whether the file at `path` is a regular file holding exactly `data`
    (the size first, so a page that did change is rarely read). A symbolic
    link is never the same: the build replaces it with the file."""
    handle = _open_regular(path)
    if handle is None:
        return False
    with handle:
        return os.fstat(handle.fileno()).st_size == len(data) and handle.read() == data


def same_files(made: Path | str, live: Path | str) -> bool:
    """Whether the file a build made and the regular file in the output
    folder hold the same bytes (read a megabyte at a time: a data file of a
    large archive is far too big to hold)."""
    two = _open_regular(live)
    if two is None:
        return False
    try:
        with two, open(made, "rb") as one:
            if os.fstat(one.fileno()).st_size != os.fstat(two.fileno()).st_size:
                return False
            while True:
                chunk = one.read(1 << 20)
                if chunk != two.read(1 << 20):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False
