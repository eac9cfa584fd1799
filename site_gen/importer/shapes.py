"""Raw report shapes turned into one stream of prose lines and table rows.

Every input shape (crawler text, row-per-line text, HTML, ``pdftotext
-layout`` text, PDF) becomes a list of :class:`Text` and :class:`Row` items in
reading order.  The rest of the importer only ever sees that stream.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clean import is_value

# A page number printed alone between pages of PDF text: "3", "- 3 -", "第3页", "3/12".
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,3}\s*[-—–－]|\d{1,3}|第\s*\d{1,3}\s*页(?:\s*[,，]?\s*共\s*\d{1,3}\s*页)?"
    r"|\d{1,3}\s*/\s*\d{1,3})\s*$"
)
_COLUMN_GAP = re.compile(r"\S+(?: \S+)*")


@dataclass
class Cell:
    """One table cell; ``x`` is its horizontal centre when the layout is known."""

    text: str
    x: float | None = None


@dataclass
class Text:
    """A line (or paragraph) of prose."""

    text: str
    line: int = 0


@dataclass
class Row:
    """A table row: the label cells, then the value cells."""

    labels: list[str]
    values: list[Cell] = field(default_factory=list)
    line: int = 0

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""


Item = Text | Row


def row_from_cells(cells: list[Cell], line: int = 0) -> Row:
    """Split a row's cells into labels (up to the last label cell) and values."""
    last_label = max((i for i, c in enumerate(cells) if not is_value(c.text)), default=-1)
    if last_label >= 0:
        # empty cells before a label stand for rowspan/colspan placeholders
        while cells and not cells[0].text.strip():
            cells = cells[1:]
    last_label = max((i for i, c in enumerate(cells) if not is_value(c.text)), default=-1)
    labels = [c.text.strip() for c in cells[: last_label + 1] if c.text.strip()]
    return Row(labels, list(cells[last_label + 1:]), line)


def row_from_text(text: str, line: int = 0) -> Row:
    """A table line read as text: trailing words that are values become value cells."""
    words = text.split()
    split = len(words)
    while split > 0 and is_value(words[split - 1]):
        split -= 1
    label = " ".join(words[:split])
    return Row([label] if label else [], [Cell(w) for w in words[split:]], line)


def is_crawler_text(lines: list[str]) -> bool:
    """Crawler text puts one cell per line, each ending in ``|``."""
    piped = [ln for ln in lines if "|" in ln]
    single = [ln for ln in piped if ln.rstrip().endswith("|") and ln.count("|") == 1]
    return bool(piped) and len(single) >= 0.8 * len(piped)


def parse_crawler(text: str) -> list[Item]:
    """One cell per line ending in `` |``; a label cell starts a new row."""
    items: list[Item] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.rstrip().endswith("|"):
            cell = line.rstrip()[:-1].strip()
            _add_crawler_cell(items, cell, number)
        elif line.strip():
            items.append(Text(line.strip(), number))
    return items


def _add_crawler_cell(items: list[Item], cell: str, number: int) -> None:
    if is_value(cell) and items and isinstance(items[-1], Row):
        items[-1].values.append(Cell(cell))
    elif is_value(cell):
        items.append(Row([], [Cell(cell)], number))
    else:
        items.append(Row([cell], [], number))


def parse_piped_rows(text: str) -> list[Item]:
    """One row per line, cells separated by ``|`` and padded with empty cells."""
    items: list[Item] = []
    for number, line in enumerate(text.splitlines(), 1):
        if "|" in line:
            cells = [Cell(c.strip()) for c in line.strip().strip("|").split("|")]
            while cells and not cells[-1].text:
                cells.pop()  # padding: trailing empty cells carry nothing
            if cells:
                items.append(row_from_cells(cells, number))
        elif line.strip():
            items.append(Text(line.strip(), number))
    return items


def drop_page_numbers(pages: list[list[str]]) -> list[list[str]]:
    """Remove a page number printed as the first or last line of a page."""
    kept = []
    for page in pages:
        lines = list(page)
        for index in (-1, 0):
            filled = [i for i, ln in enumerate(lines) if ln.strip()]
            if filled and _PAGE_NUMBER.match(lines[filled[index]]):
                del lines[filled[index]]
        kept.append(lines)
    return kept


def parse_layout_text(text: str) -> list[Item]:
    """``pdftotext -layout`` text: columns separated by two or more spaces."""
    pages = drop_page_numbers([page.splitlines() for page in text.split("\f")])
    items: list[Item] = []
    number = 0
    for page in pages:
        for line in page:
            number += 1
            item = _layout_line(line, number)
            if item is not None:
                items.append(item)
    return items


def _layout_line(line: str, number: int) -> Item | None:
    segments = []
    for match in _COLUMN_GAP.finditer(line.replace("\u3000", "  ")):
        segments.extend(_split_numbers(match.group(0), match.start()))
    if not segments:
        return None
    if len(segments) == 1 and not is_value(segments[0].text):
        return Text(segments[0].text, number)
    return row_from_cells(segments, number)


def _split_numbers(segment: str, start: int) -> list[Cell]:
    """A run like ``0 0 0`` with single spaces is several value cells."""
    words = segment.split(" ")
    if len(words) > 1 and all(is_value(w) for w in words):
        cells, offset = [], start
        for word in words:
            cells.append(Cell(word, offset + len(word) / 2))
            offset += len(word) + 1
        return cells
    return [Cell(segment, start + _display_width(segment) / 2)]


def _display_width(text: str) -> float:
    return float(len(text))


def is_layout_text(text: str) -> bool:
    """Text from ``pdftotext -layout``: page breaks, or rows of spaced columns."""
    if "\f" in text:
        return True
    lines = [ln for ln in text.splitlines() if ln.strip()]
    spaced = [ln for ln in lines if re.search(r"\S {2,}\d", ln)]
    return bool(lines) and len(spaced) >= 5
