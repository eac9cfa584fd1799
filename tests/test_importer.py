"""`site-gen import`: raw reports in every shape to clean sources, figure for figure."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from site_gen.importer import make_slug, run_import
from site_gen.importer.clean import match_key, read_value, strip_pinyin_debris

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "import"
EXPECTED = FIXTURES / "expected"
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_NAME = "000_05d8cabf3faf2b39.txt"
EXAMPLE = HERE.parent / "content" / "2022" / "liangshan-xiang.md"


def split_source(text: str) -> tuple[dict, str]:
    _, head, body = text.split("---\n", 2)
    return yaml.safe_load(head), body.lstrip("\n")


def run(paths: list[Path], into: Path, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_import(paths, into, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def import_one(tmp_path: Path, source: Path) -> tuple[dict, str, str]:
    into = tmp_path / "content"
    code, out, err = run([source], into)
    assert (code, err) == (0, ""), out + err
    written = sorted(into.rglob("*.md"))
    assert len(written) == 1
    meta, body = split_source(written[0].read_text(encoding="utf-8"))
    return meta, body, out


# --- the seed ---------------------------------------------------------------------

@pytest.mark.parametrize("seed", [
    FIXTURES / SEED_NAME,
    pytest.param(SHARED_SEEDS / SEED_NAME, marks=pytest.mark.skipif(
        not (SHARED_SEEDS / SEED_NAME).exists(), reason="shared/seeds not beside the repo")),
], ids=["fixture-copy", "shared-seed"])
def test_seed_reproduces_the_example_source(tmp_path, seed):
    meta, body, out = import_one(tmp_path, seed)
    example_meta, example_body = split_source(EXAMPLE.read_text(encoding="utf-8"))
    assert meta["tables"] == example_meta["tables"]
    example_meta["source"].pop("note")
    assert meta == example_meta
    assert body == example_body
    assert "shape crawler; format cn-gov-2021; tables 3/3" in out
    assert "cells 200; nulls 0; units stripped 0" in out


def test_seed_file_layout_matches_the_example(tmp_path):
    """Same key order and flow-style rows as the hand-made example."""
    into = tmp_path / "content"
    run([FIXTURES / SEED_NAME], into)
    written = (into / "2022" / "000-05d8cabf3faf2b39.md").read_text(encoding="utf-8")
    example = "".join(line for line in EXAMPLE.read_text(encoding="utf-8").splitlines(True)
                      if not line.startswith("  note:"))
    assert written == example


# --- every shape, every cell -----------------------------------------------------------

SHAPES = {
    "rows_2021.txt": dict(shape="rows", format="cn-gov-2021", year=2021, lang="zh-Hans",
                          agency="城关镇人民政府", published="2022-01-20", level="township"),
    "html_gbk_2021.html": dict(shape="html", format="cn-gov-2021", year=2021, lang="zh-Hans",
                               agency="青川县人民政府", published="2022-03-25", level="county"),
    "pdftotext_2021.txt": dict(shape="pdftotext", format="cn-gov-2021", year=2021,
                               lang="zh-Hans", agency="绵阳市民政局", published="2022-01-28",
                               level="city"),
    "pdf_2021.pdf": dict(shape="pdf", format="cn-gov-2021", year=2021, lang="zh-Hans",
                         agency="绵阳市民政局", published="2022-01-28", level="city"),
    "crawler_2019.txt": dict(shape="crawler", format="cn-gov-2019", year=2019, lang="zh-Hans",
                             agency="平武县发展和改革局", published="2020-01-15", level="county"),
    "traditional_missing.txt": dict(shape="crawler", format="cn-gov-2021", year=2022,
                                    lang="zh-Hant", agency="白馬鄉人民政府",
                                    published="2023-01-10", level="township"),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_cell_of_every_shape(tmp_path, name):
    meta, _, out = import_one(tmp_path, FIXTURES / name)
    expected = yaml.safe_load((EXPECTED / (name.split(".")[0] + ".yaml")).read_text("utf-8"))
    assert meta["tables"] == expected
    want = SHAPES[name]
    assert f"shape {want['shape']}; format {want['format']};" in out
    assert (meta["format"], meta["year"], meta["lang"], meta["agency"], meta["level"]) == (
        want["format"], want["year"], want["lang"], want["agency"], want["level"])
    assert meta["published"].isoformat() == want["published"]
    assert list(meta["tables"]) == [k for k in ("proactive", "requests", "review_litigation")
                                    if k in expected]


def test_html_page_chrome_is_dropped_and_url_kept(tmp_path):
    meta, body, out = import_one(tmp_path, FIXTURES / "html_gbk_2021.html")
    assert meta["source"]["url"] == "http://www.cnqc.gov.cn/zwgk/ndbg/2022/0325/123.html"
    assert meta["title"] == "青川县人民政府2021年政府信息公开工作年度报告"
    for chrome in ("版权所有", "ICP备", "首页", "浏览次数", "统计代码", "打印本页"):
        assert chrome not in body
    assert body.startswith("本报告根据《中华人民共和国政府信息公开条例》要求编制。\n\n## 一、总体情况")
    assert body.endswith("青川县人民政府  \n2022年3月25日\n")
    assert "nulls 2;" in out  # the &nbsp; cell and the "-" cell


def test_units_are_read_as_printed_and_reported(tmp_path):
    meta, _, out = import_one(tmp_path, FIXTURES / "rows_2021.txt")
    assert meta["tables"]["proactive"]["admin_fees"] == 251000
    assert "units stripped 1 (251000元)" in out
    assert "warning: proactive.admin_fees: '251000元' is in 元, the column is in 万元" in out


def test_broken_arithmetic_is_kept_and_reported(tmp_path):
    meta, _, out = import_one(tmp_path, FIXTURES / "rows_2021.txt")
    assert meta["tables"]["requests"]["new_received"] == [10, 2, 0, 1, 0, 0, 14]
    rules = out.split("rules failing: ")[1].splitlines()[0]
    assert "R3.2" in rules or rules.startswith("not checked")


def test_missing_tables_stay_absent(tmp_path):
    meta, _, out = import_one(tmp_path, FIXTURES / "traditional_missing.txt")
    assert set(meta["tables"]) == {"proactive"}
    assert "tables 1/3 (proactive)" in out


def test_traditional_text_keeps_its_script_and_loses_debris(tmp_path):
    meta, body, out = import_one(tmp_path, FIXTURES / "traditional_missing.txt")
    assert meta["title"] == "白馬鄉人民政府2022年政府信息公開工作年度報告"
    assert "在縣委的正確領導下,我鄉認真做好政府信息公開工作" in body
    assert "第二十條第(一)項" in body and "(GB18030)" in body
    assert "### (一)加強領導" in body
    assert "本年度無行政復議、行政訴訟。" in body
    for debris in ("(lǐng)", "(gong)", "(kai)", "(xiāng)", "(fù)"):
        assert debris not in body and debris not in meta["title"]
    assert "pinyin debris removed 23" in out


def test_pdftotext_page_numbers_and_wrapped_title(tmp_path):
    meta, body, _ = import_one(tmp_path, FIXTURES / "pdftotext_2021.txt")
    assert meta["title"] == "绵阳市民政局2021年政府信息公开工作年度报告"
    assert "\n1\n" not in body and "\n2\n" not in body


# --- encodings -------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "gb18030"])
def test_encodings_are_detected(tmp_path, encoding):
    text = (FIXTURES / "crawler_2019.txt").read_text(encoding="utf-8")
    source = tmp_path / "in" / "crawler_2019.txt"
    source.parent.mkdir()
    source.write_bytes(text.encode(encoding))
    meta, _, _ = import_one(tmp_path, source)
    assert meta["tables"] == yaml.safe_load((EXPECTED / "crawler_2019.yaml").read_text("utf-8"))


def test_big5_is_not_mistaken_for_gbk(tmp_path):
    text = (FIXTURES / "traditional_missing.txt").read_text(encoding="utf-8")
    text = strip_pinyin_debris(text)[0]  # Big5 has no tone-marked letters
    source = tmp_path / "in" / "traditional_missing.txt"
    source.parent.mkdir()
    source.write_bytes(text.encode("big5"))
    meta, body, _ = import_one(tmp_path, source)
    assert meta["agency"] == "白馬鄉人民政府" and "## 一、總體情況" in body
    assert meta["tables"] == yaml.safe_load(
        (EXPECTED / "traditional_missing.yaml").read_text("utf-8"))


# --- writing -------------------------------------------------------------------

def test_existing_file_is_not_overwritten_without_force(tmp_path):
    into = tmp_path / "content"
    target = into / "2022" / "000-05d8cabf3faf2b39.md"
    target.parent.mkdir(parents=True)
    target.write_text("mine", encoding="utf-8")
    source = FIXTURES / SEED_NAME
    code, out, err = run([source], into)
    assert code == 1 and out == ""
    assert err == (f"{source}: {target} already exists; not overwritten\n"
                   "  hint: use --force to replace it\n")
    assert target.read_text(encoding="utf-8") == "mine"
    code, out, err = run([source], into, force=True)
    assert (code, err) == (0, "")
    assert target.read_text(encoding="utf-8").startswith("---\ntitle: 涼山鄉人民政府")


def test_dry_run_writes_nothing(tmp_path):
    into = tmp_path / "content"
    code, out, err = run([FIXTURES / SEED_NAME, FIXTURES / "rows_2021.txt"], into, dry_run=True)
    assert (code, err) == (0, "")
    assert not into.exists()
    assert f"{FIXTURES / SEED_NAME}: would write {into / '2022' / '000-05d8cabf3faf2b39.md'}: " in out
    assert f"would write {into / '2021' / 'rows-2021.md'}" in out


def test_two_inputs_for_one_destination(tmp_path):
    copy = tmp_path / "other" / SEED_NAME
    copy.parent.mkdir()
    shutil.copy(FIXTURES / SEED_NAME, copy)
    into = tmp_path / "content"
    code, _, err = run([FIXTURES / SEED_NAME, copy], into)
    assert code == 1
    assert err.startswith(f"{copy}: {into / '2022' / '000-05d8cabf3faf2b39.md'} is also the "
                          f"destination of {FIXTURES / SEED_NAME}")


# --- bad input -------------------------------------------------------------------

BAD = {
    "empty.txt": (b"", "empty file, nothing to import"),
    "blank.txt": (b"  \n\n", "empty file, nothing to import"),
    "image.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20,
                  "binary file, not a text, HTML or PDF report"),
    "novel.txt": ("第一章\n天色已晚，他推开门走了出去。\n".encode("utf-8"),
                  "not a government information disclosure annual report: no section headings "
                  "(一、总体情况 … 六、其他需要报告的事项) found"),
    "broken.pdf": (b"%PDF-1.4\n%garbage that is no PDF at all\n",
                   "unreadable PDF"),
    "mystery.txt": (bytes(range(0x80, 0x100)) * 3 + b"\n",
                    "unknown text encoding\n  hint: save the report as UTF-8, GB18030/GBK or UTF-16"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_naming_the_file(tmp_path, name):
    data, message = BAD[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    into = tmp_path / "content"
    code, out, err = run([bad, FIXTURES / SEED_NAME], into)
    assert code == 1
    assert err.startswith(f"{bad}: {message}")
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert [p.name for p in into.rglob("*.md")] == ["000-05d8cabf3faf2b39.md"]
    assert "wrote" in out


def test_missing_input_file(tmp_path):
    code, _, err = run([tmp_path / "nope.txt"], tmp_path / "content")
    assert code == 1
    assert err == f"{tmp_path / 'nope.txt'}: cannot read: No such file or directory\n"


# --- cleaning and naming -------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("正確領(lǐng)導(dǎo)下", "正確領導下"),
    ("公(gong)(gong)開(kai)(kai)", "公開"),
    ("協調(diào)", "協調"),
    ("（一）予以公开", "（一）予以公开"),
    ("(本列數據的勾稽關係為:第一項加第二項之和)", "(本列數據的勾稽關係為:第一項加第二項之和)"),
    ("第二十條第(一)項", "第二十條第(一)項"),
    ("編碼(GB18030)", "編碼(GB18030)"),
    ("附件(pdf)", "附件(pdf)"),
    ("see (lǐng) here", "see (lǐng) here"),
])
def test_pinyin_debris(raw, clean):
    assert strip_pinyin_debris(raw)[0] == clean


def test_labels_match_across_script_width_and_spaces():
    assert match_key("商業 企業") == match_key("商业企业")
    assert match_key("（二）部分公開（區分處理的,只計這一情形,不計其他情形）") == \
        match_key("（二）部分公开（区分处理的，只计这一情形，不计其他情形）")
    assert match_key("3．危及“三安全一穩定”") == match_key("3.危及“三安全一稳定”")


@pytest.mark.parametrize("cell, number, unit", [
    ("0", 0, None), ("12", 12, None), ("1,234", 1234, None), ("25.1", 25.1, None),
    ("-2", -2, None), ("251000元", 251000, "元"), ("5件", 5, "件"), ("", None, None),
    ("/", None, None), ("-", None, None), ("—", None, None), ("\u3000", None, None),
])
def test_cell_values(cell, number, unit):
    value = read_value(cell)
    assert (value.number, value.unit) == (number, unit)


@pytest.mark.parametrize("label", ["规章", "2022年", "3.其他"])
def test_labels_are_not_values(label):
    assert read_value(label) is None


@pytest.mark.parametrize("name, slug", [
    ("000_05d8cabf3faf2b39.txt", "000-05d8cabf3faf2b39"),
    ("../../etc/passwd", "passwd"),
    ("Report 2022 (final).HTML", "report-2022-final"),
    ("a\x00b.txt", "a-b"),
])
def test_slugs_are_ascii_safe(name, slug):
    assert make_slug(Path(name), b"x") == slug


def test_slug_of_a_chinese_file_name_is_a_stable_hash():
    slug = make_slug(Path("凉山乡2022年报.txt"), b"data")
    assert slug == make_slug(Path("凉山乡2022年报.txt"), b"data")
    assert slug.startswith("report-") and slug.isascii() and ".." not in slug
