"""Arithmetic rules: pass, fail and not assessable, with exact messages."""
from __future__ import annotations


from site_gen.checks import FAIL, NA, PASS, check_archive, check_continuity, check_report, flatten, summarize
from site_gen.content import read_source
from site_gen.model import report_from_source
from tests.helpers import SEED_SOURCE, build, soup

SEED = SEED_SOURCE.read_text(encoding="utf-8")
ZERO7 = "[0, 0, 0, 0, 0, 0, 0]"


def make_report(tmp_path, name="r.md", year=2022, agency=None, **replace):
    text = SEED.replace("year: 2022", f"year: {year}")
    if agency:
        text = text.replace("agency: 涼山鄉人民政府", f"agency: {agency}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return report_from_source(read_source(path, tmp_path), None)


def by_rule(results, rule, scope=None):
    return [r for r in results if r.rule == rule and (scope is None or r.scope == scope)]


def test_seed_passes_every_rule(tmp_path):
    results = check_report(make_report(tmp_path))
    assert {r.status for r in results} == {PASS}
    assert {rule: sum(c.values()) for rule, c in summarize(results).items()} == {
        "R0": 3, "R3.1": 7, "R3.2": 25, "R3.3": 7, "R4.1": 3}


def test_r41_fail_message(tmp_path):
    report = make_report(tmp_path, **{
        "admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
        "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}"})
    [result] = by_rule(check_report(report), "R4.1", "四、行政复议")
    assert result.status == FAIL
    assert result.message == "R4.1 四、行政复议: 总计 0 ≠ 结果维持 10 + 结果纠正 1 + 其他结果 0 + 尚未审结 0 = 11"
    assert ("review_litigation", "admin_review", "total") in result.cells


def test_r41_not_assessable_with_null(tmp_path):
    report = make_report(tmp_path, **{
        "litigation_direct: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
        "litigation_direct: {upheld: 0, corrected: null, other: 0, pending: 0, total: 0}"})
    [result] = by_rule(check_report(report), "R4.1", "四、行政诉讼 未经复议直接起诉")
    assert result.status == NA
    assert result.message == "R4.1 四、行政诉讼 未经复议直接起诉: 无法核验（空白单元格：结果纠正）"


def test_r31_fail_and_na(tmp_path):
    report = make_report(tmp_path, **{f"new_received: {ZERO7}": "new_received: [5, null, 0, 0, 0, 0, 5]"})
    results = check_report(report)
    [first] = by_rule(results, "R3.1", "三、自然人")
    assert first.status == FAIL
    assert first.message == ("R3.1 三、自然人: 一、本年新收政府信息公开申请数量 5 + 二、上年结转政府信息公开申请数量 0 = 5"
                             " ≠ （七）总计 0 + 四、结转下年度继续办理 0 = 0")
    [second] = by_rule(results, "R3.1", "三、商业企业")
    assert second.status == NA
    assert by_rule(results, "R3.1", "三、科研机构")[0].status == PASS


def test_r32_row_total(tmp_path):
    report = make_report(tmp_path, **{f"granted: {ZERO7}": "granted: [3, 1, 0, 0, 0, 0, 5]"})
    [result] = by_rule(check_report(report), "R3.2", "三、（一）予以公开")
    assert result.status == FAIL
    assert result.message == ("R3.2 三、（一）予以公开: 总计 5 ≠ 自然人 3 + 商业企业 1 + 科研机构 0 + "
                              "社会公益组织 0 + 法律服务机构 0 + 其他 0 = 4")


def test_r33_results_total(tmp_path):
    report = make_report(tmp_path, **{f"      duplicate: {ZERO7}": "      duplicate: [2, 0, 0, 0, 0, 0, 2]"})
    results = check_report(report)
    [result] = by_rule(results, "R3.3", "三、自然人")
    assert result.status == FAIL
    assert result.message.startswith("R3.3 三、自然人: （七）总计 0 ≠ （一）予以公开 0 + （二）部分公开 0 + ")
    assert "（五）2.重复申请 2" in result.message and result.message.endswith("= 2")
    assert by_rule(results, "R3.3", "三、科研机构")[0].status == PASS


def test_r0_negative_and_decimal_counts(tmp_path):
    report = make_report(tmp_path, **{"admin_penalty: 5": "admin_penalty: -1", "admin_fees: 0": "admin_fees: 0.5",
                                      "admin_license: 0": "admin_license: 2.5"})
    [result] = by_rule(check_report(report), "R0", "二、主动公开政府信息情况")
    assert result.status == FAIL
    assert result.message == "R0 二、主动公开政府信息情况: 不是非负整数：行政许可 本年处理决定数量 2.5；行政处罚 本年处理决定数量 -1"


def test_r5_across_years(tmp_path):
    last = make_report(tmp_path, "a.md", 2021, "甲县人民政府",
                       **{f"carried_forward: {ZERO7}": "carried_forward: [2, 0, 0, 0, 0, 0, 2]"})
    this = make_report(tmp_path, "b.md", 2022, "甲县人民政府",
                       **{f"carried_over: {ZERO7}": "carried_over: [1, 0, null, 0, 0, 0, 2]"})
    results = check_continuity(this, last)
    assert [r.status for r in results] == [FAIL, PASS, NA, PASS, PASS, PASS, PASS]
    assert results[0].message == "R5 三、自然人: 2022年 上年结转 1 ≠ 2021年 结转下年度继续办理 2"
    archive = check_archive([last, this])
    assert len(by_rule(archive[this.key], "R5")) == 7 and by_rule(archive[last.key], "R5") == []


def test_archive_counts_and_lean_r5_agree_with_full_results(tmp_path):
    last = make_report(tmp_path, "a.md", 2021, "甲县人民政府")
    this = make_report(tmp_path, "b.md", 2022, "甲县人民政府",
                       **{"admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
                          "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}"})
    memo = {}
    check_archive([last, this], continuity_memo=memo)
    archive = check_archive([last, this], continuity_memo=memo)  # R5 from the memo, kept lean
    counts = archive.status_counts()  # from the packed form, before anything is unpacked
    full = [r for key in archive for r in archive[key]]
    assert counts == {s: sum(1 for r in full if r.status == s) for s in (PASS, FAIL, NA)}
    assert archive.failure_count(this.key) == sum(1 for r in archive[this.key] if r.status == FAIL) == 1
    assert [r.note for r in archive.continuity(this.key)] == [r.note for r in check_continuity(this, last)]


def test_checks_never_change_figures(tmp_path):
    report = make_report(tmp_path, **{"admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
                                      "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}"})
    before = repr(report.tables)
    check_report(report)
    assert repr(report.tables) == before


def test_failing_report_builds_with_flags(make_site):
    bad = SEED.replace("admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
                       "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}")
    site = make_site({"content/2022/bad.md": bad}, with_seed=True)
    result = build(site)
    assert result.failing_checks == 1
    page = soup(site / "output" / "2022" / "bad" / "index.html")
    flagged = page.select("td.flag")
    assert {td["data-key"] for td in flagged} == {
        f"review_litigation.admin_review.{k}" for k in ("total", "upheld", "corrected", "other", "pending")}
    total = page.find("td", attrs={"data-key": "review_litigation.admin_review.total"})
    assert total.get_text(strip=True).startswith("0")  # shown as published, never fixed
    note = page.find(id=total["aria-describedby"])
    assert "R4.1" in note.get_text()
    assert page.select_one('tr[data-rule="R4.1"] .status--fail') is not None
    assert "R4.1 四、行政复议: 总计 0 ≠" in page.select_one("#checks").get_text()
    year = soup(site / "output" / "2022" / "index.html")
    assert [tr.th.a.get_text(strip=True) for tr in year.select("tr.has-failures")] == ["涼山鄉人民政府"]
    archive = soup(site / "output" / "checks" / "index.html")
    rows = archive.select("table.checks-archive tbody tr")
    assert len(rows) == 1 and rows[0].find_all("td")[2].get_text() == "R4.1"
    ok = soup(site / "output" / "2022" / "liangshan-xiang" / "index.html")
    assert ok.select("td.flag") == []


def test_packed_results_keep_what_pages_show(tmp_path):
    from site_gen.checks import check_plan, pack_checks, unpack_checks
    report = make_report(tmp_path, **{"admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
                                      "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}"})
    results = check_report(report)
    assert [(r.rule, r.scope) for r in results] == check_plan(report)
    packed = pack_checks(report, results)
    assert len(packed[1]) == 1  # only the failure is kept in full
    restored = unpack_checks(report, packed)
    assert [(r.rule, r.status, r.scope) for r in restored] == [(r.rule, r.status, r.scope) for r in results]
    assert [r.message for r in restored if r.status != PASS] == [r.message for r in results if r.status != PASS]
    assert summarize(restored) == summarize(results)


def test_light_passes_pack_exactly_as_full_results(tmp_path):
    """A build packs each report's results as it reads it, from `light_passes`
    results; the packed form (and what unpacking gives a page) must be the one
    the full results give, passing, failing and not assessable alike."""
    import sys
    from site_gen.checks import pack_checks, unpack_checks
    from tests.helpers import REPO
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    reports = [report_from_source(read_source(p, tmp_path), None) for p in generate(tmp_path, 60)]
    reports.append(make_report(tmp_path, "blank.md", **{"[0, 0, 0, 0, 0, 0, 0]": "[null, 0, 0, 0, 0, 0, 0]"}))
    reports.append(make_report(tmp_path, "text.md", **{"[0, 0, 0, 0, 0, 0, 0]": "[0, 1.5, 0, 0, 0, 0, 0]"}))
    statuses = set()
    for report in reports:
        full, light = check_report(report), check_report(report, light_passes=True)
        assert [(r.rule, r.scope, r.status) for r in light] == [(r.rule, r.scope, r.status) for r in full]
        assert [r for r in light if r.status != PASS] == [r for r in full if r.status != PASS]
        assert pack_checks(report, light) == pack_checks(report, full)
        assert unpack_checks(report, pack_checks(report, light)) == unpack_checks(report, pack_checks(report, full))
        statuses |= {r.status for r in full}
    assert statuses == {PASS, FAIL, NA}


def test_flatten_gives_every_value_by_its_path_in_document_order(tmp_path):
    tables = make_report(tmp_path).tables
    expected = {}

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + (index,))
        else:
            expected[path] = node

    walk(tables, ())
    flat = flatten(tables)
    assert list(flat.items()) == list(expected.items())
    assert len(flat) > 100
    assert flatten({"t": {"a": [], "b": {}, "c": [1, None, {"d": 2.5}]}}) == {
        ("t", "c", 0): 1, ("t", "c", 1): None, ("t", "c", 2, "d"): 2.5}
    assert flatten(7) == {(): 7}
