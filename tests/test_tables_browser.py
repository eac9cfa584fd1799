"""tables.js in a real Chromium: sorting and filtering update the rows and the URL."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import build
from tests.test_tables_site import make_archive


@pytest.fixture(scope="module")
def table_url(tmp_path_factory) -> str:
    root = make_archive(tmp_path_factory.mktemp("browser") / "site")
    build(root)
    return (root / "output" / "tables" / "requests" / "2022" / "index.html").as_uri()


def agencies(page) -> list[str]:
    return page.eval_on_selector_all(
        "#figures tbody tr:not([hidden]) th[scope=row] > a:first-child", "els => els.map(e => e.textContent)")


def state(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_sort_and_filter_update_rows_and_url(page, table_url):
    page.goto(table_url)
    assert agencies(page) == ["东坡区政务服务中心", "某市财政局", "河西县人民政府", "涼山鄉人民政府"]
    assert page.is_visible("form[data-table-filters]")

    page.click("th[data-col=new_received] a.sort-link")
    assert state(page) == {"sort": ["new_received"], "order": ["desc"]}
    assert agencies(page) == ["某市财政局", "河西县人民政府", "涼山鄉人民政府", "东坡区政务服务中心"]
    assert page.get_attribute("th[data-col=new_received]", "aria-sort") == "descending"
    assert page.get_attribute("th[data-col=agency]", "aria-sort") is None

    page.click("th[data-col=new_received] a.sort-link")
    assert state(page)["order"] == ["asc"]
    # blank (no table) stays last in both directions
    assert agencies(page) == ["涼山鄉人民政府", "河西县人民政府", "某市财政局", "东坡区政务服务中心"]

    page.select_option("select[name=level]", "county")
    assert state(page) == {"sort": ["new_received"], "order": ["asc"], "level": ["county"]}
    assert agencies(page) == ["河西县人民政府", "东坡区政务服务中心"]
    assert page.text_content(".filter-status") == "显示 2 / 4 行"
    year_link = page.get_attribute(".year-nav a >> nth=0", "href")
    assert parse_qs(urlsplit(year_link).query)["level"] == ["county"]

    page.click("button[data-filter-reset]")
    assert "level" not in state(page)
    assert len(agencies(page)) == 4


def test_state_in_url_is_restored(page, table_url):
    page.goto(table_url + "?sort=grant_rate&order=desc&region=%E7%94%B2%E7%9C%81")
    assert agencies(page) == ["河西县人民政府", "涼山鄉人民政府"]  # both rates undefined: server order
    assert page.input_value("select[name=region]") == "甲省"
    page.goto(table_url + "?sort=agency&order=desc")
    # by pinyin (dōng, hé, liáng, mǒu), descending
    assert agencies(page) == ["某市财政局", "涼山鄉人民政府", "河西县人民政府", "东坡区政务服务中心"]
