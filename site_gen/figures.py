"""Key figures and derived rates of the three standard tables.

A key figure is one number per report that table pages, agency pages and
the per-year data files show, read from the report's `tables` exactly as
stored.  Its stored location can differ by format (cn-gov-2019 keeps the
proactive decisions in a record, cn-gov-2021 as a scalar); a figure the
report's format does not have is "not in format", never 0.  A few figures
are subtotals of stored rows (marked `derived`); a subtotal with a blank
part is blank.  Rates have a documented numerator and denominator and are
undefined (with a reason) when a part is blank or the denominator is 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .grid import format_number
from .model import Report, value_at

TABLES = ("requests", "review_litigation", "proactive")
TOTAL = 6  # the 总计 column of the requests table

# Why a figure has no value.
BLANK = "blank"        # null in the source (or a blank part of a subtotal)
ABSENT = "absent"      # the report has no such table
NOT_IN_FORMAT = "format"  # the report's format has no such figure
ZERO_DENOMINATOR = "zero"  # a rate whose denominator is 0
NEGATIVE = "negative"  # a rate whose denominator is below 0 (inconsistent figures)


@dataclass(frozen=True)
class KeyFigure:
    """One column of a table page: where it is stored, per format."""

    id: str
    table: str
    paths: dict[str, tuple[Any, ...]]
    derived: bool = False  # a subtotal: the sum of the 总计 column of every sub-row

    def path_for(self, fmt: str | None) -> tuple[Any, ...] | None:
        return self.paths.get(fmt or "")


@dataclass(frozen=True)
class Value:
    """A figure of one report: the stored number, or why there is none."""

    value: int | float | None
    missing: str | None = None

    @property
    def text(self) -> str:
        return format_number(self.value)


@dataclass(frozen=True)
class Rate:
    id: str
    table: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    minus: tuple[str, ...] = ()  # subtracted from the denominator


@dataclass(frozen=True)
class RateValue:
    value: Decimal | None
    numerator: int | float | None = None
    denominator: int | float | None = None
    missing: str | None = None

    @property
    def text(self) -> str:
        """A percentage with one decimal, or "—" when undefined."""
        if self.value is None:
            return "—"
        return format(self.value * 100, ".1f") + "%"

    def as_json(self) -> dict[str, Any]:
        return {"value": None if self.value is None else float(round(self.value, 6)),
                "numerator": self.numerator, "denominator": self.denominator, "reason": self.missing}


BOTH = ("cn-gov-2021", "cn-gov-2019")


def _same(*path: Any) -> dict[str, tuple[Any, ...]]:
    return {f: tuple(path) for f in BOTH}


FIGURES: dict[str, tuple[KeyFigure, ...]] = {
    "requests": (
        KeyFigure("new_received", "requests", _same("new_received", TOTAL)),
        KeyFigure("carried_over", "requests", _same("carried_over", TOTAL)),
        KeyFigure("granted", "requests", _same("granted", TOTAL)),
        KeyFigure("partially_granted", "requests", _same("partially_granted", TOTAL)),
        KeyFigure("withheld", "requests", _same("withheld"), derived=True),
        KeyFigure("unable_to_provide", "requests", _same("unable_to_provide"), derived=True),
        KeyFigure("not_processed", "requests", _same("not_processed"), derived=True),
        KeyFigure("other_handling", "requests", _same("other_handling"), derived=True),
        KeyFigure("results_total", "requests", _same("results_total", TOTAL)),
        KeyFigure("carried_forward", "requests", _same("carried_forward", TOTAL)),
    ),
    "review_litigation": tuple(
        KeyFigure(f"{prefix}_{column}", "review_litigation", _same(group, column))
        for prefix, group in (("review", "admin_review"), ("direct", "litigation_direct"),
                              ("after_review", "litigation_after_review"))
        for column in ("corrected", "pending", "total")
    ),
    "proactive": (
        KeyFigure("normative_docs_new", "proactive", {"cn-gov-2021": ("normative_docs", "issued"),
                                                      "cn-gov-2019": ("normative_docs", "new_made")}),
        KeyFigure("admin_license", "proactive", {"cn-gov-2021": ("admin_license",),
                                                 "cn-gov-2019": ("admin_license", "decisions")}),
        KeyFigure("admin_penalty", "proactive", {"cn-gov-2021": ("admin_penalty",),
                                                 "cn-gov-2019": ("admin_penalty", "decisions")}),
        KeyFigure("admin_coercion", "proactive", {"cn-gov-2021": ("admin_coercion",),
                                                  "cn-gov-2019": ("admin_coercion", "decisions")}),
        KeyFigure("admin_fees", "proactive", {"cn-gov-2021": ("admin_fees",)}),
    ),
}

RATES: dict[str, tuple[Rate, ...]] = {
    "requests": (Rate("grant_rate", "requests", ("granted", "partially_granted"), ("results_total",)),),
    "review_litigation": (
        Rate("review_correction_rate", "review_litigation", ("review_corrected",),
             ("review_total",), ("review_pending",)),
        Rate("litigation_correction_rate", "review_litigation", ("direct_corrected", "after_review_corrected"),
             ("direct_total", "after_review_total"), ("direct_pending", "after_review_pending")),
    ),
    "proactive": (),
}

# The headline figure of each table: charts and year-over-year summaries use it.
HEADLINE = {"requests": "new_received", "review_litigation": "review_total", "proactive": "admin_penalty"}


def exact_sum(values: list[int | float]) -> int | float:
    """Sum without float noise: 0.1 + 0.2 is 0.3, ints stay ints."""
    for v in values:
        if not isinstance(v, int):
            break
    else:
        return sum(values)
    total = sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in values), Decimal(0))
    return int(total) if total == total.to_integral() else float(total)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# The reasons alone (values are immutable, so every report shares these).
_BLANK = Value(None, BLANK)
_ABSENT = Value(None, ABSENT)
_NOT_IN_FORMAT = Value(None, NOT_IN_FORMAT)


def _subtotal_of(node: Any) -> int | float | None:
    """The 总计 column of a group of rows (or of the row itself in cn-gov-2019's
    one-row 其他处理), summed level by level: None if any part is blank."""
    if isinstance(node, list):
        value = node[TOTAL] if len(node) > TOTAL else None
        return value if _number(value) else None
    if not isinstance(node, dict) or not node:
        return None
    parts = []
    for child in node.values():
        part = _subtotal_of(child)
        if part is None:
            return None
        parts.append(part)
    return exact_sum(parts)


def _subtotal(node: Any) -> Value:
    total = _subtotal_of(node)
    return _BLANK if total is None else Value(total)


def _figure_in(table: dict | None, fmt: str | None, figure: KeyFigure) -> Value:
    if table is None:
        return _ABSENT
    path = figure.path_for(fmt)
    if path is None:
        return _NOT_IN_FORMAT
    node = value_at(table, path)
    if figure.derived:
        return _subtotal(node)
    return Value(node) if _number(node) else _BLANK


def figure_value(report: Report, figure: KeyFigure) -> Value:
    """The figure of one report, exactly as stored (or why it is missing)."""
    return _figure_in(report.tables.get(figure.table), report.format, figure)


def rate_value(values: dict[str, Value], rate: Rate) -> RateValue:
    """A rate from a report's figures; undefined when a part is missing or the
    denominator is 0 (never shown as 0)."""
    parts = [values[i] for i in rate.numerator + rate.denominator + rate.minus]
    missing = next((p.missing for p in parts if p.value is None), None)
    if missing:
        return RateValue(None, missing=missing)
    num = exact_sum([values[i].value for i in rate.numerator])  # type: ignore[misc]
    den = exact_sum([values[i].value for i in rate.denominator])  # type: ignore[misc]
    if rate.minus:
        den = exact_sum([den, *(-values[i].value for i in rate.minus)])  # type: ignore[operator]
    if den == 0:
        return RateValue(None, num, den, ZERO_DENOMINATOR)
    if den < 0:
        return RateValue(None, num, den, NEGATIVE)
    return RateValue(Decimal(repr(num)) / Decimal(repr(den)), num, den)


@dataclass
class ReportFigures:
    """Every key figure and rate of one report for one table."""

    report: Report
    values: dict[str, Value] = field(default_factory=dict)
    rates: dict[str, RateValue] = field(default_factory=dict)


def report_figures(report: Report, table: str) -> ReportFigures:
    data, fmt = report.tables.get(table), report.format
    values = {f.id: _figure_in(data, fmt, f) for f in FIGURES[table]}
    rates = {r.id: rate_value(values, r) for r in RATES[table]}
    return ReportFigures(report, values, rates)


def figure_ids(table: str) -> list[str]:
    return [f.id for f in FIGURES[table]]


def rate_ids(table: str) -> list[str]:
    return [r.id for r in RATES[table]]
