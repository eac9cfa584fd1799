"""Content loading: find source files, split frontmatter, render Markdown.

This stage knows about files and text, not about reports: it hands the model
a :class:`SourceFile` (the frontmatter mapping, the Markdown body and where
each starts) and renders Markdown bodies to sanitized HTML.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import markdown
import nh3

from .errors import SiteGenError
from .yamltools import load_yaml

MAX_SOURCE_BYTES = 8 * 1024 * 1024
FRONTMATTER_FENCE = "---"
# Editors' swap, backup and temporary files are never sources.
_IGNORED = re.compile(r"(^\.|^#.*#$|~$|\.swp$|\.swx$|\.tmp$|^4913$)")


@dataclass(frozen=True)
class SourceFile:
    """One source as read from disk: frontmatter data and Markdown body."""

    path: Path
    rel: str
    digest: str
    meta_text: str
    meta: dict[str, Any]
    body: str
    body_line: int

    META_LINE_OFFSET = 1  # the YAML starts after the opening `---` line


def is_source_name(name: str) -> bool:
    """True for a Markdown file that is not an editor's temporary file."""
    return name.endswith(".md") and not _IGNORED.search(name)


def discover_sources(content_dir: Path) -> Iterator[Path]:
    """Every source under `content_dir`, in a stable order.

    Hidden folders are skipped; symbolic links are not followed, so nothing
    outside the content folder is read.
    """
    if not content_dir.is_dir():
        return
    for folder, dirs, files in os.walk(content_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(files):
            full = os.path.join(folder, name)
            if is_source_name(name) and not os.path.islink(full):
                yield Path(full)


def decode_source(data: bytes, rel: str) -> str:
    """Decode a source's bytes: UTF-8 (with or without BOM) or UTF-16 with BOM."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SiteGenError("invalid UTF-16 text", rel, 1, 1) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SiteGenError(
            f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x})", rel, line, None,
            "save the file as UTF-8, or bring the original in with `site-gen import`",
        ) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise SiteGenError("binary data (NUL byte) in a text source", rel, line, None)
    return text


def split_frontmatter(text: str, rel: str) -> tuple[str, str, int]:
    """Return (yaml text, body, 1-based line where the body starts)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FRONTMATTER_FENCE:
        raise SiteGenError(
            "missing frontmatter: a source must start with a line `---`", rel, 1, 1,
            "start the file with `---`, the report's YAML fields, then `---` and the text",
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() in (FRONTMATTER_FENCE, "..."):
            return "\n".join(lines[1:index]) + "\n", "\n".join(lines[index + 1:]), index + 2
    raise SiteGenError("frontmatter is never closed", rel, 1, 1,
                       "end the YAML fields with a line `---`")


def read_source(path: Path, root: Path) -> SourceFile:
    """Read and split one source file; errors name it relative to `root`."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SiteGenError(
                f"source is {size // 1024 // 1024} MB; the limit is {MAX_SOURCE_BYTES // 1024 // 1024} MB",
                rel, None, None, "a report is text and tables; split or trim the file")
        data = path.read_bytes()
    except OSError as exc:
        raise SiteGenError(f"cannot read file: {exc.strerror}", rel) from None
    text = decode_source(data, rel)
    meta_text, body, body_line = split_frontmatter(text, rel)
    meta = load_yaml(meta_text, rel, SourceFile.META_LINE_OFFSET)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SiteGenError("frontmatter must be a mapping of `key: value` fields", rel, 2, 1)
    return SourceFile(path, rel, hashlib.sha256(data).hexdigest(), meta_text, meta, body, body_line)


def read_body(path: Path, rel: str, digest: str) -> tuple[str, int]:
    """The Markdown body of a source already parsed (and its first line).

    Raises if the file changed since it was parsed, so a page is never made
    from two different versions of one source.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SiteGenError(f"cannot read file: {exc.strerror}", rel) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise SiteGenError("file changed during the build", rel, None, None, "run the build again")
    _, body, body_line = split_frontmatter(decode_source(data, rel), rel)
    return body, body_line


# --- Markdown -------------------------------------------------------------

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align", "scope"},
    "abbr": {"title"}, "ol": {"start"}, "*": {"id", "class", "lang"},
}
_SAFE_SCHEMES = {"http", "https", "mailto"}
_HEADING = re.compile(r"^(#{1,2})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")


def sanitize_html(html: str) -> str:
    """Allowlist-sanitize HTML from a source (drops scripts, handlers, js: URLs)."""
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                     url_schemes=_SAFE_SCHEMES, link_rel="noopener noreferrer")


class MarkdownRenderer:
    """Python-Markdown with a fixed extension set, reused across documents."""

    def __init__(self, trusted_html: bool = False):
        self._md = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"],
                                     output_format="html")
        self.trusted_html = trusted_html

    def render(self, text: str) -> str:
        html = self._md.reset().convert(text)
        return html if self.trusted_html else sanitize_html(html)


@dataclass(frozen=True)
class BodySection:
    """A part of the body under one `##` heading (title None before the first)."""

    title: str | None
    markdown: str
    line: int


def split_sections(body: str, first_line: int) -> list[BodySection]:
    """Split a Markdown body at its level-1/2 headings, ignoring code fences."""
    sections: list[BodySection] = []
    title: str | None = None
    start = first_line
    buf: list[str] = []
    fenced = False
    for offset, line in enumerate(body.split("\n")):
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            if title is not None or any(b.strip() for b in buf):
                sections.append(BodySection(title, "\n".join(buf).strip("\n"), start))
            title, buf, start = match.group(2).strip(), [], first_line + offset
        else:
            buf.append(line)
    if title is not None or any(b.strip() for b in buf):
        sections.append(BodySection(title, "\n".join(buf).strip("\n"), start))
    return sections


_TAG = re.compile(r"<[^>]+>")


def html_to_text(html: str) -> str:
    """Plain text of rendered HTML, for search and excerpts."""
    import html as _html
    return _html.unescape(_TAG.sub(" ", html)).strip()
