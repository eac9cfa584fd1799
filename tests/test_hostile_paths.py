"""Paths and encodings: hostile slugs and file names stay inside the output,
symlinks leading out of the site are never read, Chinese names with spaces
work, and every encoding is decoded correctly or refused with the file named."""
from __future__ import annotations

import codecs
import os

import pytest

from site_gen.build import build_site
from site_gen.config import load_config
from site_gen.errors import BuildFailed, SiteGenError
from site_gen.links import check_links

SOURCE = "---\nagency: 城关镇人民政府\nyear: 2022\n{extra}---\n\n## 一、总体情况\n\n正文：信息公开。\n"


@pytest.mark.parametrize("slug", ["../../etc/passwd", "/etc/passwd", "..\\..\\windows", "C:\\x", "con", "NUL.txt",
                                  "..", ".", "a/../../b", "~root", "%2e%2e", "index.html", "static", "  ", "-.-"])
def test_hostile_slug_refused_or_inside_output(make_site, slug):
    site = make_site({"content/2022/x.md": SOURCE.format(extra=f"slug: {slug!r}\n".replace("'", '"').replace("\\", "\\\\"))})
    try:
        result = build_site(site)
    except BuildFailed as exc:
        assert exc.errors[0].path == "content/2022/x.md" and exc.errors[0].line == 4
        assert "URL name" in exc.errors[0].message
        return
    out = result.output.resolve()
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out)
    assert not (site.parent / "etc").exists() and not (site / "etc").exists()
    pages = [p for p in (out / "2022").iterdir() if p.is_dir()]
    assert len(pages) == 1 and pages[0].name not in ("..", ".") and "\\" not in pages[0].name


def test_symlinked_file_and_folder_leading_out_are_never_read(make_site, tmp_path):
    outside = tmp_path / "outside"
    (outside / "2021").mkdir(parents=True)
    (outside / "secret.md").write_text(SOURCE.format(extra="title: 秘密\n"), "utf-8")
    (outside / "2021" / "y.md").write_text(SOURCE.format(extra="title: 秘密二\n"), "utf-8")
    site = make_site({"content/2022/x.md": SOURCE.format(extra="")})
    os.symlink(outside / "secret.md", site / "content" / "2022" / "secret.md")
    os.symlink(outside / "2021", site / "content" / "2021")
    os.symlink(outside, site / "content" / "2022" / "loop")
    result = build_site(site)
    assert result.reports == 1
    text = "".join(p.read_text("utf-8", "replace") for p in result.output.rglob("*") if p.is_file())
    assert "秘密" not in text


def test_output_folder_symlink_refused(make_site, tmp_path):
    site = make_site({"content/2022/x.md": SOURCE.format(extra="")})
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", site / "output")
    with pytest.raises(SiteGenError, match="output folder is a symbolic link"):
        build_site(site)


def test_chinese_file_names_with_spaces(make_site):
    site = make_site({"content/2022/城关 镇 报告.md": SOURCE.format(extra=""),
                      "content/pages/关于 本站.md": "---\ntitle: 关于\n---\n[报告](../2022/城关-镇-报告/)\n"})
    result = build_site(site)
    assert (result.output / "2022" / "城关-镇-报告" / "index.html").is_file()
    assert (result.output / "关于-本站" / "index.html").is_file()
    config = load_config(site)
    assert check_links(config, result.output) == []


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_bom_encodings_decoded(make_site, encoding):
    text = SOURCE.format(extra="title: 城关镇2022年报告\n")
    data = {"utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
            "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be")}.get(encoding) or text.encode(encoding)
    site = make_site({"content/2022/x.md": data})
    result = build_site(site)
    page = (result.output / "2022" / "x" / "index.html").read_text("utf-8")
    assert "城关镇2022年报告" in page and "正文：信息公开。" in page and "\ufeff" not in page


@pytest.mark.parametrize("encoding, line", [("gb18030", 2), ("gbk", 2)])
def test_legacy_chinese_encodings_refused_with_file_and_line(make_site, encoding, line):
    site = make_site({"content/2022/x.md": SOURCE.format(extra="").encode(encoding)})
    with pytest.raises(BuildFailed) as info:
        build_site(site)
    error = info.value.errors[0]
    assert (error.path, error.line) == ("content/2022/x.md", line)
    assert error.message.startswith("not UTF-8 text") and "site-gen import" in error.hint


@pytest.mark.parametrize("data, message", [
    (b"---\nagency: a\nyear: 2022\n---\n\xff\xfe\xfd", "not UTF-8 text (invalid byte 0xff)"),
    (b"\xff\xfe\x00\xd8", "invalid UTF-16 text"),
    (b"---\nagency: a\x00\nyear: 2022\n---\n", "binary data (NUL byte)"),
])
def test_invalid_bytes_refused(make_site, data, message):
    site = make_site({"content/2022/x.md": data})
    with pytest.raises(BuildFailed) as info:
        build_site(site)
    assert info.value.errors[0].path == "content/2022/x.md" and info.value.errors[0].message.startswith(message)


@pytest.mark.parametrize("data, ok", [
    ("title: 档案\n".encode("utf-8-sig"), True),
    ("title: 档案\n".encode("utf-16"), False),
    ("title: 档案\n".encode("gb18030"), False),
    (b"title: \xff\n", False),
])
def test_site_yaml_encodings(make_site, data, ok):
    site = make_site({"site.yaml": data})
    if ok:
        assert load_config(site).title == "档案"
        return
    with pytest.raises(SiteGenError) as info:
        load_config(site)
    assert info.value.path == "site.yaml" and "not UTF-8" in info.value.message


def test_importer_decodes_gb18030_like_utf8(tmp_path):
    import io

    from conftest import FIXTURES
    from site_gen.importer import run_import
    raw = (FIXTURES / "import" / "rows_2021.txt").read_text("utf-8")
    outputs = []
    for encoding in ("utf-8", "gb18030", "utf-16"):
        path = tmp_path / encoding / "rows_2021.txt"
        path.parent.mkdir()
        path.write_bytes(raw.encode(encoding))
        err = io.StringIO()
        assert run_import([path], tmp_path / encoding / "content", out=io.StringIO(), err=err) == 0, err.getvalue()
        written = next((tmp_path / encoding / "content").rglob("*.md")).read_text("utf-8")
        outputs.append("\n".join(line for line in written.splitlines() if "sha256" not in line))
    assert outputs[0] == outputs[1] == outputs[2]
    assert "城关镇人民政府" in outputs[1]
