"""Static SVG charts made at build time (no JavaScript needed).

Each chart is an inline `<svg role="img">` with `<title>` and `<desc>`, labelled
axes in the page's language, and data attributes on every mark
(`data-year`, `data-value`, `data-count`) so the text alternative — the data
table printed next to the chart — and tests can be checked against it.
Coordinates come straight from the values: y = top + height * (1 - v / y_max).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any, Sequence

from markupsafe import Markup, escape

from .grid import format_number

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 36, 56
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
TICKS = 5


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k not below `value` (at least 1)."""
    if value <= 0:
        return 1
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10 ** exp
        if candidate >= value:
            return int(candidate) if candidate == int(candidate) else candidate
    return 10 ** (exp + 1)  # pragma: no cover


def y_of(value: float, y_max: float) -> float:
    return round(TOP + PLOT_H * (1 - float(value) / y_max), 2)


def _num(value: float) -> str:
    return format_number(round(value, 2) if isinstance(value, float) else value)


def _axes(y_max: float, x_label: str, y_label: str) -> list[str]:
    """Axes, grid lines, ticks and axis labels (the same for many charts: made once)."""
    return list(_axes_parts(y_max, x_label, y_label))


@lru_cache(maxsize=256, typed=True)
def _axes_parts(y_max: float, x_label: str, y_label: str) -> tuple[str, ...]:
    parts = [f'<line class="axis" x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{LEFT + PLOT_W}" y2="{TOP + PLOT_H}" stroke="#444"/>',
             f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + PLOT_H}" stroke="#444"/>']
    for i in range(TICKS + 1):
        value = y_max * i / TICKS
        value = int(value) if float(value).is_integer() else round(value, 2)
        y = y_of(value, y_max)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{LEFT + PLOT_W}" y2="{y}" stroke="#ddd"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{_num(value)}</text>')
    parts.append(f'<text class="axis-label" x="{LEFT + PLOT_W / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{escape(x_label)}</text>')
    parts.append(f'<text class="axis-label" transform="translate(16 {TOP + PLOT_H / 2}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    return tuple(parts)


def _frame(chart_id: str, title: str, desc: str, body: list[str], kind: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" id="{chart_id}" role="img" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" font-size="12">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


@dataclass(frozen=True)
class Point:
    year: int
    value: int | float | None


def trend_chart(chart_id: str, title: str, points: Sequence[Point], *, x_label: str, y_label: str,
                blank_label: str) -> Markup:
    """A line over years; a blank year breaks the line and has no mark."""
    years = [p.year for p in points]
    values = [p.value for p in points if p.value is not None]
    y_max = nice_max(max([float(v) for v in values], default=0))
    first, last = (min(years), max(years)) if years else (0, 0)
    span = max(last - first, 1)

    def x_of(year: int) -> float:
        return round(LEFT + PLOT_W / 2 if last == first else LEFT + 24 + (PLOT_W - 48) * (year - first) / span, 2)

    body = _axes(y_max, x_label, y_label)
    for year in range(first, last + 1) if years else ():
        body.append(f'<text class="tick" x="{x_of(year)}" y="{TOP + PLOT_H + 18}" text-anchor="middle">{year}</text>')
    segments: list[list[str]] = [[]]
    for point in sorted(points, key=lambda p: p.year):
        if point.value is None:
            segments.append([])
        else:
            segments[-1].append(f"{x_of(point.year)},{y_of(point.value, y_max)}")
    for segment in segments:
        if len(segment) > 1:
            body.append(f'<polyline class="line" fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(segment)}"/>')
    for point in sorted(points, key=lambda p: p.year):
        if point.value is None:
            body.append(f'<text class="blank" x="{x_of(point.year)}" y="{TOP + PLOT_H - 6}" text-anchor="middle" '
                        f'data-year="{point.year}" fill="#666">{escape(blank_label)}</text>')
            continue
        x, y = x_of(point.year), y_of(point.value, y_max)
        text = format_number(point.value)
        body.append(f'<circle class="point" cx="{x}" cy="{y}" r="4" fill="#1f5fa8" data-year="{point.year}" '
                    f'data-value="{text}"><title>{point.year}：{text}</title></circle>')
        body.append(f'<text class="value" x="{x}" y="{y - 8}" text-anchor="middle">{text}</text>')
    desc = "；".join(f"{p.year}：{format_number(p.value) if p.value is not None else blank_label}"
                    for p in sorted(points, key=lambda p: p.year))
    return _frame(chart_id, title, desc, body, "trend")


@dataclass(frozen=True)
class Bin:
    low: int | None   # None: below 0
    high: int | None  # None: no upper bound
    count: int = 0

    def label(self) -> str:
        if self.low is None:
            return "<0"
        if self.high is None:
            return f"≥{self.low}"
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


EDGES = ((0, 0), (1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, 499), (500, 999), (1000, None))


def bin_values(values: Sequence[int | float]) -> list[Bin]:
    """Count values into fixed bins (a `<0` bin appears only when needed)."""
    counts = [0] * len(EDGES)
    negative = 0
    for value in values:
        v = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if v < 0:
            negative += 1
            continue
        for index, (low, high) in enumerate(EDGES):
            if high is None or v < high + 1:
                counts[index] += 1
                break
    bins = [Bin(low, high, count) for (low, high), count in zip(EDGES, counts)]
    return ([Bin(None, -1, negative)] if negative else []) + bins


def distribution_chart(chart_id: str, title: str, bins: Sequence[Bin], *, x_label: str, y_label: str,
                       blank_note: str) -> Markup:
    """Bars: how many reports fall in each range of a figure."""
    # Counts: an axis maximum divisible into whole-number ticks.
    y_max = max(nice_max(max((b.count for b in bins), default=0)), TICKS)
    body = _axes(y_max, x_label, y_label)
    slot = PLOT_W / max(len(bins), 1)
    for index, b in enumerate(bins):
        x = round(LEFT + slot * index + slot * 0.15, 2)
        y = y_of(b.count, y_max)
        height = round(TOP + PLOT_H - y, 2)
        label = b.label()
        body.append(f'<rect class="bar" x="{x}" y="{y}" width="{round(slot * 0.7, 2)}" height="{height}" '
                    f'fill="#1f5fa8" data-bin="{escape(label)}" data-count="{b.count}">'
                    f'<title>{escape(label)}：{b.count}</title></rect>')
        center = round(x + slot * 0.35, 2)
        body.append(f'<text class="tick" x="{center}" y="{TOP + PLOT_H + 18}" text-anchor="middle">{escape(label)}</text>')
        if b.count:
            body.append(f'<text class="value" x="{center}" y="{y - 6}" text-anchor="middle">{b.count}</text>')
    desc = "；".join(f"{b.label()}：{b.count}" for b in bins) + ("。" + blank_note if blank_note else "")
    return _frame(chart_id, title, desc, body, "distribution")


def chart_data(points_or_bins: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows of a chart's text alternative."""
    rows = []
    for item in points_or_bins:
        if isinstance(item, Point):
            rows.append({"label": str(item.year), "value": format_number(item.value), "blank": item.value is None})
        else:
            rows.append({"label": item.label(), "value": str(item.count), "blank": False})
    return rows
