"""`site-gen check --links`: every internal link and asset of a built site
must resolve to a file in it.

Links written in sources (Markdown `[x](url)`, `[x]: url` definitions and raw
`href`/`src` attributes in report bodies and pages) are reported at their
file and line; any other broken link in the output (from the theme) is
reported at the output file.  External links (any scheme, `//host`) are not
fetched.
"""
from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from .config import Config
from .content import discover_sources, read_source
from .errors import BuildFailed, SiteGenError, display_path
from .model import page_from_source, report_from_source

PAGES_DIR = "pages"
_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]+(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+[\"'(][^\n]*?[\"')])?\s*\)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and tag in ("a", "link", "script", "img", "area", "source"):
                self.links.append(value)


def is_internal(url: str) -> bool:
    parts = urlsplit(url.strip())
    return not (parts.scheme or parts.netloc or url.strip().startswith("#") or not url.strip())


def resolve(out: Path, page_rel: str, url: str, base_path: str = "/") -> Path | None:
    """The output file an internal link from `page_rel` leads to, or None if
    it leads outside the site."""
    path = unquote(urlsplit(url.strip()).path)
    if not path:
        return out / page_rel
    if path.startswith("/"):
        joined = path[len(base_path):] if path.startswith(base_path) else path.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(page_rel), path)
    normal = posixpath.normpath(joined) if joined else "."
    if normal == ".." or normal.startswith("../") or "\0" in normal:
        return None
    target = out / ("" if normal == "." else normal)
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def _resolves(out: Path, page_rel: str, url: str, base_path: str) -> bool:
    target = resolve(out, page_rel, url, base_path)
    try:
        return target is not None and target.is_file() and target.resolve().is_relative_to(out.resolve())
    except (OSError, ValueError):
        return False


def source_links(body: str, first_line: int) -> Iterator[tuple[int, str]]:
    """(line, url) of every link written in a Markdown body, outside code fences."""
    fenced = False
    for number, line in enumerate(body.split("\n"), first_line):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for match in _INLINE.finditer(line):
            yield number, match.group(1)
        match = _DEFINITION.match(line)
        if match:
            yield number, match.group(1)
        for match in _ATTRIBUTE.finditer(line):
            yield number, next(g for g in match.groups() if g is not None)


def _page_of(config: Config, path: Path) -> tuple[str, object] | None:
    """The output page a source becomes, with its parsed source (None if invalid)."""
    try:
        src = read_source(path, config.root)
        if config.content_path / PAGES_DIR in path.parents:
            item = page_from_source(src, _NoMarkdown())
        else:
            item = report_from_source(src, None)
    except (SiteGenError, BuildFailed):
        return None
    return f"{item.url}index.html", src


class _NoMarkdown:
    def render(self, text: str) -> str:
        return ""


def check_links(config: Config, out: Path) -> list[SiteGenError]:
    """Every broken internal link of the site built in `out`, located in its
    source when a source wrote it, else in the output file."""
    base_path = urlsplit(config.base_url).path or "/"
    errors: list[SiteGenError] = []
    written: set[tuple[str, str]] = set()
    for path in discover_sources(config.content_path):
        found = _page_of(config, path)
        if found is None:
            continue
        page_rel, src = found
        for line, url in source_links(src.body, src.body_line):
            written.add((page_rel, url))
            if is_internal(url) and not _resolves(out, page_rel, url, base_path):
                errors.append(SiteGenError(f"broken link {url}", src.rel, line, None,
                                           "the link leads to no page or file of the built site"))
    shown = display_path(out, config.root)
    for page in sorted(out.rglob("*.html")):
        page_rel = page.relative_to(out).as_posix()
        if page.is_symlink() or not page.is_file():  # a FIFO would wait for a writer
            errors.append(SiteGenError("not a regular file where a built page belongs", f"{shown}/{page_rel}",
                                       None, None, "build the site again: the build replaces it"))
            continue
        parser = _LinkParser()
        try:
            parser.feed(page.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(SiteGenError(f"cannot read built page: {exc}", f"{shown}/{page_rel}"))
            continue
        base = "/" if page_rel == "404.html" else base_path
        for url in sorted(set(parser.links)):
            if (page_rel, url) in written or not is_internal(url) or _resolves(out, page_rel, url, base):
                continue
            errors.append(SiteGenError(f"broken link {url}", f"{shown}/{page_rel}", None, None,
                                       "a theme template prints this link"))
    return sorted(errors, key=SiteGenError.sort_key)
