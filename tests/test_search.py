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


def test_adding_removing_and_reordering_match_clean_builds(tmp_path):
    entries = synthetic(120)
    out, cache = tmp_path / "out", tmp_path / "cache"
    write_search_index(entries, out, cache)
    extra = replace(entries[0], id="2099/new/", url="2099/new/", year=2099)
    older = replace(entries[1], id="2000/old/", url="2000/old/", year=2000)
    redated = replace(entries[5], published="2030-01-01")
    for step in (entries + [extra], entries + [extra, older], entries[1:] + [extra],
                 entries[1:5] + [redated] + entries[6:], entries[1:]):
        stats = write_search_index(step, out, cache)
        assert stats.incremental and stats.docs_tokenized <= 2
        assert files_of(out) == clean_files(step, tmp_path)
    assert stats.docs == 119 and not (out / "d/0/119.js").exists()


def clean_files(entries, tmp_path: Path) -> dict[str, bytes]:
    import shutil

    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    write_search_index(entries, clean)
    return files_of(clean)


class Archive:
    """Entries with digests, synced the way a build does it."""

    def __init__(self, entries, root: Path) -> None:
        self.entries = {e.id: e for e in entries}
        self.out, self.cache, self.root = root / "out", root / "cache", root
        self.loaded: list[str] = []

    def docs(self):
        return sorted((i, search._entry_hash(e)) for i, e in self.entries.items())

    def load(self, id_):
        self.loaded.append(id_)
        return self.entries[id_]

    def sync(self, fresh=(), **kwargs):
        self.loaded = []
        before = files_of(self.out) if self.out.exists() else {}
        stats = search.sync_index(self.docs(), {i: self.entries[i] for i in fresh},
                                  self.out, self.cache, self.load, **kwargs)
        after = files_of(self.out)
        assert after == clean_files(list(self.entries.values()), self.root)
        assert set(stats.files) == set(after)
        assert {k for k in after if before.get(k) != after[k]} <= set(stats.changed)
        return stats

    def edit(self, id_, **changes):
        self.entries[id_] = replace(self.entries[id_], **changes)
        return id_


def test_sync_index_needs_entries_of_changed_documents_only(tmp_path):
    archive = Archive(synthetic(80), tmp_path)
    first = archive.sync()
    assert not first.incremental and len(archive.loaded) == 80
    ids = sorted(archive.entries)
    assert archive.sync().changed == () and archive.loaded == []
    edited = archive.edit(ids[3], text="全新的内容：鑫淼")
    stats = archive.sync()
    assert archive.loaded == [edited] and stats.docs_tokenized == 1
    assert IndexReader(archive.out).search("鑫淼") == [archive.entries[edited].url]
    edited = archive.edit(ids[4], text="另一个新内容")
    stats = archive.sync(fresh=[edited, ids[5]])  # unchanged fresh entries are ignored
    assert archive.loaded == [] and stats.docs_tokenized == 1
    assert len(stats.changed) <= 12


def test_consume_frees_fresh_entries_as_a_rebuild_indexes_them(tmp_path):
    entries = synthetic(30)
    fresh = {e.id: search.index_entry(e) for e in entries}
    docs = sorted((e.id, search._entry_hash(e)) for e in entries)
    search.sync_index(docs, fresh, tmp_path / "out", tmp_path / "cache", print, consume=True)
    assert fresh == {}
    assert files_of(tmp_path / "out") == clean_files(entries, tmp_path)


def test_sync_index_random_edits_adds_and_removals(tmp_path):
    import random

    rng = random.Random(4)
    pool = synthetic(160, seed=9)
    archive = Archive(pool[:70], tmp_path)
    spare = pool[70:]
    archive.sync()
    for _ in range(30):
        ids = sorted(archive.entries)
        op = rng.choice(["text", "text", "title", "date", "failing", "add", "remove", "many"])
        if op == "text":
            archive.edit(rng.choice(ids), text=rng.choice(pool).text[:rng.randint(0, 200)])
        elif op == "title":
            archive.edit(rng.choice(ids), title="新标题" + str(rng.random()))
        elif op == "date":
            archive.edit(rng.choice(ids), published=f"20{rng.randint(10, 30)}-0{rng.randint(1, 9)}-11")
        elif op == "failing":
            i = rng.choice(ids)
            archive.edit(i, failing=not archive.entries[i].failing)
        elif op == "add":
            for entry in [spare.pop() for _ in range(rng.randint(1, 20)) if spare]:
                archive.entries[entry.id] = entry
        elif op == "remove":
            for i in rng.sample(ids, min(len(ids) - 1, rng.randint(1, 20))):
                del archive.entries[i]
        else:
            for i in rng.sample(ids, len(ids) // 2):
                archive.edit(i, published=f"20{rng.randint(10, 30)}-0{rng.randint(1, 9)}-12")
        stats = archive.sync(fresh=[i for i in archive.entries if rng.random() < 0.3])
        assert stats.incremental and stats.docs == len(archive.entries)


def test_shard_count_follows_the_archive_both_ways(tmp_path):
    entries = synthetic(200)
    archive = Archive(entries[:190], tmp_path)
    assert archive.sync().shards == 8
    archive.entries.update((e.id, e) for e in entries[190:])
    assert archive.sync().shards == 16
    for e in entries[150:]:
        del archive.entries[e.id]
    stats = archive.sync()
    assert stats.shards == 8 and stats.incremental


def test_indexed_entries_give_the_same_index(tmp_path):
    entries = synthetic(40)
    write_search_index([search.index_entry(e) for e in entries], tmp_path / "a")
    write_search_index(entries, tmp_path / "b")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    for entry in entries + fixture_entries():
        assert search.index_entry(entry).terms() == search.doc_terms(entry)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("政府信息公开領導〇豈𠀀𠀁\U0002f800 ab1Ｇ,，\n")), max_size=40),
       st.text(alphabet=st.sampled_from(list("政府〇豈𠀀a1 ")), max_size=8))
def test_term_codes_stand_for_the_same_terms(text, title):
    entry = replace(fixture_entries()[0], title=title, agency="", text=text)
    indexed = search.index_entry(entry)
    assert indexed.terms() == search.doc_terms(entry)
    assert len(set(indexed.codes)) == len(indexed.codes)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("政府信息公开領導〇豈𠀀 ab1Ｇ,，\n")), max_size=30),
       st.text(alphabet=st.sampled_from(list("申请办理結果𠀁 b2\n")), max_size=30))
def test_a_shared_end_of_the_text_gives_the_same_terms(text, shared):
    """Table labels end many texts alike; working their terms out once (and
    the rest on its own) gives each document exactly its terms."""
    entry = replace(fixture_entries()[0], text=text + "\n" + shared)
    alone = search.index_entry(entry)
    both = search.index_entry(entry, shared)
    assert both.terms() == alone.terms() == search.doc_terms(entry)
    assert sorted(both.codes) == sorted(alone.codes) and sorted(both.words) == sorted(alone.words)
    assert search.index_entry(entry, "不在文中").terms() == alone.terms()  # not its end: ignored


@pytest.mark.parametrize("damage", ["no state", "bad state", "no postings", "bad postings",
                                    "edited doc file", "no index", "other version"])
def test_damaged_cache_falls_back_to_a_rebuild(tmp_path, damage):
    archive = Archive(synthetic(60), tmp_path)
    archive.sync()
    ids = sorted(archive.entries)
    edited = archive.edit(ids[7], text="改过的文字，另有新词汇鑫淼")
    kwargs = {}
    if damage == "no state":
        (archive.cache / "state.pickle").unlink()
    elif damage == "bad state":
        (archive.cache / "state.pickle").write_bytes(b"\x80\x05garbage")
    elif damage in ("no postings", "bad postings"):
        for path in (archive.cache / "postings").glob("*.pickle"):
            path.unlink() if damage == "no postings" else path.write_bytes(b"nonsense")
    elif damage == "edited doc file":
        target = next(p for p in (archive.out / "d").rglob("*.js")
                      if search.read_js(p)["u"] == archive.entries[edited].url)
        target.write_text("tampered", encoding="utf-8")
    elif damage == "no index":
        import shutil

        shutil.rmtree(archive.out)
    else:
        kwargs = {"version": "2"}
    stats = archive.sync(**kwargs)
    if damage == "edited doc file":  # its old terms are unknown: every list is checked
        assert stats.incremental and archive.loaded == [edited]
    else:
        assert not stats.incremental and sorted(archive.loaded) == ids


def test_a_run_killed_midway_leaves_no_state_and_the_next_one_rebuilds(tmp_path, monkeypatch):
    archive = Archive(synthetic(50), tmp_path)
    archive.sync()
    ids = sorted(archive.entries)
    archive.edit(ids[2], text="被打断的修改")
    archive.entries.pop(ids[9])

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(search, "_write_shard", killed)
        with pytest.raises(KeyboardInterrupt):
            archive.sync()
    assert not (archive.cache / "state.pickle").exists()
    stats = archive.sync()
    assert not stats.incremental and sorted(archive.loaded) == sorted(archive.entries)


def test_sync_index_checks_its_arguments(tmp_path):
    entry = synthetic(2)[0]
    with pytest.raises(ValueError, match="duplicate"):
        search.sync_index([("a", "1"), ("a", "1")], {}, tmp_path / "o", tmp_path / "c", print)
    with pytest.raises(ValueError, match="sorted"):
        search.sync_index([("b", "1"), ("a", "1")], {}, tmp_path / "o", tmp_path / "c", print)
    with pytest.raises(ValueError, match="not among"):
        search.sync_index([], {entry.id: entry}, tmp_path / "o", tmp_path / "c", print)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), unique=True, min_size=1), st.data())
def test_renumbering_shifts_lists_like_a_lookup(old, data):
    old.sort()
    n = old[-1] + 1
    kept = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    inserted = data.draw(st.lists(st.integers(0, n), max_size=80))
    newpos, p = [], 0
    for o in range(n):  # a monotone map with gaps (inserts) and drops (removals)
        p += inserted.count(o)
        newpos.append(p if kept[o] else None)
        p += kept[o]
    plist = search.array("I", old)
    expected = [newpos[o] for o in old if newpos[o] is not None]
    renumbering = search._Renumbering(newpos)
    got = renumbering.apply(plist)
    assert (list(got) if got is not None else old) == expected
    added = sorted(set(data.draw(st.lists(st.integers(0, p), max_size=5))) - set(expected))
    final = sorted(expected + added)
    if renumbering.runs is not None and final:  # bitmaps are moved as masks
        bitmap = search._bitmap(old)
        assert renumbering.bitmap(bitmap, added, search.array("I", final)) == \
            search.encode_postings(final)


def test_terms_match_the_plain_definition():
    import operator
    import re

    def plain(folded):
        han = re.sub(f"[^{search.HAN}]+", "\0", folded)
        out = set(map(operator.add, han, han[1:])) | set(han)
        return {t for t in out if "\0" not in t} | set(search.WORD_RE.findall(folded))

    for entry in fixture_entries() + synthetic(20):
        text = fold(entry.title + "\n" + entry.text)
        assert search.terms(text) == plain(text)


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
