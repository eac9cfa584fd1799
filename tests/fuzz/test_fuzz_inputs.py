"""Property tests: whatever bytes arrive, site-gen answers with a result or a
located SiteGenError/BuildFailed, never another exception (issue 8).

Run longer locally with HYPOTHESIS_PROFILE=long (see conftest.py)."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from hypothesis import example, given, strategies as st

from site_gen.config import load_config
from site_gen.content import MarkdownRenderer, check_markdown_limits, read_source, split_frontmatter
from site_gen.errors import BuildFailed, SiteGenError
from site_gen.importer import run_import
from site_gen.model import report_from_source
from site_gen.yamltools import load_yaml

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "content" / "2022" / "liangshan-xiang.md"
IMPORT_FIXTURES = sorted(p for p in (REPO / "tests" / "fixtures" / "import").iterdir()
                         if p.is_file() and p.suffix in (".txt", ".html", ".pdf"))
MD = MarkdownRenderer()

yaml_chars = st.sampled_from(list("abc:-[]{}&*!|>'\"#%@`,? \n\t0129.") + ["\n  ", ": ", "- ", "中", "\x00", "\ufeff", "\x85"])
yaml_text = st.one_of(st.text(max_size=300), st.lists(yaml_chars, max_size=200).map("".join))
md_chars = st.sampled_from(list("#>-*+_`[]()!<>&\\|:= \n\t1.aé中") + ["\n\n", "<script>", "javascript:", "<a href=", "](", "    ", "```", "---", "<img src=x onerror=", '"'])
md_text = st.one_of(st.text(max_size=400), st.lists(md_chars, max_size=300).map("".join))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=20), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def assert_located(error: SiteGenError, path: str, *, line: bool = True) -> None:
    assert isinstance(error, SiteGenError)
    assert error.path == path, error
    if line:
        assert error.line is None or error.line >= 1, error
    assert error.message and "Traceback" not in str(error)


def errors_of(exc: BaseException) -> list[SiteGenError]:
    return exc.errors if isinstance(exc, BuildFailed) else [exc]


@given(yaml_text)
@example("a: " + "[" * 5000)
@example("- " * 5000 + "x")
@example("a: &x [1]\nb: *x\n")
@example("a: !!python/object:os.system x\n")
@example("a: 2023-13-45\n")
@example("a: 1e99999\n")
def test_load_yaml_locates_or_parses(text):
    try:
        load_yaml(text, "f.yaml", 1)
    except SiteGenError as error:
        assert_located(error, "f.yaml")
        assert error.line is not None and error.line >= 2


@given(st.text(max_size=300))
def test_split_frontmatter(text):
    try:
        meta, body, line = split_frontmatter(text, "x.md")
    except SiteGenError as error:
        assert_located(error, "x.md")
        return
    assert line >= 3 and meta.endswith("\n")


@given(st.one_of(st.binary(max_size=400),
                 st.builds(lambda m, b: ("---\n" + m + "\n---\n" + b).encode("utf-8", "surrogatepass"),
                           yaml_text, md_text)))
@example(b"\xef\xbb\xbf---\nagency: a\nyear: 2022\n---\n")
@example("---\nagency: 甲\nyear: 2022\n---\n".encode("utf-16"))
@example(b"---\nagency: \xb1\xa8\n---\n")
@example(b"---\nagency: a\nyear: 2022\nformat: []\n---\n")
def test_read_source_and_model_on_any_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.md"
        try:
            path.write_bytes(data)
        except ValueError:
            return
        try:
            src = read_source(path, Path(tmp))
            report = report_from_source(src, MD)
        except (SiteGenError, BuildFailed) as exc:
            for error in errors_of(exc):
                assert_located(error, "x.md")
            return
        assert report.slug and "/" not in report.slug and ".." != report.slug


def _mutate(meta, path, value):
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return meta


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, item in node.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, prefix + (index,))


SEED_TEXT = SEED.read_text("utf-8")
SEED_META = yaml.safe_load(SEED_TEXT.split("---\n")[1])
SEED_PATHS = [p for p in _paths(SEED_META) if p]


@given(st.lists(st.tuples(st.sampled_from(SEED_PATHS), values), min_size=1, max_size=4), md_text)
def test_model_on_mutated_seed(mutations, body):
    import copy
    meta = copy.deepcopy(SEED_META)
    for path, value in mutations:
        try:
            _mutate(meta, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2022" / "x.md"
        path.parent.mkdir()
        path.write_text(text, "utf-8")
        try:
            report_from_source(read_source(path, Path(tmp)), MD)
        except (SiteGenError, BuildFailed) as exc:
            for error in errors_of(exc):
                assert_located(error, "2022/x.md")


@given(md_text)
@example("> " * 40 + "x")
@example("[" * 3000 + "a" * 3000)
@example('<a href="jav&#x09;ascript:alert(1)">x</a><img src=x onerror=alert(1)>')
def test_markdown_is_sanitized_or_refused(text):
    try:
        check_markdown_limits(text, "x.md", 5)
    except SiteGenError as error:
        assert_located(error, "x.md")
        assert error.line >= 5
        return
    html = MD.render(text)
    doc = BeautifulSoup(html, "html.parser")
    assert not doc.find_all(["script", "iframe", "object", "embed", "style", "form", "svg", "math"])
    for tag in doc.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), tag
            if name in ("href", "src"):
                assert value.strip().lower().split(":")[0] in ("http", "https", "mailto") or ":" not in value.split("/")[0], tag


@given(st.one_of(st.binary(max_size=300), yaml_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.dictionaries(st.sampled_from(["title", "description", "base_url", "language", "theme",
                                                  "content_dir", "output_dir", "portable_links", "trusted_html",
                                                  "latest_count", "agencies_file", "strict", "search", "cache_dir",
                                                  "tittle"]), values, max_size=5)
                 .map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode())))
@example(b"\xff\xfet\x00i\x00t\x00l\x00e\x00:\x00 \x00x\x00")
@example(b"title: \xd6\xd0\xce\xc4\n")
@example(b"theme: \"a\\0b\"\n")
def test_load_config_on_any_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "site.yaml").write_bytes(data)
        try:
            config = load_config(Path(tmp))
        except (SiteGenError, BuildFailed) as exc:
            for error in errors_of(exc):
                assert_located(error, "site.yaml")
            return
        assert config.root == Path(tmp).resolve()


def _mutations(data: bytes):
    return st.one_of(
        st.tuples(st.integers(0, max(len(data) - 1, 0)), st.binary(min_size=1, max_size=8)).map(
            lambda t: data[:t[0]] + t[1] + data[t[0] + len(t[1]):]),
        st.integers(0, len(data)).map(lambda n: data[:n]),
        st.tuples(st.integers(0, len(data)), st.integers(0, 2000)).map(lambda t: data[:t[0]] + data[t[0] + t[1]:]),
        st.tuples(st.integers(0, len(data)), st.integers(0, len(data))).map(
            lambda t: data[:t[0]] + data[t[1]:] + data[t[0]:t[1]]),
    )


fixture_inputs = st.sampled_from(IMPORT_FIXTURES).flatmap(
    lambda p: st.tuples(st.just(p.name), _mutations(p.read_bytes())))


@given(st.one_of(st.tuples(st.sampled_from(["raw.txt", "raw.html", "raw.pdf", "原始 报告.txt"]), st.binary(max_size=500)),
                 fixture_inputs))
def test_import_on_any_bytes(named):
    name, data = named
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        code = run_import([path], Path(tmp) / "content", out=out, err=err)
        assert code in (0, 1)
        for line in err.getvalue().splitlines():
            if line.startswith("  hint:"):
                continue
            assert line.startswith(str(path) + ":"), line
            assert "import failed:" not in line, f"internal importer error on {name}: {line}"
        if code == 0:
            written = list((Path(tmp) / "content").rglob("*.md"))
            assert len(written) == 1
            try:
                report_from_source(read_source(written[0], Path(tmp)), MD)
            except (SiteGenError, BuildFailed) as exc:
                raise AssertionError(f"import wrote an invalid source: {exc}")
