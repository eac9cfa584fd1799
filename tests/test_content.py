"""Content loading: frontmatter, decoding, sections, sanitizing."""
from __future__ import annotations

import pytest

from site_gen.content import (MarkdownRenderer, decode_source, discover_sources, is_source_name, read_source,
                              sanitize_html, split_frontmatter, split_sections)
from site_gen.errors import SiteGenError


def test_split_frontmatter_lines():
    meta, body, line = split_frontmatter("---\na: 1\nb: 2\n---\n正文\n", "x.md")
    assert meta == "a: 1\nb: 2\n" and body == "正文\n" and line == 5


@pytest.mark.parametrize("text, message", [
    ("正文", "missing frontmatter: a source must start with a line `---`"),
    ("---\na: 1\n", "frontmatter is never closed"),
])
def test_frontmatter_errors(text, message):
    with pytest.raises(SiteGenError) as info:
        split_frontmatter(text, "x.md")
    assert info.value.message == message and info.value.line == 1


def test_decoding():
    assert decode_source("\ufeff---\n".encode("utf-8"), "x.md") == "---\n"
    assert decode_source("---\n中文".encode("utf-16"), "x.md") == "---\n中文"
    with pytest.raises(SiteGenError) as info:
        decode_source("---\n\n中文".encode("gbk"), "x.md")
    assert info.value.line == 3 and "not UTF-8" in info.value.message


def test_sections_split_on_headings_outside_fences():
    body = "前言\n\n## 一、总体情况\n文字\n```\n## 不是标题\n```\n## 二、主动公开\n"
    parts = split_sections(body, 10)
    assert [(p.title, p.line) for p in parts] == [(None, 10), ("一、总体情况", 12), ("二、主动公开", 17)]


def test_sanitizer_drops_scripts_and_js_links():
    html = MarkdownRenderer().render('<script>alert(1)</script>[x](javascript:alert(1)) <img src=x onerror=alert(1)>')
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert MarkdownRenderer(trusted_html=True).render("<b onclick=x>t</b>").count("onclick") == 1
    assert sanitize_html('<a href="data:text/html,x">x</a>') == "<a rel=\"noopener noreferrer\">x</a>"


def test_editor_files_are_not_sources(tmp_path):
    for name in ("a.md", ".a.md.swp", "a.md~", "#a.md#", ".hidden.md", "b.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.md").write_text("x")
    assert [p.name for p in discover_sources(tmp_path)] == ["a.md"]
    assert not is_source_name("4913")


def test_symlinked_source_outside_is_not_read(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("---\nagency: x\n---\n")
    content = tmp_path / "content"
    content.mkdir()
    (content / "link.md").symlink_to(outside)
    assert list(discover_sources(content)) == []


def test_read_source_digest_and_meta(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("---\nagency: 甲\nyear: 2022\n---\n正文\n", encoding="utf-8")
    src = read_source(path, tmp_path)
    assert src.rel == "a.md" and src.meta == {"agency": "甲", "year": 2022} and len(src.digest) == 64
