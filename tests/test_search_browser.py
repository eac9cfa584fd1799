"""The search page in a real Chromium: over loopback HTTP and from file://."""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from site_gen.build import build_site

SITE = Path(__file__).parent / "fixtures" / "search" / "site"

LIANGSHAN, HEXI22, HEXI21 = "2022/liangshan-xiang/", "2022/hexi-county/", "2021/hexi-county/"
FINANCE, DONGPO, PROVINCE, XISHAN = ("2023/city-finance/", "2020/dongpo-town/",
                                     "2019/province-office/", "2023/xishan-xiang/")

QUERIES = [
    ("q=领导", {LIANGSHAN, HEXI22}),                       # simplified finds traditional
    ("q=行政處罰", {LIANGSHAN, HEXI22}),                    # traditional finds simplified
    ("q=河西县人民政府", {HEXI22, HEXI21}),                  # an agency name
    ("q=依申请公开", {HEXI22, HEXI21, DONGPO, XISHAN}),      # phrase; a decoy has its bigrams
    ("q=预算 公开", {FINANCE, DONGPO, PROVINCE, XISHAN}),    # two words, anywhere
    ("q=2021", {HEXI21}),                                  # a number
    ("q=GB18030", {HEXI22}),                               # Latin word, full-width in the text
    ("q=公开&year=2022", {LIANGSHAN, HEXI22}),              # query and filter
    ("year=2023", {FINANCE, XISHAN}),                      # a filter alone
    ("level=township", {LIANGSHAN, DONGPO, XISHAN}),
    ("failing=1", {HEXI21, FINANCE}),
    ("q=火星基地", set()),                                  # nothing
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The fixture archive built twice: for a server and portable for file://."""
    root = tmp_path_factory.mktemp("search-site")
    build_site(SITE, root / "http", cache_dir=root / "cache-http")
    build_site(SITE, root / "file", portable=True, cache_dir=root / "cache-file")
    return root


@pytest.fixture(scope="session")
def server(built):
    handler = functools.partial(_Quiet, directory=str(built / "http"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=["http", "file"])
def search_url(request, built):
    if request.param == "http":
        return request.getfixturevalue("server") + "search/"
    return (built / "file" / "search" / "index.html").as_uri()


def encode(params: str) -> str:
    return quote(params, safe="=&")


def wait_done(page):
    page.wait_for_selector("#search-app[data-state=done]", timeout=10_000)


def found(page) -> set[str]:
    """Report paths of the listed results, read from their links."""
    hrefs = page.eval_on_selector_all(".search-result h3 a", "els => els.map(a => a.getAttribute('href'))")
    out = set()
    for href in hrefs:
        assert href.startswith("../"), href
        out.add(href[3:].removesuffix("index.html"))
    return out


@pytest.mark.parametrize("params, expected", QUERIES, ids=[q for q, _ in QUERIES])
def test_query_table(page, search_url, params, expected):
    page.goto(f"{search_url}?{encode(params)}")
    wait_done(page)
    assert found(page) == expected
    status = page.text_content("#search-status")
    if expected:
        assert str(len(expected)) in status
    else:
        assert "没有" in status


def test_portable_links_end_in_index_html(page, built):
    page.goto((built / "file" / "search" / "index.html").as_uri() + "?q=" + quote("领导"))
    wait_done(page)
    hrefs = page.eval_on_selector_all(".search-result h3 a", "els => els.map(a => a.href)")
    assert hrefs and all(h.startswith("file://") and h.endswith("/index.html") for h in hrefs)
    page.click(".search-result h3 a")
    assert page.locator("h1").first.text_content()


def test_excerpt_shows_original_text_highlighted(page, server):
    page.goto(server + "search/?q=" + quote("领导"))
    wait_done(page)
    item = page.locator(".search-result", has=page.locator(f'a[href="../{LIANGSHAN}"]'))
    assert item.get_attribute("lang") == "zh-Hant"
    marks = item.locator(".search-excerpt mark").all_text_contents()
    assert marks and set(marks) == {"領導"}


def test_facet_counts(page, server):
    page.goto(server + "search/?q=" + quote("公开"))
    wait_done(page)
    options = page.eval_on_selector_all("select[name=year] option", "els => els.map(o => o.textContent)")
    assert options[0] == "全部"
    assert "2022 年度 (2)" in options and "2023 年度 (2)" in options


def test_url_state_and_back_button(page, search_url):
    page.goto(search_url)
    wait_done(page)
    assert len(found(page)) == 7
    page.fill("#search-q", "领导")
    page.press("#search-q", "Enter")
    page.wait_for_url("**?q=*")
    wait_done(page)
    assert found(page) == {LIANGSHAN, HEXI22}
    page.select_option("select[name=level]", "county")
    page.wait_for_url("**level=county*")
    wait_done(page)
    assert found(page) == {HEXI22}
    page.go_back()
    page.wait_for_url("**?q=*")
    wait_done(page)
    assert "level=" not in page.url
    assert page.input_value("#search-q") == "领导"
    assert page.input_value("select[name=level]") == ""
    assert found(page) == {LIANGSHAN, HEXI22}
    page.go_back()
    wait_done(page)
    assert page.input_value("#search-q") == "" and len(found(page)) == 7


def test_header_form_leads_to_results(page, search_url):
    home = search_url.replace("search/index.html", "index.html").removesuffix("search/")
    page.goto(home)
    page.fill("#site-search-q", "行政處罰")
    page.press("#site-search-q", "Enter")
    wait_done(page)
    assert found(page) == {LIANGSHAN, HEXI22}


def test_status_is_a_live_region_and_input_is_labelled(page, server):
    page.goto(server + "search/")
    wait_done(page)
    assert page.get_attribute("#search-status", "role") == "status"
    assert page.locator("label[for=search-q]").count() == 1
    assert page.get_by_label("搜索关键词").count() == 1


def test_query_downloads_little(page, server):
    page.goto(server + "search/?q=" + quote("预算 公开"))
    wait_done(page)
    loaded = page.evaluate("window.__siteGenSearchLoaded")
    assert "facets" in loaded and "fold" in loaded
    assert not any(k.startswith("d/") for k in loaded if k not in
                   {f"d/0/{n}" for n in range(7)})


def test_sort_by_publication_date(page, server):
    page.goto(server + "search/?sort=date")
    wait_done(page)
    hrefs = page.eval_on_selector_all(".search-result h3 a", "els => els.map(a => a.getAttribute('href'))")
    assert [h[3:] for h in hrefs] == [XISHAN, FINANCE, HEXI22, LIANGSHAN, HEXI21, DONGPO, PROVINCE]


def test_relevance_puts_title_matches_first(page, server):
    page.goto(server + "search/?q=" + quote("河西"))
    wait_done(page)
    assert found(page) == {HEXI22, HEXI21}


def test_client_never_parses_data_as_html():
    source = (Path(__file__).parent.parent / "themes/default/static/search.js").read_text(encoding="utf-8")
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "fetch(" not in source and "XMLHttpRequest" not in source
