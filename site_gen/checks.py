"""Arithmetic checks on report tables (FORMAT.md rules R0, R3.1-R3.3, R4.1, R5).

Each rule gives pass, fail or not assessable ("na": a cell it needs is
null).  A failure names the rule, the row and column labels as printed and
both sides of the equation with their values.  Checks only read figures;
they never change one.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from decimal import Decimal
from typing import Any, Iterable, NamedTuple, Sequence

from .errors import SiteGenError
from .formats import Format, TableSpec, all_formats
from .model import Report, value_at

PASS, FAIL, NA = "pass", "fail", "na"
RULES = {
    "R0": "数值为非负整数（收费金额可为小数）",
    "R3.1": "每列：本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理",
    "R3.2": "每行：总计 = 自然人与五类法人或其他组织之和",
    "R3.3": "每列：（七）总计 = 各项办理结果之和",
    "R4.1": "复议、诉讼每组：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "R5": "跨年度：本年“上年结转” = 上一年“结转下年度继续办理”",
}
_TABLE_SECTION = {"proactive": "二", "requests": "三", "review_litigation": "四"}
_TRAILING_NOTE = re.compile(r"（[^（）]*）$")

Path = tuple[Any, ...]


class CheckResult(NamedTuple):
    """One rule applied to one scope of one report.

    The message is built on demand from the equation's terms: most results
    pass, and formatting every passing equation would dominate check time.
    A named tuple, since the build caches tens of thousands of them.
    """

    rule: str
    status: str
    scope: str
    cells: tuple[Path, ...]
    anchor: Path
    left: tuple[tuple[str, Any], ...] = ()
    right: tuple[tuple[str, Any], ...] = ()
    note: str = ""

    @property
    def message(self) -> str:
        if self.note:
            return f"{self.rule} {self.scope}: {self.note}"
        left_text, left_total = _side(self.left)
        right_text, right_total = _side(self.right)
        sign = "=" if self.status == PASS else "≠"
        return f"{self.rule} {self.scope}: {left_text} {sign} {right_text}"

    def as_dict(self) -> dict[str, Any]:
        """The result for data exports; message and cells where it did not pass."""
        data = {"rule": self.rule, "status": self.status, "scope": self.scope}
        if self.status != PASS:
            data["message"] = self.message
            data["cells"] = [list(c) for c in self.cells]
        return data


def _side(terms: tuple[tuple[str, Any], ...]) -> tuple[str, Any]:
    total = _sum([value for _, value in terms])
    text = " + ".join(f"{label} {_num(value)}" for label, value in terms)
    return (text if len(terms) == 1 else f"{text} = {_num(total)}"), total


def flatten(tables: dict) -> dict[Path, Any]:
    """Every value of a report's tables by its path, e.g. ("requests", "granted", 6)."""
    flat: dict[Path, Any] = {}

    def walk(node: dict | list, path: Path) -> None:
        # Leaves are stored here, not in a call of their own: most values are.
        for key, value in (node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, (dict, list)):
                walk(value, path + (key,))
            else:
                flat[path + (key,)] = value

    if isinstance(tables, (dict, list)):
        walk(tables, ())
    else:
        flat[()] = tables
    return flat


def _num(value: Any) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _sum(values: Sequence[Any]) -> Any:
    total = sum(Decimal(repr(v)) if isinstance(v, float) else v for v in values)
    return int(total) if isinstance(total, Decimal) and total == total.to_integral() else total


def short_label(label: str) -> str:
    """A printed label without its trailing explanatory parenthesis."""
    return _TRAILING_NOTE.sub("", label) if not label.startswith("（本列") else label


def _equation(rule: str, scope: str, left: Sequence[tuple[str, Path]], right: Sequence[tuple[str, Path]],
              tables: dict[Path, Any], light: bool = False) -> CheckResult:
    """Compare sum(left) with sum(right) of flattened `tables`; a null (or a
    missing cell) anywhere makes it not assessable. With `light`, a passing
    equation gives the result the build cache keeps of it (`light_pass`)."""
    lvals = [tables.get(p) for _, p in left]
    rvals = [tables.get(p) for _, p in right]
    values = lvals + rvals
    if set(map(type, values)) == {int}:  # nearly every equation: integers only
        ok = sum(lvals) == sum(rvals)
        if ok and light:
            return light_pass(rule, scope)
    elif any(v is None for v in values):
        nulls = [label for (label, _), v in zip(left + right, values) if v is None]
        return CheckResult(rule, NA, scope, _cells(left, right), left[0][1],
                           note=f"无法核验（空白单元格：{'、'.join(nulls)}）")
    elif any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        return CheckResult(rule, NA, scope, _cells(left, right), left[0][1], note="无法核验（非数值）")
    else:
        ok = _sum(lvals) == _sum(rvals)
    return CheckResult(rule, PASS if ok else FAIL, scope, _cells(left, right), left[0][1],
                       tuple(zip([label for label, _ in left], lvals)),
                       tuple(zip([label for label, _ in right], rvals)))


def _cells(left: Sequence[tuple[str, Path]], right: Sequence[tuple[str, Path]]) -> tuple[Path, ...]:
    return tuple(p for _, p in left + right)


@lru_cache(maxsize=4096)
def light_pass(rule: str, scope: str) -> CheckResult:
    """A passed result as the build cache keeps it: rule and scope, without
    the terms or cells (see `pack_checks`). One object per rule and scope
    (results are immutable): pages unpack forty of them per report."""
    return CheckResult(rule, PASS, scope, (), (), note="通过")


def _r0_scope(key: str, spec: TableSpec) -> str:
    return f"{_TABLE_SECTION[key]}、{spec.title.split('、', 1)[-1]}"


@lru_cache(maxsize=None)
def _r0_cells(key: str, spec: TableSpec) -> tuple[tuple[tuple[Path, str, str, str], ...], tuple[Path, ...]]:
    """(path, column type, row label, column label) of every value cell of a
    table layout, in order, and their paths: R0's walk, worked out once per
    format."""
    cells = [((key, *path), column.type, slot.labels[-1], column.label)
             for slot in spec.slots() for column, path in slot.cells()]
    return tuple(cells), tuple(path for path, *_ in cells)


def _r0_valid(value: Any, column_type: str) -> bool:
    if column_type == "signed":
        return not isinstance(value, float)
    return value >= 0 and (column_type == "amount" or float(value).is_integer() and not isinstance(value, float))


def _r0(tables: dict[str, Any], fmt: Format, flat: dict[Path, Any]) -> list[CheckResult]:
    results = []
    for key, spec in fmt.tables.items():
        if tables.get(key) is None:
            continue
        cells, paths = _r0_cells(key, spec)
        bad: list[tuple[str, Path]] = []
        for path, column_type, row, column in cells:
            value = flat.get(path)
            if value is None or type(value) is int and (value >= 0 or column_type == "signed"):
                continue  # blank, or a valid integer: nearly every cell
            if not _r0_valid(value, column_type):
                bad.append((f"{short_label(row)} {short_label(column)} {_num(value)}", path))
        scope = _r0_scope(key, spec)
        if bad:
            results.append(CheckResult("R0", FAIL, scope, tuple(p for _, p in bad), bad[0][1],
                                       note="不是非负整数：" + "；".join(t for t, _ in bad)))
        else:
            results.append(CheckResult("R0", PASS, scope, paths, (key,), note="全部数值有效"))
    return results


def _leaf_rows(spec: TableSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(label as printed, key path) of every value row of a matrix table."""
    rows = []
    for slot in spec.slots():
        label = short_label(slot.labels[-1])
        if len(slot.labels) == 3:  # a numbered item under its （三）-style parent
            numbering = re.match(r"^（[一二三四五六七八九十]+）", slot.labels[1])
            label = (numbering.group(0) if numbering else "") + label
        rows.append((label, slot.path))
    return rows


Equation = tuple[str, str, tuple[tuple[str, Path], ...], tuple[tuple[str, Path], ...]]


@lru_cache(maxsize=None)
def _requests_equations(spec: TableSpec) -> tuple[Equation, ...]:
    """R3.1-R3.3 for a requests table layout: (rule, scope, left, right) terms.

    Depends on the format only, so it is worked out once per format.
    """
    rows = _leaf_rows(spec)
    label = {path: text for text, path in rows}
    result_rows = [(t, p) for t, p in rows if p[0] not in
                   ("new_received", "carried_over", "results_total", "carried_forward")]
    columns = spec.columns
    total_index = len(columns) - 1
    found: list[Equation] = []
    for index, column in enumerate(columns):
        term = lambda key: (label[(key,)], ("requests", key, index))  # noqa: E731
        found.append(("R3.1", f"三、{column.label}", (term("new_received"), term("carried_over")),
                      (term("results_total"), term("carried_forward"))))
    for text, path in rows:
        found.append(("R3.2", f"三、{text}", ((columns[total_index].label, ("requests", *path, total_index)),),
                      tuple((c.label, ("requests", *path, i)) for i, c in enumerate(columns[:total_index]))))
    for index, column in enumerate(columns):
        found.append(("R3.3", f"三、{column.label}", ((label[("results_total",)], ("requests", "results_total", index)),),
                      tuple((t, ("requests", *p, index)) for t, p in result_rows)))
    return tuple(found)


@lru_cache(maxsize=None)
def _review_equations(spec: TableSpec) -> tuple[Equation, ...]:
    """R4.1 for each group of the review and litigation table."""
    col = {c.key: c.label for c in spec.columns}
    found: list[Equation] = []
    for group in spec.groups:
        scope = f"四、{group.parent + ' ' if group.parent else ''}{group.label}"
        cell = lambda k: (col[k], ("review_litigation", group.key, k))  # noqa: E731
        found.append(("R4.1", scope, (cell("total"),),
                      tuple(cell(k) for k in ("upheld", "corrected", "other", "pending"))))
    return tuple(found)


def _evaluate(equations: tuple[Equation, ...], flat: dict[Path, Any], light: bool) -> list[CheckResult]:
    return [_equation(rule, scope, left, right, flat, light) for rule, scope, left, right in equations]


def check_report(report: Report, *, light_passes: bool = False) -> list[CheckResult]:
    """Every single-report rule on one report, in rule order.

    With `light_passes`, passed equations come as `light_pass` results, all
    the build cache keeps of them (`pack_checks`): a build reading an archive
    packs every report's results at once, and nearly all of them pass.
    """
    fmt = report.format_spec()
    tables = report.tables
    if fmt is None or not tables:
        return []
    flat = flatten(tables)
    results = _r0(tables, fmt, flat)
    if "requests" in fmt.tables and "requests" in tables:
        results += _evaluate(_requests_equations(fmt.tables["requests"]), flat, light_passes)
    if "review_litigation" in fmt.tables and "review_litigation" in tables:
        results += _evaluate(_review_equations(fmt.tables["review_litigation"]), flat, light_passes)
    return results


def check_plan(report: Report) -> list[tuple[str, str]]:
    """(rule, scope) of every result `check_report` gives, in its order."""
    fmt = report.format_spec()
    tables = report.tables
    if fmt is None or not tables:
        return []
    return list(_plan_of(fmt.id, tuple(key for key in fmt.tables if key in tables)))


@lru_cache(maxsize=256)
def _plan_of(format_id: str, present: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """`check_plan` of a report of a shipped format with the tables `present`."""
    fmt = all_formats()[format_id]
    plan = [("R0", _r0_scope(key, fmt.tables[key])) for key in present]
    if "requests" in present:
        plan += [(rule, scope) for rule, scope, _, _ in _requests_equations(fmt.tables["requests"])]
    if "review_litigation" in present:
        plan += [(rule, scope) for rule, scope, _, _ in _review_equations(fmt.tables["review_litigation"])]
    return tuple(plan)


PackedChecks = tuple[str, tuple[CheckResult, ...], str]


def results_digest(results: Iterable[CheckResult]) -> str:
    """What of a set of results can change a page: every non-passing result
    in full, the passing ones by rule and scope."""
    parts = [f"{r.rule}|{r.status}|{r.scope}" + (f"|{r.message}" if r.status != PASS else "") for r in results]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def pack_checks(report: Report, results: list[CheckResult]) -> PackedChecks | list[CheckResult]:
    """A report's results for the build cache: one letter per result, in full
    only those that did not pass (they are the ones shown in detail), and
    their digest (so planning never unpacks them).

    Falls back to the full list if the results do not follow `check_plan`.
    """
    if [(r.rule, r.scope) for r in results] != check_plan(report):
        return list(results)
    statuses = "".join("p" if r.status == PASS else "x" for r in results)
    return statuses, tuple(r for r in results if r.status != PASS), results_digest(results)


def unpack_checks(report: Report, packed: PackedChecks | list[CheckResult]) -> list[CheckResult]:
    """The results `pack_checks` kept; passing ones without terms or cells."""
    if isinstance(packed, list):
        return packed
    statuses, issues, _ = packed
    others = iter(issues)
    return [light_pass(rule, scope) if status == "p" else next(others)
            for (rule, scope), status in zip(check_plan(report), statuses)]


def _packed_issues(packed: PackedChecks | list[CheckResult]) -> Sequence[CheckResult]:
    return [r for r in packed if r.status != PASS] if isinstance(packed, list) else packed[1]


def _packed_digest(packed: PackedChecks | list[CheckResult]) -> str:
    return results_digest(packed) if isinstance(packed, list) else packed[2]


class PassedContinuity(NamedTuple):
    """R5 results that all passed, kept without their notes (which quote the
    figures): worked out again from both reports when a page shows them."""

    count: int
    digest: str
    previous: tuple[int, str]


FULL_RESULTS_KEPT = 1024  # reports whose results ArchiveChecks keeps unpacked


class ArchiveChecks(Mapping):
    """Every report's results keyed by report key (year, slug), R5 last.

    Single-report results are held packed and unpacked only when a page
    reads them in full; failure counts and digests come from the packed form,
    so planning an archive of 10,000 reports unpacks none.
    """

    def __init__(self, reports: dict[tuple[int, str], Report],
                 packed: dict[tuple[int, str], PackedChecks | list[CheckResult]],
                 continuity: dict[tuple[int, str], list[CheckResult] | PassedContinuity]):
        self._reports = reports
        self._packed = packed
        self._r5 = continuity
        self._full: dict[tuple[int, str], list[CheckResult]] = {}
        self._digests: dict[tuple[int, str], str] = {}
        self._counts: dict[tuple[int, str], int] | None = None

    def rebound(self, reports: Iterable[Report]) -> "ArchiveChecks":
        """These results for new objects of the same reports, frontmatter
        unchanged (checks read nothing else)."""
        again = ArchiveChecks({r.key: r for r in reports}, self._packed, self._r5)
        again._counts, again._digests = self._counts, self._digests
        return again

    def __getitem__(self, key: tuple[int, str]) -> list[CheckResult]:
        found = self._full.get(key)
        if found is None:
            if key not in self._packed:
                raise KeyError(key)
            if len(self._full) >= FULL_RESULTS_KEPT:  # a build reads every report's: keep the latest
                self._full.clear()
            found = self._full[key] = unpack_checks(self._reports[key], self._packed[key]) + self.continuity(key)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._packed

    def __iter__(self):
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def issues(self, key: tuple[int, str]) -> list[CheckResult]:
        """The results of a report that did not pass (fail or not assessable)."""
        packed = self._packed.get(key)
        if packed is None:
            return []
        return [*_packed_issues(packed), *(r for r in self._r5_issues(key) if r.status != PASS)]

    def status_counts(self) -> dict[str, int]:
        """How many results passed, failed and could not be assessed, over the
        whole archive, counted from the packed form."""
        counts = {PASS: 0, FAIL: 0, NA: 0}
        for key, packed in self._packed.items():
            if isinstance(packed, list):
                for r in packed:
                    counts[r.status] += 1
            else:
                counts[PASS] += packed[0].count("p")
                for r in packed[1]:
                    counts[r.status] += 1
            r5 = self._r5.get(key)
            if isinstance(r5, PassedContinuity):
                counts[PASS] += r5.count
            elif r5:
                for r in r5:
                    counts[r.status] += 1
        return counts

    def has_results(self, key: tuple[int, str]) -> bool:
        packed = self._packed.get(key)
        return bool(packed and (packed[0] if isinstance(packed, tuple) else packed)) or bool(self._r5.get(key))


    def failures(self, key: tuple[int, str]) -> list[CheckResult]:
        return [r for r in self.issues(key) if r.status == FAIL]

    def failure_count(self, key: tuple[int, str]) -> int:
        counts = self._counts
        if counts is None:
            counts = self._counts = {}
            for k, packed in self._packed.items():
                issues = _packed_issues(packed)
                n = sum(1 for r in issues if r.status == FAIL) if issues else 0
                r5 = self._r5_issues(k)
                counts[k] = n + (sum(1 for r in r5 if r.status == FAIL) if r5 else 0)
        return counts.get(key, 0)

    def continuity(self, key: tuple[int, str]) -> list[CheckResult]:
        """The R5 results of a report (against the previous year's); passed
        ones are worked out again when asked for, not kept."""
        found = self._r5.get(key)
        if isinstance(found, PassedContinuity):
            return check_continuity(self._reports[key], self._reports[found.previous])
        return found or []

    def _r5_issues(self, key: tuple[int, str]) -> list[CheckResult]:
        found = self._r5.get(key)
        return [] if not found or isinstance(found, PassedContinuity) else found

    def digest(self, key: tuple[int, str]) -> str:
        """A digest of everything `self[key]` holds that a page can show."""
        found = self._digests.get(key)
        if found is None:
            packed = self._packed.get(key)
            single = _packed_digest(packed) if packed is not None else ""
            r5 = self._r5.get(key)
            if r5:
                r5_digest = r5.digest if isinstance(r5, PassedContinuity) else results_digest(r5)
                single = hashlib.sha256(f"{single}\n{r5_digest}".encode("utf-8")).hexdigest()
            found = self._digests[key] = single
        return found


def check_continuity(current: Report, previous: Report) -> list[CheckResult]:
    """R5: this year's 上年结转 equals last year's 结转下年度继续办理, per column."""
    fmt = current.format_spec()
    prev_fmt = previous.format_spec()
    current_tables, previous_tables = current.tables, previous.tables
    if not fmt or not prev_fmt or "requests" not in current_tables or "requests" not in previous_tables:
        return []
    results = []
    for index, column in enumerate(fmt.tables["requests"].columns):
        this = value_at(current_tables, ("requests", "carried_over", index))
        last = value_at(previous_tables, ("requests", "carried_forward", index))
        scope = f"三、{column.label}"
        path = ("requests", "carried_over", index)
        this_text = f"{current.year}年 上年结转 {_num(this) if this is not None else '空白'}"
        last_text = f"{previous.year}年 结转下年度继续办理 {_num(last) if last is not None else '空白'}"
        if this is None or last is None:
            status, sign = NA, "/"
        else:
            status, sign = (PASS, "=") if this == last else (FAIL, "≠")
        suffix = "（无法核验）" if status == NA else ""
        results.append(CheckResult("R5", status, scope, (path,), path,
                                   note=f"{this_text} {sign} {last_text}{suffix}"))
    return results


def check_archive(reports: Iterable[Report],
                  known: dict[tuple[int, str], PackedChecks | list[CheckResult]] | None = None,
                  continuity_memo: dict[tuple[str, str], list[CheckResult]] | None = None) -> ArchiveChecks:
    """Checks for every report, R5 included, keyed by report key (year, slug).

    `known` holds single-report results computed earlier (they depend on the
    report alone; packed or in full). R5 depends on the previous year's
    report of the same agency; `continuity_memo` keeps its results by the
    frontmatter digests of both reports, so only changed pairs are checked.
    """
    reports = list(reports)
    known = dict(known or {})
    memo = continuity_memo if continuity_memo is not None else {}
    by_agency: dict[tuple[str, int], Report] = {}
    for report in sorted(reports, key=lambda r: r.key):
        by_agency.setdefault((report.agency, report.year), report)
    continuity = {}
    used = {}
    for report in reports:
        if report.key not in known:
            known[report.key] = pack_checks(report, check_report(report, light_passes=True))
        previous = by_agency.get((report.agency, report.year - 1))
        if previous is not None:
            pair = (report.meta_digest, previous.meta_digest)
            found = memo.get(pair)
            if found is None:
                found = check_continuity(report, previous)
                if found and all(r.status == PASS for r in found):
                    found = (len(found), results_digest(found))  # kept lean: see PassedContinuity
            used[pair] = found
            if isinstance(found, tuple):
                continuity[report.key] = PassedContinuity(found[0], found[1], previous.key)
            elif found:
                continuity[report.key] = found
    memo.clear()
    memo.update(used)  # pairs no longer in the archive are forgotten
    return ArchiveChecks({r.key: r for r in reports}, known, continuity)


def summarize(results: list[CheckResult]) -> dict[str, dict[str, int]]:
    """Counts of pass/fail/na per rule, rules in their documented order."""
    summary: dict[str, dict[str, int]] = {}
    for rule in RULES:
        counts = {PASS: 0, FAIL: 0, NA: 0}
        for r in results:
            if r.rule == rule:
                counts[r.status] += 1
        if sum(counts.values()):
            summary[rule] = counts
    return summary


def failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status == FAIL]


# Source lines of failed checks by (file, frontmatter digest, cell): a
# long-lived process (the dev server) locates each failure once; the build
# keeps them in its cache.
_LINES: dict[tuple, int] = {}


def located_failures(reports: Iterable[Report], checks: Mapping, root: Any = None,
                     memo: dict[tuple, int] | None = None) -> list[SiteGenError]:
    """Every failed check as a warning located at its source line.

    Locating re-reads the frontmatter's node tree, so it runs for failures
    only, and once per failure while the frontmatter stays the same.
    """
    lines = _LINES if memo is None else memo
    found = []
    whole = isinstance(checks, ArchiveChecks)
    for report in reports:
        if whole and not checks.failure_count(report.key):  # counted once for the archive: most reports pass
            continue
        results = checks.failures(report.key) if whole else failures(checks.get(report.key, []))
        for result in results:
            key = (report.source_path, report.meta_digest, result.anchor)
            line = lines.get(key)
            if line is None:
                line = lines[key] = report.locate(["tables", *result.anchor], root)[0]
            found.append(SiteGenError(result.message, report.source_path, line))
    return sorted(found, key=SiteGenError.sort_key)
