"""Static SVG charts: coordinates follow from the values; accessible names."""
from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from site_gen import charts
from site_gen.charts import PLOT_H, TOP, Point, bin_values, distribution_chart, nice_max, trend_chart
from tests.helpers import build, soup
from tests.test_tables_site import make_archive


@pytest.mark.parametrize("value, expected", [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (20, 20), (21, 25),
                                             (88, 100), (101, 200), (0.4, 0.5)])
def test_nice_max(value, expected):
    assert nice_max(value) == expected


def test_bins_count_every_value_once():
    bins = bin_values([0, 0, 1, 4, 5, 99, 100, 1000, 25_000, 2.5, -1])
    counts = {b.label(): b.count for b in bins}
    assert counts == {"<0": 1, "0": 2, "1–4": 3, "5–9": 1, "10–19": 0, "20–49": 0, "50–99": 1,
                      "100–499": 1, "500–999": 0, "≥1000": 2}
    assert "<0" not in {b.label() for b in bin_values([3])}


def svg_of(markup) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html.parser").find("svg")


def test_trend_points_follow_values_and_blank_years_break_the_line():
    svg = svg_of(trend_chart("c", "标题", [Point(2019, 8), Point(2020, None), Point(2021, 12), Point(2022, 20)],
                             x_label="年度", y_label="新收申请", blank_label="空白"))
    assert svg["role"] == "img" and svg["aria-labelledby"] == "c-title c-desc"
    assert svg.find("title").get_text() == "标题"
    assert svg.find("desc").get_text() == "2019：8；2020：空白；2021：12；2022：20"
    points = svg.find_all("circle", class_="point")
    assert [(p["data-year"], p["data-value"]) for p in points] == [("2019", "8"), ("2021", "12"), ("2022", "20")]
    y_max = 20
    for p in points:
        assert float(p["cy"]) == pytest.approx(TOP + PLOT_H * (1 - int(p["data-value"]) / y_max))
    xs = [float(p["cx"]) for p in points]
    assert xs == sorted(xs) and (xs[2] - xs[1]) == pytest.approx((xs[1] - xs[0]) / 2, abs=0.01)
    assert len(svg.find_all("polyline")) == 1  # 2019 stands alone; 2021-2022 joined
    assert svg.find("text", attrs={"data-year": "2020"}).get_text() == "空白"
    labels = [t.get_text() for t in svg.find_all("text", class_="axis-label")]
    assert labels == ["年度", "新收申请"]


def test_distribution_bars_follow_counts():
    bins = bin_values([0, 0, 0, 3, 120])
    svg = svg_of(distribution_chart("d", "分布", bins, x_label="新收申请", y_label="报告份数", blank_note="另有 1 份空白"))
    bars = svg.find_all("rect", class_="bar")
    assert [(b["data-bin"], b["data-count"]) for b in bars][:3] == [("0", "3"), ("1–4", "1"), ("5–9", "0")]
    y_max = 5  # whole-number ticks for counts
    for bar in bars:
        assert float(bar["height"]) == pytest.approx(PLOT_H * int(bar["data-count"]) / y_max, abs=0.01)
        assert float(bar["y"]) + float(bar["height"]) == pytest.approx(TOP + PLOT_H)
    assert svg.find("desc").get_text().endswith("另有 1 份空白")
    ticks = [t.get_text() for t in svg.find_all("text", class_="tick")][:6]
    assert ticks == ["0", "1", "2", "3", "4", "5"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = make_archive(tmp_path_factory.mktemp("charts") / "site")
    build(root)
    return root / "output"


def test_agency_trend_matches_its_table(out):
    page = soup(out / "agencies" / "hexi-county" / "index.html")
    figure = page.find("figure", id="trend-figure-requests")
    svg = figure.find("svg")
    points = {p["data-year"]: p["data-value"] for p in svg.find_all("circle")}
    table = page.find("table", id="agency-requests")
    column = [th["data-col"] for th in table.find("thead").find_all("th")[1:]].index("new_received")
    shown = {tr["data-year"]: tr.find_all("td")[column].find(string=True).strip() for tr in table.tbody.find_all("tr")}
    assert points == shown == {"2020": "8", "2021": "12", "2022": "20"}
    alt = {tr.th.get_text(): tr.td.get_text() for tr in figure.select(".chart-table tbody tr")}
    assert alt == shown
    assert figure.find("figcaption").get_text() == "河西县人民政府历年“新收申请”"


def test_year_distribution_counts_reports(out):
    page = soup(out / "tables" / "requests" / "2022" / "index.html")
    svg = page.find("figure", id="distribution").find("svg")
    counts = {b["data-bin"]: int(b["data-count"]) for b in svg.find_all("rect")}
    # 0 (涼山鄉), 20 (河西县), 100 (某市财政局); 东坡区 has no table
    assert counts["0"] == 1 and counts["20–49"] == 1 and counts["100–499"] == 1 and sum(counts.values()) == 3
    assert "另有 1 份报告此项空白" in svg.find("desc").get_text()


def test_svg_is_well_formed_xml(out):
    import xml.etree.ElementTree as ET
    page = soup(out / "tables" / "requests" / "2022" / "index.html")
    ET.fromstring(str(page.find("svg")))
    assert charts.FONT.startswith("'Noto Sans CJK SC'")
