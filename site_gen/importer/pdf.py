"""PDF reports, read with pdfplumber.

Why pdfplumber (not pypdf): the three tables are what matters, and
pdfplumber finds table cells from the ruling lines printed around them,
returning blank cells as ``""`` and merged (rowspan/colspan) positions as
``None``; with plain text extraction (pypdf) a blank cell simply disappears
and columns can only be guessed from positions.  pdfplumber is pure Python
on top of pdfminer.six, MIT licensed and actively released; it needs no
poppler at run time.

Text outside the tables is read line by line with its position, so page
numbers printed at the foot or head of a page can be dropped.
"""
from __future__ import annotations

import contextlib
import io
import logging

from site_gen.errors import SiteGenError

from .shapes import Cell, Item, Text, drop_page_numbers, row_from_cells

TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def parse_pdf(data: bytes, path: str) -> list[Item]:
    """Items of every page in reading order: text lines and table rows."""
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover - a dependency is missing
        raise SiteGenError(f"cannot read PDF files: {exc}", path,
                           hint="install pdfplumber") from None
    try:
        with _quiet_pdfminer(), pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_items(page) for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many kinds for a damaged file
        raise SiteGenError(f"unreadable PDF: {exc or type(exc).__name__}", path) from None
    items: list[Item] = []
    for page in pages:
        items.extend(page)
    if not items:
        raise SiteGenError("PDF has no text (a scanned image?); OCR it first", path)
    return items


@contextlib.contextmanager
def _quiet_pdfminer():
    """pdfminer logs font quirks of ordinary PDFs as warnings; they are not ours to show."""
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _page_items(page) -> list[Item]:
    tables = page.find_tables(TABLE_SETTINGS)
    boxes = [t.bbox for t in tables]
    placed: list[tuple[float, int, Item]] = []
    lines = [ln for ln in page.extract_text_lines(return_chars=False)
             if not any(_inside(ln, box) for box in boxes)]
    texts = drop_page_numbers([[ln["text"] for ln in lines]])[0]
    kept = _keep_in_order(lines, texts)
    for order, line in enumerate(kept):
        placed.append((line["top"], order, Text(line["text"].strip())))
    for number, table in enumerate(tables):
        for order, row in enumerate(table.extract()):
            cells = [Cell(_cell_text(c)) for c in row if c is not None]
            item = row_from_cells(cells)
            if item.labels or item.values:
                placed.append((table.bbox[1] + order * 1e-3, 10**6 + number * 1000 + order, item))
    placed.sort(key=lambda p: (p[0], p[1]))
    return [item for _, _, item in placed]


def _keep_in_order(lines: list[dict], texts: list[str]) -> list[dict]:
    """The line dicts whose text survived page-number removal, in order."""
    kept, remaining = [], list(texts)
    for line in lines:
        if remaining and line["text"] == remaining[0]:
            kept.append(line)
            remaining.pop(0)
    return kept


def _inside(line: dict, box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle = (line["top"] + line["bottom"]) / 2
    return top <= middle <= bottom and line["x0"] >= x0 - 1 and line["x1"] <= x1 + 1


def _cell_text(text: str | None) -> str:
    """A cell's text; a label wrapped inside its cell is joined without the line break."""
    return "".join((text or "").split("\n")).strip()
