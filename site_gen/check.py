"""`site-gen check`: validate every source and run the arithmetic rules
without writing the site.  Human output by default, JSON for tools."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from .build import archive_checks, check_unique_urls, load_state, read_sources
from .checks import FAIL, NA, PASS, located_failures
from .config import load_config
from .errors import SiteGenError
from .model import Report


def run_check(site: Path, *, output_format: str = "text", strict: bool = False, links: bool = False,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Check the archive under `site`; return the exit status (0 ok, 1 invalid)."""
    out = out or sys.stdout
    err = err or sys.stderr
    config = load_config(site)
    # Sources unchanged since the last build are taken from its cache (they were
    # validated then); the others are parsed on every core.
    state = load_state(config)
    sources, errors = read_sources(config, state, jobs=os.cpu_count() or 1)
    items = [s.item for s in sources.values()]
    errors.extend(check_unique_urls(items))
    if links:
        errors.extend(_link_errors(config))
    reports = sorted((i for i in items if isinstance(i, Report)), key=lambda r: r.key)
    results = archive_checks(sources, state)
    warnings = located_failures(reports, results, config.root, state.lines)
    counts = results.status_counts()
    invalid = sorted(errors, key=SiteGenError.sort_key)
    if output_format == "json":
        json.dump(_as_json(reports, results, invalid, warnings, counts), out, ensure_ascii=False, indent=1,
                  sort_keys=True)
        out.write("\n")
    else:
        for error in invalid:
            print(str(error), file=err)
        for warning in warnings:
            print(str(warning), file=out)
        print(f"checked {len(reports)} reports: {counts[PASS]} passed, {counts[FAIL]} failed, "
              f"{counts[NA]} not assessable; {len(invalid)} error{'s' if len(invalid) != 1 else ''} in sources",
              file=out)
    if invalid or (strict and warnings):
        return 1
    return 0


def _link_errors(config) -> list[SiteGenError]:
    from .links import check_links
    out = config.output_path
    if not out.is_dir():
        return [SiteGenError("no built site to check links in", config.output_dir, None, None,
                             "run `site-gen build` first")]
    return check_links(config, out)


def _as_json(reports: list[Report], results: dict, errors: list[SiteGenError],
             warnings: list[SiteGenError], counts: dict) -> dict[str, Any]:
    def err(e: SiteGenError) -> dict[str, Any]:
        return {"path": e.path, "line": e.line, "column": e.column, "message": e.message, "hint": e.hint}

    return {
        "summary": {"reports": len(reports), "passed": counts[PASS], "failed": counts[FAIL],
                    "not_assessable": counts[NA], "errors": len(errors)},
        "errors": [err(e) for e in errors],
        "failures": [err(w) for w in warnings],
        "reports": [{"path": r.source_path, "agency": r.agency, "year": r.year, "url": r.url,
                     "checks": [c.as_dict() for c in results.get(r.key, [])]} for r in reports],
    }
