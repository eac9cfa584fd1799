"""Table pages, agency pages and coverage, built from a fixture archive and
checked on parsed HTML against the sources (tests/test_tables_site.py)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from site_gen import tables
from site_gen.coverage import deadline
from site_gen.errors import BuildFailed, SiteGenError
from site_gen.figures import FIGURES, TOTAL
from tests.helpers import build, soup
from tests.test_tables_site import SOURCES, make_archive, source_tables

AGENCIES_YAML = """
- name: 河西县人民政府
  level: county
  kind: government
  region: 甲省
- name: 某市财政局
  level: city
  kind: department
  region: 乙省
- name: 北山县人民政府
  level: county
  kind: government
  region: 甲省
- name: 凉山乡人民政府
  level: township
  kind: government
  region: 甲省
  since: 2022
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = make_archive(tmp_path_factory.mktemp("tables") / "site", {"agencies.yaml": AGENCIES_YAML})
    build(root)
    return root / "output"


def figure_table(page):
    table = page.find("table", id="figures")
    ids = [th.get("data-col") for th in table.find("thead").find_all("th")]
    rows = []
    for tr in table.find("tbody").find_all("tr"):
        cells = tr.find_all(["th", "td"])
        rows.append({**{i: c for i, c in zip(ids, cells)}, "tr": tr,
                     "agency": cells[0].find("a").get_text(strip=True)})
    return ids, rows


def stored(tables_: dict, table: str, fmt: str, figure) -> object:
    node = tables_[table]
    for key in figure.path_for(fmt):
        node = node[key]
    if figure.derived:
        if isinstance(node, list):
            return node[TOTAL]
        parts = [row[TOTAL] for row in node.values()]
        return None if None in parts else sum(parts)
    return node


def shown(cell) -> str:
    """The figure a cell shows (blank cells carry only hidden or reason text)."""
    return "" if "missing" in cell.get("class", []) else cell.get_text(strip=True)


@pytest.mark.parametrize("table", ["requests", "review_litigation", "proactive"])
def test_every_figure_equals_the_source(site, table):
    for path, meta, source in SOURCES:
        page = soup(site / "tables" / table / str(meta["year"]) / "index.html")
        _, rows = figure_table(page)
        row = next(r for r in rows if r["agency"] == meta["agency"])
        for figure in FIGURES[table]:
            cell = row[figure.id]
            if source is None:
                assert cell["data-missing"] == "absent" and "无此表" in cell.get_text()
                continue
            if figure.path_for(meta["format"]) is None:
                assert cell["data-missing"] == "format" and shown(cell) == ""
                continue
            value = stored(source, table, meta["format"], figure)
            expected = "" if value is None else str(value)
            assert shown(cell) == expected, (path, figure.id)
            assert cell["data-value"] == expected


def test_null_is_blank_never_zero(site):
    page = soup(site / "tables" / "requests" / "2022" / "index.html")
    _, rows = figure_table(page)
    hexi = next(r for r in rows if r["agency"] == "河西县人民政府")
    assert source_tables("2022/hexi-county.md")["requests"]["granted"][TOTAL] is None
    cell = hexi["granted"]
    assert cell["data-missing"] == "blank" and cell["data-value"] == ""
    assert cell.find(class_="visually-hidden").get_text() == "空白"
    assert "0" not in cell.get_text()
    assert hexi["grant_rate"].get_text(strip=True) == "—空白"


def test_cn_gov_2019_records_and_missing_fees(site):
    page = soup(site / "tables" / "proactive" / "2020" / "index.html")
    _, rows = figure_table(page)
    (hexi,) = rows
    assert hexi["admin_penalty"].get_text(strip=True) == "88"  # admin_penalty.decisions
    assert hexi["admin_license"].get_text(strip=True) == "310"
    assert hexi["admin_fees"]["data-missing"] == "format"
    assert hexi["admin_fees"].get_text(strip=True) == "格式无此项"


def test_rates_are_defined_and_undefined_with_reasons(site):
    page = soup(site / "tables" / "requests" / "2022" / "index.html")
    _, rows = figure_table(page)
    by = {r["agency"]: r for r in rows}
    assert by["某市财政局"]["grant_rate"].get_text(strip=True) == "84.2%"  # (60 + 20) / 95
    assert by["某市财政局"]["grant_rate"]["data-value"] == "0.842105"
    assert by["涼山鄉人民政府"]["grant_rate"].get_text(strip=True) == "—分母为 0"
    assert by["东坡区政务服务中心"]["grant_rate"].get_text(strip=True) == "—无此表"
    definitions = {dt["id"]: dt.find_next("dd").get_text() for dt in page.select(".definitions dt")}
    assert "办理结果总计" in definitions["def-grant_rate"]
    review = soup(site / "tables" / "review_litigation" / "2022" / "index.html")
    _, rows = figure_table(review)
    hexi = next(r for r in rows if r["agency"] == "河西县人民政府")
    assert hexi["review_correction_rate"].get_text(strip=True) == "50.0%"  # 2 / (5 - 1)


def test_default_order_is_by_agency_without_javascript(site):
    page = soup(site / "tables" / "requests" / "2022" / "index.html")
    _, rows = figure_table(page)
    agencies = [r["agency"] for r in rows]
    assert agencies == sorted(agencies)
    assert len(agencies) == 4
    assert page.find("th", attrs={"data-col": "agency"})["aria-sort"] == "ascending"
    assert page.find("form", attrs={"data-table-filters": True}).has_attr("hidden")
    assert page.find("noscript")


def test_sort_links_and_filters(site):
    site = site.resolve()
    page = soup(site / "tables" / "requests" / "2022" / "index.html")
    heads = page.find("table", id="figures").find("thead").find_all("th")
    assert len(heads) == 4 + len(FIGURES["requests"]) + 1
    for th in heads:
        link = th.find("a", class_="sort-link")
        query = parse_qs(urlsplit(link["href"]).query)
        assert query["sort"] == [th["data-col"]] and query["order"][0] in ("asc", "desc")
    selects = {s["name"]: [o["value"] for o in s.find_all("option")] for s in page.select("form select")}
    assert selects == {"level": ["", "city", "county", "township"], "kind": ["", "government", "department"],
                       "region": ["", "乙省", "甲省"]}
    rows = page.find("table", id="figures").find("tbody").find_all("tr")
    assert {(r["data-level"], r["data-kind"], r["data-region"]) for r in rows} == {
        ("county", "department", ""), ("city", "department", "乙省"), ("county", "government", "甲省"),
        ("township", "government", "甲省")}
    years = [a.get_text() for a in page.select(".year-nav a")]
    assert years == ["2020年", "2021年", "2022年"]
    folder = site / "tables" / "requests" / "2022"
    downloads = [(folder / a["href"]).resolve() for a in page.select(".downloads a")]
    assert downloads[:2] == [folder / "data.csv", folder / "data.json"]
    assert all(p.exists() for p in downloads[:2])
    assert page.find("script", src="../../../static/tables.js")


def test_totals_per_level_and_region_count_blanks(site):
    page = soup(site / "tables" / "requests" / "2022" / "index.html")
    ids = [f.id for f in FIGURES["requests"]]
    table = page.find("table", id="totals-level")
    county = table.find("tr", attrs={"data-key": "county"})
    cells = dict(zip(ids, county.find_all("td")[1:]))
    # 河西县 (20) plus 东坡区 (no table): one report blank
    assert cells["new_received"].contents[0].strip() == "20" and cells["new_received"]["data-blank"] == "1"
    assert cells["granted"].contents[0].name == "span" and cells["granted"]["data-blank"] == "2"
    region = page.find("table", id="totals-region").find("tr", attrs={"data-key": "甲省"})
    cells = dict(zip(ids, region.find_all("td")[1:]))
    assert cells["new_received"].get_text(strip=True) == "20"  # 20 + 0
    assert cells["carried_forward"].get_text(strip=True) == "4"


def test_agency_page_years_changes_and_continuity(site):
    page = soup(site / "agencies" / "hexi-county" / "index.html")
    rows = page.find("table", id="agency-requests").find("tbody").find_all("tr")
    assert [r["data-year"] for r in rows] == ["2020", "2021", "2022"]
    ids = [f.id for f in FIGURES["requests"]]
    cells = {r["data-year"]: dict(zip(ids, r.find_all("td"))) for r in rows}
    assert cells["2021"]["new_received"].find(string=True).strip() == "12"
    assert cells["2021"]["new_received"].find(class_="delta").get_text(strip=True).endswith("+4")  # 12 - 8
    assert cells["2022"]["new_received"].find(class_="delta").get_text(strip=True).endswith("+8")
    assert cells["2022"]["granted"].find(class_="delta") is None  # blank: no change shown
    continuity = {r["data-year"]: r["data-status"] for r in page.select(".continuity-table tbody tr")}
    assert continuity == {"2020": "none", "2021": "pass", "2022": "pass"}
    finance = soup(site / "agencies" / "city-finance" / "index.html")
    rows = {r["data-year"]: r for r in finance.select(".continuity-table tbody tr")}
    assert rows["2022"]["data-status"] == "fail"
    assert "≠" in rows["2022"].get_text()


def test_report_pages_link_agency_pages_and_index(site):
    index = soup(site / "agencies" / "index.html")
    links = {a.get_text(): a["href"] for a in index.select("tbody th a")}
    assert links["涼山鄉人民政府"] == "../agencies/liangshan-xiang/"
    assert len(links) == 4
    tables_index = soup(site / "tables" / "index.html")
    assert tables_index.find("a", href="../tables/requests/2022/")


def test_pagination(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "PAGE_SIZE", 3)
    root = make_archive(tmp_path / "site")
    build(root, jobs=1)
    first = soup(root / "output" / "tables" / "requests" / "2022" / "index.html")
    second = soup(root / "output" / "tables" / "requests" / "2022" / "2" / "index.html")
    _, rows1 = figure_table(first)
    _, rows2 = figure_table(second)
    assert len(rows1) == 3 and len(rows2) == 1
    assert [r["agency"] for r in rows1 + rows2] == sorted(r["agency"] for r in rows1 + rows2)
    assert [a.get_text() for a in first.select(".pagination a")] == ["第 1 页", "第 2 页"]
    assert not (root / "output" / "tables" / "requests" / "2021" / "2").exists()


# --- coverage and timeliness -------------------------------------------------------------

def test_coverage_lists_missing_agencies(site):
    page = soup(site / "coverage" / "2022" / "index.html")
    assert page.select_one(".coverage-count").get_text() == "应发布 4 家，已收录 3 家"
    assert [li["data-agency"] for li in page.select(".coverage-missing li")] == ["北山县人民政府"]
    page = soup(site / "coverage" / "2021" / "index.html")
    # 凉山乡 is expected only from 2022 (since:); its Traditional name matches too
    assert [li["data-agency"] for li in page.select(".coverage-missing li")] == ["北山县人民政府"]
    assert page.select_one(".coverage-count").get_text() == "应发布 3 家，已收录 2 家"


def test_lateness_is_flagged_in_words(site):
    page = soup(site / "coverage" / "2021" / "index.html")
    rows = {r.find("th").get_text(strip=True): r for r in page.select(".timeliness-table tbody tr")}
    late = rows["河西县人民政府"]  # a government: due 2022-03-31, published 2022-04-02
    assert late["data-status"] == "late"
    assert "逾期" in late.get_text() and "2 天" in late.get_text()
    assert rows["某市财政局"]["data-status"] == "on_time"  # a department: due 2022-01-31
    page = soup(site / "coverage" / "2022" / "index.html")
    rows = {r.find("th").get_text(strip=True): r for r in page.select(".timeliness-table tbody tr")}
    assert rows["河西县人民政府"]["data-status"] == "on_time"  # published on the deadline day
    assert rows["某市财政局"]["data-status"] == "late"  # 2023-02-15 > 2023-01-31
    assert rows["涼山鄉人民政府"]["data-status"] == "no_deadline"
    assert "无法定期限" in rows["涼山鄉人民政府"].get_text()


@pytest.mark.parametrize("year, level, kind, due", [
    (2022, "county", "department", "2023-01-31"),
    (2022, "province", "government", "2023-03-31"),
    (2022, "township", "government", None),
    (2018, "city", "department", "2019-03-31"),
    (2022, "city", None, None),
])
def test_deadlines(year, level, kind, due):
    result = deadline(year, level, kind)
    assert (result.isoformat() if result else None) == due


def test_without_agencies_file_coverage_says_so(tmp_path):
    root = make_archive(tmp_path / "site")
    build(root)
    page = soup(root / "output" / "coverage" / "2022" / "index.html")
    assert page.select_one(".coverage-no-file")
    assert page.select(".timeliness-table tbody tr")


@pytest.mark.parametrize("text, expected", [
    ("- name: 甲\n  level: county\n- name: 乙\n  level: countyy\n",
     ["agencies.yaml:4:10: `level` must be one of national, province, city, county, township, not 'countyy'"]),
    ("- name: 甲\n  regoin: 甲省\n  kind: govt\n",
     ["agencies.yaml:2:3: unknown field `regoin`", "agencies.yaml:3:9: `kind` must be one of government, department, not 'govt'"]),
    ("- level: city\n", ["agencies.yaml:1:3: an agency needs a `name` (text)"]),
    ("- name: 甲\n- name: 甲\n", ["agencies.yaml:2:9: agency `甲` is listed twice (first on line 1)"]),
    ("name: 甲\n", ["agencies.yaml:1:1: the agencies file must be a list of agencies"]),
    ("- name: 甲\n  since: soon\n", ["agencies.yaml:2:10: `since` must be a reporting year such as 2019, not 'soon'"]),
    ("- name: [甲\n", None),
])
def test_agencies_file_errors_are_located(tmp_path, text, expected):
    root = make_archive(tmp_path / "site", {"agencies.yaml": text})
    with pytest.raises((BuildFailed, SiteGenError)) as info:
        build(root)
    errors = info.value.errors if isinstance(info.value, BuildFailed) else [info.value]
    located = [f"{e.location()}: {e.message}" for e in errors]
    if expected is None:
        assert located[0].startswith("agencies.yaml:2:1: invalid YAML")
    else:
        assert located == expected
    assert not (root / "output").exists()


def test_agencies_file_change_rebuilds_coverage_pages(tmp_path):
    root = make_archive(tmp_path / "site", {"agencies.yaml": "- name: 某市财政局\n"})
    build(root)
    (root / "agencies.yaml").write_text("- name: 某市财政局\n- name: 北山县人民政府\n", encoding="utf-8")
    result = build(root)
    assert {"coverage/2020/index.html", "coverage/2021/index.html", "coverage/2022/index.html"} <= set(result.written)
    assert not any(p.startswith("tables/") for p in result.written)
    page = soup(root / "output" / "coverage" / "2022" / "index.html")
    assert [li["data-agency"] for li in page.select(".coverage-missing li")] == ["北山县人民政府"]


def test_editing_a_report_remakes_only_its_year_and_agency(tmp_path):
    root = make_archive(tmp_path / "site")
    build(root)
    source = root / "content" / "2021" / "city-finance.md"
    text = source.read_text(encoding="utf-8")
    assert "region: 乙省" in text and "published: '2022-01-30'" in text and "title: 某市财政局2021年" in text
    # The table pages show the region, the agency page the title, the
    # coverage page the date (a page that shows none of them is kept as it was).
    text = text.replace("region: 乙省", "region: 丙省").replace("title: 某市财政局2021年", "title: 某市财政局二〇二一年")
    source.write_text(text.replace("published: '2022-01-30'", "published: '2022-01-29'"), encoding="utf-8")
    written = set(build(root).written)
    assert "tables/requests/2021/index.html" in written and "agencies/city-finance/index.html" in written
    assert "tables/requests/2022/index.html" not in written and "agencies/hexi-county/index.html" not in written
    assert "coverage/2021/index.html" in written and "coverage/2022/index.html" not in written


def test_message_catalogs_cover_every_key_used():
    import re

    import yaml

    repo = Path(__file__).resolve().parent.parent
    used = set()
    for name in ("table.html", "agency.html", "agencies.html", "tables_index.html", "coverage.html",
                 "_tables_macros.html"):
        used |= set(re.findall(r"t\('((?:tables|coverage)\.[a-z_.]+)'", (repo / "themes/default/templates" / name)
                               .read_text(encoding="utf-8")))
    for module in ("tables.py", "coverage.py", "export.py"):
        used |= {k for k in re.findall(r"t\(f?\"((?:tables|coverage)\.[a-z_.]+)\"", (repo / "site_gen" / module)
                                       .read_text(encoding="utf-8"))}
    used = {k for k in used if not k.endswith(".")}  # prefixes of the dynamic keys below
    dynamic = {f"tables.fig.{f.id}" for fs in FIGURES.values() for f in fs}
    dynamic |= {f"tables.rate.{r.id}" for rs in tables.RATES.values() for r in rs}
    dynamic |= {f"tables.def.{r.id}" for rs in tables.RATES.values() for r in rs}
    dynamic |= {f"tables.def.{c['id']}" for table in tables.TABLES for c in tables.columns(table, lambda k: k)
                if c["definition"]}
    dynamic |= {f"tables.missing.{m}" for m in ("blank", "absent", "format", "zero", "negative")}
    dynamic |= {f"tables.table.{k}" for k in tables.TABLES}
    dynamic |= {f"coverage.status.{s}" for s in ("on_time", "late", "no_deadline", "unknown_kind", "no_date")}
    for lang in ("zh-Hans", "zh-Hant", "en"):
        catalog = yaml.safe_load((repo / "site_gen/messages" / lang / "tables.yaml").read_text(encoding="utf-8"))
        assert not (used | dynamic) - set(catalog), lang
        assert set(catalog) == set(yaml.safe_load((repo / "site_gen/messages/zh-Hans/tables.yaml")
                                                  .read_text(encoding="utf-8")))


def test_large_years_list_only_flagged_timeliness(tmp_path, monkeypatch):
    from site_gen import coverage
    monkeypatch.setattr(coverage, "LIST_ALL_UP_TO", 2)
    root = make_archive(tmp_path / "site")
    build(root, jobs=1)
    page = soup(root / "output" / "coverage" / "2022" / "index.html")
    statuses = [r["data-status"] for r in page.select(".timeliness-table tbody tr")]
    assert statuses == ["late"]  # 某市财政局; the on-time and township reports are only counted
    assert "只列出" in page.select_one(".coverage-summary").get_text()
    assert page.select_one(".coverage-summary").get_text().startswith("按期 2 份，逾期 1 份")


# The figure_cell macro as it was written in Jinja, before figure_cells printed the
# cells in Python: the two must print the same bytes.
FIGURE_CELL_MACRO = """{% macro figure_cell(c, t) -%}
<td class="num{% if c.missing %} missing missing--{{ c.missing }}{% endif %}" data-value="{{ c.sort }}"
  {%- if c.missing %} data-missing="{{ c.missing }}"{% endif %}>
{%- if c.missing == 'blank' %}{% if c.text == '—' %}—<span class="why">{{ c.why }}</span>{% else %}<span class="visually-hidden">{{ c.why }}</span>{% endif %}
{%- elif c.missing %}{% if c.text == '—' %}—{% endif %}<span class="why">{{ c.why }}</span>
{%- else %}{{ c.text }}{% endif %}
{%- if c.delta is defined and c.delta %}<span class="delta" title="{{ t('tables.delta') }}"><span class="visually-hidden">{{ t('tables.delta') }} </span>{{ c.delta }}</span>{% endif -%}
</td>
{%- endmacro %}{% for c in cells %}{{ figure_cell(c, t) }}{% endfor %}"""


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_figure_cells_print_what_the_macro_printed(tmp_path, language):
    from markupsafe import Markup

    from site_gen.config import Config
    from site_gen.figures import RateValue, Value
    from site_gen.render import Renderer, default_theme_dir

    renderer = Renderer(Config(root=tmp_path, language=language), [default_theme_dir()], {})
    t = renderer.t
    cells = [tables.value_cell(Value(12), t), tables.value_cell(Value(0.1), t),
             tables.value_cell(Value(None, "blank"), t), tables.value_cell(Value(None, "absent"), t),
             tables.value_cell(Value(None, "format"), t),
             tables.rate_cell(RateValue(None, missing="zero"), t), tables.rate_cell(RateValue(None, missing="blank"), t),
             {"text": "—", "sort": "", "missing": "negative", "why": "<b>&'\""},
             {"text": "<i>", "sort": "\"x\"", "missing": None, "why": "", "delta": "+3"},
             {"text": "5", "sort": "5", "missing": None, "why": "", "delta": ""},
             {"text": "5", "sort": "5", "missing": "<x>", "why": "w", "delta": "<d>"},
             {"text": "—", "sort": "", "missing": "blank", "why": "空", "delta": "±0"},
             {"text": "—", "sort": "", "missing": "", "why": "", "delta": None},
             {"text": 7, "sort": 7.5, "missing": None, "why": None},
             {"text": "<b>", "sort": "<b>", "missing": None, "why": ""},
             {"text": Markup("<b>"), "sort": "<b>", "missing": None, "why": ""},
             {"text": "<b>", "sort": "<b>", "missing": None, "why": ""}]
    macro = renderer.env.from_string(FIGURE_CELL_MACRO)
    for cell in cells + cells:  # the second time from memory
        expected = macro.render(cells=[cell], t=t)
        assert str(renderer.figure_cells([cell])) == expected, cell
    assert str(renderer.figure_cells(cells)) == macro.render(cells=cells, t=t)
    assert renderer.env.from_string(
        '{% from "_tables_macros.html" import figure_cell %}{{ figure_cell(c, t) }}').render(c=cells[-1], t=t) \
        == macro.render(cells=cells[-1:], t=t)


def _reference_subtotal(node):
    """figures._subtotal as first written: a Value per part, summed level by level."""
    from site_gen.figures import BLANK, Value, _number, exact_sum
    if isinstance(node, list):
        value = node[TOTAL] if len(node) > TOTAL else None
        return Value(value) if _number(value) else Value(None, BLANK)
    if not isinstance(node, dict) or not node:
        return Value(None, BLANK)
    parts = [_reference_subtotal(child) for child in node.values()]
    if any(p.value is None for p in parts):
        return Value(None, BLANK)
    return Value(exact_sum([p.value for p in parts]))


def test_subtotals_and_sums_as_first_written():
    import random
    from decimal import Decimal

    from site_gen.figures import _subtotal, exact_sum

    def reference_sum(values):
        if all(isinstance(v, int) for v in values):
            return sum(values)
        total = sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in values), Decimal(0))
        return int(total) if total == total.to_integral() else float(total)

    rng = random.Random(5)
    leaves = [0, 3, -2, 0.1, 0.2, 2.675, 1e-7, None, True, "7", 12345678901234567890]

    def node(depth):
        kind = rng.random()
        if depth > 2 or kind < 0.45:
            return [rng.choice(leaves) for _ in range(rng.choice([7, 7, 7, 3]))]
        if kind < 0.5:
            return rng.choice([None, {}, 5, "x"])
        return {f"k{i}": node(depth + 1) for i in range(rng.randint(1, 4))}

    for _ in range(3000):
        tree = node(0)
        got, expected = _subtotal(tree), _reference_subtotal(tree)
        assert (got, type(got.value)) == (expected, type(expected.value)), tree
        values = [rng.choice([v for v in leaves if isinstance(v, (int, float))]) for _ in range(rng.randint(0, 5))]
        assert (exact_sum(values), type(exact_sum(values))) == (reference_sum(values), type(reference_sum(values)))
