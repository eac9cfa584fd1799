"""End-to-end builds of small sites, asserted on parsed output."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml

from site_gen.errors import BuildFailed
from tests.helpers import (SEED_SOURCE, SEED_TEXT, build, internal_links, seed_numbers_in_order, snapshot,
                           soup)

SITE_YAML = "title: 测试档案\nbase_url: https://example.org/archive/\n"


def seed_variant(agency: str, year: int, **replace: str) -> str:
    text = SEED_SOURCE.read_text(encoding="utf-8")
    text = text.replace("agency: 涼山鄉人民政府", f"agency: {agency}").replace("year: 2022", f"year: {year}")
    text = text.replace("title: 涼山鄉人民政府2022年政府信息公開工作年度報告", f"title: {agency}{year}年报告")
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


@pytest.fixture
def seed_site(make_site):
    return make_site({"site.yaml": SITE_YAML}, with_seed=True)


def value_cells(page, table_key):
    table = page.find("table", id=f"table-{table_key}")
    return [td for td in table.find_all("td") if td.get("data-key")]


def test_seed_every_figure_equals_the_original(seed_site):
    build(seed_site)
    page = soup(seed_site / "output" / "2022" / "liangshan-xiang" / "index.html")
    shown = [td.get_text(strip=True) for key in ("proactive", "requests", "review_litigation")
             for td in value_cells(page, key)]
    assert len(shown) == 200
    if SEED_TEXT.exists():  # the original as given to us, figure by figure in print order
        assert shown == seed_numbers_in_order()


def test_seed_cells_match_source_keys(seed_site):
    build(seed_site)
    meta = yaml.safe_load(SEED_SOURCE.read_text(encoding="utf-8").split("---\n")[1])
    page = soup(seed_site / "output" / "2022" / "liangshan-xiang" / "index.html")
    checked = 0
    for key in ("proactive", "requests", "review_litigation"):
        for td in value_cells(page, key):
            node = meta["tables"]
            for part in td["data-key"].split("."):
                node = node[int(part)] if isinstance(node, list) else node[part]
            assert td.get_text(strip=True) == str(node), td["data-key"]
            checked += 1
    assert checked == 200


def test_seed_prose_is_complete_without_debris(seed_site):
    build(seed_site)
    text = soup(seed_site / "output" / "2022" / "liangshan-xiang" / "index.html").get_text()
    assert "(lǐng)" not in text and "lǐng" not in SEED_SOURCE.read_text(encoding="utf-8")
    if SEED_TEXT.exists():
        import re
        debris = re.compile(r"(?<=[\u3400-\u9fff])(?:\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\))+")
        for line in SEED_TEXT.read_text(encoding="utf-8").splitlines():
            if line and not line.endswith(" |"):
                assert debris.sub("", line) in text, line


def test_merged_header_structure(seed_site):
    build(seed_site)
    page = soup(seed_site / "output" / "2022" / "liangshan-xiang" / "index.html")
    requests = page.find("table", id="table-requests")
    head = requests.find("thead").find_all("tr")
    note = head[0].find("th")
    assert note.get("rowspan") == "3" and note.get("colspan") == "3"
    assert "勾稽關係" in note.get_text()  # the report's own (Traditional) script
    assert head[0].find_all("th")[1]["colspan"] == "7"
    org = [th for th in head[1].find_all("th") if "法人或其他組織" in th.get_text()][0]
    assert org["colspan"] == "5"
    assert len(head[2].find_all("th")) == 5
    body = requests.find("tbody").find_all("tr")
    assert len(body) == 25
    result_group = body[2].find("th")
    assert "本年度辦理結果" in result_group.get_text() and result_group["rowspan"] == "22"
    # every figure is announced with its row and column headers
    first = body[0].find("td")
    ids = list(first["headers"])
    assert all(requests.find(id=i) is not None for i in ids) and len(ids) == 3
    review = page.find("table", id="table-review_litigation")
    top = review.find("thead").find("tr").find_all("th")
    assert [(th.get_text(strip=True), th["colspan"]) for th in top] == [("行政復議", "5"), ("行政訴訟", "10")]


def test_null_cell_is_blank_not_zero(make_site):
    text = seed_variant("空白测试乡人民政府", 2022, **{
        "    admin_license: 0": "    admin_license: null",
        "    duplicate: [0, 0, 0, 0, 0, 0, 0]": "    duplicate: [0, null, 0, 0, 0, 0, 0]"})
    site = make_site({"site.yaml": SITE_YAML, "content/2022/blank.md": text})
    build(site)
    page = soup(site / "output" / "2022" / "blank" / "index.html")
    cell = page.find("td", attrs={"data-key": "proactive.admin_license"})
    assert "null" in cell["class"] and "0" not in cell.get_text()
    cell = page.find("td", attrs={"data-key": "requests.not_processed.duplicate.1"})
    assert "null" in cell["class"]
    data = __import__("json").loads((site / "output" / "2022" / "blank" / "report.json").read_text("utf-8"))
    assert data["tables"]["proactive"]["admin_license"] is None


def test_year_and_home_pages(make_site):
    site = make_site({
        "site.yaml": SITE_YAML,
        "content/2022/a.md": seed_variant("甲县人民政府", 2022),
        "content/2022/b.md": seed_variant("乙县人民政府", 2022),
        "content/2021/a.md": seed_variant("甲县人民政府", 2021),
    })
    build(site)
    out = site / "output"
    year = soup(out / "2022" / "index.html")
    agencies = [a.get_text() for a in year.select("table.year-table tbody th a:not(.agency-link)")]
    assert agencies == sorted(["甲县人民政府", "乙县人民政府"])  # code-point order, stable
    home = soup(out / "index.html")
    years = [a.get_text() for a in home.select(".year-list a")]
    assert years == ["2022年", "2021年"]
    report = soup(out / "2022" / "a" / "index.html")
    assert report.find("a", rel="prev")["href"] == "../../2021/a/"
    assert soup(out / "2021" / "a" / "index.html").find("a", rel="next")["href"] == "../../2022/a/"


def test_every_internal_link_resolves(make_site):
    site = make_site({
        "site.yaml": SITE_YAML,
        "content/2022/a.md": seed_variant("甲县人民政府", 2022),
        "content/2021/a.md": seed_variant("甲县人民政府", 2021),
        "content/pages/about.md": "---\ntitle: 关于本站\n---\n本站收录[2022年](../2022/)报告。\n",
    })
    build(site)
    links = list(internal_links(site / "output"))
    assert len(links) > 50
    broken = [(page, url) for page, url, target in links if not target.is_file()]
    assert broken == []
    assert all(not url.startswith("/") for page, url, _ in links if page != "404.html")


def test_portable_links_end_in_index_html(seed_site):
    build(seed_site, portable=True, search=False)
    page = soup(seed_site / "output" / "2022" / "liangshan-xiang" / "index.html")
    hrefs = [a["href"] for a in page.select("nav a")]
    assert "../../index.html" in [a["href"] for a in page.select("a.site-title")]
    assert all(h.endswith(("index.html", ".html", ".json")) or "#" in h for h in hrefs)


def test_rebuild_is_byte_identical(make_site, tmp_path):
    site = make_site({"site.yaml": SITE_YAML, "content/2021/a.md": seed_variant("甲县人民政府", 2021)},
                     with_seed=True)
    build(site, out_dir=tmp_path / "one", clean=True)
    build(site, out_dir=tmp_path / "two", clean=True, cache_dir=tmp_path / "cache2")
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert {k: v[0] for k, v in one.items()} == {k: v[0] for k, v in two.items()}


def test_parallel_build_equals_serial(make_site, tmp_path):
    files = {"site.yaml": SITE_YAML}
    for i in range(60):
        files[f"content/{2021 + i % 2}/r{i:02d}.md"] = seed_variant(f"第{i}号人民政府", 2021 + i % 2)
    site = make_site(files)
    build(site, out_dir=tmp_path / "serial", jobs=1, cache_dir=tmp_path / "c1")
    build(site, out_dir=tmp_path / "parallel", jobs=2, cache_dir=tmp_path / "c2")
    serial, parallel = snapshot(tmp_path / "serial"), snapshot(tmp_path / "parallel")
    assert len(serial) > 120
    assert {k: v[0] for k, v in serial.items()} == {k: v[0] for k, v in parallel.items()}


def test_failed_build_leaves_output_untouched(seed_site):
    build(seed_site)
    before = snapshot(seed_site / "output")
    broken = seed_site / "content" / "2022" / "broken.md"
    broken.write_text(seed_variant("坏乡", 2022, **{"year: 2022": "year: [2022"}), encoding="utf-8")
    with pytest.raises(BuildFailed):
        build(seed_site)
    assert snapshot(seed_site / "output") == before
    assert sorted(p.name for p in seed_site.iterdir() if p.name.startswith(".output")) == []


def test_slug_clash_names_both_files(make_site):
    site = make_site({"site.yaml": SITE_YAML,
                      "content/a/same.md": seed_variant("甲", 2022),
                      "content/b/same.md": seed_variant("乙", 2022)})
    with pytest.raises(BuildFailed) as info:
        build(site)
    assert [str(e) for e in info.value.errors] == [
        "content/b/same.md:1:1: URL `2022/same/` is also used by content/a/same.md\n"
        "  hint: give one of them a different `slug:` in its frontmatter"]


def test_feed_sitemap_robots_404(seed_site):
    build(seed_site)
    out = seed_site / "output"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "a": "http://www.w3.org/2005/Atom"}
    locs = [e.text for e in ET.parse(out / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    assert "https://example.org/archive/2022/liangshan-xiang/" in locs
    feed = ET.parse(out / "feed.xml").getroot()
    entry = feed.find("a:entry", ns)
    assert entry.find("a:title", ns).text == "涼山鄉人民政府2022年政府信息公開工作年度報告"
    assert entry.find("a:updated", ns).text == "2023-01-12T00:00:00Z"
    assert "Sitemap: https://example.org/archive/sitemap.xml" in (out / "robots.txt").read_text()
    notfound = soup(out / "404.html")
    assert notfound.find("a", class_="site-title")["href"] == "https://example.org/archive/"


def test_plain_pages_are_in_navigation(make_site):
    site = make_site({"site.yaml": SITE_YAML,
                      "content/pages/method.md": "---\ntitle: 方法说明\norder: 2\n---\n# 方法\n\n数字按原文。\n"},
                     with_seed=True)
    build(site)
    home = soup(site / "output" / "index.html")
    assert [a["href"] for a in home.select(".site-nav a") if a.get_text() == "方法说明"] == ["method/"]
    assert "数字按原文" in soup(site / "output" / "method" / "index.html").get_text()


def test_site_theme_overrides_single_files(make_site):
    site = make_site({"site.yaml": SITE_YAML,
                      "themes/default/templates/404.html": "{% extends 'base.html' %}{% block content %}<p id=own>自定义</p>{% endblock %}",
                      "themes/default/static/site.css": "body{color:red}"},
                     with_seed=True)
    build(site)
    assert soup(site / "output" / "404.html").find(id="own").get_text() == "自定义"
    assert (site / "output" / "static" / "site.css").read_text() == "body{color:red}"
    assert (site / "output" / "static" / "sortable.js").exists()  # the rest comes from the default


def test_source_date_epoch_does_not_change_output(seed_site, tmp_path, monkeypatch):
    build(seed_site, out_dir=tmp_path / "a", cache_dir=tmp_path / "ca")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    build(seed_site, out_dir=tmp_path / "b", cache_dir=tmp_path / "cb")
    assert {k: v[0] for k, v in snapshot(tmp_path / "a").items()} == \
           {k: v[0] for k, v in snapshot(tmp_path / "b").items()}


def test_line_files_stream_and_reuse_unchanged_items(tmp_path):
    import io
    from array import array
    from site_gen.build import LineFile, StreamedLines, write_lines

    def item(key, text, calls):
        return key, lambda: calls.append(key) or text.encode()

    calls: list[str] = []
    first = LineFile(b"[\n", [item("a", "1", calls), item("b", "2", calls), item("c", "3", calls)], b"\n]\n", b",\n")
    index = StreamedLines(first, None, "env").write(tmp_path / "data" / "x.json")
    assert (tmp_path / "data" / "x.json").read_bytes() == b"[\n1,\n2,\n3\n]\n" and calls == ["a", "b", "c"]

    calls.clear()
    second = LineFile(b"[\n", [item("a", "never", calls), item("b2", "22", calls), item("c", "never", calls)],
                      b"\n]\n", b",\n")
    again = StreamedLines(second, (tmp_path / "data" / "x.json", index), "env").write(tmp_path / "y.json")
    assert (tmp_path / "y.json").read_bytes() == b"[\n1,\n22,\n3\n]\n" and calls == ["b2"]
    assert again == ("env", 2, "a\nb2\nc", array("I", [1, 2, 1]))

    calls.clear()  # a previous file shorter than its index says is not trusted
    out = io.BytesIO()
    write_lines(out, second, b"[\n1", index, "env")
    assert out.getvalue() == b"[\nnever,\n22,\nnever\n]\n" and calls == ["a", "b2", "c"]
    calls.clear()  # nor is a missing one
    StreamedLines(second, (tmp_path / "gone.json", index), "env").write(tmp_path / "z.json")
    assert calls == ["a", "b2", "c"]
    calls.clear()  # nor an index whose keys do not split back into one per item
    odd = LineFile(b"[\n", [item("a\nb", "1", calls)], b"\n]\n", b",\n")
    odd_index = StreamedLines(odd, None, "env").write(tmp_path / "odd.json")
    calls.clear()
    StreamedLines(odd, (tmp_path / "odd.json", odd_index), "env").write(tmp_path / "odd2.json")
    assert calls == ["a\nb"] and (tmp_path / "odd2.json").read_bytes() == b"[\n1\n]\n"


def test_paused_gc_restores_the_collector():
    import gc
    from site_gen.build import paused_gc
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that had it off keeps it off
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        with paused_gc():
            1 / 0
    assert gc.isenabled()


def test_a_build_with_nothing_to_render_never_imports_markdown(seed_site):
    """Markdown (and the Pygments its fenced-code extension imports) costs every
    command ~50 ms to import: a no-op rebuild must not pay it."""
    import subprocess
    import sys
    build(seed_site)
    script = ("import sys; from pathlib import Path; from site_gen.build import build_site; "
              f"r = build_site(Path({str(seed_site)!r})); "
              "print(len(r.written), 'markdown' in sys.modules, 'concurrent.futures.process' in sys.modules, "
              "'pygments' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["0", "False", "False", "False"]
    source = next((seed_site / "content" / "2022").glob("*.md"))
    source.write_text(source.read_text("utf-8") + "\n新增一句。\n", "utf-8")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    written, markdown_loaded, _, pygments_loaded = shown.stdout.split()
    assert int(written) > 0 and markdown_loaded == "True"
    assert pygments_loaded == "False"  # Markdown's fenced code imports it for highlighting never used


def test_cache_files_are_linked_into_new_folders(tmp_path):
    import os

    from site_gen.build import _link_or_copy
    source = tmp_path / "cache" / "d" / "0" / "1.js"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"doc")
    target = tmp_path / "out" / "search" / "d" / "0" / "1.js"
    _link_or_copy(source, target)
    assert target.read_bytes() == b"doc" and os.path.samefile(source, target)
    other = tmp_path / "out" / "search" / "d" / "0" / "2.js"
    other.write_bytes(b"stale")
    _link_or_copy(source, other)  # a file already there is replaced by a copy
    assert other.read_bytes() == b"doc"
    with pytest.raises(FileNotFoundError):
        _link_or_copy(tmp_path / "cache" / "missing.js", tmp_path / "out" / "elsewhere" / "x.js")
    assert not (tmp_path / "out" / "elsewhere").exists()
