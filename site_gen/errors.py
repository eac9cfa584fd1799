"""One error type for everything a user can get wrong.

Every problem site-gen reports about a user's files is a :class:`SiteGenError`
carrying the file, the line and column (1-based, counted from the top of the
file) and an optional hint.  Stages collect them in an :class:`ErrorList` so a
run reports every problem at once; the command line prints them as
``path:line:col: message`` and exits non-zero, never with a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


@dataclass(eq=False)
class SiteGenError(Exception):
    """A problem in a user's file, located as precisely as we can."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    def location(self) -> str:
        parts = [self.path or "<site>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def sort_key(self) -> tuple:
        return (self.path or "", self.line or 0, self.column or 0, self.message)


class BuildFailed(Exception):
    """Raised with every collected error once a stage cannot go on."""

    def __init__(self, errors: Iterable[SiteGenError]):
        self.errors = sorted(errors, key=SiteGenError.sort_key)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class ErrorList:
    """Collects errors across a stage so all of them are reported at once."""

    errors: list[SiteGenError] = field(default_factory=list)

    def add(self, error: SiteGenError) -> None:
        self.errors.append(error)

    def extend(self, errors: Iterable[SiteGenError]) -> None:
        self.errors.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __iter__(self) -> Iterator[SiteGenError]:
        return iter(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise BuildFailed(self.errors)


def display_path(path: Path, root: Path | None = None) -> str:
    """The path as the user should read it: relative to the site when possible."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()
