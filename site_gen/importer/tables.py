"""Reading the three statistical tables out of a stream of rows.

The format spec (``site_gen/formats/*.yaml``) is the only source of labels,
keys and column counts: for every value row the spec yields (a *slot*), the
reader looks for the row printed with that label, in the spec's order, and
takes as many value cells as the slot has columns.  Labels match after
normalisation (see :func:`clean.match_key`), through the aliases in
``aliases.yaml``, or, for rows that carry values, when one label contains the
other (labels wrapped over lines in PDF text).  Nothing is computed: a cell is
read as printed or left null.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from site_gen.formats import Column, Format, Slot, TableSpec

from .clean import Value, match_key, read_value, vocabulary
from .shapes import Cell, Row

MIN_PARTIAL = 4  # shortest label fragment that may match by containment


@dataclass
class TableRead:
    """One table as read: its data in slot order and what reading it took."""

    key: str
    data: dict[str, Any]
    cells: int = 0
    nulls: int = 0
    units: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    slot: Slot
    keys: frozenset[str]


def read_tables(fmt: Format, regions: dict[str, list[Row]]) -> tuple[dict[str, TableRead], list[str]]:
    """Every table of ``fmt`` found in its region, and the warnings of reading them.

    A table with no row found is absent from the result, never filled with nulls.
    """
    found, warnings = {}, []
    for key, spec in fmt.tables.items():
        table = read_table(spec, regions.get(key, []))
        if table is None:
            continue
        warnings.extend(table.warnings)
        if table.data:
            found[key] = table
    return found, warnings


def read_table(spec: TableSpec, rows: list[Row]) -> TableRead | None:
    if spec.layout == "groups":
        return _read_groups(spec, rows)
    return _read_rows(spec, rows)


def _targets(spec: TableSpec) -> list[_Target]:
    vocab = vocabulary()
    targets = []
    for slot in spec.slots():
        labels = (slot.labels[-1],) + vocab.row_aliases(spec.key, slot.path)
        targets.append(_Target(slot, frozenset(match_key(label) for label in labels)))
    return targets


def _row_keys(row: Row) -> set[str]:
    keys = {match_key(label) for label in row.labels}
    if len(row.labels) > 1:
        keys.add(match_key("".join(row.labels)))
    return keys


def _exact(row: Row, target: _Target) -> bool:
    return bool(_row_keys(row) & target.keys)


def _partial(row: Row, target: _Target) -> bool:
    """A value row whose label is a wrapped piece of the slot label, or contains it."""
    if not row.values:
        return False
    fragment = match_key(row.label)
    if not fragment:
        return len(row.values) >= len(target.slot.columns)
    return len(fragment) >= MIN_PARTIAL and any(
        fragment in key or (len(key) >= MIN_PARTIAL and key in fragment) for key in target.keys
    )


def _find(rows: list[Row], start: int, targets: list[_Target], index: int) -> int | None:
    """Index of the row for ``targets[index]``, searching forward from ``start``."""
    later = targets[index + 1:]
    for i in range(start, len(rows)):
        row = rows[i]
        if _exact(row, targets[index]):
            return i
        if any(_exact(row, other) for other in later):
            return None
        if _partial(row, targets[index]):
            return i
    return None


def _read_rows(spec: TableSpec, rows: list[Row]) -> TableRead | None:
    targets = _targets(spec)
    centres = _column_centres(rows)
    table = TableRead(spec.key, {})
    cursor, missing, matched = 0, [], 0
    for index, target in enumerate(targets):
        found = _find(rows, cursor, targets, index)
        width = len(target.slot.columns)
        if found is None:
            missing.append(".".join(target.slot.path))
            cells: list[Cell | None] = [None] * width
        else:
            matched += 1
            cursor = found + 1
            cells = _align(rows[found], width, centres, table, target.slot)
        _store(table, target.slot, cells)
    if not matched:
        return None
    if missing:
        table.warnings.append(f"{spec.key}: rows not found, left null: {', '.join(missing)}")
    return table


def _column_centres(rows: list[Row]) -> dict[int, list[float]]:
    """Mean centre of each column, per row width, from rows with every cell positioned."""
    sums: dict[int, list[list[float]]] = {}
    for row in rows:
        if row.values and all(c.x is not None for c in row.values):
            sums.setdefault(len(row.values), []).append([c.x for c in row.values])
    return {n: [sum(col) / len(col) for col in zip(*xs)] for n, xs in sums.items()}


def _align(row: Row, width: int, centres: dict[int, list[float]], table: TableRead,
           slot: Slot) -> list[Cell | None]:
    """The row's cells in column order; blank cells that left no text come back None."""
    values = row.values
    name = ".".join(slot.path)
    if len(values) > width:
        extra = ", ".join(c.text for c in values[width:])
        table.warnings.append(f"{table.key}.{name}: extra cells ignored: {extra}")
        return list(values[:width])
    if len(values) == width:
        return list(values)
    if width in centres and all(c.x is not None for c in values):
        return _place_by_position(values, centres[width])
    table.warnings.append(
        f"{table.key}.{name}: {len(values)} of {width} cells, the rest left null")
    return list(values) + [None] * (width - len(values))


def _place_by_position(values: list[Cell], centres: list[float]) -> list[Cell | None]:
    placed: list[Cell | None] = [None] * len(centres)
    for cell in values:
        order = sorted(range(len(centres)), key=lambda i: abs(centres[i] - cell.x))
        free = next(i for i in order if placed[i] is None)
        placed[free] = cell
    return placed


def _value(table: TableRead, cell: Cell | None, column: Column, where: str) -> int | float | None:
    table.cells += 1
    value = read_value(cell.text) if cell is not None else Value(None)
    if value is None:  # a label where a number belongs: keep nothing, say so
        table.warnings.append(f"{where}: not a number: {cell.text!r}, left null")
        value = Value(None)
    if value.number is None:
        table.nulls += 1
    if value.unit:
        table.units.append(value.raw.strip())
        if column.unit and value.unit != column.unit:
            table.warnings.append(
                f"{where}: {value.raw.strip()!r} is in {value.unit}, the column is in "
                f"{column.unit}; kept {value.number} as printed")
    return value.number


def _store(table: TableRead, slot: Slot, cells: list[Cell | None]) -> None:
    where = f"{table.key}.{'.'.join(slot.path)}"
    numbers = [_value(table, c, col, where) for c, col in zip(cells, slot.columns)]
    if slot.shape == "scalar":
        content: Any = numbers[0]
    elif slot.shape == "record":
        content = {col.key: n for col, n in zip(slot.columns, numbers)}
    else:
        content = numbers
    _put(table.data, slot.path, content)


def _put(data: dict[str, Any], path: tuple[str, ...], content: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = content


def _read_groups(spec: TableSpec, rows: list[Row]) -> TableRead | None:
    """四: three groups of five; either one row per group or one row of fifteen."""
    slots = list(spec.slots())
    by_label = _group_rows(spec, slots, rows)
    table = TableRead(spec.key, {})
    if by_label is not None:
        for slot, row in zip(slots, by_label):
            _store(table, slot, _align(row, len(slot.columns), {}, table, slot))
        return table
    cells = [cell for row in rows for cell in row.values]
    width = sum(len(slot.columns) for slot in slots)
    if not cells:
        return None
    if len(cells) != width:
        table.warnings.append(
            f"{spec.key}: found {len(cells)} value cells where {width} belong; table not read")
        return TableRead(spec.key, {}, warnings=table.warnings)
    for slot in slots:
        _store(table, slot, cells[: len(slot.columns)])
        cells = cells[len(slot.columns):]
    return table


def _group_rows(spec: TableSpec, slots: list[Slot], rows: list[Row]) -> list[Row] | None:
    """The row of each group when every group has a labelled row of values."""
    vocab = vocabulary()
    found = []
    for slot in slots:
        keys = {match_key(slot.labels[-1])} | {
            match_key(a) for a in vocab.row_aliases(spec.key, slot.path)}
        row = next((r for r in rows if r.values and _row_keys(r) & keys), None)
        if row is None:
            return None
        found.append(row)
    return found
