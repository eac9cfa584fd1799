"""Full-text search for the archive: a static, sharded CJK bigram index.

Design (see ``docs/search.md`` for the long version):

* **Folding.** Text is folded code point by code point: ASCII/Latin/Greek/Cyrillic
  lowercase, full-width ASCII to half-width (U+3000 to space), CJK compatibility
  ideographs to their unified form, and OpenCC's ``t2s`` applied to single
  characters. The map is built from OpenCC at build time and shipped to the
  browser (``fold.js``), so queries are folded exactly like the index. Every
  mapping keeps the UTF-16 length, so positions in folded text are positions in
  the original text (used for highlighting).
* **Terms.** Runs of Han characters give every single character and every
  overlapping bigram (Lucene CJK style); runs of Latin letters and digits give
  whole words. Title and agency terms are also indexed with a ``^`` prefix and
  only serve ranking.
* **Postings** list document ordinals, encoded as gap varints or as a bitmap
  (whichever is shorter) in a URL-safe base64 alphabet. Terms are spread over
  ``p/<hex>.js`` shards by FNV-1a hash; a long posting list lives in its own file
  ``p/<hex>-<k>.js`` so a shard stays small and a query fetches only the lists
  it needs.
* **Documents** are numbered in the order (year, format, kind, level, region,
  failing, published, id), so every facet is a short run-length column in
  ``facets.js`` and sorting by year is ordinal order. Publication dates are in
  ``dates.js`` (loaded only to sort by date). Each document has a file
  ``d/<n//1000>/<n%1000>.js`` with its metadata and unfolded text: the client
  verifies phrase candidates against it and cuts the excerpt from it.
* **Files are JSONP**: ``__siteGenSearch("<key>", data)``, loaded by
  ``<script>`` injection, so the search works from ``file://`` too.
* **Incremental.** A cache keeps each document's source (keyed by its stable id)
  and the previous shards. When the set and order of documents are unchanged,
  only changed documents are re-tokenized and only the shards their old and new
  terms hash to are re-encoded. Files whose bytes did not change are never
  rewritten. Output depends only on the entries: sorted everything, no times.
"""
from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import re
import shutil
import tempfile
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT_VERSION = 1
CALLBACK = "__siteGenSearch"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BIG_POSTINGS = 600  # encoded chars; longer lists get a file of their own
DOCS_PER_DIR = 1000
TITLE_PREFIX = "^"
FACETS = ("year", "format", "kind", "level", "region", "failing")

HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
WORD = "0-9a-z\u00b5\u00df-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
TOKEN_RE = re.compile(f"([{HAN}]+)|([{WORD}]+)")
NON_HAN_RE = re.compile(f"[^{HAN}]+")
WORD_RE = re.compile(f"[{WORD}]+")
_HAN_RANGES = ((0x3007, 0x3008), (0x3400, 0x4DC0), (0x4E00, 0xA000),
               (0xF900, 0xFB00), (0x20000, 0x31350))


@dataclass(frozen=True)
class SearchEntry:
    id: str
    url: str
    title: str
    agency: str
    year: int
    published: str | None
    level: str | None
    kind: str | None
    region: str | None
    format: str | None
    failing: bool
    lang: str
    text: str


@dataclass(frozen=True)
class SearchStats:
    docs: int
    terms: int
    shards: int
    bytes: int
    files_written: int = 0
    docs_tokenized: int = 0
    incremental: bool = False
    files: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


# ---------------------------------------------------------------- folding


def _han_code_points() -> Iterator[int]:
    for lo, hi in _HAN_RANGES:
        yield from range(lo, hi)


def _t2s_chars() -> dict[int, int]:
    """OpenCC t2s applied to each Han character alone (one batch call)."""
    import opencc

    cps = list(_han_code_points())
    out = opencc.OpenCC("t2s").convert("\n".join(map(chr, cps))).split("\n")
    assert len(out) == len(cps)
    return {cp: ord(s) for cp, s in zip(cps, out) if len(s) == 1 and ord(s) != cp}


def _fold_step(cp: int, t2s: dict[int, int]) -> int:
    if 0xFF01 <= cp <= 0xFF5E:
        cp -= 0xFEE0
    elif cp == 0x3000:
        cp = 0x20
    elif 0xF900 <= cp <= 0xFAFF:
        nf = unicodedata.normalize("NFKC", chr(cp))
        cp = ord(nf) if len(nf) == 1 else cp
    cp = t2s.get(cp, cp)
    low = chr(cp).lower()
    return ord(low) if len(low) == 1 else cp


def _same_utf16_length(a: int, b: int) -> bool:
    return (a > 0xFFFF) == (b > 0xFFFF)


_FOLD_MAP: dict[int, int] | None = None


def fold_map() -> dict[int, int]:
    """Code point -> folded code point, for every code point that folds."""
    global _FOLD_MAP
    if _FOLD_MAP is None:
        _FOLD_MAP = _compute_fold_map()
    return _FOLD_MAP


def prime_fold_map(cache: Path) -> None:
    """Load the fold map from the cache, or compute and keep it there.

    Computing it walks every Han code point through OpenCC (a noticeable part
    of a one-report rebuild); the cached copy is keyed by OpenCC's version.
    """
    global _FOLD_MAP
    if _FOLD_MAP is not None:
        return
    try:
        from importlib.metadata import version
        opencc_version = version("opencc")
    except Exception:  # noqa: BLE001 - any failure just means no cache
        opencc_version = "unknown"
    path = Path(cache) / f"fold-{FORMAT_VERSION}-{opencc_version}.json"
    try:
        _FOLD_MAP = {int(k): v for k, v in json.loads(path.read_text("utf-8")).items()}
        return
    except (OSError, ValueError, AttributeError):
        pass
    _FOLD_MAP = _compute_fold_map()
    write_if_changed(path, json.dumps(_FOLD_MAP, sort_keys=True).encode("utf-8"))


def _compute_fold_map() -> dict[int, int]:
    t2s = _t2s_chars()
    candidates = [*range(0x41, 0x5B), *range(0xC0, 0x530), 0x3000,
                  *range(0xFF01, 0xFF5F), *_han_code_points()]
    result = {}
    for cp in candidates:
        folded = cp
        for _ in range(4):  # reach a fixpoint: fold(fold(c)) == fold(c)
            folded = _fold_step(folded, t2s)
        if folded != cp and _same_utf16_length(cp, folded):
            result[cp] = folded
    return result


@functools.cache
def _fold_table() -> list[int]:
    table = list(range(max(fold_map()) + 1))
    for src, dst in fold_map().items():
        table[src] = dst
    return table


def fold(text: str) -> str:
    """Fold script, width and case, one code point at a time."""
    return text.translate(_fold_table())  # code points past the table stay


def fold_map_js() -> str:
    """The fold map as one string of (from, to) pairs, sorted."""
    return "".join(chr(a) + chr(b) for a, b in sorted(fold_map().items()))


# ---------------------------------------------------------------- terms


def terms(folded: str) -> set[str]:
    """Index terms of folded text: Han chars and bigrams, Latin/number words."""
    han = NON_HAN_RE.sub("\0", folded)
    out = set(map(operator.add, han, han[1:]))
    out.update(han)
    out = {t for t in out if "\0" not in t}
    out.update(WORD_RE.findall(folded))
    return out


def query_tokens(word: str) -> list[str]:
    """Terms a folded query word needs: covering bigrams, single chars, words."""
    tokens: list[str] = []
    for match in TOKEN_RE.finditer(word):
        han = match.group(1)
        if not han:
            tokens.append(match.group(2))
        elif len(han) <= 2:
            tokens.append(han)
        else:
            starts = list(range(0, len(han) - 1, 2))
            if len(han) % 2:
                starts.append(len(han) - 2)
            tokens.extend(han[i:i + 2] for i in starts)
    return tokens


def query_words(query: str) -> list[str]:
    """Folded, whitespace-separated query words that contain indexable text."""
    words = fold(query).split()
    return sorted({w for w in words if query_tokens(w)}, key=words.index)


def is_exact(word: str) -> bool:
    """True when the postings alone decide a match (no text verification)."""
    match = TOKEN_RE.fullmatch(word)
    return bool(match) and (match.group(2) is not None or len(word) <= 2)


def doc_terms(entry: SearchEntry) -> set[str]:
    body = terms(fold("\n".join((entry.title, entry.agency, entry.text))))
    title = terms(fold(entry.title + "\n" + entry.agency))
    return body | {TITLE_PREFIX + t for t in title}


def base_term(term: str) -> str:
    return term[1:] if term.startswith(TITLE_PREFIX) else term


def fnv1a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def shard_count(docs: int) -> int:
    """Shards grow with the archive: a power of two, about one per 24 docs."""
    n = 8
    while n * 24 < docs and n < 16384:
        n *= 2
    return n


def shard_of(term: str, shards: int) -> int:
    return fnv1a(base_term(term)) & (shards - 1)


def shard_name(shard: int, shards: int) -> str:
    return format(shard, "0%dx" % len(format(shards - 1, "x")))


# ---------------------------------------------------------------- postings


def _varint(value: int) -> str:
    out = []
    while value >= 32:
        out.append(B64[32 | (value & 31)])
        value >>= 5
    out.append(B64[value])
    return "".join(out)


_SMALL = [_varint(v) for v in range(1024)]


def _varints(values: Iterable[int]) -> str:
    return "".join(_SMALL[v] if v < 1024 else _varint(v) for v in values)


def _gaps(ids: Sequence[int]) -> Iterator[int]:
    prev = -1
    for i in ids:
        yield i - prev - 1
        prev = i


def _bitmap(ids: Sequence[int]) -> str:
    bits = bytearray(ids[-1] // 6 + 1)
    for i in ids:
        bits[i // 6] |= 1 << (i % 6)
    return "~" + bits.translate(B64.encode().ljust(256, b"?")).decode()


def encode_postings(ids: Sequence[int]) -> str:
    """Sorted ordinals as gap varints, or '~' + bitmap when that is shorter."""
    if not ids:
        return ""
    bitmap_len = ids[-1] // 6 + 2
    if len(ids) >= bitmap_len:
        return _bitmap(ids)
    gaps = _varints(_gaps(ids))
    return gaps if len(gaps) <= bitmap_len else _bitmap(ids)


def _read_varints(text: str) -> Iterator[int]:
    value = shift = 0
    for ch in text:
        c = B64.index(ch)
        value |= (c & 31) << shift
        if c & 32:
            shift += 5
        else:
            yield value
            value = shift = 0


def decode_postings(text: str) -> list[int]:
    if text.startswith("~"):
        return [6 * k + b for k, ch in enumerate(text[1:])
                for b in range(6) if B64.index(ch) >> b & 1]
    ids, prev = [], -1
    for gap in _read_varints(text):
        prev += gap + 1
        ids.append(prev)
    return ids


# ---------------------------------------------------------------- files


def js_file(key: str, data: object) -> bytes:
    """A JSONP file: calls the loader with its own key and the data."""
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'{CALLBACK}({json.dumps(key)},{body});\n'.encode("utf-8")


def read_js(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    start = text.index(",", len(CALLBACK)) + 1
    return json.loads(text[start:text.rindex(");")])


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless the file already holds exactly these bytes."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def doc_key(ordinal: int) -> str:
    return f"d/{ordinal // DOCS_PER_DIR}/{ordinal % DOCS_PER_DIR}"


def shard_key(shard: int, shards: int, big: int | None = None) -> str:
    name = shard_name(shard, shards)
    return f"p/{name}" if big is None else f"p/{name}-{big}"


# ---------------------------------------------------------------- documents


def _order_key(meta: dict) -> tuple:
    return (meta["year"], *(meta[f] or "" for f in FACETS[1:5]),
            meta["failing"], meta["published"] or "", meta["id"])


def _entry_hash(entry: SearchEntry) -> str:
    raw = json.dumps(asdict(entry), ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _meta(entry: SearchEntry) -> dict:
    data = asdict(entry)
    del data["text"]
    return data


def _doc_payload(entry: SearchEntry) -> dict:
    return {"u": entry.url, "t": entry.title, "a": entry.agency, "y": entry.year,
            "p": entry.published, "l": entry.level, "k": entry.kind,
            "r": entry.region, "f": entry.format, "x": int(entry.failing),
            "g": entry.lang, "b": entry.text}


def _entry_from_payload(id_: str, data: dict) -> SearchEntry:
    return SearchEntry(id=id_, url=data["u"], title=data["t"], agency=data["a"],
                       year=data["y"], published=data["p"], level=data["l"],
                       kind=data["k"], region=data["r"], format=data["f"],
                       failing=bool(data["x"]), lang=data["g"], text=data["b"])


class _SourceStore:
    """Each entry as JSON under the cache, keyed by a hash of its stable id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, id_: str) -> Path:
        h = hashlib.sha1(id_.encode("utf-8")).hexdigest()
        return self.root / h[:2] / f"{h}.json"

    def load(self, id_: str) -> tuple[str, SearchEntry] | None:
        try:
            data = json.loads(self.path(id_).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data["hash"], _entry_from_payload(id_, data["doc"])

    def save(self, entry: SearchEntry, digest: str) -> None:
        data = {"hash": digest, "doc": _doc_payload(entry)}
        write_if_changed(self.path(entry.id),
                         json.dumps(data, ensure_ascii=False, sort_keys=True).encode())


# ---------------------------------------------------------------- facets


def _facet_value(meta: dict, field: str) -> object:
    value = meta[field]
    return int(value) if field == "failing" else value


def _run_column(metas: Sequence[dict], field: str, values: list) -> str:
    """(run length - 1, value index + 1) pairs; index 0 means no value."""
    index = {v: i + 1 for i, v in enumerate(values)}
    pairs: list[int] = []
    for meta in metas:
        code = index.get(_facet_value(meta, field), 0)
        if pairs and pairs[-1] == code:
            pairs[-2] += 1
        else:
            pairs += [0, code]
    return _varints(pairs)


def _facets_data(metas: Sequence[dict], shards: int) -> dict:
    fields, runs = {}, {}
    for field in FACETS:
        present = {_facet_value(m, field) for m in metas} - {None}
        fields[field] = sorted(present, key=lambda v: (str(type(v)), v))
        runs[field] = _run_column(metas, field, fields[field])
    return {"version": FORMAT_VERSION, "docs": len(metas), "shards": shards,
            "bucket": DOCS_PER_DIR, "values": fields, "runs": runs}


def _day_number(iso: str | None) -> int:
    if not iso:
        return 0
    from datetime import date

    try:
        return date.fromisoformat(iso[:10]).toordinal() - 719162  # days since 1970
    except ValueError:
        return 0


def _dates_data(metas: Sequence[dict]) -> str:
    """Publication days since 1970 (+1; 0 = unknown), zigzag-delta varints."""
    out, prev = [], 0
    for meta in metas:
        day = _day_number(meta["published"]) + (1 if meta["published"] else 0)
        delta = day - prev
        out.append(delta * 2 if delta >= 0 else -delta * 2 - 1)
        prev = day
    return _varints(out)


# ---------------------------------------------------------------- shards


def _encode_shard(postings: dict[str, Sequence[int]]) -> tuple[dict, list[str]]:
    """Shard object plus the long lists stored outside it (referenced '@k')."""
    inline, big = {}, []
    for term in sorted(postings):
        if not postings[term]:
            continue
        enc = encode_postings(postings[term])
        if len(enc) > BIG_POSTINGS:
            inline[term] = f"@{len(big)}"
            big.append(enc)
        else:
            inline[term] = enc
    return inline, big


def _shard_files(shard: int, shards: int, postings: dict) -> dict[str, bytes]:
    inline, big = _encode_shard(postings)
    key = shard_key(shard, shards)
    files = {key + ".js": js_file(key, inline)}
    for k, enc in enumerate(big):
        bkey = shard_key(shard, shards, k)
        files[bkey + ".js"] = js_file(bkey, enc)
    return files


def _read_shard(root: Path, shard: int, shards: int) -> dict[str, list[int]]:
    path = root / (shard_key(shard, shards) + ".js")
    if not path.exists():
        return {}
    out = {}
    for term, enc in read_js(path).items():
        if enc.startswith("@"):
            enc = read_js(root / (shard_key(shard, shards, int(enc[1:])) + ".js"))
        out[term] = decode_postings(enc)
    return out


# ---------------------------------------------------------------- building


class _Writer:
    """Writes files under the output (and the cache mirror), counting changes."""

    def __init__(self, out_dir: Path, mirror: Path | None) -> None:
        self.out_dir, self.mirror = out_dir, mirror
        self.written = 0
        self.bytes = 0
        self.keep: set[str] = set()
        self.changed: set[str] = set()

    def put(self, rel: str, data: bytes, *, mirror: bool = False) -> None:
        self.keep.add(rel)
        self.bytes += len(data)
        if write_if_changed(self.out_dir / rel, data):
            self.written += 1
            self.changed.add(rel)
        if mirror and self.mirror is not None:
            write_if_changed(self.mirror / rel, data)

    def prune(self, root: Path, subdirs: Sequence[str]) -> None:
        """Delete files under our subdirs that this build did not produce."""
        for sub in subdirs:
            for path in sorted((root / sub).rglob("*")):
                rel = path.relative_to(root).as_posix()
                if path.is_file() and rel not in self.keep:
                    path.unlink()


def _scan(entries: Iterable[SearchEntry], store: _SourceStore,
          hashes: dict[str, str]) -> tuple[list[dict], dict]:
    """Stream entries into the source store; return metadata and old versions.

    Only entries whose hash differs from the last build are read back or written.
    """
    metas, changed = [], {}
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"duplicate search entry id `{entry.id}`")
        seen.add(entry.id)
        digest = _entry_hash(entry)
        if hashes.get(entry.id) != digest:
            old = store.load(entry.id)
            changed[entry.id] = old[1] if old else None
            store.save(entry, digest)
        metas.append({**_meta(entry), "hash": digest})
    metas.sort(key=_order_key)
    return metas, changed


def _order_signature(metas: Sequence[dict]) -> str:
    keys = json.dumps([_order_key(m) for m in metas], ensure_ascii=False)
    return hashlib.sha1(keys.encode("utf-8")).hexdigest()


def _index_docs(metas: Sequence[dict], store: _SourceStore,
                writer: _Writer) -> dict[str, array]:
    """Write every document file and collect the postings of every term."""
    postings: dict[str, array] = {}
    for ordinal, meta in enumerate(metas):
        entry = store.load(meta["id"])[1]
        writer.put(doc_key(ordinal) + ".js", js_file(doc_key(ordinal), _doc_payload(entry)))
        for term in doc_terms(entry):
            plist = postings.get(term)
            if plist is None:
                plist = postings[term] = array("I")
            plist.append(ordinal)
    return postings


def _write_all_shards(postings: dict[str, array], shards: int, writer: _Writer) -> int:
    by_shard: dict[int, dict[str, array]] = {}
    for term, plist in postings.items():
        by_shard.setdefault(shard_of(term, shards), {})[term] = plist
    for shard in sorted(by_shard):
        for rel, data in _shard_files(shard, shards, by_shard[shard]).items():
            writer.put(rel, data, mirror=True)
    return len(postings)


def _patch_shards(metas, changed, store, shards, writer, mirror: Path) -> int:
    """Re-encode only the shards touched by the changed documents."""
    ordinal = {m["id"]: i for i, m in enumerate(metas)}
    delta: dict[int, list[tuple[str, int, bool]]] = {}
    for id_, old in sorted(changed.items()):
        before = doc_terms(old) if old else set()
        after = doc_terms(store.load(id_)[1])
        for term in before ^ after:
            delta.setdefault(shard_of(term, shards), []).append(
                (term, ordinal[id_], term in after))
    touched = set()
    for shard, edits in sorted(delta.items()):
        postings = _read_shard(mirror, shard, shards)
        for term, n, add in edits:
            ids = set(postings.get(term, ()))
            ids.add(n) if add else ids.discard(n)
            postings[term] = sorted(ids)
        for rel, data in _shard_files(shard, shards, postings).items():
            writer.put(rel, data, mirror=True)
            touched.add(rel)
    _copy_untouched(mirror, writer, touched)
    return len(delta)


def _copy_untouched(mirror: Path, writer: _Writer, touched: set[str]) -> None:
    for path in sorted((mirror / "p").rglob("*.js")):
        rel = path.relative_to(mirror).as_posix()
        if rel not in touched and rel not in writer.keep:
            writer.put(rel, path.read_bytes())


def _count_terms(mirror: Path) -> int:
    return sum(len(read_js(p)) for p in (mirror / "p").glob("*.js") if "-" not in p.name)


def _update_docs(metas: Sequence[dict], store: _SourceStore, writer: _Writer,
                 changed: dict) -> None:
    """Rewrite changed document files; unchanged ones only if missing."""
    for n, meta in enumerate(metas):
        rel = doc_key(n) + ".js"
        if meta["id"] not in changed and (writer.out_dir / rel).is_file():
            writer.keep.add(rel)
            writer.bytes += (writer.out_dir / rel).stat().st_size
            continue
        entry = store.load(meta["id"])[1]
        writer.put(rel, js_file(doc_key(n), _doc_payload(entry)))


def _write_globals(metas: Sequence[dict], shards: int, writer: _Writer) -> None:
    writer.put("facets.js", js_file("facets", _facets_data(metas, shards)))
    writer.put("dates.js", js_file("dates", _dates_data(metas)))
    writer.put("fold.js", js_file("fold", fold_map_js()))


def _load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def write_search_index(entries: Iterable[SearchEntry], out_dir: Path,
                       cache_dir: Path | None = None) -> SearchStats:
    """Write the search index for ``entries`` into ``out_dir``.

    With ``cache_dir``, a later call re-tokenizes only entries that changed.
    Files in ``out_dir`` whose bytes do not change are left alone; the stats
    list every index file and the ones written.
    """
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(cache_dir) if cache_dir else Path(tmp)
        return _build(entries, Path(out_dir), cache)


def cached_entry(cache_dir: Path, id_: str) -> SearchEntry | None:
    """The entry last indexed under ``id_``, from the cache (None if absent)."""
    found = _SourceStore(Path(cache_dir) / "docs").load(id_)
    return found[1] if found else None


def _build(entries: Iterable[SearchEntry], out_dir: Path, cache: Path) -> SearchStats:
    prime_fold_map(cache)
    store, mirror = _SourceStore(cache / "docs"), cache / "index"
    state_path = cache / "state.json"
    state = _load_state(state_path)
    # The cache is about to change; until this build finishes, no state means
    # "rebuild from scratch", so a build killed midway never leaves a state
    # that disagrees with the cached documents.
    state_path.unlink(missing_ok=True)
    hashes = state.get("hashes", {}) if state.get("version") == FORMAT_VERSION else {}
    metas, changed = _scan(entries, store, hashes)
    shards = shard_count(len(metas))
    signature = _order_signature(metas)
    writer = _Writer(out_dir, mirror)
    incremental = (state.get("version") == FORMAT_VERSION
                   and state.get("signature") == signature
                   and state.get("shards") == shards and (mirror / "p").is_dir())
    if incremental:
        _patch_shards(metas, changed, store, shards, writer, mirror)
        _update_docs(metas, store, writer, changed)
        n_terms = state["terms"]
    else:
        shutil.rmtree(mirror / "p", ignore_errors=True)
        n_terms = _write_all_shards(_index_docs(metas, store, writer), shards, writer)
    _write_globals(metas, shards, writer)
    writer.prune(out_dir, ("p", "d"))
    _prune_store(store, {m["id"] for m in metas})
    n_terms = _count_terms(mirror) if incremental and changed else n_terms
    state = {"version": FORMAT_VERSION, "signature": signature, "shards": shards,
             "terms": n_terms, "hashes": {m["id"]: m["hash"] for m in metas}}
    write_if_changed(state_path, json.dumps(state, sort_keys=True).encode())
    return SearchStats(docs=len(metas), terms=n_terms, shards=shards,
                       bytes=writer.bytes, files_written=writer.written,
                       docs_tokenized=len(changed) if incremental else len(metas),
                       incremental=incremental, files=tuple(sorted(writer.keep)),
                       changed=tuple(sorted(writer.changed)))


def _prune_store(store: _SourceStore, ids: set[str]) -> None:
    keep = {store.path(i) for i in ids}
    for path in store.root.rglob("*.json"):
        if path not in keep:
            path.unlink()


# ---------------------------------------------------------------- reading


class IndexReader:
    """Evaluates queries on a written index the way ``search.js`` does.

    Used by tests and the benchmark; also reports which files a query loads.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.facets = read_js(self.root / "facets.js")
        self.loaded: list[str] = ["facets.js"]

    def _load(self, rel: str) -> object:
        if rel not in self.loaded:
            self.loaded.append(rel)
        return read_js(self.root / rel)

    def postings(self, term: str) -> list[int]:
        shards = self.facets["shards"]
        shard = shard_of(term, shards)
        enc = self._load(shard_key(shard, shards) + ".js").get(term)
        if enc is None:
            return []
        if enc.startswith("@"):
            enc = self._load(shard_key(shard, shards, int(enc[1:])) + ".js")
        return decode_postings(enc)

    def doc(self, ordinal: int) -> dict:
        return self._load(doc_key(ordinal) + ".js")

    def candidates(self, words: Sequence[str]) -> list[int]:
        result: set[int] | None = None
        for word in words:
            for token in query_tokens(word):
                ids = set(self.postings(token))
                result = ids if result is None else result & ids
                if not result:
                    return []
        return sorted(result or ())

    def search(self, query: str) -> list[str]:
        """URLs of documents matching every word of ``query`` (verified)."""
        if query.strip():
            self.loaded.append("fold.js")
        words = query_words(query)
        if not words:
            return []
        found = []
        for n in self.candidates(words):
            doc = self.doc(n)
            hay = fold("\n".join((doc["t"], doc["a"], doc["b"])))
            if all(is_exact(w) or contains_word(hay, w) for w in words):
                found.append(doc["u"])
        return sorted(found)


def _is_word_char(ch: str) -> bool:
    return bool(ch) and bool(re.fullmatch(f"[{WORD}]", ch))


def contains_word(hay: str, word: str) -> bool:
    """``word`` occurs in ``hay``, not glued to Latin letters or digits."""
    start = hay.find(word)
    while start >= 0:
        before = hay[start - 1] if start else ""
        after = hay[start + len(word):start + len(word) + 1]
        if not ((_is_word_char(word[0]) and _is_word_char(before))
                or (_is_word_char(word[-1]) and _is_word_char(after))):
            return True
        start = hay.find(word, start + 1)
    return False
