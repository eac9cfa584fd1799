"""The default theme without a browser: catalogs, the documented template
context, self-containment, table markup for screen readers, languages."""
from __future__ import annotations

import re

import pytest
import yaml

from helpers import REPO, soup
from site_gen import render
from site_gen.build import build_site
from site_gen.render import MESSAGES_DIR, format_date
from test_theme_site import make_theme_site

LANGS = ("zh-Hans", "zh-Hant", "en")
TEMPLATES = REPO / "themes" / "default" / "templates"
# Values every template gets from Renderer.render itself (documented as a table in docs/theming.md).
COMMON = {"root", "href", "static", "page_path", "absolute", "nav_sections", "nav_years", "nav_pages"}


def catalog(lang: str, name: str) -> dict:
    path = MESSAGES_DIR / lang / name
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


CATALOG_FILES = sorted({p.name for lang in LANGS for p in (MESSAGES_DIR / lang).glob("*.yaml")})


@pytest.mark.parametrize("name", CATALOG_FILES)
def test_catalogs_have_the_same_keys_in_every_language(name):
    keys = {lang: set(catalog(lang, name) or {}) for lang in LANGS}
    if name != "core.yaml" and any(catalog(lang, name) is None for lang in LANGS):
        pytest.xfail(f"{name} is not translated into every language yet")
    assert keys["zh-Hant"] == keys["zh-Hans"], keys["zh-Hant"] ^ keys["zh-Hans"]
    assert keys["en"] == keys["zh-Hans"], keys["en"] ^ keys["zh-Hans"]


def test_placeholders_agree_across_languages():
    core = {lang: catalog(lang, "core.yaml") for lang in LANGS}
    for key, text in core["zh-Hans"].items():
        wanted = set(re.findall(r"{(\w+)}", text))
        for lang in ("zh-Hant", "en"):
            assert set(re.findall(r"{(\w+)}", core[lang][key])) == wanted, (lang, key)


MY_TEMPLATES = ("base.html", "index.html", "year.html", "report.html", "page.html", "checks.html",
                "404.html", "macros.html")


@pytest.mark.parametrize("template", MY_TEMPLATES)
def test_every_template_string_is_in_the_catalogs(template):
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    literal = set(re.findall(r"""\bt\(\s*['"]([\w.\-]+)['"]""", text))
    prefixes = set(re.findall(r"""\bt\(\s*['"]([\w.\-]+\.)['"]\s*~""", text))
    assert literal or template in ("macros.html", "page.html")
    for lang in LANGS:
        messages = render.load_messages.__wrapped__(lang)
        own = {}
        for path in (MESSAGES_DIR / lang).glob("*.yaml"):
            own.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        missing = sorted(k for k in literal - prefixes if k not in own)
        assert missing == [], (lang, missing)
        for prefix in prefixes:
            assert any(k.startswith(prefix) for k in messages), (lang, prefix)


def test_no_chinese_text_hard_coded_in_my_templates():
    """UI text lives in the catalogs; templates carry only punctuation around it."""
    for template in MY_TEMPLATES:
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        text = re.sub(r"{#.*?#}", "", text, flags=re.S)
        hard = re.findall(r"[\u4e00-\u9fff]+", text)
        assert hard == [], (template, hard)


def test_dates_the_local_way():
    import datetime as dt
    day = dt.date(2023, 1, 12)
    assert format_date(day, "zh-Hans") == "2023年1月12日"
    assert format_date(day, "zh-Hant") == "2023年1月12日"
    assert format_date(day, "en") == "12 January 2023"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture archive, built once with Renderer.render recording each template's context keys."""
    root = make_theme_site(tmp_path_factory.mktemp("theme") / "site")
    seen: dict[str, set[str]] = {}
    original = render.Renderer.render

    def spy(self, template, out_rel, **context):
        seen.setdefault(template, set()).update(context)
        return original(self, template, out_rel, **context)

    render.Renderer.render = spy
    try:
        build_site(root, jobs=1)
    finally:
        render.Renderer.render = original
    return root / "output", seen


def documented_context() -> dict[str, set[str]]:
    text = (REPO / "docs" / "theming.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n# template-context\n(.*?)```", text, re.S)
    assert block, "docs/theming.md lacks its `# template-context` block"
    return {k: set(v) for k, v in yaml.safe_load(block.group(1)).items()}


def test_theming_doc_lists_the_context_of_every_template(built):
    _, seen = built
    recorded = {template: keys - COMMON for template, keys in seen.items()}
    documented = documented_context()
    assert set(recorded) <= set(documented), sorted(set(recorded) - set(documented))
    for template, keys in recorded.items():
        assert keys == documented[template], (template, sorted(keys ^ documented[template]))
    doc = (REPO / "docs" / "theming.md").read_text(encoding="utf-8")
    for name in COMMON | {"site", "t(key", "format_date", "to_json"}:
        assert f"`{name}" in doc, name


def test_pages_are_self_contained(built):
    out, _ = built
    for page in sorted(out.rglob("*.html")):
        doc = soup(page)
        for tag in doc.find_all(["script", "link", "img", "iframe", "source"]):
            url = tag.get("src") or tag.get("href") or ""
            if url.startswith("https://reports.example.org/archive/"):  # the site's own base_url (404 page)
                continue
            assert not re.match(r"^(https?:)?//", url), (page, url)
    for css in (REPO / "themes" / "default" / "static").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert "@import" not in text and "@font-face" not in text, css
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), css


def test_figures_are_announced_with_their_row_and_column_labels(built):
    out, _ = built
    page = soup(out / "2022" / "liangshan-xiang" / "index.html")
    tables = page.select("table.report-table")
    assert len(tables) == 3
    for table in tables:
        ids = {th["id"]: th for th in table.find_all("th") if th.get("id")}
        cells = table.select("td[data-key]")
        assert cells
        for td in cells:
            headers = list(td["headers"])
            assert headers and all(h in ids for h in headers), (td["data-key"], headers)
            assert any(ids[h].get("scope") in ("col", "colgroup") for h in headers)
    requests = page.find("table", id="table-requests")
    cell = requests.find("td", attrs={"data-key": "requests.withheld.state_secret.1"})
    labels = [requests.find(id=h).get_text(strip=True) for h in cell["headers"]]
    assert labels == ["申請人情況", "法人或其他組織", "商業企業", "三、本年度辦理結果", "（三）不予公開", "1.屬於國家祕密"]
    assert requests.caption is not None and requests.caption.get_text(strip=True)


def test_language_of_each_report_and_the_interface(built):
    out, _ = built
    hant = soup(out / "2022" / "liangshan-xiang" / "index.html")
    hans = soup(out / "2021" / "liangshan-xiang" / "index.html")
    assert hant.html["lang"] == "zh-Hans" and hant.find("article")["lang"] == "zh-Hant"
    assert hans.find("article")["lang"] == "zh-Hans"
    assert hant.select_one(".checks-panel")["lang"] == "zh-Hans"


def test_report_page_frame(built):
    out, _ = built
    page = soup(out / "2022" / "liangshan-xiang" / "index.html")
    assert [li.get_text(strip=True) for li in page.select(".breadcrumbs li")] == ["首页", "2022年", "涼山鄉人民政府"]
    assert page.select_one(".breadcrumbs li:last-child")["aria-current"] == "page"
    assert page.select_one("a.skip-link")["href"] == "#main" and page.find("main", id="main")
    assert page.find("a", rel="prev")["href"] == "../../2021/liangshan-xiang/"
    assert page.select_one('.site-nav a[aria-current]').get_text() == "2022年"
    assert page.select_one(".report-print-footer").get_text(" ", strip=True).startswith("原文地址")
    levels = [int(h.name[1]) for h in page.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


@pytest.mark.parametrize("language,home,year", [("zh-Hant", "首頁", "2022年"), ("en", "Home", "2022")])
def test_interface_languages(make_site, language, home, year):
    from conftest import SEED
    site = make_site({"site.yaml": f"language: {language}\n"}, with_seed=True)
    build_site(site, search=False, jobs=1)
    page = soup(site / "output" / "2022" / "liangshan-xiang" / "index.html")
    assert page.html["lang"] == language
    assert page.select(".breadcrumbs li")[0].get_text(strip=True) == home
    assert page.select(".breadcrumbs li")[1].get_text(strip=True) == year
    assert SEED.is_file()


def test_dict_keys_in_templates_read_as_jinja_reads_them(tmp_path):
    """`a.b` on a dict gives its key unless dict has such an attribute (Jinja's rule,
    looked up faster): methods stay methods, missing keys stay undefined."""
    import jinja2

    from site_gen.config import Config
    from site_gen.render import Renderer, default_theme_dir

    env = Renderer(Config(root=tmp_path), [default_theme_dir()], {}).env
    plain = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)

    class Sub(dict):
        label = "attribute"

    source = ("{{ d.label }}|{{ d.get('label') }}|{{ d.items is callable }}|{{ d.missing is defined }}|"
              "{{ d.get is callable }}|{{ s.label }}|{{ s.other }}")
    values = {"d": {"label": "<key>", "items": "not a method", "get": 1}, "s": Sub(label="key", other="o")}
    assert env.from_string(source).render(values) == plain.from_string(source).render(values)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d={})
