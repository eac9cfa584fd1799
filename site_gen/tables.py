"""Table pages and agency pages: the archive's figures side by side.

Pages (all made from the light reports; nothing here changes a figure):

- ``tables/`` — an index of the three standard tables by year;
- ``tables/<table>/<year>/`` — one row per report with the table's key figures
  and rates, totals per level and per region, a distribution chart; years with
  more than PAGE_SIZE reports continue on ``tables/<table>/<year>/<n>/``;
- ``agencies/`` and ``agencies/<slug>/`` — one agency's figures across years,
  year-over-year change, R5 carry-over continuity and trend charts.

Display models are computed here; the templates only lay them out.  Sorting
and filtering are added by ``static/tables.js`` and kept in the URL
(``?sort=new_received&order=desc&level=county``); without JavaScript the rows
keep their default order (by agency).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .charts import Point, bin_values, chart_data, distribution_chart, trend_chart
from .checks import FAIL, NA, PASS
from .figures import (FIGURES, HEADLINE, RATES, TABLES, RateValue, ReportFigures, Value, exact_sum,
                      report_figures)
from .grid import format_number
from .model import LEVELS, Report, make_slug

PAGE_SIZE = 500
Translate = Callable[..., str]


# --- the archive seen by agency and by year --------------------------------------

@dataclass
class Index:
    by_year: dict[int, list[Report]]
    agencies: dict[str, list[Report]]
    slugs: dict[str, str]


def index(archive: Any) -> Index:
    """Reports grouped by year and by agency, with agency slugs (cached on the archive)."""
    cached = archive._memo.get("tables_index")
    if cached is not None:
        return cached
    agencies: dict[str, list[Report]] = {}
    for report in sorted(archive.reports, key=lambda r: (r.year, r.slug)):
        agencies.setdefault(report.agency, []).append(report)
    result = Index(archive.by_year(), dict(sorted(agencies.items())), agency_slugs(agencies))
    archive._memo["tables_index"] = result
    return result


def agency_slugs(agencies: dict[str, list[Report]]) -> dict[str, str]:
    """A URL name per agency: its latest report's slug, made unique with a
    short hash of the agency's name when two agencies would share one."""
    wanted = {agency: reports[-1].slug for agency, reports in agencies.items()}
    counts: dict[str, int] = {}
    for slug in wanted.values():
        counts[slug] = counts.get(slug, 0) + 1
    slugs = {}
    for agency, slug in wanted.items():
        if counts[slug] > 1:
            slug = f"{slug}-{hashlib.sha256(agency.encode('utf-8')).hexdigest()[:8]}"
        slugs[agency] = make_slug(slug) or hashlib.sha256(agency.encode("utf-8")).hexdigest()[:12]
    return slugs


def table_url(table: str, year: int, page: int = 1) -> str:
    return f"tables/{table}/{year}/" + (f"{page}/" if page > 1 else "")


def agency_url(archive: Any, agency: str) -> str | None:
    """The agency page of `agency`, for links from other pages."""
    slug = index(archive).slugs.get(agency)
    return f"agencies/{slug}/" if slug else None


def page_count(rows: int) -> int:
    return max(1, -(-rows // PAGE_SIZE))


# --- cells ---------------------------------------------------------------------------

def value_cell(value: Value, t: Translate) -> dict[str, Any]:
    text = value.text
    return {"text": text, "sort": text, "missing": value.missing,
            "why": t(f"tables.missing.{value.missing}") if value.missing else ""}


def rate_cell(rate: RateValue, t: Translate) -> dict[str, Any]:
    sort = format(round(rate.value, 6), "f") if rate.value is not None else ""
    return {"text": rate.text, "sort": sort, "missing": rate.missing,
            "why": t(f"tables.missing.{rate.missing}") if rate.missing else ""}


def columns(table: str, t: Translate) -> list[dict[str, Any]]:
    """The figure and rate columns of a table, with labels and definitions."""
    cols = [{"id": f.id, "label": t(f"tables.fig.{f.id}"), "kind": "figure", "derived": f.derived,
             "definition": t(f"tables.def.{f.id}") if f.derived or len(set(f.paths.values())) > 1
             or len(f.paths) < 2 else ""} for f in FIGURES[table]]
    cols += [{"id": r.id, "label": t(f"tables.rate.{r.id}"), "kind": "rate", "derived": True,
              "definition": t(f"tables.def.{r.id}")} for r in RATES[table]]
    return cols


def _cached(archive: Any, name: str) -> dict:
    """A cache that lives as long as the archive (one build): the pages made in
    one process share what they compute from the same reports."""
    return archive._memo.setdefault(name, {})


def shared_columns(archive: Any, table: str, t: Translate) -> list[dict[str, Any]]:
    """`columns` once per table and language (pages share the read-only dicts)."""
    cache = _cached(archive, "_tables_columns")
    key = (table, t)
    if key not in cache:
        cache[key] = columns(table, t)
    return list(cache[key])


# How many reports' figures, and how many years' lists of them, a process keeps
# (a worker renders table pages year after year: holding every year's would
# grow it by ~40 MB per 10,000 reports; working them out again is cheap).
FIGURES_KEPT = 4096
YEARS_KEPT = 2


def figures_of(archive: Any, report: Report, table: str) -> ReportFigures:
    """A report's figures of a table, kept for the reports in use lately (the
    table pages of its year share them)."""
    cache = _cached(archive, "_tables_report_figures")
    key = (report.key, table)
    found = cache.get(key)
    if found is None or found.report is not report:
        if len(cache) >= FIGURES_KEPT:
            cache.clear()
        found = cache[key] = report_figures(report, table)
    return found


def _meta_cells(report: Report, t: Translate) -> dict[str, Any]:
    return {"level": t(f"level.{report.level}") if report.level else "",
            "kind": t(f"kind.{report.kind}") if report.kind else "",
            "region": report.region or ""}


def totals(figs: list[ReportFigures], table: str, key: Callable[[Report], str | None],
           order: Iterable[str | None], label: Callable[[str | None], str]) -> list[dict[str, Any]]:
    """Sums of non-null figures per group, with the number of reports left blank."""
    groups: dict[str | None, list[ReportFigures]] = {}
    for item in figs:
        groups.setdefault(key(item.report), []).append(item)
    rows = []
    for name in order:
        members = groups.get(name)
        if not members:
            continue
        cells = []
        for figure in FIGURES[table]:
            present = [m.values[figure.id].value for m in members if m.values[figure.id].value is not None]
            total = exact_sum(present) if present else None  # type: ignore[arg-type]
            cells.append({"text": format_number(total), "blank": len(members) - len(present)})
        rows.append({"name": label(name), "key": name or "", "reports": len(members), "cells": cells})
    return rows


def _level_order(figs: list[ReportFigures]) -> list[str | None]:
    return [*LEVELS, None]


def _region_order(figs: list[ReportFigures]) -> list[str | None]:
    regions = sorted({f.report.region for f in figs if f.report.region})
    return [*regions, None]


def distribution(figs: list[ReportFigures], table: str, year: int, t: Translate) -> dict[str, Any]:
    headline = HEADLINE[table]
    values = [f.values[headline].value for f in figs if f.values[headline].value is not None]
    blank = len(figs) - len(values)
    bins = bin_values(values)  # type: ignore[arg-type]
    label = t(f"tables.fig.{headline}")
    note = t("tables.chart_blank", count=blank) if blank else ""
    title = t("tables.chart_distribution", year=year, figure=label)
    svg = distribution_chart(f"chart-{table}-{year}", title, bins, x_label=label,
                             y_label=t("tables.chart_reports"), blank_note=note)
    return {"svg": svg, "title": title, "rows": chart_data(bins), "note": note,
            "x_label": label, "y_label": t("tables.chart_reports")}


# --- the year table page ---------------------------------------------------------------

def year_figures(archive: Any, table: str, year: int) -> list[ReportFigures]:
    """Every report's figures of a table's year (cached on the archive: the
    pages of a split year share them)."""
    cache = _cached(archive, "_tables_figures")
    if (table, year) not in cache:
        if len(cache) >= YEARS_KEPT:
            cache.clear()
        cache[(table, year)] = [figures_of(archive, r, table) for r in index(archive).by_year[year]]
    return cache[(table, year)]


def _year_parts(archive: Any, table: str, year: int, t: Translate) -> dict[str, Any]:
    """What every page of a table's year shows alike: filter options, totals and
    the distribution chart over all the year's reports (made once per year)."""
    cache = _cached(archive, "_tables_year_parts")
    key = (table, year, t)
    if key in cache:
        return cache[key]
    reports = index(archive).by_year[year]
    figs = year_figures(archive, table, year)
    unnamed = t("tables.unspecified")
    parts = cache[key] = {
        "options": {
            "level": [(lv, t(f"level.{lv}")) for lv in LEVELS if any(r.level == lv for r in reports)],
            "kind": [(k, t(f"kind.{k}")) for k in ("government", "department") if any(r.kind == k for r in reports)],
            "region": [(g, g) for g in sorted({r.region for r in reports if r.region})],
        },
        "by_level": totals(figs, table, lambda r: r.level, _level_order(figs),
                           lambda k: t(f"level.{k}") if k else unnamed),
        "by_region": totals(figs, table, lambda r: r.region, _region_order(figs), lambda k: k or unnamed),
        "all": totals(figs, table, lambda r: "all", ["all"], lambda k: t("tables.all_reports")),
        "chart": distribution(figs, table, year, t),
    }
    return parts


def year_table(archive: Any, table: str, year: int, page: int, t: Translate) -> dict[str, Any]:
    """The display model of one page of a table's year."""
    idx = index(archive)
    figs = year_figures(archive, table, year)
    parts = _year_parts(archive, table, year, t)
    pages = page_count(len(figs))
    shown = figs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    figure_ids = [f.id for f in FIGURES[table]]
    rate_ids = [r.id for r in RATES[table]]
    meta: dict[tuple, dict[str, Any]] = {}
    rows = []
    for item in shown:
        report = item.report
        values, rates = item.values, item.rates
        facts = (report.level, report.kind, report.region)
        if facts not in meta:
            meta[facts] = _meta_cells(report, t)
        rows.append({
            "report": report, "agency_url": f"agencies/{idx.slugs[report.agency]}/",
            "raw": {"level": report.level or "", "kind": report.kind or "", "region": report.region or ""},
            **meta[facts],
            "cells": [value_cell(values[i], t) for i in figure_ids] + [rate_cell(rates[i], t) for i in rate_ids],
        })
    return {
        "table": table, "table_name": t(f"tables.table.{table}"), "year": year,
        "columns": shared_columns(archive, table, t), "rows": rows, "count": len(figs),
        "page": page, "pages": [{"number": n, "url": table_url(table, year, n)} for n in range(1, pages + 1)],
        "first": (page - 1) * PAGE_SIZE + 1 if rows else 0, "last": (page - 1) * PAGE_SIZE + len(rows),
        "page_size": PAGE_SIZE,
        "years": [{"year": y, "url": table_url(table, y)} for y in sorted(idx.by_year)],
        "tables": [{"key": k, "name": t(f"tables.table.{k}"), "url": table_url(k, year)} for k in TABLES],
        **parts,
        "csv": f"tables/{table}/{year}/data.csv", "json": f"tables/{table}/{year}/data.json",
    }


# --- the agency page ----------------------------------------------------------------------

def _delta(current: Value, previous: Value | None) -> str:
    if previous is None or current.value is None or previous.value is None:
        return ""
    diff = exact_sum([current.value, -previous.value])  # type: ignore[operator]
    return ("+" if diff > 0 else "") + format_number(diff) if diff else "±0"


def continuity(archive: Any, reports: list[Report], t: Translate) -> list[dict[str, Any]]:
    """R5 between consecutive years: this year's 上年结转 against last year's 结转."""
    by_year = {}
    for report in reports:
        by_year.setdefault(report.year, report)
    rows = []
    for report in reports:
        previous = by_year.get(report.year - 1)
        results = [r for r in archive.checks.get(report.key, []) if r.rule == "R5"]
        if previous is None:
            status, note = None, t("tables.r5_no_previous", year=report.year - 1)
        elif not results:
            status, note = NA, t("tables.r5_no_table")
        else:
            status = FAIL if any(r.status == FAIL for r in results) else (
                PASS if all(r.status == PASS for r in results) else NA)
            note = ""
        rows.append({"report": report, "previous": previous, "status": status, "note": note,
                     "details": [r.message for r in results if r.status != PASS]})
    return rows


def agency_page(archive: Any, agency: str, t: Translate) -> dict[str, Any]:
    """The display model of one agency across the years."""
    idx = index(archive)
    reports = idx.agencies[agency]
    first_of_year: dict[int, Report] = {}
    for report in reports:
        first_of_year.setdefault(report.year, report)
    sections = []
    for table in TABLES:
        if not any(table in r.tables for r in reports):
            continue
        figs = [figures_of(archive, r, table) for r in reports]
        prev_of = {f.report.year: f for f in figs if first_of_year[f.report.year] is f.report}
        rows = []
        for item in figs:
            previous = prev_of.get(item.report.year - 1)
            cells = []
            for figure in FIGURES[table]:
                cell = value_cell(item.values[figure.id], t)
                cell["delta"] = _delta(item.values[figure.id], previous.values[figure.id] if previous else None)
                cells.append(cell)
            cells += [rate_cell(item.rates[r.id], t) | {"delta": ""} for r in RATES[table]]
            rows.append({"report": item.report, "cells": cells})
        headline = HEADLINE[table]
        points = [Point(year, prev_of[year].values[headline].value) for year in sorted(prev_of)]
        label = t(f"tables.fig.{headline}")
        title = t("tables.chart_trend", agency=agency, figure=label)
        svg = trend_chart(f"trend-{table}", title, points, x_label=t("tables.year"), y_label=label,
                          blank_label=t("tables.missing.blank"))
        sections.append({"table": table, "name": t(f"tables.table.{table}"), "columns": shared_columns(archive, table, t),
                         "rows": rows, "chart": {"svg": svg, "title": title, "rows": chart_data(points),
                                                 "x_label": t("tables.year"), "y_label": label}})
    latest = reports[-1]
    return {"agency": agency, "reports": reports, "latest": latest, "sections": sections,
            "continuity": continuity(archive, reports, t),
            "meta": _meta_cells(latest, t), "slug": idx.slugs[agency]}


def agencies_list(archive: Any, t: Translate) -> list[dict[str, Any]]:
    idx = index(archive)
    return [{"agency": agency, "url": f"agencies/{idx.slugs[agency]}/", "years": [r.year for r in reports],
             **_meta_cells(reports[-1], t)} for agency, reports in idx.agencies.items()]


# --- planning and making ---------------------------------------------------------------------

def _digests(reports: Iterable[Report]) -> str:
    from .build import hash_strings
    return hash_strings(r.meta_digest for r in reports)


def _hash_slugs(idx: Index, reports: Iterable[Report]) -> str:
    from .build import hash_strings
    return hash_strings(idx.slugs[r.agency] for r in reports)


def _agency_inputs(archive: Any, agency: str, reports: list[Report]) -> str:
    """What an agency page is made from, as one digest (an archive can have
    as many agencies as reports)."""
    from .build import hash_strings
    return hash_strings(["agency", agency, *(r.meta_digest for r in reports), *_r5(archive, reports)])


def _r5(archive: Any, reports: Iterable[Report]) -> list[Any]:
    """What of the reports' checks an agency page shows (R5 across years),
    by digest: the checks' digest covers it."""
    return [archive.checks.digest(report.key) for report in reports]


def plan(archive: Any) -> Iterable[Any]:
    from .build import PlannedFile
    idx = index(archive)
    years = sorted(idx.by_year)
    yield PlannedFile("tables/index.html", "tables_index", (), ["tables_index", {y: len(rs) for y, rs in idx.by_year.items()}],
                      "tables_index.html")
    for table in TABLES:
        for year, reports in idx.by_year.items():
            inputs = ["table", table, year, years, _digests(reports), _hash_slugs(idx, reports)]
            for page in range(1, page_count(len(reports)) + 1):
                yield PlannedFile(table_url(table, year, page) + "index.html", "table", (table, year, page), inputs,
                                  "table.html")
    agency_list = [(a, idx.slugs[a], [r.year for r in rs], rs[-1].level, rs[-1].kind, rs[-1].region)
                   for a, rs in idx.agencies.items()]
    yield PlannedFile("agencies/index.html", "agencies_index", (), ["agencies_index", agency_list], "agencies.html")
    for agency, reports in idx.agencies.items():
        yield PlannedFile(f"agencies/{idx.slugs[agency]}/index.html", "agency", (agency,),
                          _agency_inputs(archive, agency, reports), "agency.html")


def make(kind: str, args: tuple, archive: Any, render: Callable[..., bytes], renderer: Any) -> bytes:
    t = renderer.t
    home = (t("site.home"), "")
    tables_crumb = (t("tables.title"), "tables/")
    if kind == "table":
        table, year, page = args
        model = year_table(archive, table, year, page, t)
        title = t("tables.page_title", year=year, table=model["table_name"])
        return render("table.html", m=model, title=title, canonical=table_url(table, year, page),
                      breadcrumbs=[home, tables_crumb, (title, table_url(table, year, page))])
    if kind == "agency":
        (agency,) = args
        model = agency_page(archive, agency, t)
        url = f"agencies/{model['slug']}/"
        return render("agency.html", m=model, canonical=url,
                      breadcrumbs=[home, (t("tables.agencies"), "agencies/"), (agency, url)])
    if kind == "agencies_index":
        return render("agencies.html", agencies=agencies_list(archive, t), canonical="agencies/",
                      breadcrumbs=[home, (t("tables.agencies"), "agencies/")])
    if kind == "tables_index":
        idx = index(archive)
        grid = [{"key": k, "name": t(f"tables.table.{k}"),
                 "years": [{"year": y, "url": table_url(k, y), "count": len(idx.by_year[y])}
                           for y in sorted(idx.by_year, reverse=True)]} for k in TABLES]
        return render("tables_index.html", tables=grid, canonical="tables/", breadcrumbs=[home, tables_crumb])
    raise ValueError(f"unknown page kind {kind!r}")
