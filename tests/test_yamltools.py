"""YAML reading: the yaml-rs fast path must give exactly what PyYAML gives.

PyYAML (YAML 1.1) is the reference.  Every text here is read both ways by
`load_yaml`: with yaml-rs allowed (taken when the text is safe for it) and
with PyYAML alone.  The values must be equal with the same types all the way
down (1 is not True, 1.0 is not 1, a date is not a string), and a text
refused one way must be refused the other way with the same error.
"""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_gen import yamltools
from site_gen.errors import SiteGenError
from site_gen.yamltools import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds"


def same(a, b) -> bool:
    """Equal values of the same types, recursively (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(type(k) is type(k2) for k, k2 in zip(a, b)) \
            and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def read(text: str, fast: bool):
    """load_yaml's value, or its error as (message, line, column)."""
    saved = yamltools.yaml_rs
    if not fast:
        yamltools.yaml_rs = None
    try:
        return load_yaml(text, "x.yaml")
    except SiteGenError as exc:
        return (exc.message, exc.line, exc.column)
    finally:
        yamltools.yaml_rs = saved


def assert_like_pyyaml(text: str) -> None:
    """Read with the fast path allowed, the value (or the error) is the one
    PyYAML alone gives."""
    expected, got = read(text, fast=False), read(text, fast=True)
    assert same(got, expected), f"{text!r}: {got!r} != PyYAML's {expected!r}"


# Texts where YAML 1.1 and 1.2 disagree, or where yaml-rs was seen to differ.
TRICKY = [
    "a: yes", "a: No", "a: ON", "a: off", "on: 1", "a: [yes, no]",
    "a: 012", "a: -012", "a: 007", "a: 08", "a: 0o12", "a: 0b101", "a: 0x1F", "a: 1_000", "a: 012.5", "a: [012, 1]",
    "a: 000_05d8cabf", "a: 0x_1", "a: 0b", "a: 00", "a: 1_0.5", "a: 1__0", "a: _1", "a: 1_", "a: +_1",
    "a: inf", "a: -Infinity", "a: nan", "a: .NaN", "a: 3e4a", "a: 1.2.3", "a: 12.5%", "a: 2022年",
    "a: 3e4a9f0c2b", "a: fe8f60a2df79f11c5ab613d1d8ca2506", "a: a@b.cn", "a: R&D", "a: x*y", "a: No. 5",
    "- 012", "[012]", "{a: 012}", "a: [1, 012]", "012: x", "a: [:]", "a: [:x]", "a: [x:]", "a: {x:}", "a: [x, :]", "a: {x:y}", 'a: ["x":y]', ": x", "a:\n  : x", "- : x", "{: x}", "[a, : x]", "a: 0.0", "a: -0.0", "a: 10.50", "a: +0",
    "a: 1e5", "a: 2E3", "a: 1.5E3", "a: 1.5e+3", "a: .5", "a: -.5", "a: 1.", "a: +1.5",
    "a: 1:20", "a: 12:30", "a: 190:20:30",
    "a: 2023-01-31", "a: '2023-01-31'", 'a: "2023-01-31"', "a: [2023-01-01, '2023-01-02']",
    "a: 2023-13-45", "a: 2023-1-5", "a: 2023-02-29", "a: 2024-02-29", "a: 0000-01-01",
    "a: 2023-01-31 10:00", "a: 2023-01-31T10:00:00Z", "a: 2023-01-31 # note", "2023-01-01: x",
    "a: >-\n  2023-01-31\n", "a: |-\n  2023-01-31\n", "a: x\n  2023-01-31\n", "a: '2023-01-31 '",
    "a: ~", "a: null", "a: Null", "a:", "", "a: True", "a: FALSE", "a: .inf", "a: -.Inf", "a: .nan",
    "a: 1\na: 2", "a: b\n---\nc: d", "a: 1\n...\n", "%YAML 1.1\n---\na: 1",
    "a: !!str 1", "a: !!int '3'", "a: &x 1\nb: *x", "<<: {a: 1}\nb: 2", "a: =", "=: 1",
    'a: "\\u4e2d\\/x"', 'a: "x\\ty"', 'a: "\\x85"', "a: 'x\\y'",
    "a:\tb", "a: b\r\nc: d", "a: x\x85y", "a: x\u2028y", "a: \ufeffx", "a: x\x7fy",
    "a: 123456789012345678901234567890", "a: 3.14159265358979323846", "a: 10000000000000000000.5",
    "2021: x", "1.5: x", "true: 1", "null: 1", "~: 1", "? a\n: b", "? [a, b]\n: c",
    "a: {b, c}", "a: [1, 2, ]", "a: [a: b]", "a: |+\n  x\n\n", "a: |2\n    x\n", "a: >\n  x\n\n  y\n",
    "a: 'x\n\n  y'", "a: x\n  y\n\n  z", "a:\n  - 1\n  -\n  - 3", "a: b: c", "a: -", "a: @x", "a: `x",
    "- 1\n- 2", "x", "a: 中文 # 注", "a: 'it''s'", "a: 'x' # y", "a: 12.5%", "a: 50%\nb: 1",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_read_as_pyyaml_reads_them(text):
    assert_like_pyyaml(text)


def real_frontmatters() -> list[str]:
    texts = []
    for folder in (ROOT / "content", ROOT / "tests" / "fixtures", SEED):
        for path in sorted(folder.rglob("*.md")) if folder.is_dir() else []:
            parts = path.read_text("utf-8", errors="replace").split("---\n", 2)
            if len(parts) == 3 and parts[0] == "":
                texts.append(parts[1])
    return texts


def test_real_frontmatter_reads_as_pyyaml_reads_it():
    texts = real_frontmatters()
    assert len(texts) > 10
    for text in texts:
        try:
            yamltools._check_text_nesting(text, "x", 0)
        except SiteGenError:
            continue  # refused before any parser sees it
        assert_like_pyyaml(text)


def test_real_reports_take_the_fast_path(monkeypatch):
    """The speed-up is not dead code: a bundled report's frontmatter goes
    through yaml-rs, and a text it must not read goes to PyYAML."""
    assert yamltools.yaml_rs is not None, "yaml-rs is a dependency"
    calls = []
    real = yamltools.yaml_rs.loads
    monkeypatch.setattr(yamltools.yaml_rs, "loads", lambda text: calls.append(text) or real(text))
    report = next(t for t in real_frontmatters() if "tables:" in t and "agency:" in t)
    load_yaml(report, "x.md")
    assert calls == [report]
    calls.clear()
    assert load_yaml("a: 012\n", "x.md") == {"a": 10}
    assert calls == []


def test_without_yaml_rs_pyyaml_reads_everything(monkeypatch):
    monkeypatch.setattr(yamltools, "yaml_rs", None)
    assert load_yaml("a: 2023-01-31\nb: [1, 2.5]\n", "x.md") == {"a": datetime.date(2023, 1, 31), "b": [1, 2.5]}


def test_a_panic_in_yaml_rs_falls_back_to_pyyaml(monkeypatch):
    """A Rust panic reaches Python as a BaseException (pyo3's PanicException):
    it must not end the build with a traceback."""
    class PanicException(BaseException):
        pass

    def panic(text):
        raise PanicException("index out of bounds")

    monkeypatch.setattr(yamltools.yaml_rs, "loads", panic)
    assert load_yaml("a: 1\n", "x.md") == {"a": 1}


def test_duplicate_keys_are_read_as_pyyaml_reads_them():
    # yaml-rs refuses them; PyYAML keeps the last, and so do we.
    assert load_yaml("a: 1\na: 2\n", "x.md") == {"a": 2}


# ------------------------------------------------------------ generated texts

KEYS = st.one_of(st.text(st.sampled_from("abc中文年报_-"), min_size=1, max_size=6),
                 st.integers(-5, 3000))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=False, width=64), st.dates(datetime.date(1, 1, 1)),
    st.text(max_size=12),
    st.text(st.sampled_from("0123456789.-+:eE_xob yesnoNOfT~ 年报中文'\"#,[]{}"), max_size=10),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from([None, True, False]), st.booleans())
def test_dumped_values_read_as_pyyaml_reads_them(value, flow, unicode):
    text = yaml.safe_dump({"v": value}, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)
    assert_like_pyyaml(text)


TOKENS = ["yes", "no", "on", "012", "0x1", "1e5", ".5", "1:20", "2023-01-31", "'2023-01-31'",
          "1_0", "!!str", "&a", "*a", "<<", "=", "\t", "\r", "\x85", "#", ": ", "- ", "[", "]",
          "{", "}", ",", "'", '"', "|", ">", "\n", "\n  ", "\n- ", ":", "?", "? ", "---", "...", "~", "null", "中", "7", "3.5", "x", "a:b", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12))
def test_token_soup_reads_as_pyyaml_reads_it(tokens):
    assert_like_pyyaml("a: " + "".join(tokens) + "\nb: 1\n")


def value_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(value_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(value_depth, value), default=0)
    return 0


DEEP = st.recursive(st.integers(0, 9), lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=2), st.dictionaries(st.sampled_from("ab"), inner, min_size=1, max_size=2)),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(DEEP, st.sampled_from([None, True, False]), st.integers(1, 4))
def test_nesting_bound_is_an_upper_bound(value, flow, indent):
    """Skipping the depth walk is safe: a text whose bound is at most half of
    MAX_DEPTH never holds a value nested deeper than MAX_DEPTH."""
    text = yaml.safe_dump({"v": value}, default_flow_style=flow, indent=indent + 1)
    assert value_depth(yamltools._pyyaml_load(text)) <= 2 * yamltools.nesting_bound(text)


LINES = ["a: 1", "ab_c: 0", "no: 1", "On: 1", "inf: 2", "infinity: 1", "nan:", "x: 012", "x: 0.5", "x: 12.30",
         "x: 1e5", "x: -1", "x: 1_0", "x: [1, 2, 3]", "x: [1,2]", "x: [0, 05]", "x: []", "x: {a: 1, b: 2}",
         "x: {no: 1}", "x: {a: 1, on: 2}", "x: {}", "x: 2023-01-31", "x: '2023-01-31'", "x:", "  x: [7, 8]",
         "    y: {a: 0.5}", "- 1", "x: [1, 2", "x: 1 # c", "x: 1:20", "x: .5", "---", "...", "%YAML 1.1",
         "x: &a 1", "x: yes", "x: 中文", "x: 1\t", "X: 1", "x1: 1", "x: {a: 1}, b"]


def assert_same_verdict_without_plain_lines(text: str) -> None:
    """The rules read a text without its plain lines (_risky_lines) and must
    reach the verdict they reach on the whole text; the date counts too."""
    risky = yamltools._risky_lines(text)
    assert yamltools._fast_path_safe(risky) == yamltools._fast_path_safe(text), (text, risky)
    for rule in (yamltools._DATE_LIKE, yamltools._PLAIN_DATE):
        assert len(rule.findall(risky)) == len(rule.findall(text)), text


def test_plain_lines_hold_nothing_the_fast_path_rules_look_for():
    for first in LINES:
        assert_same_verdict_without_plain_lines(first)
        for second in LINES:
            assert_same_verdict_without_plain_lines(f"{first}\n{second}\n")
    assert yamltools._risky_lines("x: 012\nno: 1\nx: {on: 1}\nx: 1e5\n") == "x: 012\nno: 1\nx: {on: 1}\nx: 1e5\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), min_size=1, max_size=10), st.booleans())
def test_texts_without_plain_lines_read_as_pyyaml_reads_them(lines, last_newline):
    text = "\n".join(lines) + ("\n" if last_newline else "")
    assert_same_verdict_without_plain_lines(text)
    assert_like_pyyaml(text)


def test_plain_lines_are_most_of_a_report_table():
    bench = "tables:\n  requests:\n    granted: [5, 1, 8, 0, 2, 0, 16]\n    withheld:\n" \
            "      state_secret: [5, 1, 5, 2, 5, 5, 23]\n  review_litigation:\n" \
            "    admin_review: {upheld: 0, corrected: 2, other: 0, pending: 0, total: 2}\n"
    assert yamltools._risky_lines(bench) == ""
    bundled = sorted((ROOT / "content").glob("2*/*.md"))  # reports, not plain pages
    assert bundled
    for path in bundled:
        text = path.read_text(encoding="utf-8").split("---\n")[1]
        assert len(yamltools._risky_lines(text)) < len(text) / 2, path
        assert_like_pyyaml(text)
