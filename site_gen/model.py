"""The report model: turn a :class:`SourceFile` into a validated Report.

Validation collects every problem of a source and locates each one at its
YAML node (`path:line:col`).  Figures are kept exactly as the source wrote
them; nothing here ever changes a number.
"""
from __future__ import annotations

import hashlib
import marshal

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable

from .content import MarkdownRenderer, SourceFile, html_to_text, read_source, split_sections
from .errors import ErrorList, SiteGenError
from .formats import TABLE_KEYS, Format, Slot, TableSpec, all_formats, format_for_year
from .yamltools import locate

LEVELS = ("national", "province", "city", "county", "township")
KINDS = ("government", "department")
LANGS = ("zh-Hans", "zh-Hant")
REPORT_KEYS = ("title", "agency", "year", "published", "level", "kind", "region", "format",
               "lang", "source", "tags", "tables", "slug")
SOURCE_KEYS = ("url", "file", "sha256", "retrieved", "note")
PAGE_KEYS = ("title", "slug", "order", "lang")
RESERVED_SLUGS = {"static", "search", "data", "tables", "agencies", "checks", "coverage", "feed.xml",
                  "sitemap.xml", "robots.txt", "404.html", "index.html", "pages"}
_SECTION_NUMBER = re.compile(r"^\s*([一二三四五六])\s*[、.．]")
_NUMERALS = "一二三四五六"
_SLUG_BAD = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|#%&{}$!'`@+=\[\]^~;,]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}


@dataclass(frozen=True)
class ReportSection:
    number: int | None
    title: str
    html: str
    anchor: str
    table: str | None = None


@lru_cache(maxsize=512)
def _unpacked(data: bytes) -> dict[str, Any]:
    """Packed tables decoded, for the reports in use lately: a build that
    reads every report's tables (table pages, data files) holds a few hundred
    decoded at a time, not the whole archive's (about 9 KB each)."""
    return marshal.loads(data)


@dataclass
class Report:
    """A validated annual report, ready to render, index and export."""

    source_path: str
    digest: str
    slug: str
    year: int
    agency: str
    title: str
    published: dt.date | None
    level: str | None
    kind: str | None
    region: str | None
    format: str | None
    lang: str
    source: dict[str, Any]
    tags: tuple[str, ...]
    # The tables as stored (see `tables`); the build cache keeps them packed
    # (marshal bytes), decoded when read (`_unpacked`), so a rebuild loads
    # 10,000 reports without building 10,000 nested dicts it will mostly never
    # read, and a build that reads them all does not keep them all.
    tables_data: dict[str, Any] | bytes
    sections: list[ReportSection]
    text: str
    meta_text: str = field(repr=False, default="")
    # A digest of the path and frontmatter only: what every page that does not
    # show the prose depends on (tables, year, agency pages, data exports), so
    # a prose edit leaves them alone.
    meta_digest: str = ""

    @property
    def tables(self) -> dict[str, Any]:
        """The tables as stored (read-only: reports with equal tables may
        share one dict)."""
        data = self.tables_data
        return _unpacked(data) if isinstance(data, bytes) else data

    def packed(self) -> "Report":
        """This report with its tables packed, as the build cache keeps it."""
        data = self.tables_data
        return replace(self, tables_data=data if isinstance(data, bytes) else marshal.dumps(data))

    @property
    def url(self) -> str:
        return f"{self.year}/{self.slug}/"

    @cached_property
    def key(self) -> tuple[int, str]:
        return (self.year, self.slug)

    def format_spec(self) -> Format | None:
        return all_formats().get(self.format) if self.format else None

    def locate(self, keys: Iterable[str | int], root: Path | None = None) -> tuple[int, int]:
        """Line and column of a frontmatter node, counted from the file's top.

        A report restored from the build cache has no frontmatter text; it is
        read again from the source under `root`.
        """
        text = self.meta_text
        if not text and root is not None:
            try:
                text = read_source(Path(root) / self.source_path, Path(root)).meta_text
            except SiteGenError:
                return (1, 1)
        return locate(text, list(keys), SourceFile.META_LINE_OFFSET)


@dataclass
class Page:
    """A plain page under content/pages/ (about the archive, methodology)."""

    source_path: str
    digest: str
    slug: str
    title: str
    html: str
    order: int
    lang: str | None

    @property
    def url(self) -> str:
        return f"{self.slug}/"


MAX_ERRORS_PER_SOURCE = 50


class _Problems:
    """Collects a source's errors, locating each at its YAML node lazily.

    After MAX_ERRORS_PER_SOURCE the rest are only counted: a file with
    100,000 bad rows is reported in bounded time and space.
    """

    def __init__(self, src: SourceFile):
        self.src = src
        self.errors = ErrorList()
        self.suppressed = 0

    @property
    def full(self) -> bool:
        return len(self.errors.errors) >= MAX_ERRORS_PER_SOURCE

    def add(self, keys: list[str | int], message: str, hint: str | None = None,
            *, at_key: bool = False) -> None:
        if self.full:
            self.suppressed += 1
            return
        line, col = locate(self.src.meta_text, keys, SourceFile.META_LINE_OFFSET, want_key=at_key)
        self.errors.add(SiteGenError(message, self.src.rel, line, col, hint))

    def raise_if_any(self) -> None:
        if self.suppressed:
            self.errors.add(SiteGenError(f"{self.suppressed} more problems in this file not shown",
                                         self.src.rel, None, None, "fix the ones above and check again"))
            self.suppressed = 0
        self.errors.raise_if_any()


def make_slug(raw: str) -> str | None:
    """A URL-safe, filesystem-safe slug, or None if nothing usable is left."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    text = re.sub(r"\s+", "-", text)
    text = _SLUG_BAD.sub("-", text).strip("-.")
    text = re.sub(r"-{2,}", "-", text)
    if not text or text in ("..", ".") or text.split(".")[0] in _WINDOWS_RESERVED:
        return None
    return text[:120]


def _text_field(meta, key, problems, *, required=False) -> str | None:
    value = meta.get(key)
    if value is None:
        if required:
            problems.add([], f"missing required field `{key}`",
                         f"add a line `{key}: ...` to the frontmatter")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.add([key], f"`{key}` must be text")
        return None
    return value.strip()


def _choice_field(meta, key, choices, problems) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if value not in choices:
        near = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"did you mean `{near[0]}`?" if near else "one of: " + ", ".join(choices)
        problems.add([key], f"`{key}` must be one of {', '.join(choices)}, not {value!r}", hint)
        return None
    return value


def _year_field(meta, problems) -> int | None:
    value = meta.get("year")
    if value is None:
        problems.add([], "missing required field `year`", "add a line `year: 2022` (the reporting year)")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1949 <= value <= 2999:
        problems.add(["year"], f"`year` must be a reporting year such as 2022, not {value!r}")
        return None
    return value


def parse_date(value: Any) -> dt.date | None:
    """A date from YAML: a date, or text of the form YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _date_field(meta, key, problems, keys=None) -> dt.date | None:
    value = meta.get(key)
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        problems.add(keys or [key], f"`{key}` is not a date: {value!r}",
                     "write dates as YYYY-MM-DD, e.g. 2023-01-12")
    return parsed


def _source_field(meta, problems) -> dict[str, Any]:
    value = meta.get("source")
    if value is None:
        return {}
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        problems.add(["source"], "`source` must be a mapping with url, file, sha256, retrieved")
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in SOURCE_KEYS:
            problems.add(["source", key], f"unknown field `source.{key}`",
                         "known: " + ", ".join(SOURCE_KEYS), at_key=True)
        elif key == "retrieved":
            date = _date_field(value, key, problems, ["source", key])
            if date:
                out[key] = date.isoformat()
        elif key == "url":
            if not isinstance(item, str) or not re.match(r"^https?://", item.strip()):
                problems.add(["source", key], "`source.url` must be an http(s) URL")
            else:
                out[key] = item.strip()
        elif key == "sha256":
            if not isinstance(item, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", item):
                problems.add(["source", key], "`source.sha256` must be 64 hexadecimal digits")
            else:
                out[key] = item.lower()
        elif item is not None:
            out[key] = str(item)
    return out


def _tags_field(meta, problems) -> tuple[str, ...]:
    value = meta.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, (str, int)) for t in value):
        problems.add(["tags"], "`tags` must be a list of words")
        return ()
    return tuple(str(t) for t in value)


# --- tables ---------------------------------------------------------------

def value_at(node: Any, path: Iterable[Any]) -> Any:
    """The value at `path` (keys and list indexes) in a report's table data,
    or None where the path does not exist."""
    for key in path:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def value_at_key(node: Any, key: Any) -> Any:
    """`value_at(node, (key,))` without the loop: a figure of a row already
    found, by its column (pages and data files look up thousands)."""
    if node.__class__ is dict:
        return node.get(key)
    if node.__class__ is list:
        return node[key] if isinstance(key, int) and 0 <= key < len(node) else None
    return value_at(node, (key,))



def _check_number(value: Any, keys: list, problems: _Problems) -> None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return
    if isinstance(value, str) and value.strip() in ("/", "-", "—", "－", ""):
        hint = "write `null` for a blank cell (null is not 0)"
    elif isinstance(value, str) and re.match(r"^\s*-?\d+(\.\d+)?\s*\D+$", value):
        hint = "write the number alone; the unit is part of the format"
    else:
        hint = "write a number, or `null` for a blank cell"
    problems.add(keys, f"text where a number belongs: {value!r}", hint)


def _check_known_keys(data: dict, allowed: list[str], keys: list, problems: _Problems, what: str) -> None:
    for key in data:
        if key not in allowed:
            if problems.full:
                problems.suppressed += 1
                continue
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean `{near[0]}`?" if near else "known: " + ", ".join(allowed)
            problems.add(keys + [key], f"unknown {what} `{key}`", hint, at_key=True)


@lru_cache(maxsize=None)
def _slot_children(spec: TableSpec) -> dict[tuple[str, ...], list[str]]:
    """For every mapping level of a table, the keys allowed below it (once
    per spec; read-only)."""
    children: dict[tuple[str, ...], list[str]] = {}
    for slot in spec.slots():
        for depth in range(len(slot.path)):
            parent, child = slot.path[:depth], slot.path[depth]
            children.setdefault(parent, [])
            if child not in children[parent]:
                children[parent].append(child)
    return children


def _validate_slot(value: Any, slot: Slot, keys: list, problems: _Problems) -> None:
    label = " / ".join(slot.labels)
    if slot.shape == "vector":
        if not isinstance(value, list):
            problems.add(keys, f"row {label} must be a list of {len(slot.columns)} numbers",
                         "write it as [0, 0, 0, 0, 0, 0, 0]")
            return
        if len(value) != len(slot.columns):
            problems.add(keys, f"row {label} has {len(value)} values; the format has {len(slot.columns)} columns",
                         "columns: " + " · ".join(c.label for c in slot.columns))
            return
        if all(item.__class__ is int for item in value):  # nearly every row: whole numbers, nothing to say
            return
        for index, item in enumerate(value):
            _check_number(item, keys + [index], problems)
    elif slot.shape == "record":
        if not isinstance(value, dict):
            problems.add(keys, f"row {label} must be a mapping of " + ", ".join(c.key for c in slot.columns),
                         "write it as {" + ", ".join(f"{c.key}: 0" for c in slot.columns) + "}")
            return
        names = [c.key for c in slot.columns]
        _check_known_keys(value, names, keys, problems, "column")
        for name in names:
            if name not in value:
                problems.add(keys, f"row {label} is missing column `{name}`",
                             "write `null` for a blank cell")
            else:
                _check_number(value[name], keys + [name], problems)
    else:
        if isinstance(value, (list, dict)):
            problems.add(keys, f"row {label} holds one number, not a list or mapping")
        else:
            _check_number(value, keys, problems)


def _validate_table(data: Any, spec: TableSpec, problems: _Problems) -> None:
    base = ["tables", spec.key]
    if not isinstance(data, dict):
        problems.add(base, f"table `{spec.key}` must be a mapping of rows")
        return
    children = _slot_children(spec)
    for parent, allowed in children.items():
        node = data
        for key in parent:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            _check_known_keys(node, allowed, base + list(parent), problems, "row")
    for slot in spec.slots():
        node: Any = data
        missing_at = None
        for depth, key in enumerate(slot.path):
            if not isinstance(node, dict) or key not in node:
                missing_at = depth
                break
            node = node[key]
        if missing_at is not None:
            if isinstance(node, dict) or missing_at == 0:
                problems.add(base + list(slot.path[:missing_at]),
                             f"table `{spec.key}` is missing row `{'.'.join(slot.path)}` ({' / '.join(slot.labels)})",
                             "write `null` values for cells left blank in the report", at_key=True)
            elif missing_at and not isinstance(node, dict):
                problems.add(base + list(slot.path[:missing_at]),
                             f"`{'.'.join(slot.path[:missing_at])}` must be a mapping of its sub-rows")
                return
            continue
        _validate_slot(node, slot, base + list(slot.path), problems)


def _tables_field(meta, fmt: Format | None, problems) -> dict[str, Any]:
    value = meta.get("tables")
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(["tables"], "`tables` must be a mapping of proactive, requests, review_litigation")
        return {}
    if fmt is None:
        problems.add(["tables"], "`tables` given but the report has no format",
                     "set `format: cn-gov-2021` (2021 onward) or `cn-gov-2019` (2019, 2020)")
        return {}
    _check_known_keys(value, list(fmt.tables), ["tables"], problems, "table key")
    for key, spec in fmt.tables.items():
        if key in value:
            _validate_table(value[key], spec, problems)
    return {k: value[k] for k in TABLE_KEYS if k in value}


def _format_field(meta, year, problems) -> Format | None:
    value = meta.get("format")
    if value in (None, "none", "") or value is False:
        if value is None and meta.get("tables") and year:
            return format_for_year(year)
        return None
    formats = all_formats()
    if not isinstance(value, str) or value not in formats:
        near = difflib.get_close_matches(str(value), list(formats), n=1)
        problems.add(["format"], f"unknown format {value!r}",
                     f"did you mean `{near[0]}`?" if near else "known: " + ", ".join(formats) + ", none")
        return None
    return formats[value]


# --- sections ---------------------------------------------------------------

def section_number(title: str) -> int | None:
    match = _SECTION_NUMBER.match(title)
    return _NUMERALS.index(match.group(1)) + 1 if match else None


def build_sections(body: str, body_line: int, fmt: Format | None, tables: dict,
                   md: MarkdownRenderer) -> list[ReportSection]:
    """The report's sections in order, each table under its own heading.

    A table whose section heading the body lacks gets the format's standard
    heading, placed in numeric order.
    """
    table_of = {s.number: s.table for s in fmt.sections} if fmt else {}
    sections: list[ReportSection] = []
    seen: set[int] = set()
    used: set[int | None] = set()
    for part in split_sections(body, body_line):
        number = section_number(part.title) if part.title else None
        table = table_of.get(number) if number not in seen else None
        if number:
            seen.add(number)
        title = part.title or ""
        anchor = f"s{number}" if number and number not in used else f"p{len(sections) + 1}"
        used.add(number)
        sections.append(ReportSection(number, title, md.render(part.markdown), anchor,
                                      table if table in tables else None))
    if fmt:
        for spec_section in fmt.sections:
            if spec_section.table in tables and spec_section.number not in seen:
                new = ReportSection(spec_section.number, spec_section.title, "",
                                    f"s{spec_section.number}", spec_section.table)
                pos = next((i for i, s in enumerate(sections)
                            if s.number and s.number > spec_section.number), len(sections))
                sections.insert(pos, new)
    return sections


def table_labels_text(fmt: Format | None, tables: dict) -> str:
    """The printed labels of the tables a report has, for full-text search."""
    if not fmt:
        return ""
    return _labels_text(tuple(spec for key, spec in fmt.tables.items() if key in tables))


@lru_cache(maxsize=64)
def _labels_text(specs: tuple[TableSpec, ...]) -> str:
    """The same for every report with these tables: worked out once."""
    words: list[str] = []
    for spec in specs:
        words.append(spec.title)
        for slot in spec.slots():
            words.append(slot.labels[-1])
        words.extend(c.label for c in spec.columns)
    return "\n".join(words)


# --- reports and pages -------------------------------------------------------

def report_from_source(src: SourceFile, md: MarkdownRenderer | None) -> Report:
    """Validate a source's frontmatter and body into a Report (or raise).

    Without a Markdown renderer the body is not rendered: the light report
    carries metadata and tables only, which is all index pages need.
    """
    meta = src.meta
    problems = _Problems(src)
    _check_known_keys(meta, list(REPORT_KEYS), [], problems, "field")
    agency = _text_field(meta, "agency", problems, required=True)
    year = _year_field(meta, problems)
    title = _text_field(meta, "title", problems)
    published = _date_field(meta, "published", problems)
    level = _choice_field(meta, "level", LEVELS, problems)
    kind = _choice_field(meta, "kind", KINDS, problems)
    region = _text_field(meta, "region", problems)
    lang = _choice_field(meta, "lang", LANGS, problems) or "zh-Hans"
    source = _source_field(meta, problems)
    tags = _tags_field(meta, problems)
    fmt = _format_field(meta, year, problems)
    tables = _tables_field(meta, fmt, problems)
    slug_raw = meta.get("slug", src.path.stem)
    slug = make_slug(str(slug_raw)) if slug_raw is not None else None
    if slug is None or slug in RESERVED_SLUGS:
        problems.add(["slug"] if "slug" in meta else [],
                     f"cannot make a URL name from {slug_raw!r}",
                     "set `slug:` to a short name of letters, digits or hyphens")
    problems.raise_if_any()
    assert agency and year and slug
    title = title or f"{agency}{year}年政府信息公开工作年度报告"
    light = Report(src.rel, src.digest, slug, year, agency, title, published, level, kind, region,
                   fmt.id if fmt else None, lang, source, tags, tables, [], "", src.meta_text,
                   meta_digest(src.rel, src.meta_text))
    return with_body(light, src.body, src.body_line, md) if md else light


def meta_digest(rel: str, meta_text: str) -> str:
    """The digest of a report's path and frontmatter (see Report.meta_digest)."""
    return hashlib.sha256(f"{rel}\0{meta_text}".encode("utf-8")).hexdigest()


def with_body(report: Report, body: str, body_line: int, md: MarkdownRenderer) -> Report:
    """A light report completed with its rendered sections and search text."""
    fmt = report.format_spec()
    sections = build_sections(body, body_line, fmt, report.tables, md)
    text = "\n".join([report.title, report.agency]
                      + [s.title + "\n" + html_to_text(s.html) for s in sections]
                      + [table_labels_text(fmt, report.tables)])
    return replace(report, sections=sections, text=text)


def page_from_source(src: SourceFile, md: MarkdownRenderer) -> Page:
    meta = src.meta
    problems = _Problems(src)
    _check_known_keys(meta, list(PAGE_KEYS), [], problems, "field")
    title = _text_field(meta, "title", problems, required=True)
    order = meta.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int):
        problems.add(["order"], "`order` must be a whole number")
        order = 0
    lang = _choice_field(meta, "lang", LANGS, problems)
    slug_raw = meta.get("slug", src.path.stem)
    slug = make_slug(str(slug_raw))
    if slug is None or slug in RESERVED_SLUGS or slug.isdigit():
        problems.add(["slug"] if "slug" in meta else [],
                     f"cannot use {slug_raw!r} as a page's URL name",
                     "pick a name that is not a year or one of: " + ", ".join(sorted(RESERVED_SLUGS)))
    problems.raise_if_any()
    return Page(src.rel, src.digest, slug, title, md.render(src.body), order, lang)
