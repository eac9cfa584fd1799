"""Search index: folding, terms, shards, determinism, incremental builds, size."""
from __future__ import annotations

import json
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from site_gen import search  # noqa: E402
from site_gen.search import IndexReader, SearchEntry, fold, write_search_index  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "search" / "entries.json"


def fixture_entries() -> list[SearchEntry]:
    return [SearchEntry(**e) for e in json.loads(FIXTURE.read_text(encoding="utf-8"))]


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ folding


@pytest.mark.parametrize("raw, folded", [
    ("領導", "领导"),
    ("行政處罰", "行政处罚"),
    ("政府資訊公開", "政府资讯公开"),
    ("涼山鄉", "凉山乡"),
    ("ＧＢ１８０３０", "gb18030"),
    ("全角　空格", "全角 空格"),
    ("ＡＢＣ abc ÀÉ", "abc abc àé"),
    ("简体不变", "简体不变"),
    ("，：（）", ",:()"),
])
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_fold_keeps_utf16_length_and_is_idempotent():
    for src, dst in search.fold_map().items():
        assert (src > 0xFFFF) == (dst > 0xFFFF)
        assert search.fold_map().get(dst, dst) == dst


def test_fold_map_js_pairs_round_trip():
    text = search.fold_map_js()
    pairs = dict(zip(text[0::2], text[1::2]))
    assert pairs["領"] == "领" and pairs["Ａ"] == "a"
    assert len(pairs) == len(search.fold_map())


# ------------------------------------------------------------------ terms


def test_terms_han_bigrams_and_single_chars():
    assert search.terms("政府信息") == {"政", "府", "信", "息", "政府", "府信", "信息"}


def test_terms_latin_and_numbers_are_words():
    assert search.terms(fold("按ＧＢ18030标准，2022年")) == {
        "按", "gb18030", "标", "准", "标准", "2022", "年"}


def test_terms_do_not_cross_punctuation():
    assert "开工" not in search.terms("公开,工作")


@pytest.mark.parametrize("word, tokens, exact", [
    ("政", ["政"], True),
    ("政府", ["政府"], True),
    ("政府信", ["政府", "府信"], False),
    ("政府信息", ["政府", "信息"], False),
    ("依申请公开", ["依申", "请公", "公开"], False),
    ("gb18030", ["gb18030"], True),
    ("2022年", ["2022", "年"], False),
])
def test_query_tokens(word, tokens, exact):
    assert search.query_tokens(word) == tokens
    assert search.is_exact(word) is exact


def test_query_words_fold_and_dedupe():
    assert search.query_words("  領導 领导  ＧＢ ,, ") == ["领导", "gb"]


# ------------------------------------------------------------------ encoding


@given(st.lists(st.integers(0, 200_000), max_size=300, unique=True))
def test_postings_round_trip(ids):
    ids.sort()
    assert search.decode_postings(search.encode_postings(ids)) == ids


def test_dense_postings_use_a_bitmap():
    ids = list(range(0, 60_000, 2))
    enc = search.encode_postings(ids)
    assert enc.startswith("~") and len(enc) <= 10_002


def test_shard_assignment_is_stable_and_shared_with_title_terms():
    assert search.fnv1a("") == 0x811C9DC5
    assert search.fnv1a("a") == 0xE40C292C  # FNV-1a reference value
    shards = search.shard_count(10_000)
    assert shards & (shards - 1) == 0
    assert search.shard_of("^政府", shards) == search.shard_of("政府", shards)
    assert search.shard_name(5, 256) == "05"


# ------------------------------------------------------------------ queries


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("index")
    write_search_index(iter(fixture_entries()), out)
    return out


QUERIES = [
    ("领导", {"2022/liangshan-xiang/", "2022/hexi-county/"}),
    ("領導", {"2022/liangshan-xiang/", "2022/hexi-county/"}),
    ("行政處罰", {"2022/liangshan-xiang/", "2022/hexi-county/"}),
    ("河西县人民政府", {"2022/hexi-county/", "2021/hexi-county/"}),
    ("依申请公开", {"2022/hexi-county/", "2021/hexi-county/", "2020/dongpo-town/",
                "2023/xishan-xiang/"}),
    ("预算 公开", {"2023/city-finance/", "2020/dongpo-town/", "2019/province-office/",
               "2023/xishan-xiang/"}),
    ("2021", {"2021/hexi-county/"}),
    ("GB18030", {"2022/hexi-county/"}),
    ("gb", set()),
    ("火星基地", set()),
    ("，，", set()),
]


@pytest.mark.parametrize("query, expected", QUERIES)
def test_fixture_queries(fixture_index, query, expected):
    assert set(IndexReader(fixture_index).search(query)) == expected


def brute_force(entries, query):
    words = search.query_words(query)
    found = set()
    for e in entries:
        hay = fold("\n".join((e.title, e.agency, e.text)))
        if words and all(search.contains_word(hay, w) for w in words):
            found.add(e.url)
    return found


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_recall_equals_brute_force_on_substrings(fixture_index, data):
    entries = fixture_entries()
    doc = data.draw(st.sampled_from(entries))
    start = data.draw(st.integers(0, len(doc.text) - 1))
    length = data.draw(st.integers(1, 8))
    query = doc.text[start:start + length]
    assert set(IndexReader(fixture_index).search(query)) == brute_force(entries, query)


# ------------------------------------------------------------------ output


def test_facets_file(fixture_index):
    facets = search.read_js(fixture_index / "facets.js")
    assert facets["docs"] == 7
    assert facets["values"]["year"] == [2019, 2020, 2021, 2022, 2023]
    assert facets["values"]["level"] == ["city", "county", "province", "township"]
    assert facets["values"]["failing"] == [0, 1]


def test_documents_are_numbered_by_year(fixture_index):
    years = [search.read_js(fixture_index / f"d/0/{n}.js")["y"] for n in range(7)]
    assert years == sorted(years)


def test_files_are_jsonp_with_their_own_key(fixture_index):
    for path in fixture_index.rglob("*.js"):
        key = path.relative_to(fixture_index).as_posix()[:-3]
        assert path.read_text(encoding="utf-8").startswith(f'__siteGenSearch("{key}",')


def test_deterministic_byte_identical(tmp_path):
    entries = fixture_entries()
    write_search_index(iter(entries), tmp_path / "a")
    write_search_index(reversed(entries), tmp_path / "b", cache_dir=tmp_path / "cache")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_duplicate_ids_are_an_error(tmp_path):
    entry = fixture_entries()[0]
    with pytest.raises(ValueError, match="duplicate search entry id"):
        write_search_index([entry, entry], tmp_path)


# ------------------------------------------------------------------ incremental


def synthetic(n: int, seed: int = 1) -> list[SearchEntry]:
    from bench.search_bench import synthetic_entries

    return list(synthetic_entries(n, seed=seed, chars=400))


def test_incremental_rewrites_only_touched_files(tmp_path):
    entries = synthetic(300)
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = write_search_index(entries, out, cache)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.js")}
    changed = replace(entries[17], text=entries[17].text + "\n新增独特内容鑫淼")
    entries[17] = changed
    time.sleep(0.01)
    second = write_search_index(entries, out, cache)
    rewritten = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.js")
                       if p.stat().st_mtime_ns != before.get(p))
    assert second.incremental and second.docs_tokenized == 1
    assert 1 <= len(rewritten) <= 10, rewritten
    assert sum(r.startswith("d/") for r in rewritten) == 1
    assert IndexReader(out).search("鑫淼") == [changed.url]
    # and the result equals a clean build
    clean = tmp_path / "clean"
    write_search_index(entries, clean)
    assert files_of(out) == files_of(clean)
    assert first.docs == second.docs == 300


def test_incremental_with_a_new_report_rebuilds_and_matches_clean(tmp_path):
    entries = synthetic(120)
    out, cache = tmp_path / "out", tmp_path / "cache"
    write_search_index(entries, out, cache)
    extra = replace(entries[0], id="2099/new/", url="2099/new/", year=2099)
    stats = write_search_index(entries + [extra], out, cache)
    assert not stats.incremental
    clean = tmp_path / "clean"
    write_search_index(entries + [extra], clean)
    assert files_of(out) == files_of(clean)
    removed = write_search_index(entries[1:], out, cache)
    assert removed.docs == 119 and not (out / "d/0/119.js").exists()


# ------------------------------------------------------------------ scale


def query_bytes(root: Path, query: str) -> tuple[int, int]:
    """Bytes of index files (and of document files) a query loads."""
    reader = IndexReader(root)
    words = search.query_words(query)
    reader.candidates(words)
    index_files = set(reader.loaded) | {"fold.js"}
    index = sum((root / f).stat().st_size for f in index_files)
    return index, len(index_files)


def test_bytes_per_query_on_10k_docs(tmp_path):
    from bench.search_bench import synthetic_entries

    start = time.perf_counter()
    stats = write_search_index(synthetic_entries(10_000, seed=7), tmp_path)
    seconds = time.perf_counter() - start
    rows = []
    for query in ["政府", "依申请公开", "行政处罚 信息", "政府信息公开 年度报告", "2022"]:
        size, count = query_bytes(tmp_path, query)
        rows.append((query, size, count))
        print(f"{query!r}: {size / 1024:.1f} KiB in {count} files")
    print(f"10k docs: {stats.bytes / 1e6:.1f} MB, {stats.terms} terms, "
          f"{stats.shards} shards, {seconds:.1f} s")
    two_words = [size for q, size, _ in rows if " " in q]
    assert max(two_words) < 150 * 1024


def test_memory_sanity(tmp_path):
    from bench.search_bench import synthetic_entries

    tracemalloc.start()
    write_search_index(synthetic_entries(1_000, seed=3, chars=1700), tmp_path)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"peak traced memory {peak:.0f} MiB for 1,000 docs of ~5 KB")
    assert peak < 150


# ------------------------------------------------------------------ messages


def test_message_catalogs_cover_template_and_client():
    import re as regex

    import yaml

    catalogs = {lang: yaml.safe_load((REPO / "site_gen/messages" / lang / "search.yaml")
                                     .read_text(encoding="utf-8"))
                for lang in ("zh-Hans", "zh-Hant", "en")}
    keys = set(catalogs["zh-Hans"])
    assert all(set(c) == keys for c in catalogs.values())
    used = set()
    for rel in ("themes/default/templates/search.html", "themes/default/static/search.js"):
        used |= set(regex.findall(r'"(search\.[a-z.]+)"', (REPO / rel).read_text(encoding="utf-8")))
    dynamic = {k for k in used if k.endswith(".")}
    assert used - dynamic <= keys, (used - dynamic) - keys
