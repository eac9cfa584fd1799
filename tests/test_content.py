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


def test_reused_sanitizer_cleans_exactly_as_nh3_clean():
    import nh3

    from site_gen.content import _SANITIZER_OPTIONS
    hostile = [
        '<script>alert(1)</script><p onclick="x">t</p>', '<a href="javascript:alert(1)">x</a>',
        '<img src=x onerror=alert(1)>', '<a href="https://e.org/" target="_blank" rel="opener">e</a>',
        '<table><tr><td colspan="2" onmouseover="x">1</td></tr></table>', '<svg><use href="#x"/></svg>',
        '<iframe src="https://e.org"></iframe><style>p{}</style>', '<abbr title="t" style="color:red">A</abbr>',
        '&lt;script&gt; &amp;amp; <b>粗</b><i>斜</i>', '<ol start="3" type="a"><li>一</li></ol>', "<p>unclosed <em>x",
    ]
    for text in hostile + [MarkdownRenderer().ready().reset().convert(h) for h in hostile]:
        assert sanitize_html(text) == nh3.clean(text, **_SANITIZER_OPTIONS)


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


# --- Markdown's inline pass skips text without markup (content.skip_plain_text) ---------

def _stock_markdown():
    import markdown
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension
    return markdown.Markdown(extensions=[TableExtension(), SaneListExtension(), FencedCodeExtension()],
                             output_format="html")


def test_fenced_code_renders_alike_without_pygments():
    """MarkdownRenderer imports the fenced-code extension with Pygments kept
    out (~30 ms a build); fenced code must come out as stock Markdown with
    Pygments installed and imported renders it."""
    import subprocess
    import sys
    pytest.importorskip("pygments")  # installed with pytest
    text = "```python\nx = 1 < 2\n```\n\n~~~\nplain & <b>\n~~~\n\n    indented\n"
    script = ("import sys; from site_gen.content import MarkdownRenderer; "
              f"html = MarkdownRenderer().render({text!r}); "
              "import pygments.lexers; print(repr(html), 'pygments.lexers' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    html, importable = shown.stdout.rsplit(" ", 1)
    assert importable.strip() == "True"  # Pygments is left importable for others
    import ast
    import importlib

    from site_gen.content import sanitize_html
    importlib.import_module("pygments.lexers")  # stock Markdown below sees Pygments installed and loaded
    ours = ast.literal_eval(html)
    assert ours == sanitize_html(_stock_markdown().convert(text))
    assert "language-python" in ours and "&lt;b&gt;" in ours


def _markdown_bodies() -> list[str]:
    from tests.helpers import REPO
    from site_gen.content import check_markdown_limits, split_frontmatter
    bodies = []
    for path in sorted([*(REPO / "content").rglob("*.md"), *(REPO / "tests" / "fixtures").rglob("*.md")]):
        text = path.read_text("utf-8", errors="replace")
        try:
            body = split_frontmatter(text, path.name)[1]
        except SiteGenError:
            body = text
        try:  # what site-gen hands to Markdown (hostile fixtures are refused first)
            check_markdown_limits(body, path.name, 1)
        except SiteGenError:
            continue
        bodies.append(body)
    return bodies


INLINE_TRICKY = [
    "纯中文段落，没有任何标记。\n\n第二段。", "行尾两个空格  \n换行", "行尾一个空格 \n不换行", "a\tb  \n",
    "`代码`", "``双`反引号``", "\\*不是强调\\*", "\\\\", "[链接](https://example.org)", "![图](a.png)",
    "[引用][1]\n\n[1]: https://example.org", "<https://example.org>", "<user@example.org>", "<b>粗</b>",
    "&amp; &#20013; &#x4e2d; &nope", "*强调* **加粗** ***两者***", "_强调_ __加粗__", "a_b_c", "2*3*4",
    "# 标题\n\n正文", "- 一\n- 二\n\n1. 甲\n2. 乙", "| 表 | 头 |\n|---|---|\n| 1 | *2* |",
    "```\n`原样` *不变*\n```", "> 引用 *强调*\n> 第二行", "    缩进代码 <b>", "<div>\n块 *不处理*\n</div>",
    "第一行\n第二行\n\n第三段  ", "（一）主动公开情况\n本机关共公开信息 1,234 条。",
]


@pytest.fixture(scope="module")
def both_markdowns():
    from site_gen.content import skip_plain_text
    fast = _stock_markdown()
    assert skip_plain_text(fast), "the shortcut no longer fits this Markdown version: check the inline patterns"
    return _stock_markdown(), fast


def test_inline_shortcut_changes_no_output_on_real_and_tricky_texts(both_markdowns):
    stock, fast = both_markdowns
    texts = _markdown_bodies() + INLINE_TRICKY
    assert len(texts) > len(INLINE_TRICKY) + 10
    for text in texts:
        assert fast.reset().convert(text) == stock.reset().convert(text), text[:200]


def test_inline_shortcut_changes_no_output_on_the_benchmark_prose(both_markdowns, tmp_path):
    import sys
    from tests.helpers import REPO
    from site_gen.content import split_frontmatter
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    stock, fast = both_markdowns
    for path in generate(tmp_path, 24):
        body = split_frontmatter(path.read_text("utf-8"), path.name)[1]
        assert fast.reset().convert(body) == stock.reset().convert(body)


@pytest.mark.parametrize("seed", range(3))
def test_inline_shortcut_changes_no_output_on_token_soup(both_markdowns, seed):
    from hypothesis import given, settings, strategies as st
    tokens = st.sampled_from(["中文", "报告", "a", "1", " ", "  ", "\n", "\n\n", "  \n", "`", "``", "\\", "[", "]",
                              "(", ")", "<", ">", "&", ";", "#", "*", "**", "_", "__", "!", "-", "|", ":", ".",
                              "https://x.org", "@", "amp", "b", "/", "    ", "> ", "1. ", "- ", "```", "<b>", "</b>"])
    stock, fast = both_markdowns

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(st.lists(tokens, max_size=40).map("".join))
    def same(text):
        assert fast.reset().convert(text) == stock.reset().convert(text)

    same()


def test_a_renderer_takes_the_shortcut():
    md = MarkdownRenderer().ready()
    assert md.treeprocessors["inline"].__dict__.get("_InlineProcessor__handleInline") is not None
