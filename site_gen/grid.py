"""Lay out a report's tables in the official grid, as data for templates.

The grid is a display model: rows of header and value cells with their
rowspan/colspan, ids and `headers` lists (so a screen reader announces each
figure with its row and column labels), computed from the format's data
file.  Templates only print it.  Figures are shown exactly as stored; a null
cell is shown blank, never as 0.

The labels, ids and `headers` of a table are the same for every report of a
format (and script): they are laid out once, as a `Skeleton`, and each
report's `Grid` only adds its figures and flags.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable

from .formats import Block, Row, TableSpec
from .model import value_at

ValuePath = tuple[Any, ...]


@dataclass
class Cell:
    text: str
    header: bool = False
    rowspan: int = 1
    colspan: int = 1
    id: str | None = None
    headers: str | None = None
    scope: str | None = None
    classes: list[str] = field(default_factory=list)
    path: ValuePath | None = None
    value: Any = None
    flags: list[str] = field(default_factory=list)

    @property
    def is_null(self) -> bool:
        return self.path is not None and self.value is None


class Grid:
    """One report's table in its format's official grid.

    `head` and `body` are rows of cells (made on first use: a template that
    prints the cells one by one gets them as before); `render.Renderer.grid_rows`
    prints the same markup straight from the skeleton, which is laid out once
    per table format and label script and filled here with the report's
    figures and flags.
    """

    def __init__(self, key: str, title: str, head: list[list[Cell]] | None = None,
                 body: list[list[Cell]] | None = None, unit: str | None = None, *,
                 skeleton: "Skeleton | None" = None, data: dict | None = None,
                 flags: dict[ValuePath, list[str]] | None = None):
        self.key = key
        self.title = title
        self.unit = unit
        self.skeleton = skeleton
        self.data = data if data is not None else {}
        self.flags = flags or {}
        if skeleton is None:
            self._head: list[list[Cell]] | None = head if head is not None else []
            self._body: list[list[Cell]] | None = body if body is not None else []
        else:
            self._head, self._body = head, body

    @property
    def materialized(self) -> bool:
        """Whether the cells were handed out (and could have been changed since)."""
        return self._head is not None or self._body is not None

    @property
    def head(self) -> list[list[Cell]]:
        if self._head is None:
            self._head = [[_copy(c) for c in row] for row in self.skeleton.head]  # type: ignore[union-attr]
        return self._head

    @head.setter
    def head(self, rows: list[list[Cell]]) -> None:
        self._head = rows

    @property
    def body(self) -> list[list[Cell]]:
        if self._body is None:
            self._body = [[self._fill(c) for c in row] for row in self.skeleton.body]  # type: ignore[union-attr]
        return self._body

    @body.setter
    def body(self, rows: list[list[Cell]]) -> None:
        self._body = rows

    def _fill(self, cell: Cell) -> Cell:
        if cell.path is None:
            return _copy(cell)
        return filled_cell(cell, value_at(self.data, cell.path[1:]), self.flags.get(cell.path))

    def value_cells(self) -> Iterable[Cell]:
        for row in self.body:
            for cell in row:
                if cell.path is not None:
                    yield cell


def _copy(cell: Cell) -> Cell:
    return replace(cell, classes=list(cell.classes), flags=list(cell.flags))


def filled_cell(slot: Cell, value: Any, rules: list[str] | None) -> Cell:
    """A value cell of the skeleton filled with a figure (and the rules it fails)."""
    cell = Cell(format_number(value), colspan=slot.colspan, headers=slot.headers,
                classes=["num", "null"] if value is None else ["num"], path=slot.path, value=value)
    if rules:
        cell.flags = rules
        cell.classes.append("flag")
    return cell


def format_number(value: Any) -> str:
    """A figure as the source wrote it: ints as is, decimals without float noise."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _value_cell(table: dict, key: str, path: ValuePath, headers: list[str], colspan: int = 1) -> Cell:
    value = value_at(table, path[1:])
    return Cell(format_number(value), colspan=colspan, headers=" ".join(headers),
                classes=["num", "null"] if value is None else ["num"], path=path, value=value)


def _leaves(row: Row) -> int:
    return sum(_leaves(c) for c in row.children) if row.children else 1


def _depth(rows: Iterable[Row]) -> int:
    return max((1 + _depth(r.children) if r.children else 1 for r in rows), default=1)


def _matrix(spec: TableSpec, data: dict, prefix: str) -> Grid:
    depth = _depth(spec.rows)
    columns = spec.columns
    top_id = f"{prefix}-h"
    head: list[list[Cell]] = [[
        Cell(spec.note or "", header=True, rowspan=3, colspan=depth, classes=["note"], id=f"{prefix}-note"),
        Cell(spec.header_caption or "", header=True, colspan=len(columns), id=top_id, scope="colgroup"),
    ], [], []]
    groups = dict(spec.column_groups)
    column_headers: list[list[str]] = []
    seen_groups: dict[str, str] = {}
    for index, column in enumerate(columns):
        cid = f"{prefix}-c{index}"
        if column.group:
            gid = seen_groups.get(column.group)
            if gid is None:
                gid = seen_groups[column.group] = f"{prefix}-g{column.group}"
                span = sum(1 for c in columns if c.group == column.group)
                head[1].append(Cell(groups.get(column.group, column.group), header=True,
                                    colspan=span, id=gid, scope="colgroup"))
            head[2].append(Cell(column.label, header=True, id=cid, scope="col"))
            column_headers.append([top_id, gid, cid])
        else:
            head[1].append(Cell(column.label, header=True, rowspan=2, id=cid, scope="col"))
            column_headers.append([top_id, cid])
    body: list[list[Cell]] = []
    counter = [0]

    def walk(rows: tuple[Row, ...], level: int, path: tuple[str, ...], row_headers: list[str], pending: list[Cell]):
        for row in rows:
            counter[0] += 1
            rid = f"{prefix}-r{counter[0]}"
            sub_path = path + ((row.key,) if row.key else ())
            label = Cell(row.label, header=True, id=rid, scope="row",
                         rowspan=_leaves(row), colspan=1 if row.children else depth - level,
                         classes=[f"level{level}"])
            if row.children:
                walk(row.children, level + 1, sub_path, row_headers + [rid], pending + [label])
                pending = []
            else:
                cells = pending + [label]
                for index in range(len(columns)):
                    cells.append(_value_cell(data, spec.key, (spec.key, *sub_path, index),
                                             column_headers[index] + row_headers + [rid]))
                body.append(cells)
                pending = []

    walk(spec.rows, 0, (), [], [])
    return Grid(spec.key, spec.title, head, body)


def _block_rows(block: Block, spec: TableSpec, data: dict, prefix: str, number: int) -> list[list[Cell]]:
    width = spec.width or max(len(block.columns), 1)
    cap_id = f"{prefix}-b{number}"
    rows: list[list[Cell]] = [[Cell(block.caption, header=True, colspan=width + 1, id=cap_id,
                                    scope="colgroup", classes=["caption"])]]
    header_row = [Cell(block.label_header, header=True, id=f"{cap_id}-l", scope="col")]
    col_ids = []
    for index, column in enumerate(block.columns):
        span = width - len(block.columns) + 1 if index == len(block.columns) - 1 else 1
        cid = f"{cap_id}-c{index}"
        col_ids.append(cid)
        header_row.append(Cell(column.label, header=True, colspan=span, id=cid, scope="col"))
    rows.append(header_row)
    for r_index, row in enumerate(block.rows):
        rid = f"{cap_id}-r{r_index}"
        cells = [Cell(row.label, header=True, id=rid, scope="row")]
        for index, column in enumerate(block.columns):
            span = width - len(block.columns) + 1 if index == len(block.columns) - 1 else 1
            path = (spec.key, row.key) if block.scalar else (spec.key, row.key, column.key)
            cells.append(_value_cell(data, spec.key, path, [cap_id, col_ids[index], rid], colspan=span))
        rows.append(cells)
    return rows


def _blocks(spec: TableSpec, data: dict, prefix: str) -> Grid:
    body: list[list[Cell]] = []
    for number, block in enumerate(spec.blocks):
        body.extend(_block_rows(block, spec, data, prefix, number))
    return Grid(spec.key, spec.title, [], body)


def _groups(spec: TableSpec, data: dict, prefix: str) -> Grid:
    ncol = len(spec.columns)
    head: list[list[Cell]] = [[], [], []]
    parents: dict[str, str] = {}
    header_ids: list[list[str]] = []
    for g_index, group in enumerate(spec.groups):
        gid = f"{prefix}-g{g_index}"
        ids: list[str] = []
        if group.parent:
            pid = parents.get(group.parent)
            if pid is None:
                pid = parents[group.parent] = f"{prefix}-p{len(parents)}"
                span = ncol * sum(1 for g in spec.groups if g.parent == group.parent)
                head[0].append(Cell(group.parent, header=True, colspan=span, id=pid, scope="colgroup"))
            head[1].append(Cell(group.label, header=True, colspan=ncol, id=gid, scope="colgroup"))
            ids = [pid, gid]
            for c_index, column in enumerate(spec.columns):
                cid = f"{gid}-c{c_index}"
                head[2].append(Cell(column.label, header=True, id=cid, scope="col"))
                header_ids.append(ids + [cid])
        else:
            head[0].append(Cell(group.label, header=True, colspan=ncol, id=gid, scope="colgroup"))
            for c_index, column in enumerate(spec.columns):
                cid = f"{gid}-c{c_index}"
                head[1].append(Cell(column.label, header=True, rowspan=2, id=cid, scope="col"))
                header_ids.append([gid, cid])
    row: list[Cell] = []
    index = 0
    for group in spec.groups:
        for column in spec.columns:
            row.append(_value_cell(data, spec.key, (spec.key, group.key, column.key), header_ids[index]))
            index += 1
    head = [h for h in head if h]
    return Grid(spec.key, spec.title, head, [row])


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """A format label in Traditional characters, for reports written in them."""
    converted = _s2t().convert(text)
    for wrong, right in _label_fixes().items():
        converted = converted.replace(wrong, right)
    return converted


@lru_cache(maxsize=1)
def _label_fixes() -> dict[str, str]:
    import yaml
    from .formats import DATA_DIR
    data = yaml.load((DATA_DIR / "zh-hant.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)
    return data["phrases"]


@lru_cache(maxsize=1)
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


@dataclass(eq=False)
class Skeleton:
    """The grid of one table format with the printed labels and no figures:
    the same for every report of that format and script.  Value cells carry
    their path, `headers` and colspan; their text is filled per report."""

    key: str
    title: str
    head: list[list[Cell]]
    body: list[list[Cell]]
    unit: str | None


_SKELETONS: dict[tuple[int, Any], tuple[TableSpec, Skeleton]] = {}


def skeleton(spec: TableSpec, convert: Callable[[str], str] | None = None) -> Skeleton:
    """The skeleton of a table format, laid out once per spec and `convert`."""
    cache_key = (id(spec), convert)
    cached = _SKELETONS.get(cache_key)
    if cached is not None and cached[0] is spec:
        return cached[1]
    made = _make_skeleton(spec, convert)
    if len(_SKELETONS) >= 256:
        _SKELETONS.clear()
    _SKELETONS[cache_key] = (spec, made)
    return made


def _make_skeleton(spec: TableSpec, convert: Callable[[str], str] | None) -> Skeleton:
    prefix = f"t-{spec.key.replace('_', '-')}"
    if spec.layout == "matrix":
        grid = _matrix(spec, {}, prefix)
    elif spec.layout == "blocks":
        grid = _blocks(spec, {}, prefix)
    else:
        grid = _groups(spec, {}, prefix)
    units = {c.unit for c in spec.columns if c.unit} | {c.unit for b in spec.blocks for c in b.columns if c.unit}
    title = grid.title
    if convert:
        title = convert(title)
        for row in grid.head + grid.body:
            for cell in row:
                if cell.header:
                    cell.text = convert(cell.text)
    return Skeleton(spec.key, title, grid.head, grid.body, "、".join(sorted(units)) or None)


def layout_table(spec: TableSpec, data: dict, flags: dict[ValuePath, list[str]] | None = None,
                 convert: Callable[[str], str] | None = None) -> Grid:
    """The official grid of one table; `flags` marks cells of failed rules and
    `convert` rewrites the printed labels (into the report's own script)."""
    skel = skeleton(spec, convert)
    return Grid(skel.key, skel.title, unit=skel.unit, skeleton=skel, data=data, flags=flags)
