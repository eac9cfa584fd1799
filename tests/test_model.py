"""The report model: validation located at YAML nodes, slugs, sections."""
from __future__ import annotations

import pytest

from site_gen.content import MarkdownRenderer, read_source
from site_gen.errors import BuildFailed
from site_gen.model import make_slug, report_from_source
from tests.helpers import SEED_SOURCE

SEED = SEED_SOURCE.read_text(encoding="utf-8")


def load(tmp_path, text, md=True):
    path = tmp_path / "content" / "x.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return report_from_source(read_source(path, tmp_path), MarkdownRenderer() if md else None)


def errors(tmp_path, text):
    with pytest.raises(BuildFailed) as info:
        load(tmp_path, text)
    return [(e.line, e.column, e.message) for e in info.value.errors]


def test_seed_model(tmp_path):
    report = load(tmp_path, SEED)
    assert (report.agency, report.year, report.format, report.lang) == ("涼山鄉人民政府", 2022, "cn-gov-2021", "zh-Hant")
    assert [s.number for s in report.sections] == [1, 2, 3, 4, 5, 6]
    assert [s.table for s in report.sections] == [None, "proactive", "requests", "review_litigation", None, None]
    assert report.source["sha256"].startswith("fe8f60a2")
    assert "行政處罰" in report.text or "行政处罚" in report.text


def test_missing_rows_and_columns(tmp_path):
    text = SEED.replace("    carried_forward: [0, 0, 0, 0, 0, 0, 0]\n", "").replace(
        "litigation_direct: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
        "litigation_direct: {upheld: 0, corrected: 0, other: 0, pending: 0, totl: 0}")
    found = errors(tmp_path, text)
    assert (22, 3, "table `requests` is missing row `carried_forward` (四、结转下年度继续办理)") in found
    assert any("unknown column `totl`" in m for _, _, m in found)
    assert any("missing column `total`" in m for _, _, m in found)


def test_table_without_format_and_unknown_format(tmp_path):
    assert errors(tmp_path, SEED.replace("format: cn-gov-2021", "format: cn-gov-2020"))[0][2] == \
        "unknown format 'cn-gov-2020'"
    old = SEED.replace("format: cn-gov-2021", "format: none")
    assert errors(tmp_path, old)[0][2] == "`tables` given but the report has no format"


def test_format_inferred_from_year(tmp_path):
    report = load(tmp_path, SEED.replace("format: cn-gov-2021\n", ""), md=False)
    assert report.format == "cn-gov-2021"


def test_prose_only_report(tmp_path):
    report = load(tmp_path, "---\nagency: 某局\nyear: 2017\n---\n## 一、总体情况\n正文。\n")
    assert report.format is None and report.tables == {} and report.sections[0].title == "一、总体情况"


def test_missing_table_section_gets_standard_heading(tmp_path):
    text = SEED.replace("## 三、收到和處理政府信息公開申請情況\n", "")
    report = load(tmp_path, text)
    titles = [(s.number, s.title, s.table) for s in report.sections]
    assert (3, "三、收到和处理政府信息公开申请情况", "requests") in titles
    assert [n for n, _, _ in titles] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("raw, slug", [
    ("Liangshan Xiang", "liangshan-xiang"), ("涼山鄉 2022", "涼山鄉-2022"), ("../../etc/passwd", "etc-passwd"),
    ("a\\b", "a-b"), ("CON", None), ("..", None), ("a\0b", "a-b"), ("", None),
])
def test_slugs_stay_inside(raw, slug):
    assert make_slug(raw) == slug


def test_bad_level_hint(tmp_path):
    found = errors(tmp_path, SEED.replace("level: township", "level: towns"))
    assert found == [(6, 8, "`level` must be one of national, province, city, county, township, not 'towns'")]
