"""The build: sources in, a finished site out.  Reads like a table of contents.

    load config -> read sources -> build the model -> check it -> plan pages
    -> render what changed -> search index and data -> static files -> swap

Every output file is planned with a digest of everything it is made from
(its sources, the configuration, the theme, the site-gen version).  A rebuild
renders only the files whose digest changed and leaves the others in place;
the digests and the parsed metadata of every source live in a cache folder
(``.site-gen-cache/``) that is ignored when damaged or stale.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import logging
import mmap
import os
import pickle
import sys
import time
from array import array
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

from . import __version__
from .checks import (FAIL, NA, PASS, RULES, ArchiveChecks, CheckResult, check_archive, check_report, failures,
                     located_failures, pack_checks, summarize)
from .config import Config, load_config
from .content import MarkdownRenderer, read_body, read_source
from .content import scan_sources as content_scan
from .errors import BuildFailed, ErrorList, SiteGenError
from .grid import layout_table, to_traditional
from .model import Page, Report, page_from_source, report_from_source, table_labels_text, value_at, with_body
from .output import (MARKER, FreshOutput, StagedChanges, build_lock, check_output_owner, recover, same_bytes,
                     same_files, write_file)
from .render import Renderer, json_bytes, template_digests, theme_dirs, theme_files

log = logging.getLogger("site_gen")

STATE_FILE = "state.pickle"
# Modules that add output files: each has `plan(archive) -> Iterable[PlannedFile]`
# and `make(kind, args, archive, render, renderer) -> bytes` (see PlannedFile).
# Sections of the site a page module adds to the navigation: (module, message key, path).
NAV_SECTIONS = (("site_gen.tables", "tables.title", "tables/"), ("site_gen.tables", "tables.agencies", "agencies/"))
EXTRA_PAGE_MODULES: tuple[str, ...] = ("site_gen.tables", "site_gen.export", "site_gen.coverage")
STATE_VERSION = 6
PARALLEL_THRESHOLD = 48  # sources to read before reading takes worker processes
# Output files to make before making them takes worker processes: fewer than
# for reading, as one file can be a table page over a year's reports.
RENDER_PARALLEL_THRESHOLD = 16
PAGES_DIR = "pages"


@dataclass
class SourceState:
    mtime_ns: int
    size: int
    item: Report | Page  # reports with their tables packed (Report.packed)
    checks: Any = None  # single-report rule results, packed (checks.pack_checks)


@dataclass
class BuildState:
    """What the last build saw and wrote: the incremental cache."""

    key: str = ""
    sources: dict[str, SourceState] = field(default_factory=dict)
    outputs: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    # R5 results by the frontmatter digests of both reports; source lines of
    # failed checks by (file, frontmatter digest, cell).
    continuity: dict[tuple[str, str], list] = field(default_factory=dict)
    lines: dict[tuple, int] = field(default_factory=dict)
    line_files: dict[str, LineIndex] = field(default_factory=dict)  # see LineFile
    # What the last plan was made from besides the sources (`_setting_digest`),
    # each report page's inputs other than its own text (`plan_site`), and the
    # agency page links: a rebuild after text-only edits plans from these.
    setting: str = ""
    contexts: dict[tuple[int, str], str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    # What every report page's digest shared (code, template, navigation):
    # while it stands, reports of agencies no change touched keep their plan.
    report_inputs: str = ""
    # The shard files the sources were loaded from: {number: (file name, sources)};
    # not saved in the main file (see save_state).
    shards: dict[int, tuple[str, dict[str, "SourceState"]]] = field(default_factory=dict, repr=False)
    # The dev server's last check results and warnings, kept in its memory only.
    checks: ArchiveChecks | None = field(default=None, repr=False)
    warnings: list[SiteGenError] | None = field(default=None, repr=False)


@dataclass
class BuildResult:
    output: Path
    reports: int = 0
    pages: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[SiteGenError] = field(default_factory=list)
    failing_checks: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    full: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


@dataclass(frozen=True)
class PlannedFile:
    """An output file a page module adds: `inputs` is JSON-able material whose
    digest decides whether the file must be made again (a string is taken as
    that digest already, see `hash_strings`); `kind` and `args`
    (picklable) are handed back to the module's `make`."""

    path: str
    kind: str
    args: tuple = ()
    inputs: Any = None
    template: str | None = "*"  # the template it is made with; "*" any, None none (data files)


@dataclass
class LineFile:
    """What a page module's `make` may return for a data file of one entry
    per item (``data/reports.json``, the CSVs): `head`, the items' bytes
    joined by `sep`, then `tail`. Each item is (key, make): the key is a
    digest of everything its bytes are made from, and a rebuild takes the
    bytes of items whose key is unchanged from the file as the last build
    wrote it, so editing one report re-encodes one line, not the archive."""

    head: bytes
    items: list[tuple[str, Callable[[], bytes]]]
    tail: bytes = b""
    sep: bytes = b""


# Where each item of a LineFile sits: (code/config digest, head length,
# item keys joined by line breaks, item lengths in bytes).  One string and
# one array rather than a tuple of each: the cache holds an index for every
# data file (80,000 items at 10,000 reports) and loads it on every build.
LineIndex = tuple[str, int, str, array]


@dataclass(frozen=True)
class Job:
    """One output file: where it goes, what it is made from, how to make it."""

    path: str
    digest: str
    kind: str
    args: tuple = ()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A fingerprint of site-gen's own code and data files (names, sizes and
    modification times), so an upgraded or edited site-gen never reuses pages
    made by another version.  Taken once per process: it describes the code
    that is running."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml", ".js", ".html", ".css") and "__pycache__" not in path.parts:
            st = path.stat()
            h.update(f"{path.relative_to(package).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


# --- reading sources ----------------------------------------------------------

def _parse_light(path: Path, root: Path, pages_dir: Path, trusted_html: bool
                 ) -> tuple[Report | Page, Any, dict] | list[SiteGenError]:
    """Parse one source into (light model item, packed check results, source
    lines of its failures), or the list of its errors.

    A report's body is left for its page's render; a plain page is small and
    rendered here once. The single-report checks run here, in the worker
    that has the tables decoded and the frontmatter text at hand; the report
    goes back with its tables packed.
    """
    try:
        src = read_source(path, root)
        if pages_dir in path.parents:
            return page_from_source(src, MarkdownRenderer(trusted_html)), None, {}
        report = report_from_source(src, None)
    except SiteGenError as exc:
        return [exc]
    except BuildFailed as exc:
        return exc.errors
    results = check_report(report, light_passes=True)  # packed below: passes are kept by rule and scope
    lines: dict[tuple, int] = {}
    located_failures([report], {report.key: results}, None, lines)
    return replace(report.packed(), meta_text=""), pack_checks(report, results), lines


def _parse_batch(items: list[tuple[str, str, str, bool]]) -> list[Any]:
    return [_parse_light(Path(p), Path(r), Path(d), trusted) for p, r, d, trusted in items]


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def scan_sources(config: Config) -> list[tuple[str, str, os.stat_result]]:
    """(display path, path, stat) of every source, in a stable order."""
    root = str(config.root).rstrip("/") + "/"
    return [(full[len(root):] if full.startswith(root) else full, full, st)
            for full, st in content_scan(config.content_path)]


def read_sources(config: Config, state: BuildState, jobs: int,
                 scanned: list[tuple[str, str, os.stat_result]] | None = None
                 ) -> tuple[dict[str, SourceState], ErrorList]:
    """Every source as a light model item, re-parsing only files that changed."""
    root = config.root
    pages_dir = config.content_path / PAGES_DIR
    found: dict[str, SourceState] = {}
    todo: list[tuple[str, str, os.stat_result]] = []
    for rel, path, st in scanned if scanned is not None else scan_sources(config):
        old = state.sources.get(rel)
        if old and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
            found[rel] = old
        else:
            todo.append((rel, path, st))
    errors = ErrorList()
    args = [(str(p), str(root), str(pages_dir), config.trusted_html) for _, p, _ in todo]
    if len(todo) >= PARALLEL_THRESHOLD and jobs > 1:
        from concurrent.futures import ProcessPoolExecutor  # not imported by builds that need no pool
        with ProcessPoolExecutor(jobs) as pool:
            results = [r for batch in pool.map(_parse_batch, _chunks(args, 64)) for r in batch]
    else:
        results = _parse_batch(args)
    for (rel, _, st), result in zip(todo, results):
        if isinstance(result, list):
            errors.extend(result)
        else:
            item, checks, lines = result
            found[rel] = SourceState(st.st_mtime_ns, st.st_size, item, checks)
            state.lines.update(lines)
    return dict(sorted(found.items())), errors


def archive_checks(sources: dict[str, SourceState], state: BuildState) -> ArchiveChecks:
    """The check results of every report: the single-report ones as read,
    R5 across years (from the cache where both reports are unchanged)."""
    reports = [s.item for s in sources.values() if isinstance(s.item, Report)]
    known = {s.item.key: s.checks for s in sources.values() if s.checks is not None}
    return check_archive(reports, known, state.continuity)


def check_unique_urls(items: Iterable[Report | Page]) -> ErrorList:
    """Two sources may not claim the same URL; name both files."""
    errors = ErrorList()
    seen: dict[str, Report | Page] = {}
    for item in items:
        other = seen.get(item.url)
        if other is not None:
            errors.add(SiteGenError(
                f"URL `{item.url}` is also used by {other.source_path}", item.source_path, 1, 1,
                "give one of them a different `slug:` in its frontmatter"))
        else:
            seen[item.url] = item
    return errors


# --- planning --------------------------------------------------------------------

@dataclass
class Archive:
    """The model of the whole site, as the planner and templates see it."""

    config: Config
    reports: list[Report]
    pages: list[Page]
    checks: ArchiveChecks
    agency_links: dict[str, str] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)  # the archive never changes once made

    def years(self) -> list[int]:
        return list(self.by_year())  # newest first

    def by_year(self) -> dict[int, list[Report]]:
        found = self._memo.get("by_year")
        if found is None:
            grouped: dict[int, list[Report]] = {}
            for report in self.reports:
                grouped.setdefault(report.year, []).append(report)
            found = self._memo["by_year"] = {y: sorted(rs, key=lambda r: (r.agency, r.slug))
                                             for y, rs in sorted(grouped.items(), reverse=True)}
        return found

    def neighbours(self, report: Report) -> tuple[Report | None, Report | None]:
        """The previous and next year's report of the same agency."""
        by_agency = self._memo.get("by_agency")
        if by_agency is None:
            by_agency = self._memo["by_agency"] = {}
            for each in self.reports:  # sorted by key: the first of a year wins
                by_agency.setdefault(each.agency, {}).setdefault(each.year, each)
        years = by_agency[report.agency]
        return years.get(report.year - 1), years.get(report.year + 1)


def hash_strings(parts: Iterable[str]) -> str:
    """A digest of strings: the planner's fast path (see `_digest`), and page
    modules' plan inputs (cheaper than handing the planner a long list)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _hash(*parts: str) -> str:
    return hash_strings(parts)


def _report_summary(report: Report | None) -> str:
    return "" if report is None else f"{report.url}\x1e{report.year}\x1e{report.title}"


def _nav(archive: Archive) -> dict[str, Any]:
    return {
        "nav_sections": [{"key": key, "url": url} for module, key, url in NAV_SECTIONS if module in EXTRA_PAGE_MODULES],
        "nav_years": [{"year": y, "url": f"{y}/"} for y in archive.years()],
        "nav_pages": [{"title": p.title, "url": p.url} for p in sorted(archive.pages, key=lambda p: (p.order, p.slug))],
    }


def _figure(report: Report, table: str, *path: Any) -> Any:
    return value_at(report.tables, (table, *path))


def year_rows(reports: list[Report], checks: ArchiveChecks, links: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A year page's rows: a few key figures per report, exactly as stored."""
    from .grid import format_number
    rows = []
    for report in reports:
        penalty = _figure(report, "proactive", "admin_penalty")
        if isinstance(penalty, dict):  # cn-gov-2019 keeps decisions in a record
            penalty = penalty.get("decisions")
        rows.append({
            "report": report,
            "new_received": format_number(_figure(report, "requests", "new_received", 6)),
            "granted": format_number(_figure(report, "requests", "granted", 6)),
            "admin_penalty": format_number(penalty),
            "failed": checks.failure_count(report.key),
            "checked": checks.has_results(report.key),
            "agency_url": (links or {}).get(report.agency),
        })
    return rows


def rule_rows(results: list[CheckResult]) -> list[dict[str, Any]]:
    """The 数据核验 panel: every rule with its overall status and the details
    of anything that did not pass."""
    rows = []
    for rule, counts in summarize(results).items():
        status = FAIL if counts[FAIL] else (PASS if counts[PASS] else NA)
        details = [r for r in results if r.rule == rule and r.status != PASS]
        rows.append({"id": rule, "status": status, "description": RULES[rule], "details": details})
    return rows


def report_json(report: Report, results: list[CheckResult]) -> dict[str, Any]:
    """The data export of one report: metadata, tables as stored, check results."""
    return {
        "agency": report.agency, "year": report.year, "title": report.title,
        "published": report.published.isoformat() if report.published else None,
        "level": report.level, "kind": report.kind, "region": report.region,
        "format": report.format, "lang": report.lang, "source": report.source,
        "tags": list(report.tags), "url": report.url, "source_path": report.source_path,
        "tables": report.tables,
        "checks": [r.as_dict() for r in results],
    }


def agency_urls(archive: Archive) -> dict[str, str]:
    """The agency page of each agency, when the table pages are built
    (worked out once per archive: the dev server's early pages need them
    before the plan does)."""
    if "site_gen.tables" not in EXTRA_PAGE_MODULES:
        return {}
    found = archive._memo.get("agency_urls")
    if found is None:
        from .tables import agency_url
        found = archive._memo["agency_urls"] = {agency: agency_url(archive, agency)
                                                for agency in {r.agency for r in archive.reports}}
    return found


def _coverage_inputs(archive: Archive, year: int) -> Any:
    if "site_gen.coverage" not in EXTRA_PAGE_MODULES:
        return None
    from .coverage import coverage_inputs
    return coverage_inputs(archive, year)


def _year_coverage(archive: Archive, year: int) -> dict[str, Any]:
    """The coverage section of a year page (when the coverage module is on)."""
    if "site_gen.coverage" not in EXTRA_PAGE_MODULES:
        return {}
    from .coverage import year_coverage
    return {"coverage": year_coverage(archive, year)}


def plan_site(archive: Archive, env: str, templates: dict[str, str] | None = None,
              contexts: dict[tuple[int, str], str] | None = None,
              settled: set[tuple[int, str]] | frozenset = frozenset()) -> list[Job]:
    """Every output file of the site with the digest of what it depends on.

    `templates` maps a template name to a digest of it and every template it
    extends, includes or imports ("*": the whole theme), so editing one
    template re-renders only the pages made with it. `contexts` receives the
    digest of each report page's inputs other than the report itself (see
    `text_only_changes`). Reports in `settled` get no page or JSON job: the
    caller carries those over from the last build (see `_plan`).
    """
    templates = templates or {}
    contexts = {} if contexts is None else contexts

    def tpl(name: str) -> str:
        return template_digest(templates, name)

    config = archive.config
    links = archive.agency_links
    nav = _nav(archive)
    nav_digest = _digest(nav, EXTRA_PAGE_MODULES)
    jobs: list[Job] = []
    by_year = archive.by_year()
    look = report_look(archive, templates, nav_digest)
    for report in archive.reports:
        if report.key in settled:
            continue
        context = contexts[report.key] = report_context(archive, report, env, look)
        jobs.append(report_job(report, context))
        checks = archive.checks.digest(report.key)
        jobs.append(Job(f"{report.url}report.json", _hash(env, "json", report.meta_digest, checks), "report_json",
                        (report.key,)))
    for year, reports in by_year.items():
        light = hash_strings(f"{r.meta_digest}\x1e{archive.checks.failure_count(r.key)}\x1e{links.get(r.agency)}"
                             for r in reports)
        jobs.append(Job(f"{year}/index.html", _digest(env, tpl("year.html"), nav_digest, year, light,
                                                      _coverage_inputs(archive, year)), "year", (year,)))
    for page in archive.pages:
        jobs.append(Job(f"{page.url}index.html", _digest(env, tpl("page.html"), nav_digest, page.digest), "page",
                        (page.slug,)))
    all_digests = hash_strings(f"{r.meta_digest}\x1e{archive.checks.failure_count(r.key)}" for r in archive.reports)
    site_digest = _digest(env, nav_digest, all_digests)
    site_templates = {"home": "index.html", "checks": "checks.html", "sitemap": "sitemap.xml", "feed": "feed.xml"}
    inputs_digests: dict[int, tuple[Any, str]] = {}  # pages of one table share their inputs
    for module_name in EXTRA_PAGE_MODULES:
        module = importlib.import_module(module_name)
        for planned in module.plan(archive):
            look = "" if planned.template is None else tpl(planned.template)
            if isinstance(planned.inputs, str):  # already a digest
                known = (planned.inputs, planned.inputs)
            else:
                known = inputs_digests.get(id(planned.inputs))
                if known is None or known[0] is not planned.inputs:
                    known = inputs_digests[id(planned.inputs)] = (planned.inputs, _digest(planned.inputs))
            jobs.append(Job(planned.path, _hash(env, look, nav_digest, known[1]), "extra",
                            (module_name, planned.kind, planned.args)))
    if config.search:
        jobs.append(Job("search/index.html", _digest(env, tpl("search.html"), nav_digest), "search_page"))
    for path, kind in (("index.html", "home"), ("checks/index.html", "checks"),
                       ("404.html", "notfound"), ("sitemap.xml", "sitemap"),
                       ("feed.xml", "feed"), ("robots.txt", "robots")):
        if kind == "notfound":
            digest = _digest(env, tpl("404.html"), nav_digest)
        else:
            digest = _digest(site_digest, tpl(site_templates[kind]) if kind in site_templates else "")
        jobs.append(Job(path, digest, kind))
    return jobs


def template_digest(templates: dict[str, str], name: str) -> str:
    """A template's digest (with what it extends, includes, imports), or the
    whole theme's ("*") when the template is not known by name."""
    return templates.get(name, templates.get("*", ""))


def report_look(archive: Archive, templates: dict[str, str], nav_digest: str | None = None) -> str:
    """What every report page's digest shares: its template and the navigation."""
    if nav_digest is None:
        nav_digest = _digest(_nav(archive), EXTRA_PAGE_MODULES)
    return _hash(template_digest(templates, "report.html"), nav_digest)


def report_context(archive: Archive, report: Report, env: str, look: str) -> str:
    """The digest of a report page's inputs other than the report itself:
    the neighbours it links to, its check results, its agency page's link."""
    prev, nxt = archive.neighbours(report)
    return _hash(env, look, _report_summary(prev), _report_summary(nxt), archive.checks.digest(report.key),
                 archive.agency_links.get(report.agency) or "")


def report_job(report: Report, context: str) -> Job:
    """A report's page: its own file's digest in the context `plan_site` found."""
    return Job(f"{report.url}index.html", _hash(context, report.digest), "report", (report.key,))


def text_only_changes(state: BuildState, sources: dict[str, SourceState], setting: str) -> list[Report] | None:
    """The reports edited since the last build when only their text changed
    (not their frontmatter, nor any other source, nor the theme, configuration
    or data files); None when anything else changed.

    Every output but a report's page and its search entry is planned from
    frontmatter digests and check results, so after such edits the last
    plan stands except for those pages: an edit to prose, the common case
    while writing, costs its page, not a plan of the whole site.
    """
    if not state.outputs or not setting or state.setting != setting or state.sources.keys() != sources.keys():
        return None
    changed = []
    for rel, entry in sources.items():
        old = state.sources[rel]
        if entry is old:
            continue
        new, before = entry.item, old.item
        if not (isinstance(new, Report) and isinstance(before, Report) and new.meta_digest == before.meta_digest
                and entry.checks == old.checks and new.key in state.contexts):
            return None
        changed.append(new)
    return changed


# Output folders of the theme's static files and the search index, which are
# not planned pages (their names are reserved slugs); the search page is.
_NOT_PAGES = ("static/", "search/")


# --- rendering -----------------------------------------------------------------

@dataclass
class PreviousOutput:
    """The output folder as the last build left it, for reuse by LineFiles."""

    out: Path
    env: str
    records: dict[str, tuple[str, int, int]]
    indexes: dict[str, LineIndex]

    def lines(self, rel: str) -> tuple[Path, LineIndex] | None:
        """The file and index of a LineFile the last build wrote, if the file
        is still exactly as written."""
        index = self.indexes.get(rel)
        record = self.records.get(rel)
        if index is None or record is None or index[0] != self.env or not _output_intact(self.out, rel, record):
            return None
        return self.out / rel, index


@dataclass
class StreamedLines:
    """A LineFile to write item by item (an archive-wide data file can be far
    larger than a page: at 100,000 reports `data/reports.json` is ~600 MB, so
    it is never held whole), copying unchanged items from the previous file."""

    made: LineFile
    previous: tuple[Path, LineIndex] | None
    env: str

    def write(self, path: Path) -> LineIndex:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as target, _mapped(self.previous[0] if self.previous else None) as old:
            return write_lines(target, self.made, old, self.previous[1] if old is not None else None, self.env)


@contextlib.contextmanager
def _mapped(path: Path | None):
    """The bytes of a file, mapped (None if there is no such file or it is empty)."""
    if path is None:
        yield None
        return
    try:
        handle = open(path, "rb")
    except OSError:
        yield None
        return
    with handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty or unmappable: make every item
            yield None
            return
        with view:
            yield view


def write_lines(target: BinaryIO, made: LineFile, old: bytes | mmap.mmap | None, index: LineIndex | None,
                env: str) -> LineIndex:
    """Write a LineFile's bytes, taking unchanged items from `old` (the bytes
    of the file the last build wrote, described by `index`); returns its index."""
    reuse: dict[str, tuple[int, int]] = {}
    if old is not None and index is not None:
        _, head_length, joined, lengths = index
        keys = joined.split("\n") if lengths else []
        sep = len(made.sep)
        if len(keys) == len(lengths) and len(old) >= head_length + sum(lengths) + sep * max(len(lengths) - 1, 0):
            position = head_length
            for key, length in zip(keys, lengths):
                reuse[key] = (position, length)
                position += length + sep
    target.write(made.head)
    sizes = []
    for n, (key, make) in enumerate(made.items):
        span = reuse.get(key)
        part = old[span[0]:span[0] + span[1]] if span else make()
        if n:
            target.write(made.sep)
        target.write(part)
        sizes.append(len(part))
    target.write(made.tail)
    return env, len(made.head), "\n".join([k for k, _ in made.items]), array("I", sizes)


class PageMaker:
    """Makes the bytes of one planned output file."""

    def __init__(self, archive: Archive, renderer: Renderer, previous: "PreviousOutput | None" = None):
        self.archive = archive
        self.renderer = renderer
        self.previous = previous or PreviousOutput(Path(), "", {}, {})
        self.md = MarkdownRenderer(archive.config.trusted_html)
        self._by_key = {r.key: r for r in archive.reports}
        self._pages = {p.slug: p for p in archive.pages}

    def make(self, job: Job) -> tuple[bytes, Any]:
        """Return the file's bytes and anything the caller collects (search entry)."""
        return getattr(self, "_" + job.kind)(job)

    def _render(self, template: str, job: Job, **context) -> bytes:
        return self.renderer.render(template, job.path, **context).data

    def _report(self, job: Job):
        light = self._by_key[job.args[0]]
        prev, nxt = self.archive.neighbours(light)
        results = self.archive.checks.get(light.key, [])
        config = self.archive.config
        body, body_line = read_body(config.root / light.source_path, light.source_path, light.digest)
        report = with_body(light, body, body_line, self.md)
        fmt = report.format_spec()
        flags: dict[tuple, list[str]] = {}
        for result in failures(results):
            for cell in result.cells:
                flags.setdefault(tuple(cell), []).append(result.rule)
        convert = to_traditional if report.lang == "zh-Hant" else None
        grids = {key: layout_table(fmt.tables[key], data, flags, convert) for key, data in report.tables.items()} if fmt else {}
        counts = {PASS: 0, FAIL: 0, NA: 0}
        for r in results:
            counts[r.status] += 1
        data = self._render(
            "report.html", job, report=report, sections=report.sections, grids=grids,
            format_name=f"{fmt.id}（{fmt.name}）" if fmt else None,
            previous=prev, next=nxt, checks=results, check_counts=counts, check_rules=rule_rows(results),
            breadcrumbs=[(self.renderer.t("site.home"), ""),
                         (self.renderer.t("site.year_title", year=report.year), f"{report.year}/"),
                         (report.agency, report.url)],
            current_year=report.year, canonical=report.url, main_lang=None, lang=config.language,
            agency_url=self.archive.agency_links.get(report.agency))
        return data, report

    def _report_json(self, job: Job):
        report = self._by_key[job.args[0]]
        return json_bytes(report_json(report, self.archive.checks.get(report.key, []))), None

    def _year(self, job: Job):
        year = job.args[0]
        reports = self.archive.by_year()[year]
        return self._render("year.html", job, year=year, rows=year_rows(reports, self.archive.checks, self.archive.agency_links),
                            current_year=year, canonical=f"{year}/", **_year_coverage(self.archive, year),
                            breadcrumbs=[(self.renderer.t("site.home"), ""),
                                         (self.renderer.t("site.year_title", year=year), f"{year}/")]), None

    def _page(self, job: Job):
        page = self._pages[job.args[0]]
        return self._render("page.html", job, page=page, canonical=page.url,
                            breadcrumbs=[(self.renderer.t("site.home"), ""), (page.title, page.url)]), None

    def _latest(self) -> list[Report]:
        ordered = sorted(self.archive.reports, key=lambda r: (r.published.isoformat() if r.published else "", r.year, r.slug),
                         reverse=True)
        return ordered[: self.archive.config.latest_count]

    def _home(self, job: Job):
        years = [{"year": y, "url": f"{y}/", "count": len(rs)} for y, rs in self.archive.by_year().items()]
        return self._render("index.html", job, years=years, latest=self._latest(), canonical=""), None

    def _checks(self, job: Job):
        rows = [{"report": r, "result": res}
                for r in sorted(self.archive.reports, key=lambda r: (r.agency, r.year, r.slug))
                for res in self.archive.checks.failures(r.key)]
        return self._render("checks.html", job, rows=rows, canonical="checks/",
                            breadcrumbs=[(self.renderer.t("site.home"), ""),
                                         (self.renderer.t("checks.archive_title"), "checks/")]), None

    def _extra(self, job: Job):
        module_name, kind, args = job.args
        module = importlib.import_module(module_name)

        def render(template: str, **context: Any) -> bytes:
            return self._render(template, job, **context)

        made = module.make(kind, args, self.archive, render, self.renderer)
        if isinstance(made, LineFile):
            return StreamedLines(made, self.previous.lines(job.path) if self.previous.indexes else None,
                                 self.previous.env), None
        return made, None

    def _search_page(self, job: Job):
        return self._render("search.html", job, portable=self.archive.config.portable_links, canonical="search/",
                            breadcrumbs=[(self.renderer.t("site.home"), ""),
                                         (self.renderer.t("site.search"), "search/")]), None

    def _notfound(self, job: Job):
        # Served at any depth, so its links start from the site's absolute root.
        root = self.archive.config.base_url or "/"
        rendered = self.renderer.render("404.html", job.path, root=root,
                                        href=lambda target: root + target,
                                        static=lambda p: root + "static/" + p)
        return rendered.data, None

    def _sitemap(self, job: Job):
        entries = [{"url": "", "lastmod": None}]
        entries += [{"url": f"{y}/", "lastmod": None} for y in self.archive.years()]
        entries += [{"url": r.url, "lastmod": r.published}
                    for r in sorted(self.archive.reports, key=lambda r: r.key)]
        entries += [{"url": p.url, "lastmod": None} for p in sorted(self.archive.pages, key=lambda p: p.slug)]
        return self._render("sitemap.xml", job, entries=entries), None

    def _feed(self, job: Job):
        import datetime as dt
        latest = sorted(self.archive.reports, key=lambda r: (r.published or dt.date.min, r.year, r.slug),
                        reverse=True)[:50]
        newest = max((r.published for r in latest if r.published), default=None)
        default_date = dt.date(max((r.year for r in latest), default=1970) + 1, 1, 1) if newest is None else newest
        base = self.archive.config.base_url

        def entry_id(r: Report) -> str:
            return base + r.url if base else f"urn:site-gen:report:{r.year}:{r.slug}"

        return self._render("feed.xml", job, reports=latest, updated=f"{default_date.isoformat()}T00:00:00Z",
                            default_date=default_date, entry_id=entry_id,
                            feed_id=(base + "feed.xml") if base else "urn:site-gen:feed"), None

    def _robots(self, job: Job):
        lines = ["User-agent: *", "Allow: /"]
        if self.archive.config.base_url:
            lines.append(f"Sitemap: {self.archive.config.base_url}sitemap.xml")
        return ("\n".join(lines) + "\n").encode("utf-8"), None


# Worker processes get the page maker through fork; set before the pool starts.
_MAKER: PageMaker | None = None


def _make_batch(jobs: list[Job], target_root: str, live_root: str | None = None) -> list[tuple[str, Any, bool]]:
    """Render a batch of jobs in a worker, writing files under `target_root`.

    With `live_root` (an incremental build), a page that comes out byte for
    byte as the file already there is not written: the file keeps its time,
    so deploy tools that compare times see no change, and a rebuild after an
    upgrade of site-gen moves only the files that differ. Each job gives
    (path, error or what the caller collects, whether the file was kept)."""
    assert _MAKER is not None
    out = []
    for job in jobs:
        try:
            data, extra = _MAKER.make(job)
        except SiteGenError as exc:
            out.append((job.path, exc, False))
            continue
        except BuildFailed as exc:
            out.append((job.path, exc.errors[0], False))
            continue
        kept = False
        if isinstance(data, StreamedLines):
            made = Path(target_root) / job.path
            extra = ("lines", job.path, data.write(made))
            if live_root is not None and same_files(made, f"{live_root}/{job.path}"):
                made.unlink()
                kept = True
        elif live_root is not None and same_bytes(f"{live_root}/{job.path}", data):
            kept = True
        else:
            write_file(f"{target_root}/{job.path}", data)
        if isinstance(extra, Report):
            extra = _indexed(extra, _MAKER.archive) if _MAKER.archive.config.search else None
        out.append((job.path, extra, kept))
    return out


def _indexed(report: Report, archive: Archive) -> Any:
    """A report's search entry with its terms, worked out here (in the worker
    that rendered the page) so the index is only merged in the main process.
    The table labels that end its text are shared by every report of its
    format, and their terms are worked out once."""
    from .search import index_entry
    return index_entry(search_entry(report, archive), table_labels_text(report.format_spec(), report.tables))


def search_entry(report: Report, archive: Archive):
    from .search import SearchEntry
    return SearchEntry(
        id=report.url, url=report.url, title=report.title, agency=report.agency, year=report.year,
        published=report.published.isoformat() if report.published else None,
        level=report.level, kind=report.kind, region=report.region, format=report.format,
        failing=bool(archive.checks.failure_count(report.key)), lang=report.lang, text=report.text)


def _archive_wide_first(jobs: list[Job]) -> list[Job]:
    """Archive-wide files (data files of every report, table pages of a
    year) before report pages: a worker that takes one of them last keeps
    the build waiting while the other workers have nothing left to do."""
    return sorted(jobs, key=lambda job: job.kind == "report")


def render_jobs(maker: PageMaker, jobs: list[Job], files_root: Path, workers: int,
                progress: Callable[[int], None] | None = None,
                line_indexes: dict[str, LineIndex] | None = None,
                live_root: Path | None = None) -> tuple[list[Any], ErrorList, set[str]]:
    """Render jobs (in parallel when there are many), writing under `files_root`.

    Returns the search entries of the reports rendered, any errors, and the
    files that came out as `live_root` holds them already (not written, see
    `_make_batch`); the index of every LineFile made goes into `line_indexes`.
    """
    global _MAKER
    errors = ErrorList()
    entries: list[Any] = []
    kept: set[str] = set()
    base = str(files_root)
    live = None if live_root is None else str(live_root)

    def collect(batch: list[tuple[str, Any, bool]]) -> None:
        for path, extra, same in batch:
            if same:
                kept.add(path)
            if isinstance(extra, SiteGenError):
                errors.add(extra)
            elif isinstance(extra, tuple) and extra and extra[0] == "lines":
                if line_indexes is not None:
                    line_indexes[extra[1]] = extra[2]
            elif extra is not None:
                entries.append(extra)
        if progress:
            progress(len(batch))

    _MAKER = maker
    try:
        if len(jobs) >= RENDER_PARALLEL_THRESHOLD and workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            ctx = multiprocessing.get_context("fork")
            maker.md.ready()
            outer = gc.get_freeze_count() > 0
            gc.freeze()  # workers inherit the archive; keep the collector from copying its pages
            try:
                with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                    size = max(1, min(32, len(jobs) // (4 * workers)))  # a few files of a small rebuild each
                    batches = _chunks(_archive_wide_first(jobs), size)
                    for future in [pool.submit(_make_batch, batch, base, live) for batch in batches]:
                        collect(future.result())
            finally:
                if not outer:
                    gc.unfreeze()
        else:
            for batch in _chunks(jobs, 32):
                collect(_make_batch(batch, base, live))
    finally:
        _MAKER = None
    return entries, errors, kept


# --- state --------------------------------------------------------------------------

_MEMORY_STATES: dict[Path, BuildState] = {}


def state_key(config: Config) -> str:
    """What cached parse results depend on beyond the files themselves
    (plain pages are cached rendered, with or without trusted HTML)."""
    return _digest(__version__, STATE_VERSION, sys.version_info[:2], str(config.root), config.trusted_html)


SHARDS = 64  # the sources of the cache are kept in this many files


def _shard_of(rel: str) -> int:
    return int(hashlib.sha1(rel.encode("utf-8")).hexdigest()[:4], 16) % SHARDS


@contextlib.contextmanager
def paused_gc():
    """Keep the cyclic collector off while a block makes many long-lived
    objects that hold no cycles (unpickling the cache, merging the search
    index): each full collection would walk all of them again, and at 10,000
    reports the collections took more than half of loading the cache."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_state(config: Config) -> BuildState:
    """The last build's cache, or an empty one if missing, stale or damaged.

    The main file names the shard files holding the sources (a rebuild
    rewrites only the shards whose sources changed); it is replaced last, so
    it never names a shard that is not complete.
    """
    with paused_gc():
        return _load_state(config)


def _load_state(config: Config) -> BuildState:
    path = config.cache_path / STATE_FILE
    try:
        with open(path, "rb") as handle:
            state = pickle.load(handle)
        if isinstance(state, BuildState) and state.key == state_key(config):
            shards: dict[int, str] = state.sources.pop(_SHARD_INDEX, {})  # type: ignore[arg-type]
            loaded: dict[int, tuple[str, dict[str, SourceState]]] = {}
            for number, name in shards.items():
                with open(config.cache_path / name, "rb") as handle:
                    part = pickle.load(handle)
                if not isinstance(part, dict):
                    raise ValueError(f"damaged shard {name}")
                state.sources.update(part)
                loaded[number] = (name, part)
            state.shards = loaded
            return state
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged cache is ignored, never trusted
        log.info("ignoring damaged build cache %s: %s", path, exc)
    return BuildState(key=state_key(config))


_SHARD_INDEX = "\0shards"  # key of the shard names inside the main file's sources


def save_state(config: Config, state: BuildState) -> None:
    """Write the cache: shards whose sources are the very objects loaded
    from them (`state.shards`) stay, changed ones get new files."""
    folder = config.cache_path
    folder.mkdir(parents=True, exist_ok=True)
    shards: dict[int, dict[str, SourceState]] = {}
    for rel, entry in state.sources.items():
        shards.setdefault(_shard_of(rel), {})[rel] = entry
    names: dict[int, str] = {}
    for number, part in shards.items():
        old = state.shards.get(number)
        if old is not None and old[1].keys() == part.keys() and all(old[1][k] is v for k, v in part.items()):
            names[number] = old[0]
            continue
        name = f"sources-{number:02d}-{os.urandom(4).hex()}.pickle"
        with open(folder / name, "wb") as handle:
            pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
        names[number] = name
    main = replace(state, sources={_SHARD_INDEX: names}, shards={}, checks=None, warnings=None)  # type: ignore[dict-item]
    tmp = (folder / STATE_FILE).with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(main, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, folder / STATE_FILE)
    keep = set(names.values())
    for stale in folder.glob("sources-*.pickle"):
        if stale.name not in keep:
            stale.unlink(missing_ok=True)


def _output_intact(out: Path, rel: str, record: tuple[str, int, int]) -> bool:
    try:
        st = os.stat(f"{out}/{rel}")
    except OSError:
        return False
    return st.st_size == record[1] and st.st_mtime_ns == record[2]


# --- the build ------------------------------------------------------------------------

def build_site(site_dir: Path, out_dir: Path | None = None, *, portable: bool | None = None,
               search: bool | None = None, strict: bool | None = None, clean: bool = False,
               jobs: int | None = None, progress: Callable[[str, int, int], None] | None = None,
               cache_dir: Path | None = None, state_in_memory: bool = False,
               early: Callable[[list[str]], None] | None = None,
               guard: contextlib.AbstractContextManager | None = None) -> BuildResult:
    """Build the site under `site_dir` into its output folder (or `out_dir`).

    `cache_dir` keeps the incremental state elsewhere than `.site-gen-cache/`
    (the dev server builds into a temporary folder with its own cache).
    `state_in_memory` keeps the incremental state in this process instead of
    pickling it to the cache after every build (for the long-lived server).
    The dev server also passes `early`: when sources changed beyond their
    prose, the pages of those reports are made and put in place first, and
    `early` is called with their paths before the rest of the build (the
    edited page shows at once; its year and table pages follow). `guard` is
    held while files are moved into the output folder.
    Raises BuildFailed (every error of the run) or SiteGenError; on any failure
    the output folder is left as it was (but for pages given to `early`; see
    `forget_outputs`).
    """
    config = load_config(Path(site_dir), {"portable_links": portable, "search": search, "strict": strict,
                                          "output_dir": str(Path(out_dir).resolve()) if out_dir else None,
                                          "cache_dir": str(Path(cache_dir).resolve()) if cache_dir else None})
    out = config.output_path
    with build_lock(config.cache_path, "site.yaml"):
        try:
            return _build_locked(config, out, clean=clean, workers=jobs or os.cpu_count() or 1, progress=progress,
                                 in_memory=state_in_memory, early=early, guard=guard or contextlib.nullcontext())
        finally:
            gc.unfreeze()


def _build_locked(config: Config, out: Path, *, clean: bool, workers: int, progress,
                  in_memory: bool = False, early: Callable[[list[str]], None] | None = None,
                  guard: contextlib.AbstractContextManager = contextlib.nullcontext()) -> BuildResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    rel_out = os.path.relpath(out, config.root)
    check_output_owner(out, rel_out)
    recover(out)
    dirs = theme_dirs(config)
    env = _digest(code_digest(), config.digest_fields())
    templates = cached_template_digests(config, dirs)
    scanned = scan_sources(config)
    setting = _setting_digest(config, env, templates, dirs)
    # The dev server's builds follow its watcher and keep no fingerprint.
    fingerprint = "" if in_memory else _fingerprint(setting, scanned)
    if not clean and not in_memory:
        done = _unchanged_build(config, out, fingerprint, timings)
        if done is not None:
            return done
    if clean:
        state = BuildState(key=state_key(config))
        from .search import forget_index
        forget_index(config.cache_path / "search")
    elif in_memory:
        state = _MEMORY_STATES.get(config.cache_path) or BuildState(key=state_key(config))
    else:
        state = load_state(config)
    # What is alive now (the cached archive, the dev server's state) lives
    # through the build: out of the collector's sight, full collections do
    # not walk it again and again (they took a third of an edit at 10k).
    gc.freeze()
    lap("config")

    sources, errors = read_sources(config, state, workers, scanned)
    items = [s.item for s in sources.values()]
    reports = [i for i in items if isinstance(i, Report)]
    pages = [i for i in items if isinstance(i, Page)]
    full = clean or not out.is_dir() or not state.outputs
    # A full build over an output folder site-gen made moves only the files
    # that differ into it; a fresh folder is swapped in when there is none.
    fresh = full and not (out / MARKER).is_file()
    edited = None if full or errors else text_only_changes(state, sources, setting)
    if edited is None:  # text-only edits keep every URL
        errors.extend(check_unique_urls(items))
    errors.raise_if_any()
    gc.freeze()  # the sources just read live through the build too
    lap("read")

    if edited is not None and state.checks is not None and state.warnings is not None:
        checks, warnings = state.checks.rebound(reports), state.warnings  # the dev server's, still true
    else:
        checks = archive_checks(sources, state)
        warnings = located_failures(reports, checks, config.root, state.lines)
    if config.strict and warnings:
        raise BuildFailed(warnings)
    lap("check")

    archive = Archive(config, sorted(reports, key=lambda r: r.key), sorted(pages, key=lambda p: p.slug), checks)
    renderer = Renderer(config, dirs, _nav(archive))
    previous = PreviousOutput(out, env, {} if full else state.outputs, {} if full else state.line_files)
    maker = PageMaker(archive, renderer, previous)
    if early is not None and edited is None and not full:
        _show_early(maker, state, sources, env, templates, out, early, guard)
        lap("early")
    inputs = report_inputs(archive, env, templates)
    jobs, carried, contexts = _plan(archive, state, edited, env, templates, sources, inputs, trust_records=in_memory)
    planned = {job.path for job in jobs} | carried.keys()
    # The dev server's output folder is its own: it trusts its records there.
    todo = [job for job in jobs if full or state.outputs.get(job.path, ("",))[0] != job.digest
            or (not in_memory and not _output_intact(out, job.path, state.outputs[job.path]))]
    static = theme_files(dirs, "static")
    static_digests = {f"static/{rel}": _digest(env, hashlib.sha256(p.read_bytes()).hexdigest()) for rel, p in static.items()}
    static_todo = [rel for rel, d in static_digests.items()
                   if full or state.outputs.get(rel, ("",))[0] != d or not _output_intact(out, rel, state.outputs[rel])]
    search_dirty = config.search and (full or bool(todo))
    lap("plan")

    target = FreshOutput(out) if fresh else StagedChanges(out)
    result = BuildResult(out, reports=len(reports), pages=len(pages), warnings=warnings,
                         failing_checks=len(warnings), timings=timings, full=full)
    try:
        total = len(todo)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("render", done[0], total)

        line_files = {} if full else {p: i for p, i in state.line_files.items() if p in planned}
        if config.search:
            from .search import prime_fold_map
            prime_fold_map(config.cache_path / "search")  # before workers fork: they index what they render
        entries, render_errors, kept = render_jobs(maker, todo, target.files_root, workers, tick, line_files,
                                                   None if fresh else out)
        render_errors.raise_if_any()
        lap("render")

        for rel in static_todo:
            data = static[rel.split("/", 1)[1]].read_bytes()
            if not fresh and same_bytes(f"{out}/{rel}", data):
                kept.add(rel)
            else:
                write_file(target.files_root / rel, data)
        lap("static")

        search_files: dict[str, str] = {}
        search_written: list[str] = []
        if search_dirty:
            search_files, search_written = _write_search(config, archive, maker, entries, target.files_root, out, full,
                                                         env, state.outputs, new_folder=fresh)
        elif config.search:
            search_files = {p: r[0] for p, r in state.outputs.items() if p.startswith("search/")}
        lap("search")

        known = planned | set(static_digests) | set(search_files)
        if fresh:
            removed = []
        elif full:  # no records to trust: whatever the folder holds that this build does not make
            removed = [rel for rel, _, _ in _output_listing(out) if rel not in known and rel != MARKER]
        else:
            removed = sorted(p for p in state.outputs if p not in known)
        written = [rel for rel in [j.path for j in todo] + static_todo if rel not in kept] + search_written
        with guard:
            target.commit(written, removed)
        lap("write")
    except BaseException:
        target.abandon()
        raise
    new_outputs = {rel: state.outputs[rel] for rel in carried}  # as the last build left them
    new_outputs.update(_output_records(out, [(j.path, j.digest) for j in jobs] + list(static_digests.items())
                                       + list(search_files.items()), state.outputs, set(written) | kept, full))
    lines = _live_lines(state.lines, sources)
    new_state = BuildState(state.key, sources, new_outputs, state.continuity, lines, line_files,
                           setting=setting, contexts=contexts, links=archive.agency_links,
                           report_inputs=inputs)
    if in_memory:
        new_state.checks, new_state.warnings = checks, warnings
        _MEMORY_STATES[config.cache_path] = new_state
    else:
        new_state.sources, new_state.shards = _lean(sources), state.shards
        save_state(config, new_state)
    result.written = written
    result.removed = removed
    result.unchanged = len(new_outputs) - len(written)
    if not in_memory:
        _save_fingerprint(config, fingerprint, _listing_digest(_listing_of(out, new_outputs)), result)
    lap("state")
    return result


EARLY_PAGES = 8  # at most this many changed reports are shown ahead of a dev server's build


def _show_early(maker: PageMaker, state: BuildState, sources: dict[str, SourceState], env: str,
                templates: dict[str, str], out: Path, early: Callable[[list[str]], None],
                guard: contextlib.AbstractContextManager) -> None:
    """Make the pages of the reports whose source changed (new ones too) and
    move them into place ahead of the rest of the build, for the dev server:
    after a figure edit at 10,000 reports the page shows in a fraction of a
    second, before the year's table pages and the data files are remade.

    They are made exactly as the full plan makes them (the same context
    digest), so the rest of the build finds them right and leaves them. A
    page that fails here is left to the rest of the build to report."""
    archive = maker.archive
    changed = [entry.item for rel, entry in sources.items()
               if isinstance(entry.item, Report) and state.sources.get(rel) is not entry]
    if not changed or len(changed) > EARLY_PAGES:
        return
    archive.agency_links = agency_urls(archive)
    look = report_look(archive, templates)
    jobs = [report_job(report, report_context(archive, report, env, look)) for report in changed]
    staged = StagedChanges(out)
    try:
        _, errors, kept = render_jobs(maker, jobs, staged.files_root, 1, live_root=out)
        shown = [job.path for job in jobs if job.path not in kept]
        if errors or not shown:
            staged.abandon()
            return
        with guard:
            staged.commit(shown, [])
    except BaseException:
        staged.abandon()
        raise
    early(shown)


def forget_outputs(cache_dir: Path, paths: Iterable[str]) -> None:
    """Make the dev server's next build remake these files: they were put in
    place ahead of a build that then failed (see `early` in `build_site`),
    so they may show sources its state does not know."""
    state = _MEMORY_STATES.get(Path(cache_dir).resolve())
    if state is not None:
        for rel in paths:
            state.outputs.pop(rel, None)


def _plan(archive: Archive, state: BuildState, edited: list[Report] | None, env: str,
          templates: dict[str, str], sources: dict[str, SourceState], inputs: str, *, trust_records: bool
          ) -> tuple[list[Job], dict[str, str], dict[tuple[int, str], str]]:
    """The jobs to compare with the last build's outputs, the outputs carried
    over from it as planned then ({path: digest}), and the report contexts.

    After text-only edits (`edited`, see `text_only_changes`) only the edited
    reports' pages are planned and every other page is carried over, provided
    the files the last build wrote are still as it left them; otherwise the
    whole site is planned, but for the pages of reports no change can have
    touched (`_settled_reports`).
    """
    if edited is not None:
        carried = {rel: record[0] for rel, record in state.outputs.items()
                   if not rel.startswith(_NOT_PAGES) or rel == "search/index.html"}
        for report in edited:
            carried.pop(f"{report.url}index.html", None)
        out = archive.config.output_path
        if trust_records or all(_output_intact(out, rel, state.outputs[rel]) for rel in carried):
            archive.agency_links = state.links
            return [report_job(r, state.contexts[r.key]) for r in edited], carried, state.contexts
    archive.agency_links = agency_urls(archive)
    contexts: dict[tuple[int, str], str] = {}
    carried: dict[str, str] = {}
    settled = _settled_reports(archive, state, sources, inputs)
    if settled:
        out = archive.config.output_path
        for report in archive.reports:
            if report.key in settled:
                for rel in (f"{report.url}index.html", f"{report.url}report.json"):
                    carried[rel] = state.outputs[rel][0]
                contexts[report.key] = state.contexts[report.key]
        if not trust_records and not all(_output_intact(out, rel, state.outputs[rel]) for rel in carried):
            settled, carried, contexts = set(), {}, {}
    return plan_site(archive, env, templates, contexts, settled), carried, contexts


def report_inputs(archive: Archive, env: str, templates: dict[str, str]) -> str:
    """What every report page's and report.json's digest shares."""
    return _hash(env, report_look(archive, templates))


def _settled_reports(archive: Archive, state: BuildState, sources: dict[str, SourceState],
                     inputs: str) -> set[tuple[int, str]]:
    """The reports whose page and report.json the last build planned as they
    would be planned now, so the plan carries them over instead of working
    out their digests again (an added report or a figure edit at 100,000
    reports no longer plans 200,000 files from scratch).

    A report page's inputs beyond what every page shares are its own source,
    its neighbours (the same agency a year apart), its check results (its
    own, and R5 against the same agency's previous year) and its agency
    page's link. So every report of an agency whose reports changed, came
    or went, or whose link changed, is planned again; the others are
    settled, provided the shared inputs (code, template, navigation) and
    their records stand."""
    if not state.report_inputs or state.report_inputs != inputs or not state.contexts:
        return set()
    touched: set[str] = set()
    for rel, old in state.sources.items():
        entry = sources.get(rel)
        if entry is old:
            continue
        for item in (old.item, None if entry is None else entry.item):
            if isinstance(item, Report):
                touched.add(item.agency)
    for rel, entry in sources.items():
        if rel not in state.sources and isinstance(entry.item, Report):
            touched.add(entry.item.agency)
    links = archive.agency_links
    touched.update(a for a in links.keys() | state.links.keys() if links.get(a) != state.links.get(a))
    outputs, contexts = state.outputs, state.contexts
    return {r.key for r in archive.reports
            if r.agency not in touched and r.key in contexts
            and f"{r.url}index.html" in outputs and f"{r.url}report.json" in outputs}


FINGERPRINT_FILE = "fingerprint.json"
TEMPLATES_FILE = "templates.json"


def cached_template_digests(config: Config, dirs: list[Path]) -> dict[str, str]:
    """`render.template_digests`, kept in the cache by the templates' names,
    sizes and times (working them out parses every template)."""
    files = theme_files(dirs, "templates")
    stamp = _digest(code_digest(), [(name, str(path), *_size_time(path)) for name, path in files.items()])
    path = config.cache_path / TEMPLATES_FILE
    try:
        saved = json.loads(path.read_text("utf-8"))
        if isinstance(saved, dict) and saved.get("stamp") == stamp and isinstance(saved.get("digests"), dict):
            return saved["digests"]
    except (OSError, ValueError):
        pass
    digests = template_digests(dirs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stamp": stamp, "digests": digests}), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return digests


def _size_time(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _output_listing(out: Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every file under the output folder."""
    listing = []
    todo = [("", str(out))]
    while todo:
        prefix, folder = todo.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    todo.append((name + "/", entry.path))
                else:
                    st = entry.stat(follow_symlinks=False)
                    listing.append((name, st.st_size, st.st_mtime_ns))
    listing.sort()
    return listing


def _listing_of(out: Path, outputs: dict[str, tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The output folder's listing as a build left it, from its records
    (what `_output_listing` finds if nobody touches the folder)."""
    listing = [(rel, size, mtime) for rel, (_, size, mtime) in outputs.items()]
    try:
        st = os.stat(out / MARKER)
        listing.append((MARKER, st.st_size, st.st_mtime_ns))
    except OSError:
        pass
    listing.sort()
    return listing


def _output_records(out: Path, files: list[tuple[str, str]], old: dict[str, tuple[str, int, int]],
                    looked_at: set[str], full: bool) -> dict[str, tuple[str, int, int]]:
    """(digest, size, mtime) of every output file; files this build neither
    wrote nor found already right (`looked_at`) keep their record (the plan
    found them intact)."""
    records = {}
    root = str(out)
    for rel, digest in files:
        record = old.get(rel)
        if full or rel in looked_at or record is None or record[0] != digest:
            st = os.stat(f"{root}/{rel}")
            record = (digest, st.st_size, st.st_mtime_ns)
        records[rel] = record
    return records


def _setting_digest(config: Config, env: str, templates: dict[str, str], dirs: list[Path]) -> str:
    """Everything a build reads besides the sources: code and configuration
    (`env`), templates, static files and data files, by name, size and time."""
    agencies = config.root / config.agencies_file
    data_files = [(p.name, *_size_time(p)) for p in (agencies,) if p.is_file()]
    static = [(rel, *_size_time(p)) for rel, p in theme_files(dirs, "static").items()]
    return _digest(env, templates, static, data_files)


def _fingerprint(setting: str, scanned: list[tuple[str, str, os.stat_result]]) -> str:
    """Everything a build reads, by name, size and time: with the output
    folder as the last build left it (`_listing_digest`), equal fingerprints
    mean a build would change nothing."""
    listing = "".join(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n" for rel, _, st in scanned)
    return hashlib.sha256(f"{setting}\n{listing}".encode()).hexdigest()


def _listing_digest(listing: list[tuple[str, int, int]] | None) -> str:
    h = hashlib.sha256(b"output\0" if listing is not None else b"no output\0")
    h.update("".join([f"{rel}\0{size}\0{mtime}\n" for rel, size, mtime in listing or ()]).encode())
    return h.hexdigest()


def _unchanged_build(config: Config, out: Path, fingerprint: str, timings: dict) -> BuildResult | None:
    """The result of the last build when nothing it read or wrote has changed
    since (a no-op rebuild then costs a walk of the sources and the output)."""
    try:
        saved = json.loads((config.cache_path / FINGERPRINT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("fingerprint") != fingerprint or saved.get("key") != state_key(config):
        return None  # something read changed: no need to walk the output folder
    if saved.get("outputs_digest") != _listing_digest(_output_listing(out) if out.is_dir() else None):
        return None
    warnings = [SiteGenError(w["message"], w["path"], w["line"]) for w in saved["warnings"]]
    if config.strict and warnings:
        raise BuildFailed(warnings)
    return BuildResult(out, reports=saved["reports"], pages=saved["pages"], unchanged=saved["outputs"],
                       warnings=warnings, failing_checks=len(warnings), timings=timings, full=False)


def _save_fingerprint(config: Config, fingerprint: str, outputs_digest: str, result: BuildResult) -> None:
    data = {"key": state_key(config), "fingerprint": fingerprint, "outputs_digest": outputs_digest,
            "reports": result.reports,
            "pages": result.pages, "outputs": result.unchanged + len(result.written),
            "warnings": [{"message": w.message, "path": w.path, "line": w.line} for w in result.warnings]}
    path = config.cache_path / FINGERPRINT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


def _lean(sources: dict[str, SourceState]) -> dict[str, SourceState]:
    """Sources as cached: reports with their tables packed and without their
    frontmatter text (re-read from the file when a failure must be located)."""
    return {rel: s if not isinstance(s.item, Report) or (isinstance(s.item.tables_data, bytes) and not s.item.meta_text)
            else SourceState(s.mtime_ns, s.size, replace(s.item.packed(), meta_text=""), s.checks)
            for rel, s in sources.items()}


def _live_lines(lines: dict[tuple, int], sources: dict[str, SourceState]) -> dict[tuple, int]:
    """The located failure lines of the sources as they are now."""
    live = {(s.item.source_path, s.item.meta_digest) for s in sources.values() if isinstance(s.item, Report)}
    return {k: v for k, v in lines.items() if k[:2] in live}


def search_digests(archive: Archive, env: str) -> list[tuple[str, str]]:
    """(id, digest) of every report's search entry, sorted by id: the entry
    holds the report's text and metadata and whether a check fails."""
    return sorted((r.url, f"{r.digest}:{'1' if archive.checks.failure_count(r.key) else '0'}")
                  for r in archive.reports)


def _write_search(config: Config, archive: Archive, maker: PageMaker, entries: list, files_root: Path,
                  out: Path, full: bool, env: str, outputs: dict[str, tuple[str, int, int]], *,
                  new_folder: bool) -> tuple[dict[str, str], list[str]]:
    """Bring the search index up to date; stage only index files that changed.

    The index is kept current in the cache (``search-out/``): reports whose
    entry is unchanged cost a comparison; the others were rendered this time
    (their entries come from the workers, terms included) or have their text
    made here. Every index file is staged when the build writes a fresh
    folder (`new_folder`); a full build over output/ stages those that
    differ from it. Returns {path: digest} of every index file and the paths
    staged.
    """
    from .search import sync_index
    cache = config.cache_path / "search"
    fresh = {e.entry.id: e for e in entries}
    entries.clear()  # the index frees each entry once merged (consume)
    by_url = {r.url: r for r in archive.reports}

    def load(id_: str) -> Any:
        report = by_url[id_]
        body, body_line = read_body(config.root / report.source_path, report.source_path, report.digest)
        return search_entry(with_body(report, body, body_line, maker.md), archive)

    published = config.cache_path / "search-out"
    with paused_gc():  # the index's state and postings: many objects, no cycles
        stats = sync_index(search_digests(archive, env), fresh, published, cache, load, version=env, consume=True)
    if new_folder:
        staged = list(stats.files)
    elif full:  # every file is new to this build; stage those the output folder does not hold
        staged = [rel for rel in stats.files if not _same_index_file(published / rel, out / "search" / rel)]
    else:
        staged = list(stats.changed)
    for rel in staged:
        _link_or_copy(published / rel, files_root / "search" / rel)
    changed = set(stats.changed)
    files = {}
    for rel in stats.files:  # an index file not rewritten keeps its digest: no stat
        known = None if full or rel in changed else outputs.get(f"search/{rel}")
        files[f"search/{rel}"] = known[0] if known is not None else _file_digest(published / rel)
    return files, [f"search/{rel}" for rel in staged]


def _same_index_file(published: Path, live: Path) -> bool:
    """Whether the output folder's index file is the cache's (hard-linked by
    the last build) or holds its bytes."""
    try:
        a, b = os.stat(published), os.stat(live, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev) or same_files(published, live)


def _file_digest(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link a cache file into the output (the cache replaces files by
    rename, never in place, so a link never changes under the output).
    The folder is made only when missing (most share one: 1,000 documents
    to a folder)."""
    try:
        os.link(source, target)
        return
    except FileNotFoundError:
        if not os.path.exists(source):
            raise
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    except OSError:  # another file system, or a file already there
        pass
    import shutil
    shutil.copy2(source, target)
