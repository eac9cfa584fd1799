"""Report formats as data.

The table layouts of each report format (labels, keys, nesting, merged
headers, units) live in YAML files beside this module, one per format, so a
new format is a new data file.  This module turns them into small immutable
specs that the model validates against and the renderer lays out.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml

# The format files ship inside the package as plain files (pip installs
# never zip it); a path is cheaper to reach than importlib.resources, whose
# import costs every command ~20 ms.
DATA_DIR = Path(__file__).resolve().parent

VALUE_TYPES = ("count", "amount", "signed")


@dataclass(frozen=True)
class Column:
    key: str | None
    label: str
    type: str = "count"
    unit: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Row:
    key: str | None
    label: str
    children: tuple["Row", ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Block:
    caption: str
    label_header: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    @property
    def scalar(self) -> bool:
        """A block of one unnamed column holds plain values, not mappings."""
        return len(self.columns) == 1 and self.columns[0].key is None


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class Slot:
    """Where one row of values lives in a report's `tables` data.

    `path` is the chain of keys below the table key; `labels` the row labels as
    printed, outermost first.  `shape` is "vector" (list of len(columns)),
    "record" (mapping of column keys) or "scalar" (one value).
    """

    path: tuple[str, ...]
    labels: tuple[str, ...]
    columns: tuple[Column, ...]
    shape: str

    def cells(self) -> list[tuple[Column, tuple[Any, ...]]]:
        """(column, path below the table key) of each value of the row: a
        vector's by index, a record's by column key, a scalar's at the row."""
        if self.shape == "vector":
            return [(column, (*self.path, index)) for index, column in enumerate(self.columns)]
        if self.shape == "record":
            return [(column, (*self.path, column.key)) for column in self.columns]
        return [(column, self.path) for column in self.columns]


@dataclass(frozen=True, eq=False)
class TableSpec:
    """One table's layout. Compared and hashed by identity: specs are loaded
    once per process, and they key the caches of everything worked out from
    them (a hash of every field, each time, cost more than the lookups)."""

    key: str
    layout: str
    title: str
    columns: tuple[Column, ...] = ()
    rows: tuple[Row, ...] = ()
    blocks: tuple[Block, ...] = ()
    groups: tuple[Group, ...] = ()
    note: str | None = None
    header_caption: str | None = None
    column_groups: tuple[tuple[str, str], ...] = ()
    width: int = 0

    def slots(self) -> tuple[Slot, ...]:
        """Every row of values in the order the official table prints them
        (laid out once per spec: validation walks them for every report)."""
        return _slots_of(self)

    def _walk_slots(self) -> Iterator[Slot]:
        if self.layout == "matrix":
            for path, labels, _ in _walk_rows(self.rows, (), ()):
                yield Slot(path, labels, self.columns, "vector")
        elif self.layout == "blocks":
            for block in self.blocks:
                shape = "scalar" if block.scalar else "record"
                for path, labels, _ in _walk_rows(block.rows, (), ()):
                    yield Slot(path, labels, block.columns, shape)
        elif self.layout == "groups":
            for group in self.groups:
                labels = (group.parent, group.label) if group.parent else (group.label,)
                yield Slot((group.key,), labels, self.columns, "record")

    def slot(self, path: tuple[str, ...]) -> Slot | None:
        for slot in self.slots():
            if slot.path == path:
                return slot
        return None

    def depth(self) -> int:
        return max((len(p) for p, _, _ in _walk_rows(self.rows, (), ())), default=1)


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    table: str | None = None


@dataclass(frozen=True)
class Format:
    id: str
    name: str
    first_year: int
    last_year: int | None
    sections: tuple[Section, ...]
    tables: dict[str, TableSpec]

    def table(self, key: str) -> TableSpec | None:
        return self.tables.get(key)


@lru_cache(maxsize=None)
def _slots_of(spec: TableSpec) -> tuple[Slot, ...]:
    return tuple(spec._walk_slots())


def _walk_rows(rows, path, labels):
    """Yield (key path, label chain, row) for every leaf row with a key path."""
    for row in rows:
        sub_path = path + ((row.key,) if row.key else ())
        sub_labels = labels + (row.label,)
        if row.children:
            yield from _walk_rows(row.children, sub_path, sub_labels)
        else:
            yield sub_path, sub_labels, row


def _column(data: dict) -> Column:
    return Column(data.get("key"), data["label"], data.get("type", "count"),
                  data.get("unit"), data.get("group"))


def _row(data: dict) -> Row:
    return Row(data.get("key"), data["label"],
               tuple(_row(c) for c in data.get("children", ())))


def _table(key: str, data: dict) -> TableSpec:
    return TableSpec(
        key=key,
        layout=data["layout"],
        title=data["title"],
        columns=tuple(_column(c) for c in data.get("columns", ())),
        rows=tuple(_row(r) for r in data.get("rows", ())),
        blocks=tuple(
            Block(b["caption"], b["label_header"],
                  tuple(_column(c) for c in b["columns"]),
                  tuple(_row(r) for r in b["rows"]))
            for b in data.get("blocks", ())
        ),
        groups=tuple(Group(g["key"], g["label"], g.get("parent")) for g in data.get("groups", ())),
        note=data.get("note"),
        header_caption=data.get("header_caption"),
        column_groups=tuple(sorted(data.get("column_groups", {}).items())),
        width=data.get("width", 0),
    )


def _load(data: dict) -> Format:
    return Format(
        id=data["id"],
        name=data["name"],
        first_year=data["first_year"],
        last_year=data.get("last_year"),
        sections=tuple(Section(s["number"], s["title"], s.get("table")) for s in data["sections"]),
        tables={k: _table(k, v) for k, v in data["tables"].items()},
    )


@lru_cache(maxsize=None)
def all_formats() -> dict[str, Format]:
    """Every format shipped with site-gen, by id."""
    found = {}
    for entry in sorted(DATA_DIR.iterdir(), key=lambda e: e.name):
        if entry.name.startswith("cn-") and entry.name.endswith(".yaml"):
            fmt = _load(yaml.load(entry.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
            found[fmt.id] = fmt
    return found


def get_format(format_id: str) -> Format | None:
    return all_formats().get(format_id)


def format_for_year(year: int) -> Format | None:
    """The national format in force for a reporting year, if any."""
    for fmt in all_formats().values():
        if fmt.first_year <= year and (fmt.last_year is None or year <= fmt.last_year):
            return fmt
    return None


TABLE_KEYS = ("proactive", "requests", "review_litigation")
