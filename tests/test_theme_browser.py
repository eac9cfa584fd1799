"""The default theme in a real Chromium: every page type at 360 px and 1280 px,
axe-core (no serious or critical violations, light and dark), sticky label
columns of the report tables, keyboard focus, and print to PDF.

One small fixture archive is built once for the module and served over
loopback HTTP (the 404 page links from the site root). Screenshots go to
tests/.axe/shots/ (git-ignored) for a human to look at.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest

from site_gen.build import build_site
from test_theme_site import SOURCE_URL, make_theme_site

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / ".axe" / "shots"
WIDTHS = (360, 1280)
PAGES = {
    "home": "",
    "year": "2022/",
    "report": "2022/liangshan-xiang/",
    "report-hans": "2021/liangshan-xiang/",
    "report-free": "2020/example-bureau/",
    "page": "about/",
    "checks": "checks/",
    "search": "search/?q=%E5%87%89%E5%B1%B1",
    "404": "404.html",
}
# Page types other modules add; tested here when the build makes them.
OPTIONAL_PAGES = {"agency": "agencies/*/index.html", "agencies": "agencies/index.html",
                  "tables": "tables/index.html", "table": "tables/requests/*/index.html"}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_theme_site(tmp_path_factory.mktemp("theme") / "site", base_url="")
    build_site(root, jobs=1)
    out = root / "output"
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages = dict(PAGES)
    for name, pattern in OPTIONAL_PAGES.items():
        found = sorted(out.glob(pattern))
        if found:
            pages[name] = found[0].parent.relative_to(out).as_posix() + "/"
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "out": out, "pages": pages}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tab(browser):
    """One browser context and tab for the whole module (fast)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


def _open(tab, site, name: str, width: int = 1280, scheme: str = "light"):
    tab.set_viewport_size({"width": width, "height": 900})
    tab.emulate_media(color_scheme=scheme, media="screen")
    tab.goto(site["url"] + site["pages"][name])
    tab.wait_for_load_state("load")
    if name == "search":
        tab.wait_for_selector("#search-app:not([data-state=idle]):not([data-state=loading])", timeout=5000)
    return tab


def _axe(tab) -> list[dict]:
    if not AXE.is_file():
        pytest.fail("axe-core missing: run `npm install --no-save --prefix tests/.axe axe-core@4` (see .ci/run)")
    if not tab.evaluate("typeof window.axe !== 'undefined'"):
        tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 120))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("name", list(PAGES) + list(OPTIONAL_PAGES))
def test_page_type_at_both_widths(tab, site, name):
    if name not in site["pages"]:
        pytest.skip(f"the build makes no {name} page yet")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        _open(tab, site, name, width)
        tab.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} overflows the viewport by {overflow}px at {width}px"
        # the common frame: title, search box, year navigation, one main, one h1
        assert tab.locator("header.site-header a.site-title").count() == 1
        assert tab.locator("header form[role=search] input[name=q]").count() == 1
        assert tab.locator("nav.site-nav a").count() >= 3
        assert tab.locator("main#main").count() == 1 and tab.locator("h1").count() == 1
    assert tab.js_errors == []


# Stylesheets of other modules that still hard-code light-scheme colours; they
# should use the theme's variables (var(--fail), var(--muted), var(--pass)).
# Reported as xfail while the violation is there, a pass once it is fixed.
KNOWN_DARK_CONTRAST = {
    "search": "search.css: .search-failing is #a00 in the dark scheme",
    "agencies": "tables.css: .muted/.why/.delta colours are fixed greys",
    "tables": "tables.css: .muted/.why/.delta colours are fixed greys",
    "table": "tables.css: .muted/.why/.delta/.late colours are fixed",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES) + list(OPTIONAL_PAGES))
def test_axe_no_serious_violations(tab, site, name, scheme):
    if name not in site["pages"]:
        pytest.skip(f"the build makes no {name} page yet")
    _open(tab, site, name, 1280, scheme)
    violations = _axe(tab)
    if violations and scheme == "dark" and name in KNOWN_DARK_CONTRAST \
            and {v["id"] for v in violations} == {"color-contrast"}:
        pytest.xfail(KNOWN_DARK_CONTRAST[name])
    assert violations == []


def test_axe_report_on_a_phone(tab, site):
    _open(tab, site, "report", 360)
    assert _axe(tab) == []


def _rect(tab, selector: str) -> dict:
    return tab.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                          "return {left: r.left, right: r.right, width: r.width}; }")


def test_requests_table_keeps_its_label_columns_on_a_phone(tab, site):
    _open(tab, site, "report", 360)
    scroller = "#s3 .table-scroll"
    box = _rect(tab, scroller)
    assert tab.eval_on_selector(scroller, "e => e.scrollWidth > e.clientWidth"), "the table should scroll"
    tab.eval_on_selector(scroller, "e => { e.scrollLeft = e.scrollWidth; }")
    group = _rect(tab, "#table-requests th.level0:not([colspan])")     # 三、本年度办理结果
    sub = _rect(tab, "#table-requests th.level1:not([colspan])")       # （三）不予公开
    leaf2 = _rect(tab, "#table-requests th.level2")                    # 1.属于国家秘密
    leaf0 = _rect(tab, "#table-requests tbody tr:first-child th")      # 一、本年新收…
    assert abs(group["left"] - box["left"]) <= 2
    assert abs(sub["left"] - group["right"]) <= 2
    assert abs(leaf2["left"] - sub["right"]) <= 2
    assert abs(leaf0["left"] - box["left"]) <= 2
    assert abs(leaf0["right"] - leaf2["right"]) <= 2, "every row should keep the same frozen band"
    assert leaf2["right"] < box["right"] - 80, "the frozen labels should leave room for figures"
    # a figure scrolled under the labels is hidden behind them, the last column is visible
    last = _rect(tab, "#table-requests tbody tr:first-child td:last-child")
    assert last["right"] <= box["right"] + 1 and last["left"] >= leaf0["right"] - 1
    # the proactive table's first column sticks too
    tab.eval_on_selector("#s2 .table-scroll", "e => { e.scrollLeft = e.scrollWidth; }")
    label = _rect(tab, "#table-proactive tbody th[scope=row]")
    assert abs(label["left"] - _rect(tab, "#s2 .table-scroll")["left"]) <= 2


def test_wide_screen_tables_fit(tab, site):
    _open(tab, site, "report", 1280)
    for selector in ("#s2 .table-scroll", "#s3 .table-scroll", "#s4 .table-scroll"):
        assert tab.eval_on_selector(selector, "e => e.scrollWidth <= e.clientWidth"), selector


def test_keyboard_focus_is_visible_and_skip_link_works(tab, site):
    _open(tab, site, "report", 1280)
    tab.keyboard.press("Tab")
    focused = tab.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return {cls: e.className, outline: s.outlineStyle, width: s.outlineWidth, top: r.top, left: r.left}; }""")
    assert focused["cls"] == "skip-link" and focused["outline"] != "none" and focused["left"] >= 0
    tab.keyboard.press("Enter")
    assert tab.evaluate("location.hash") == "#main"
    # a flagged figure can be reached by keyboard and shows its note
    tab.focus("td.flag")
    assert tab.eval_on_selector("td.flag .flag-note", "e => getComputedStyle(e).display") == "block"


def test_print_to_pdf_is_the_document_without_navigation(tab, site, tmp_path):
    pdfplumber = pytest.importorskip("pdfplumber")
    _open(tab, site, "report", 1280)
    tab.emulate_media(media="print")
    styles = tab.evaluate("""() => ({
        header: getComputedStyle(document.querySelector('.site-header')).display,
        thead: getComputedStyle(document.querySelector('#table-requests thead')).display,
        row: getComputedStyle(document.querySelector('#table-requests tbody tr')).breakInside,
        sticky: getComputedStyle(document.querySelector('#table-requests tbody th')).position })""")
    assert styles == {"header": "none", "thead": "table-header-group", "row": "avoid", "sticky": "static"}
    pdf = tmp_path / "report.pdf"
    tab.pdf(path=str(pdf), format="A4", print_background=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "report-print.pdf").write_bytes(pdf.read_bytes())
    with pdfplumber.open(str(pdf)) as doc:
        pages = [p.extract_text() or "" for p in doc.pages]
    text = re.sub(r"\s+", "", "".join(pages))
    assert SOURCE_URL in text
    assert "涼山鄉人民政府2022年政府信息公開工作年度報告" in text
    assert "跳到正文" not in text and "搜索报告" not in text and "首页" not in text
    assert len(pages) >= 2
    # the requests table's header row is printed again on the page it continues on
    header_pages = [i for i, p in enumerate(pages) if "申請人情況" in re.sub(r"\s+", "", p)]
    rows_pages = [i for i, p in enumerate(pages) if "結轉下年度繼續辦理" in re.sub(r"\s+", "", p)]
    assert rows_pages and rows_pages[0] in header_pages
