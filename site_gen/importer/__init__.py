"""``site-gen import``: raw published reports to clean source files.

The pipeline for one input, each step in its own module::

    read bytes -> decode (decode.py) -> items by shape (shapes.py, html.py, pdf.py)
    -> strip pinyin debris (clean.py) -> sections, title, date (document.py)
    -> format and tables (tables.py) -> frontmatter + Markdown (writer.py)

Like the build, the import reads every input before it writes anything; one
bad input is reported as ``path: message`` and the others are still imported.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from site_gen.errors import SiteGenError
from site_gen.formats import TABLE_KEYS, Format, all_formats, format_for_year

from .checking import check_source
from .clean import is_traditional, match_key, strip_pinyin_debris
from .decode import decode, is_pdf
from .document import (Layout, agency_kind, agency_level, find_agency, find_year,
                       make_title, published_in_page_info, render_body, split_report)
from .html import PageInfo, looks_like_html, parse_html
from .shapes import (Item, Text, is_crawler_text, is_layout_text, parse_crawler,
                     parse_layout_text, parse_piped_rows)
from .tables import TableRead, read_tables
from .writer import render_source

__all__ = ["run_import", "import_file", "Imported"]

MIN_SECTIONS = 2


@dataclass
class Imported:
    """One input read and understood, ready to be written."""

    path: Path
    year: int
    slug: str
    shape: str
    format_id: str | None
    content: str
    meta: dict[str, Any]
    tables: dict[str, TableRead]
    debris: int = 0
    warnings: list[str] = field(default_factory=list)
    rules: str = "not checked"

    def destination(self, into: Path) -> Path:
        return into / str(self.year) / f"{self.slug}.md"


def run_import(paths: list[Path], into: Path, *, force: bool = False, dry_run: bool = False,
               out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Import every input; print a summary line per input and one line per error.

    Returns 0 when every input was imported, 1 otherwise.
    """
    failed = False
    ready: list[tuple[Imported, Path]] = []
    claimed: dict[Path, Path] = {}
    for path in paths:
        try:
            item = import_file(Path(path))
            target = _claim(item, into, claimed, force)
        except SiteGenError as error:
            print(str(error), file=err)
            failed = True
            continue
        ready.append((item, target))
    for item, target in ready:
        failed |= not _write(item, target, dry_run, out, err)
    return 1 if failed else 0


def _claim(item: Imported, into: Path, claimed: dict[Path, Path], force: bool) -> Path:
    target = item.destination(into)
    if target in claimed:
        raise SiteGenError(f"{target} is also the destination of {claimed[target]}",
                           str(item.path), hint="rename one input file")
    if target.exists() and not force:
        raise SiteGenError(f"{target} already exists; not overwritten", str(item.path),
                           hint="use --force to replace it")
    claimed[target] = item.path
    return target


def _write(item: Imported, target: Path, dry_run: bool, out: TextIO, err: TextIO) -> bool:
    if not dry_run:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(item.content, encoding="utf-8")
        except OSError as exc:
            print(str(SiteGenError(f"cannot write {target}: {exc.strerror}", str(item.path))),
                  file=err)
            return False
    verb = "would write" if dry_run else "wrote"
    print(f"{item.path}: {verb} {target}: {summary(item)}", file=out)
    for warning in item.warnings:
        print(f"{item.path}: warning: {warning}", file=out)
    return True


def summary(item: Imported) -> str:
    """One line: format, tables found, cells read, nulls, units stripped, failing rules."""
    tables = item.tables.values()
    units = [u for t in tables for u in t.units]
    found = ", ".join(item.tables) or "none"
    parts = [
        f"shape {item.shape}",
        f"format {item.format_id or 'none'}",
        f"tables {len(item.tables)}/{len(TABLE_KEYS)} ({found})",
        f"cells {sum(t.cells for t in tables)}",
        f"nulls {sum(t.nulls for t in tables)}",
        f"units stripped {len(units)}" + (f" ({', '.join(units)})" if units else ""),
        f"pinyin debris removed {item.debris}",
        f"rules failing: {item.rules}",
    ]
    return "; ".join(parts)


# --- one input ---------------------------------------------------------------

def import_file(path: Path) -> Imported:
    """Read one raw report; raise SiteGenError when it cannot become a source."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SiteGenError(f"cannot read: {exc.strerror or exc}", name) from None
    try:
        return _understand(path, data)
    except SiteGenError:
        raise
    except Exception as exc:  # never a traceback: a bug here still names the file
        raise SiteGenError(f"import failed: {type(exc).__name__}: {exc}", name,
                           hint="please report this input as a bug") from None


def _understand(path: Path, data: bytes) -> Imported:
    name = str(path)
    shape, items, page = read_items(data, name)
    debris = clean_items(items)
    layout = split_report(items, wrapped=shape in ("pdftotext", "pdf"), page_title=page.title)
    if len(layout.sections) < MIN_SECTIONS:
        raise SiteGenError(
            "not a government information disclosure annual report: "
            "no section headings (一、总体情况 … 六、其他需要报告的事项) found", name)
    published = layout.published or _published_from_page(layout, page)
    year = find_year(layout.title, _prose(layout), published)
    if year is None:
        raise SiteGenError("cannot tell the reporting year", name,
                           hint="the title or a closing date line should carry it")
    agency = find_agency(layout.title, layout.signature)
    if not agency:
        raise SiteGenError("cannot tell the reporting agency", name,
                           hint="no title and no signature line before the closing date")
    fmt = detect_format(layout, year)
    tables, warnings = _read(fmt, layout)
    traditional = is_traditional(_prose(layout))
    meta = _meta(path, data, layout, agency, year, published, fmt, traditional, page)
    body = render_body(layout)
    content = render_source(meta, {k: t.data for k, t in tables.items()}, body)
    item = Imported(path, year, make_slug(path, data), shape, fmt.id if fmt else None,
                    content, meta, tables, debris, warnings)
    item.rules = check_source(content, item.destination(Path("content")), name).text
    return item


def read_items(data: bytes, name: str) -> tuple[str, list[Item], PageInfo]:
    """Recognise the input's shape and turn it into the item stream."""
    if is_pdf(data):
        from .pdf import parse_pdf

        return "pdf", parse_pdf(data, name), PageInfo()
    text = decode(data, name)
    if looks_like_html(text):
        items, page = parse_html(text)
        return "html", items, page
    lines = text.splitlines()
    if is_crawler_text(lines):
        return "crawler", parse_crawler(text), PageInfo()
    if any(line.count("|") >= 2 for line in lines):
        return "rows", parse_piped_rows(text), PageInfo()
    if is_layout_text(text):
        return "pdftotext", parse_layout_text(text), PageInfo()
    return "text", parse_layout_text(text), PageInfo()


def clean_items(items: list[Item]) -> int:
    """Strip pinyin debris from every text and cell; return how many were removed."""
    removed = 0
    for item in items:
        if isinstance(item, Text):
            item.text, n = strip_pinyin_debris(item.text)
            removed += n
        else:
            for i, label in enumerate(item.labels):
                item.labels[i], n = strip_pinyin_debris(label)
                removed += n
            for cell in item.values:
                cell.text, n = strip_pinyin_debris(cell.text)
                removed += n
    return removed


def detect_format(layout: Layout, year: int) -> Format | None:
    """The format whose own labels (those no other format prints) the tables use most.

    Ties and label-less reports fall back to the format in force for the year.
    """
    seen = {match_key(label) for number in (2, 3, 4)
            for row in layout.table_rows(number) for label in row.labels}
    labels = {fid: _format_labels(fmt) for fid, fmt in all_formats().items()}
    scores = {}
    for fid, own in labels.items():
        others = set().union(*(v for k, v in labels.items() if k != fid))
        scores[fid] = len((own - others) & seen)
    best = max(scores.values(), default=0)
    leaders = [fid for fid, score in scores.items() if score == best]
    if best > 0 and len(leaders) == 1:
        return all_formats()[leaders[0]]
    return format_for_year(year)


def _format_labels(fmt: Format) -> set[str]:
    keys = set()
    for spec in fmt.tables.values():
        for slot in spec.slots():
            keys.update(match_key(label) for label in slot.labels if label)
            keys.update(match_key(col.label) for col in slot.columns)
    return keys


def _read(fmt: Format | None, layout: Layout) -> tuple[dict[str, TableRead], list[str]]:
    if fmt is None:
        return {}, []
    regions = {s.table: layout.table_rows(s.number) for s in fmt.sections if s.table}
    tables, warnings = read_tables(fmt, regions)
    return {k: tables[k] for k in TABLE_KEYS if k in tables}, warnings


def _prose(layout: Layout) -> str:
    texts = [t.text for t in layout.preamble]
    for section in layout.sections:
        texts.append(section.heading)
        texts.extend(i.text for i in section.items if isinstance(i, Text))
    return "\n".join(texts)


def _published_from_page(layout: Layout, page: PageInfo) -> dt.date | None:
    for text in [t.text for t in layout.outside] + [f"发布日期 {v}" for k, v in page.meta.items()
                                                     if "date" in k or "time" in k]:
        date = published_in_page_info(text)
        if date:
            return date
    return None


def _meta(path: Path, data: bytes, layout: Layout, agency: str, year: int,
          published: dt.date | None, fmt: Format | None, traditional: bool,
          page: PageInfo) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": layout.title or make_title(agency, year, traditional),
        "agency": agency,
        "year": year,
    }
    if published:
        meta["published"] = published
    level = agency_level(agency)
    if level:
        meta["level"] = level
    meta["kind"] = agency_kind(agency)
    if fmt:
        meta["format"] = fmt.id
    meta["lang"] = "zh-Hant" if traditional else "zh-Hans"
    source: dict[str, Any] = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}
    if page.url and page.url.startswith(("http://", "https://")):
        source["url"] = page.url
    meta["source"] = source
    return meta


def make_slug(path: Path, data: bytes) -> str:
    """ASCII-safe, stable: the input file name's letters and digits, else a hash.

    A name in Chinese would lose its meaning as ASCII (no pinyin here), so it
    gives ``report-`` and the first 12 hex digits of the content's sha256.
    """
    stem = path.name.split(".")[0] if not path.name.startswith(".") else path.name
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:80].strip("-")
    if not slug or not stem.isascii():
        return "report-" + hashlib.sha256(data).hexdigest()[:12]
    return slug
