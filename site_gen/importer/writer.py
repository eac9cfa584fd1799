"""Writing a source file: YAML frontmatter in the archive's layout, then Markdown.

The layout follows ``content/2022/liangshan-xiang.md``: block mappings for
metadata and table nesting, flow style for a row of values (``[0, 0, ...]``
or ``{issued: 0, ...}``).  Written by hand so the layout is stable; every
file is parsed back with PyYAML before it is written.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import yaml


def scalar(value: Any) -> str:
    """One YAML scalar: numbers and dates plain, strings quoted only when needed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and "e" in repr(value):
        return f"{value:.10f}".rstrip("0")
    if isinstance(value, (int, float)):
        return repr(value)
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9)
    return dumped.removesuffix("\n...\n").rstrip("\n")


def flow(value: list | dict) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in value.items()) + "}"


def _is_row(value: Any) -> bool:
    """A row of values (flow style) rather than a level of nesting (block style)."""
    if isinstance(value, list):
        return True
    return isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values())


def block(mapping: dict[str, Any], indent: int = 0, rows_from: int = 99) -> list[str]:
    """Block-style lines for ``mapping``; below depth ``rows_from`` rows go flow style."""
    pad = "  " * indent
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict) and not (indent >= rows_from and _is_row(value)):
            lines.append(f"{pad}{key}:")
            lines.extend(block(value, indent + 1, rows_from))
        elif isinstance(value, (dict, list)):
            lines.append(f"{pad}{key}: {flow(value)}")
        else:
            lines.append(f"{pad}{key}: {scalar(value)}")
    return lines


def frontmatter(meta: dict[str, Any], tables: dict[str, Any]) -> str:
    lines = block(meta)
    if tables:
        lines.append("tables:")
        lines.extend(block(tables, 1, rows_from=2))
    return "---\n" + "\n".join(lines) + "\n---\n"


def render_source(meta: dict[str, Any], tables: dict[str, Any], body: str) -> str:
    """The whole source file; raises ValueError if the YAML would not read back the same."""
    head = frontmatter(meta, tables)
    parsed = yaml.safe_load(head[len("---\n"):-len("\n---\n")])
    expected = dict(meta) | ({"tables": tables} if tables else {})
    if parsed != expected:
        raise ValueError("frontmatter does not read back as written")
    return head + "\n" + body
