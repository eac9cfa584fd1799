"""Cross-site scripting: ~120 attack strings (fixtures/hostile/xss.txt) in
every field a source or site.yaml can set; the built site is parsed and must
hold no script but the theme's, no event handler, no dangerous URL, and
feeds, sitemap and JSON must parse and give back the text unchanged."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import FIXTURES, write_files
from site_gen.build import build_site
from site_gen.content import MarkdownRenderer
from site_gen.errors import BuildFailed
from site_gen.model import RESERVED_SLUGS, make_slug

VECTORS = [line for line in (FIXTURES / "hostile" / "xss.txt").read_text("utf-8").splitlines()
           if line and not line.startswith("# ")]
DANGEROUS_SCHEME = re.compile(r"^(javascript|data|vbscript|livescript):", re.I)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster",
                  "srcset", "cite", "longdesc", "ping", "manifest", "codebase"}
NEVER = {"iframe", "object", "embed", "svg", "math", "style", "base", "template", "noscript", "xmp",
         "plaintext", "frame", "frameset", "applet", "video", "audio", "source", "details", "marquee",
         "textarea", "select", "animate", "use", "image"}
SENSITIVE = {"script", "form", "input", "button", "link", "meta"}


def source(index: int, vector: str, *, seed_tables: bool = False) -> str:
    slug = f"{vector} {index}"
    meta = {
        "title": vector, "agency": f"{vector}（{index}）", "year": 2020 + index % 3, "region": vector,
        "tags": [vector, "x"], "lang": "zh-Hans",
        "slug": slug if make_slug(slug) not in (None, *RESERVED_SLUGS) else f"r{index}",
        "source": {"url": f"https://example.gov.cn/a?q={vector}", "file": vector, "note": vector},
    }
    body = (f"## 一、总体情况\n\n{vector}\n\n[链接]({vector})\n\n"
            f"<div>{vector}</div>\n\n## 二、{vector}\n\n- {vector}\n- [x]({vector} \"{vector}\")\n")
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body


def page(index: int, vector: str) -> str:
    meta = {"title": vector, "slug": f"page-{index}"}
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + f"---\n{vector}\n\n[x]({vector})\n"


def make_archive(root: Path, vectors: list[str], title: str, description: str) -> Path:
    files = {"site.yaml": yaml.safe_dump({"title": title, "description": description,
                                          "base_url": "https://archive.example/"}, allow_unicode=True)}
    for index, vector in enumerate(vectors):
        files[f"content/{2020 + index % 3}/r{index}.md"] = source(index, vector)
    for index, vector in enumerate(vectors[:20]):
        files[f"content/pages/p{index}.md"] = page(index, vector)
    return write_files(root, files)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("xss")
    hostile = make_archive(root / "hostile", VECTORS, "</title><script>alert(1)</script>",
                           '"><img src=x onerror=alert(1)>')
    benign = make_archive(root / "benign", [f"普通文本{i}" for i in range(6)], "档案", "说明")
    build_site(hostile, jobs=2)
    build_site(benign, jobs=2)
    return hostile / "output", benign / "output"


def signature(tag) -> tuple:
    keep = {k: v for k, v in tag.attrs.items() if k in ("src", "rel", "type", "role", "name", "charset", "id")}
    if "src" in keep:
        keep["src"] = keep["src"].rsplit("/", 1)[-1]
    return tag.name, tuple(sorted(tag.attrs)), tuple(sorted((k, str(v)) for k, v in keep.items()))


def html_pages(out: Path):
    for path in sorted(out.rglob("*.html")):
        yield path, BeautifulSoup(path.read_text("utf-8"), "html.parser")


def test_no_script_handler_or_dangerous_url_in_any_page(built):
    hostile, benign = built
    allowed = {signature(t) for _, doc in html_pages(benign) for t in doc.find_all(SENSITIVE | NEVER)}
    pages = 0
    for path, doc in html_pages(hostile):
        pages += 1
        where = path.relative_to(hostile).as_posix()
        for tag in doc.find_all(True):
            if tag.name in NEVER:
                assert signature(tag) in allowed, f"{where}: <{tag.name}> from a source"
            for name, value in tag.attrs.items():
                assert not name.lower().startswith("on"), f"{where}: {name} on <{tag.name}>"
                if name.lower() in URL_ATTRIBUTES:
                    # as a browser reads a URL: tabs and line breaks anywhere, C0 and spaces around
                    cleaned = re.sub(r"[\t\n\r]", "", str(value)).strip("".join(map(chr, range(33))))
                    assert not DANGEROUS_SCHEME.match(cleaned), f"{where}: {name}={value!r}"
                assert name.lower() != "style", f"{where}: style attribute on <{tag.name}>"
            if tag.name in SENSITIVE:
                assert signature(tag) in allowed, f"{where}: {tag}"
            if tag.name == "script" and not tag.get("src"):
                assert tag.get("type") == "application/json", f"{where}: inline script {tag}"
                json.loads(tag.string or "null")
    assert pages > len(VECTORS)


def test_every_vector_is_shown_as_text(built):
    hostile, _ = built
    seen = set()
    for report in hostile.glob("20*/*/report.json"):
        data = json.loads(report.read_text("utf-8"))
        vector = VECTORS[int(re.search(r"/r(\d+)\.md$", data["source_path"]).group(1))]
        seen.add(vector)
        assert data["title"] == data["region"] == vector.strip()
        assert data["tags"] == [vector, "x"] and data["source"]["file"] == data["source"]["note"] == vector
        doc = BeautifulSoup((report.parent / "index.html").read_text("utf-8"), "html.parser")
        assert doc.find("h1").get_text() == vector.strip()
        assert doc.find("title").get_text().startswith(vector.strip())
        link = doc.find("a", class_="source-url")
        assert link["href"] == link.get_text() == data["source"]["url"] == "https://example.gov.cn/a?q=" + vector.rstrip()
    assert seen == set(VECTORS)


def test_site_title_and_description_escaped(built):
    hostile, _ = built
    doc = BeautifulSoup((hostile / "index.html").read_text("utf-8"), "html.parser")
    assert doc.find("a", class_="site-title").get_text() == "</title><script>alert(1)</script>"
    assert "</title><script>alert(1)</script>" in doc.find("title").get_text()


def test_feed_and_sitemap_parse_and_carry_the_text(built):
    hostile, _ = built
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(hostile / "feed.xml").getroot()
    assert feed.find(f"{atom}title").text.startswith("</title><script>alert(1)</script>")
    titles = {e.find(f"{atom}title").text for e in feed.iter(f"{atom}entry")}
    assert titles <= {v.strip() for v in VECTORS} and len(titles) == min(50, len(VECTORS))
    for entry in feed.iter(f"{atom}entry"):
        assert entry.find(f"{atom}link").get("href").startswith("https://archive.example/")
    sitemap = ET.parse(hostile / "sitemap.xml").getroot()
    locs = [u.text for u in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(locs) > len(VECTORS) and all(loc.startswith("https://archive.example/") for loc in locs)
    assert not any(c in loc for loc in locs for c in '<>"\' ')


def test_outputs_stay_inside_the_output_folder(built):
    hostile, _ = built
    root = hostile.resolve()
    for path in hostile.rglob("*"):
        assert path.resolve().is_relative_to(root)
        assert not path.is_symlink()


@pytest.mark.parametrize("index", range(len(VECTORS)))
def test_source_url_must_be_http(make_site, index):
    vector = VECTORS[index]
    site = make_site({"content/2022/x.md": "---\n" + yaml.safe_dump(
        {"agency": "甲", "year": 2022, "source": {"url": vector}}, allow_unicode=True) + "---\n"})
    from site_gen.content import read_source
    from site_gen.model import report_from_source
    try:
        report = report_from_source(read_source(site / "content/2022/x.md", site), None)
    except BuildFailed as exc:
        assert any("`source.url` must be an http(s) URL" in e.message for e in exc.errors)
        return
    assert report.source["url"].lower().startswith(("http://", "https://"))


def test_raw_html_kept_only_when_trusted():
    text = '<span style="color:red" onclick="x()">a</span><script>b()</script>'
    assert MarkdownRenderer().render(text) == "<p><span>a</span></p>"
    assert MarkdownRenderer(trusted_html=True).render(text) == "<p>" + text.replace("<script>b()</script>", "") \
        + "</p>\n<script>b()</script>" or "onclick" in MarkdownRenderer(trusted_html=True).render(text)


@pytest.mark.parametrize("escape", ["\\x0b", "\\x01", "\\f", "\\x1f", "\\uFFFE"])
def test_characters_xml_cannot_carry_are_refused(make_site, escape):
    site = make_site({"content/2022/x.md": f'---\nagency: 甲\nyear: 2022\ntitle: "a{escape}b"\n---\n'})
    with pytest.raises(BuildFailed) as info:
        build_site(site)
    error = info.value.errors[0]
    assert (error.path, error.line, error.column) == ("content/2022/x.md", 4, 8)
    assert "which no page can show" in error.message
