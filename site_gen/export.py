"""Open data: the archive's figures as JSON and CSV files (see docs/data.md).

- ``data/reports.json`` — every report: metadata, tables as stored, check results
  (one report per line inside a JSON array, so line tools can stream it);
- ``data/<table>.csv`` — one row per report, one column per stored figure,
  named ``<table>.<row keys>.<column key>`` (``requests.granted.total``);
  the columns are fixed by the formats, not by the data;
- ``tables/<table>/<year>/data.csv`` and ``data.json`` — the key figures and
  rates of a table page, the twins of the HTML page.

CSV files are UTF-8 with a BOM (so spreadsheet programs read the Chinese) and
CRLF line ends; a null figure is an empty field, never 0; every figure is
written exactly as stored.
"""
from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from typing import Any, Iterable, Iterator

from .figures import FIGURES, RATES, TABLES, report_figures
from .formats import all_formats
from .grid import format_number
from .model import Report, value_at, value_at_key

BOM = "\ufeff"
META_COLUMNS = ("agency", "year", "slug", "url", "title", "published", "level", "kind", "region",
                "format", "lang")
FORMAT_ORDER = ("cn-gov-2021", "cn-gov-2019")


@lru_cache(maxsize=None)
def flat_columns(table: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """(column name, path inside the table) of every stored figure of `table`,
    across all formats: the newest format's columns first, then those only an
    older format has."""
    formats = all_formats()
    order = [f for f in FORMAT_ORDER if f in formats] + sorted(set(formats) - set(FORMAT_ORDER))
    seen: dict[str, tuple[Any, ...]] = {}
    for format_id in order:
        spec = formats[format_id].tables.get(table)
        if spec is None:
            continue
        for slot in spec.slots():
            for column, path in slot.cells():
                name = ".".join([table, *slot.path] if slot.shape == "scalar" else [table, *slot.path, column.key])
                seen.setdefault(name, path)
    return tuple(seen.items())


def _figure_text(node: Any) -> str:
    """A stored figure as CSV text; anything that is not a number is empty."""
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return ""
    return str(node) if isinstance(node, int) else format_number(node)


def _meta(report: Report) -> list[str]:
    return [report.agency, str(report.year), report.slug, report.url, report.title,
            report.published.isoformat() if report.published else "", report.level or "", report.kind or "",
            report.region or "", report.format or "", report.lang]


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def table_columns(table: str) -> list[str]:
    """The header of `data/<table>.csv`."""
    return [*META_COLUMNS, f"{table}.present", *(name for name, _ in flat_columns(table))]


@lru_cache(maxsize=None)
def _row_plan(table: str) -> tuple[list[tuple[Any, ...]], list[tuple[int, Any]]]:
    """The rows the columns of `data/<table>.csv` read (paths without their
    last key), and per column its row's index and last key: a row's list is
    looked up once for all its columns. Keyed by the table's name: hashing
    its 180 columns for every line cost more than the lookups it saves."""
    rows: dict[tuple[Any, ...], int] = {}
    items = [(rows.setdefault(path[:-1], len(rows)), path[-1]) for _, path in flat_columns(table)]
    return list(rows), items


def _table_row(report: Report, table: str) -> list[str]:
    data = report.tables.get(table)
    row_paths, items = _row_plan(table)
    if data is None:
        return [*_meta(report), "false", *("" for _ in items)]
    rows = [value_at(data, path) for path in row_paths]
    texts = []
    for index, last in items:
        value = value_at_key(rows[index], last)
        texts.append(str(value) if value.__class__ is int else _figure_text(value))
    return [*_meta(report), "true", *texts]


def _line_key(report: Report, *more: str) -> str:
    """A LineFile item's key: the report's path and frontmatter (its
    `meta_digest` covers both; 128 bits of it, as the build's other digests)
    and anything else its line shows. The file's kind and table need no
    part: each file has its own index, and the cache keeps every key."""
    return report.meta_digest[:32] + "".join(more)


def table_csv(reports: Iterable[Report], table: str) -> Any:
    """`data/<table>.csv`: the header and one line per report (a LineFile:
    a rebuild re-encodes only the reports that changed)."""
    from .build import LineFile
    header = "".join(_csv_lines([table_columns(table)]))
    items = [(_line_key(r),
              lambda r=r: "".join(_csv_lines([_table_row(r, table)])).encode("utf-8")) for r in reports]
    return LineFile((BOM + header).encode("utf-8"), items)


def reports_json(archive: Any) -> Any:
    """All reports as a JSON array, one report per line (a LineFile)."""
    from .build import LineFile, report_json

    def line(r: Report) -> bytes:
        return json.dumps(report_json(r, archive.checks.get(r.key, [])), ensure_ascii=False,
                          sort_keys=True).encode("utf-8")

    reports = sorted(archive.reports, key=lambda r: r.key)
    items = [(_line_key(r, archive.checks.digest(r.key)), lambda r=r: line(r))
             for r in reports]
    return LineFile(b"[\n", items, b"\n]\n" if items else b"]\n", b",\n")


# --- the twins of the table pages --------------------------------------------------

def year_columns(table: str) -> list[str]:
    return [*META_COLUMNS, *(f.id for f in FIGURES[table]), *(r.id for r in RATES[table])]


def _year_csv_row(report: Report, table: str) -> list[str]:
    item = report_figures(report, table)
    return [*_meta(report), *(v.text for v in item.values.values()),
            *(format(round(r.value, 6), "f") if r.value is not None else "" for r in item.rates.values())]


def year_csv(reports: list[Report], table: str) -> Any:
    """`tables/<table>/<year>/data.csv` as a LineFile."""
    from .build import LineFile
    header = "".join(_csv_lines([year_columns(table)]))
    items = [(_line_key(r),
              lambda r=r: "".join(_csv_lines([_year_csv_row(r, table)])).encode("utf-8"))
             for r in reports]
    return LineFile((BOM + header).encode("utf-8"), items)


def _year_row(report: Report, table: str) -> bytes:
    item = report_figures(report, table)
    meta: dict[str, Any] = dict(zip(META_COLUMNS, _meta(report)))
    meta["year"] = report.year
    meta["published"] = meta["published"] or None
    for key in ("level", "kind", "region", "format"):
        meta[key] = meta[key] or None
    row = {**meta,
           "figures": {k: v.value for k, v in item.values.items()},
           "missing": {k: v.missing for k, v in item.values.items() if v.missing},
           "rates": {k: r.as_json() for k, r in item.rates.items()}}
    return json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")


def year_json(reports: list[Report], table: str, year: int, t: Any) -> Any:
    """`tables/<table>/<year>/data.json` as a LineFile: one report per line,
    like data/reports.json (compact and line-streamable)."""
    from .build import LineFile
    figures = [{"id": f.id, "label": t(f"tables.fig.{f.id}"), "derived": f.derived,
                "stored_at": {fmt: ".".join(str(p) for p in path) for fmt, path in sorted(f.paths.items())}}
               for f in FIGURES[table]]
    rates = [{"id": r.id, "label": t(f"tables.rate.{r.id}"), "definition": t(f"tables.def.{r.id}")}
             for r in RATES[table]]
    head = json.dumps({"table": table, "year": year, "figures": figures, "rates": rates},
                      ensure_ascii=False, sort_keys=True)
    items = [(_line_key(r), lambda r=r: _year_row(r, table))
             for r in reports]
    return LineFile((head[:-1] + ', "rows": [\n').encode("utf-8"), items,
                    (("\n" if items else "") + "]}\n").encode("utf-8"), b",\n")


# --- planning and making -------------------------------------------------------------

def plan(archive: Any) -> Iterable[Any]:
    from .build import PlannedFile
    from .tables import index
    from .build import hash_strings
    ordered = sorted(archive.reports, key=lambda r: r.key)
    everything = hash_strings(f"{r.meta_digest}\x1e{archive.checks.digest(r.key)}" for r in ordered)
    yield PlannedFile("data/reports.json", "reports_json", (), ["reports_json", everything], None)
    digests = hash_strings(r.meta_digest for r in ordered)
    for table in TABLES:
        yield PlannedFile(f"data/{table}.csv", "table_csv", (table,), ["table_csv", table, digests], None)
    for year, reports in index(archive).by_year.items():
        light = hash_strings(r.meta_digest for r in reports)
        for table in TABLES:
            yield PlannedFile(f"tables/{table}/{year}/data.csv", "year_csv", (table, year),
                              ["year_csv", table, year, light], None)
            yield PlannedFile(f"tables/{table}/{year}/data.json", "year_json", (table, year),
                              ["year_json", table, year, light], None)


def make(kind: str, args: tuple, archive: Any, render: Any, renderer: Any) -> Any:
    """The bytes of a data file, or a LineFile (see build.LineFile)."""
    from .tables import index
    if kind == "reports_json":
        return reports_json(archive)
    if kind == "table_csv":
        (table,) = args
        reports = sorted(archive.reports, key=lambda r: (r.agency, r.year, r.slug))
        return table_csv(reports, table)
    table, year = args
    reports = index(archive).by_year[year]
    if kind == "year_csv":
        return year_csv(reports, table)
    if kind == "year_json":
        return year_json(reports, table, year, renderer.t)
    raise ValueError(f"unknown data kind {kind!r}")
