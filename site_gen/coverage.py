"""Coverage and timeliness: which expected bodies have reported, and when.

An optional `agencies.yaml` at the site root (the `agencies_file` setting)
lists the bodies expected to publish a report every year:

    - name: 某市人民政府
      level: city            # national, province, city, county, township
      kind: government       # government or department
      region: 某省
      since: 2019            # optional: first reporting year expected
      until: 2023            # optional: last reporting year expected

Every invalid entry is reported at once as `agencies.yaml:line:col: message`.
A report's legal deadline (FORMAT.md): 31 January of the next year for
departments, 31 March for governments, none for townships; reports for years
before 2019 are due 31 March.
"""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .errors import ErrorList, SiteGenError
from .model import KINDS, LEVELS, Report
from .yamltools import load_yaml, locate

# Above this many reports a year, only the reports needing attention (late, no
# date, kind unknown) are listed; the counts still cover every report.
LIST_ALL_UP_TO = 500
ENTRY_KEYS = ("name", "level", "kind", "region", "since", "until")

ON_TIME, LATE, NO_DEADLINE, UNKNOWN_KIND, NO_DATE = "on_time", "late", "no_deadline", "unknown_kind", "no_date"


@dataclass(frozen=True)
class ExpectedAgency:
    name: str
    level: str | None
    kind: str | None
    region: str | None
    since: int | None = None
    until: int | None = None
    line: int = 0

    def expected_in(self, year: int) -> bool:
        return (self.since is None or year >= self.since) and (self.until is None or year <= self.until)


@dataclass(frozen=True)
class Agencies:
    """The expected bodies and a digest of the file (empty when there is none)."""

    entries: tuple[ExpectedAgency, ...]
    digest: str
    path: str | None


def _entry_errors(entry: Any, index: int, text: str, rel: str) -> tuple[ExpectedAgency | None, list[SiteGenError]]:
    errors: list[SiteGenError] = []

    def err(keys: list, message: str, hint: str | None = None, at_key: bool = False) -> None:
        line, col = locate(text, [index, *keys], want_key=at_key)
        errors.append(SiteGenError(message, rel, line, col, hint))

    if not isinstance(entry, dict):
        err([], "an agency must be a mapping with name, level, kind, region",
            "write it as `- name: 某市人民政府` followed by `level:`, `kind:`, `region:` lines")
        return None, errors
    for key in entry:
        if key not in ENTRY_KEYS:
            near = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1)
            err([key], f"unknown field `{key}`", f"did you mean `{near[0]}`?" if near else
                "known: " + ", ".join(ENTRY_KEYS), at_key=True)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        err(["name"] if "name" in entry else [], "an agency needs a `name` (text)", "add `name: 某市人民政府`")
    values: dict[str, Any] = {}
    for key, choices in (("level", LEVELS), ("kind", KINDS)):
        value = entry.get(key)
        if value is not None and value not in choices:
            near = difflib.get_close_matches(str(value), choices, n=1)
            err([key], f"`{key}` must be one of {', '.join(choices)}, not {value!r}",
                f"did you mean `{near[0]}`?" if near else None)
        else:
            values[key] = value
    region = entry.get("region")
    if region is not None and not isinstance(region, (str, int)):
        err(["region"], "`region` must be text")
        region = None
    for key in ("since", "until"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1949 <= value <= 2999):
            err([key], f"`{key}` must be a reporting year such as 2019, not {value!r}")
        else:
            values[key] = value
    if errors:
        return None, errors
    line, _ = locate(text, [index])
    return ExpectedAgency(name.strip(), values["level"], values["kind"],
                          str(region).strip() if region is not None else None,
                          values["since"], values["until"], line), errors


@lru_cache(maxsize=8)
def _parse(text: str, rel: str) -> tuple[ExpectedAgency, ...]:
    data = load_yaml(text, rel)
    if data is None:
        return ()
    if isinstance(data, dict) and set(data) == {"agencies"}:
        raise SiteGenError("write the agencies as a list at the top of the file", rel, 1, 1,
                           "remove the `agencies:` line and un-indent the list")
    if not isinstance(data, list):
        raise SiteGenError("the agencies file must be a list of agencies", rel, 1, 1,
                           "start each agency with `- name: ...`")
    errors = ErrorList()
    entries: list[ExpectedAgency] = []
    seen: dict[str, ExpectedAgency] = {}
    for index, entry in enumerate(data):
        parsed, problems = _entry_errors(entry, index, text, rel)
        errors.extend(problems)
        if parsed is None:
            continue
        key = name_key(parsed.name)
        if key in seen:
            line, col = locate(text, [index, "name"])
            errors.add(SiteGenError(f"agency `{parsed.name}` is listed twice (first on line {seen[key].line})",
                                    rel, line, col, "remove one of the two entries"))
            continue
        seen[key] = parsed
        entries.append(parsed)
    errors.raise_if_any()
    return tuple(entries)


def load_agencies(config: Any) -> Agencies:
    """The expected agencies of a site, or none when the file does not exist.

    Raises SiteGenError or BuildFailed, located in the file, when it is invalid.
    """
    rel = config.agencies_file
    path = Path(config.root) / rel
    if not rel or not path.is_file():
        return Agencies((), "", None)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SiteGenError(f"not UTF-8 text (byte {exc.start})", rel, 1, 1, f"save {rel} as UTF-8") from None
    return Agencies(_parse(text, rel), hashlib.sha256(raw).hexdigest(), rel)


def name_key(name: str) -> str:
    """An agency name for matching: width, spaces and script folded away."""
    from .search import fold
    text = unicodedata.normalize("NFKC", name)
    return fold("".join(text.split()))


# --- deadlines ----------------------------------------------------------------

def deadline(year: int, level: str | None, kind: str | None) -> dt.date | None:
    """The legal publication deadline of a report for `year` (None: no date)."""
    if level == "township":
        return None
    if year < 2019:
        return dt.date(year + 1, 3, 31)
    if kind == "government":
        return dt.date(year + 1, 3, 31)
    if kind == "department":
        return dt.date(year + 1, 1, 31)
    return None


def timeliness(report: Report) -> dict[str, Any]:
    """Deadline, status and days late of one report."""
    due = deadline(report.year, report.level, report.kind)
    if report.level == "township":
        status = NO_DEADLINE
    elif due is None:
        status = UNKNOWN_KIND
    elif report.published is None:
        status = NO_DATE
    else:
        status = LATE if report.published > due else ON_TIME
    days = (report.published - due).days if status == LATE else 0
    return {"report": report, "deadline": due, "status": status, "days_late": days}


# --- the year coverage model ---------------------------------------------------

def year_coverage(archive: Any, year: int) -> dict[str, Any]:
    """What a year page shows about coverage and timeliness.

    `expected` is None when the site has no agencies file.
    """
    agencies = load_agencies(archive.config)
    reports = [r for r in archive.reports if r.year == year]
    reports.sort(key=lambda r: (r.agency, r.slug))
    rows = [timeliness(r) for r in reports]
    listed = rows if len(rows) <= LIST_ALL_UP_TO else [r for r in rows if r["status"] not in (ON_TIME, NO_DEADLINE)]
    result: dict[str, Any] = {
        "year": year, "timeliness": listed, "all_listed": len(listed) == len(rows),
        "late": sum(1 for r in rows if r["status"] == LATE),
        "on_time": sum(1 for r in rows if r["status"] == ON_TIME),
        "expected": None, "missing": [], "agencies_file": agencies.path,
    }
    if agencies.path is not None:
        have = {name_key(r.agency) for r in reports}
        expected = [a for a in agencies.entries if a.expected_in(year)]
        missing = [a for a in expected if name_key(a.name) not in have]
        result["expected"] = len(expected)
        result["reported"] = len(expected) - len(missing)
        result["missing"] = sorted(missing, key=lambda a: (a.region or "", a.name))
    return result


def coverage_inputs(archive: Any, year: int) -> list[Any]:
    """What a page showing the coverage of `year` depends on (for plan digests)."""
    from .build import hash_strings
    agencies = load_agencies(archive.config)
    # The frontmatter digest covers the agency, date, level and kind shown.
    reports = archive.by_year().get(year, [])
    return [agencies.digest, hash_strings(sorted(r.meta_digest for r in reports))]


# --- pages -----------------------------------------------------------------------

def plan(archive: Any) -> Iterable[Any]:
    from .build import PlannedFile
    load_agencies(archive.config)  # report a broken file before anything is rendered
    for year in archive.years():
        yield PlannedFile(f"coverage/{year}/index.html", "coverage", (year,),
                          ["coverage", year, archive.years(), coverage_inputs(archive, year)], "coverage.html")


def make(kind: str, args: tuple, archive: Any, render, renderer) -> bytes:
    (year,) = args
    t = renderer.t
    return render("coverage.html", coverage=year_coverage(archive, year), year=year,
                  years=archive.years(), canonical=f"coverage/{year}/",
                  breadcrumbs=[(t("site.home"), ""), (t("site.year_title", year=year), f"{year}/"),
                               (t("coverage.title", year=year), f"coverage/{year}/")])
