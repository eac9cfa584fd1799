"""Saved HTML pages: prose blocks and table rows in reading order.

Uses the standard library's parser.  Only the innermost tables are data
tables: a table that holds another table is page layout, and its cells are
read as prose.  Rowspan/colspan are not expanded: a row's label is its last
label cell, so a spanning group label before it does no harm.  ``&nbsp;``
cells are blank (null).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .shapes import Cell, Item, Text, row_from_cells

BLOCK_TAGS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section",
    "article", "header", "footer", "center", "blockquote", "dd", "dt", "dl", "pre", "hr",
    "table", "caption", "form", "main", "aside",
}
SKIP_TAGS = {"script", "style", "noscript", "select", "option", "template", "svg", "head",
             "button", "iframe", "textarea"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_HAN_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")


@dataclass
class _Table:
    rows: list[list[Cell]] = field(default_factory=list)
    row: list[Cell] | None = None
    cell: list[str] | None = None
    layout: bool = False


@dataclass
class PageInfo:
    """What the page says about itself outside the report text."""

    title: str | None = None
    url: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[Item] = []
        self.info = PageInfo()
        self.text: list[str] = []
        self.tables: list[_Table] = []
        self.skip = 0
        self.in_title = False
        self.title: list[str] = []

    # -- tags --------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag in ("meta", "link"):
            self._page_info(tag, attr)
        if tag == "title":
            self.in_title = True
        if tag in SKIP_TAGS and tag != "head":
            self.skip += 1
            return
        if tag == "table":
            self._open_table()
        elif tag == "tr" and self.tables:
            self.tables[-1].row = []
        elif tag in ("td", "th") and self.tables:
            self._open_cell()
        elif tag in BLOCK_TAGS:
            self._break()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("meta", "link", "br", "hr", "img", "input"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in SKIP_TAGS and tag != "head":
            self.skip = max(0, self.skip - 1)
            return
        if tag in ("td", "th") and self.tables:
            self._close_cell()
        elif tag == "tr" and self.tables:
            self._close_row()
        elif tag == "table" and self.tables:
            self._close_table()
        elif tag in BLOCK_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.skip:
            return
        table = self.tables[-1] if self.tables else None
        if table is not None and table.cell is not None and not table.layout:
            table.cell.append(data)
        else:
            self.text.append(data)

    # -- structure ---------------------------------------------------------
    def _break(self) -> None:
        """End the current block of prose (or a line inside a layout cell)."""
        table = self.tables[-1] if self.tables else None
        if table is not None and table.cell is not None and not table.layout:
            table.cell.append(" ")
            return
        text = _collapse("".join(self.text))
        self.text = []
        if text:
            self.items.append(Text(text))

    def _open_table(self) -> None:
        self._break()
        if self.tables:
            outer = self.tables[-1]
            if outer.cell is not None and not outer.layout:
                self.text.append("".join(outer.cell))
                outer.cell = []
            outer.layout = True
            self._break()
        self.tables.append(_Table())

    def _open_cell(self) -> None:
        table = self.tables[-1]
        if table.layout:
            self._break()
        table.cell = []

    def _close_cell(self) -> None:
        table = self.tables[-1]
        if table.layout:
            self._break()
        elif table.cell is not None:
            if table.row is None:
                table.row = []
            table.row.append(Cell(_collapse("".join(table.cell))))
        table.cell = None

    def _close_row(self) -> None:
        table = self.tables[-1]
        if table.cell is not None:
            self._close_cell()
        if not table.layout and table.row:
            row = row_from_cells(table.row)
            if row.labels or row.values:
                self.items.append(row)
        table.row = None

    def _close_table(self) -> None:
        table = self.tables.pop()
        if table.row:
            self._close_row()
        self._break()

    def _page_info(self, tag: str, attr: dict[str, str]) -> None:
        if tag == "link" and "canonical" in attr.get("rel", "").lower().split():
            self.info.url = attr.get("href") or self.info.url
        if tag == "meta":
            name = (attr.get("property") or attr.get("name") or "").lower()
            if name and attr.get("content"):
                self.info.meta[name] = attr["content"]
                if name == "og:url" and not self.info.url:
                    self.info.url = attr["content"]

    def close(self) -> None:
        super().close()
        self._break()
        title = _collapse("".join(self.title))
        self.info.title = self.info.meta.get("og:title") or self.info.meta.get("articletitle") \
            or title or None


def _collapse(text: str) -> str:
    """HTML whitespace: runs become one space; a line break between Han characters vanishes."""
    text = _HAN_GAP.sub("", text.replace("\xa0", " "))
    return _SPACES.sub(" ", text).strip()


def looks_like_html(text: str) -> bool:
    head = text[:5000].lower()
    return "<html" in head or "<table" in text.lower() or "<body" in head or "<!doctype" in head


def parse_html(text: str) -> tuple[list[Item], PageInfo]:
    parser = _Parser()
    parser.feed(text)
    parser.close()
    return parser.items, parser.info
