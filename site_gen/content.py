"""Content loading: find source files, split frontmatter, render Markdown.

This stage knows about files and text, not about reports: it hands the model
a :class:`SourceFile` (the frontmatter mapping, the Markdown body and where
each starts) and renders Markdown bodies to sanitized HTML.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, Iterator

import nh3

from .errors import SiteGenError
from .yamltools import load_yaml

MAX_SOURCE_BYTES = 8 * 1024 * 1024
# A report's frontmatter is a few KB; YAML costs ~10 s per MB in PyYAML's resolver.
MAX_FRONTMATTER_CHARS = 256 * 1024
# Python-Markdown recurses once per nesting level and scans inline markup
# quadratically; these bounds keep the worst accepted body to about a second.
MAX_MARKDOWN_NESTING = 32
MAX_BODY_CHARS = 1_000_000    # a long report's text is under 100,000
MAX_BODY_LINES = 20_000       # Markdown costs per element: list items, table rows and cells
MAX_TABLE_CELLS = 40_000      # counted as `|` characters
MAX_HTML_SCAN = 40_000_000    # `<` x body length: Python-Markdown's HTML parser rescans the rest of the text
MAX_INLINE_WORK = 4_000_000   # per block: weighted inline-markup characters x block length
MAX_INLINE_WORK_TOTAL = 20_000_000
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
    for full, _ in scan_sources(content_dir):
        yield Path(full)


def scan_sources(content_dir: Path) -> list[tuple[str, os.stat_result]]:
    """(path, stat) of every source under `content_dir`, in the order of
    `discover_sources`: a folder's files by name, then its subfolders by name.

    One `scandir` per folder and one `lstat` per source: a rebuild of a large
    archive starts with this walk.
    """
    found: list[tuple[str, os.stat_result]] = []

    def walk(folder: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        subfolders = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith("."):
                    subfolders.append(entry.path)
            elif is_source_name(entry.name):
                found.append((entry.path, entry.stat(follow_symlinks=False)))
        for sub in subfolders:
            walk(sub)

    if content_dir.is_dir():
        walk(str(content_dir))
    return found


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
    if len(meta_text) > MAX_FRONTMATTER_CHARS:
        raise SiteGenError(
            f"frontmatter is {len(meta_text) // 1024} KB; the limit is {MAX_FRONTMATTER_CHARS // 1024} KB",
            rel, 2, 1, "a report's fields and tables take a few KB; is the closing `---` missing?")
    check_markdown_limits(body, rel, body_line)
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


_SANITIZER_OPTIONS: dict[str, Any] = {"tags": _ALLOWED_TAGS, "attributes": _ALLOWED_ATTRIBUTES,
                                      "url_schemes": _SAFE_SCHEMES, "link_rel": "noopener noreferrer"}


@lru_cache(maxsize=1)
def _sanitizer() -> Callable[[str], str]:
    """nh3's reusable Cleaner (nh3 0.3+): `nh3.clean` converts the allowlists
    on every call, three quarters of its time on a report section."""
    cleaner = getattr(nh3, "Cleaner", None)
    if cleaner is not None:
        return cleaner(**_SANITIZER_OPTIONS).clean
    return partial(nh3.clean, **_SANITIZER_OPTIONS)


def sanitize_html(html: str) -> str:
    """Allowlist-sanitize HTML from a source (drops scripts, handlers, js: URLs)."""
    return _sanitizer()(html)


_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))")
_INLINE_MARKUP = re.compile(r"[\[<\\*_`&!]")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]")


def _nesting(line: str) -> int:
    """Container levels a line opens: `>` and list markers, plus indentation
    before them (two columns a level, tabs four)."""
    depth, pos = 0, 0
    while True:
        match = _CONTAINER.match(line, pos)
        if not match:
            break
        depth += 1
        pos = match.end()
    if depth:
        indent = len(line) - len(line.lstrip(" \t"))
        depth += line[:indent].expandtabs(4).count(" ") // 2
    return depth


def _inline_units(lines: list[str], first: int) -> Iterator[tuple[int, str]]:
    """(line number, text) of the units Python-Markdown scans inline markup
    over: a paragraph, a list item, or one row of a table."""
    block: list[str] = []
    start = first

    def flush() -> Iterator[tuple[int, str]]:
        if len(block) > 1 and _TABLE_RULE.match(block[1]):
            yield from ((start + i, row) for i, row in enumerate(block))
        elif block:
            yield start, "\n".join(block)

    for number, line in enumerate(lines, first):
        if not line.strip() or (_LIST_ITEM.match(line) and block and not _TABLE_RULE.match(block[-1])):
            yield from flush()
            block, start = ([], number + 1) if not line.strip() else ([line], number)
        else:
            if not block:
                start = number
            block.append(line)
    yield from flush()


def _nth_index(text: str, char: str, n: int) -> int:
    index = -1
    for _ in range(n + 1):
        index = text.index(char, index + 1)
    return index


def check_markdown_limits(body: str, rel: str, first_line: int) -> None:
    """Refuse a body that would make Markdown rendering recurse or crawl."""
    if len(body) > MAX_BODY_CHARS:
        raise SiteGenError(f"the text is {len(body):,} characters; the limit is {MAX_BODY_CHARS:,}",
                           rel, first_line, 1, "a report's text is far shorter; split or trim the file")
    lines = body.split("\n")
    if len(lines) > MAX_BODY_LINES:
        raise SiteGenError(f"the text has {len(lines):,} lines; the limit is {MAX_BODY_LINES:,}",
                           rel, first_line + MAX_BODY_LINES, 1, "a report's text is far shorter; split or trim the file")
    if body.count("|") > MAX_TABLE_CELLS:
        at = first_line + body[: _nth_index(body, "|", MAX_TABLE_CELLS)].count("\n")
        raise SiteGenError(f"more than {MAX_TABLE_CELLS:,} table cells (`|`) in the text", rel, at, 1,
                           "the report's tables belong in the frontmatter `tables:`")
    opened = body.count("<")
    if opened * len(body) > MAX_HTML_SCAN:
        raise SiteGenError(f"too many `<` ({opened:,}) in {len(body):,} characters to render safely", rel,
                           first_line + body[: body.index("<")].count("\n"), 1,
                           "write a literal < as &lt;, or split the file")
    for number, line in enumerate(lines, first_line):
        if _nesting(line) > MAX_MARKDOWN_NESTING:
            raise SiteGenError(f"Markdown nested deeper than {MAX_MARKDOWN_NESTING} levels (quotes or lists)",
                               rel, number, 1, "a report needs only a few levels of lists and quotes")
    # Each unit's work is at most the whole body's markup times the body's
    # length; when even that is within both limits (nearly every report),
    # no unit needs measuring.
    bound = (len(_INLINE_MARKUP.findall(body)) + 9 * body.count("[")) * len(body)
    if bound <= min(MAX_INLINE_WORK, MAX_INLINE_WORK_TOTAL):
        return
    total = 0
    for number, unit in _inline_units(lines, first_line):
        marks = len(_INLINE_MARKUP.findall(unit))
        work = (marks + 9 * unit.count("[")) * len(unit)  # a `[` costs ten times the others
        total += work
        if work > MAX_INLINE_WORK or total > MAX_INLINE_WORK_TOTAL:
            raise SiteGenError(
                f"too much inline markup to render safely ({marks} of [ < \\ * _ ` & ! in {len(unit)} characters)",
                rel, number, 1, "split long paragraphs with blank lines, or remove stray markup characters")


class MarkdownRenderer:
    """Python-Markdown with a fixed extension set, reused across documents."""

    def __init__(self, trusted_html: bool = False):
        self.trusted_html = trusted_html
        self._md: Any = None  # made at the first render: builds with nothing to render never import Markdown

    def render(self, text: str) -> str:
        md = self._md or self.ready()
        html = md.reset().convert(text)
        return html if self.trusted_html else sanitize_html(html)

    def ready(self) -> Any:
        """Make the Markdown instance now (before forking workers, which
        would otherwise each import and set it up)."""
        if self._md is not None:
            return self._md
        import markdown
        with _without_pygments():
            from markdown.extensions.fenced_code import FencedCodeExtension
        from markdown.extensions.sane_lists import SaneListExtension
        from markdown.extensions.tables import TableExtension
        # Extension objects, not names: a name is looked up among the entry
        # points of every installed package (~80 ms, on every start).
        self._md = markdown.Markdown(extensions=[TableExtension(), SaneListExtension(), FencedCodeExtension()],
                                     output_format="html")
        skip_plain_text(self._md)
        return self._md


@contextlib.contextmanager
def _without_pygments():
    """Import Markdown's fenced-code extension without Pygments.

    It imports the code-highlighting extension, which imports Pygments'
    lexers when Pygments is installed (pytest installs it): ~30 ms on every
    build that renders a page, for highlighting site-gen never turns on.
    Fenced code is rendered the same either way (a plain ``<pre><code>``).
    """
    if "pygments" in sys.modules:
        yield
        return
    sys.modules["pygments"] = None  # type: ignore[assignment]  # makes `import pygments` fail
    try:
        yield
    finally:
        if sys.modules.get("pygments", 0) is None:
            del sys.modules["pygments"]


# Python-Markdown's inline patterns by name (3.5 to 3.11); each needs one
# of the characters of `_PATTERN_TRIGGERS` to match:
# code (`), escapes (\), links and images ([), autolinks and raw HTML (<),
# entities (&), emphasis (* _), and a line break (two spaces at a line's end).
_INLINE_PATTERNS = frozenset({
    "backtick", "escape", "reference", "link", "image_link", "image_reference", "short_reference",
    "short_image_ref", "autolink", "automail", "linebreak", "html", "entity", "not_strong", "em_strong",
    "em_strong2"})
_PATTERN_TRIGGERS = re.compile(r"[`\\\[<&*_]|  \n")


def skip_plain_text(md: Any) -> bool:
    """Let Markdown's inline pass return text with no markup character as it is.

    The pass tries each of its ~14 patterns on every text node, one after
    the other: at 2 KB of prose a report, that was 60% of Python-Markdown's
    time, and report prose rarely holds any of the characters the patterns
    need. Text that holds one goes through the whole pass as before; so does
    all text when an unknown pattern is registered or Markdown's inline pass
    is not the one this was written against (the result is then only slower).
    Returns whether the shortcut is in place. `tests/test_content.py`
    compares the output with stock Markdown's.
    """
    from markdown.treeprocessors import InlineProcessor
    from markdown.util import AtomicString
    inline = md.treeprocessors["inline"] if "inline" in md.treeprocessors else None
    handle = getattr(inline, "_InlineProcessor__handleInline", None)
    known = sum(1 for name in _INLINE_PATTERNS if name in md.inlinePatterns)
    if type(inline) is not InlineProcessor or handle is None or known != len(md.inlinePatterns):
        return False

    def handle_inline(data: str, patternIndex: int = 0) -> str:
        if patternIndex == 0 and not isinstance(data, AtomicString) and _PATTERN_TRIGGERS.search(data) is None:
            return data
        return handle(data, patternIndex)

    inline._InlineProcessor__handleInline = handle_inline
    return True


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
