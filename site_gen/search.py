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
* **Incremental.** ``sync_index`` takes every document as (id, digest) and
  only the entries of documents whose digest changed. The cache keeps each
  shard's posting lists (as arrays of document numbers) and, per document, its
  digest, metadata and the hash of its published file. An edit that keeps the
  numbering moves the document's number between the lists of the terms it
  gained or lost, and rewrites only those shards and its own file. Adding,
  removing or reordering documents maps every list to the new numbers and
  moves document files, without tokenizing unchanged documents again. Files
  whose bytes did not change are never rewritten. Output depends only on the
  entries: sorted everything, no times.
"""
from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import pickle
import re
import shutil
import sys
import tempfile
import unicodedata
from array import array
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, groupby
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
    path = Path(cache) / f"fold-{FORMAT_VERSION}-{_opencc_version()}.txt"
    try:  # "<pairs>\n" + the pairs of fold_map_js
        count, pairs = path.read_text("utf-8").split("\n", 1)
        if int(count) == len(pairs) // 2 and len(pairs) % 2 == 0:
            _FOLD_MAP = dict(zip(map(ord, pairs[0::2]), map(ord, pairs[1::2])))
            return
    except (OSError, ValueError):
        pass
    _FOLD_MAP = _compute_fold_map()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{len(_FOLD_MAP)}\n{fold_map_js()}", "utf-8")
    os.replace(tmp, path)


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
    """Index terms of folded text: Han chars and bigrams, Latin/number words.

    Report prose repeats its phrases, so each distinct run is expanded once.
    """
    out: set[str] = set()
    add, update = out.add, out.update
    for han, word in set(TOKEN_RE.findall(folded)):
        if word:
            add(word)
        else:
            update(han)
            if len(han) > 1:
                update(map(operator.add, han, han[1:]))
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


def _text_terms(title: str, agency: str, text: str) -> set[str]:
    out = terms(fold("\n".join((title, agency, text))))
    out.update([TITLE_PREFIX + t for t in terms(fold(title + "\n" + agency))])
    return out


def doc_terms(entry: SearchEntry) -> set[str]:
    """Every term of a document: its text's, and its title's with ``^``."""
    return _text_terms(entry.title, entry.agency, entry.text)


# Han terms as numbers. Terms travel from a build's workers to the process
# that merges them, and are merged, as 4-byte codes: cheaper to send and to
# look up than strings. The Han characters of the Basic Multilingual Plane are
# numbered 1..28097; a character's code is its number a, a pair's is
# a | b << 16, and a title term sets bit 31. Translating a text to numbers and
# reading its UTF-16 bytes as arrays gives every character and pair at once.
# Other terms (Latin words, numbers, Han beyond the BMP) stay strings.

_SEP = 0x7FFF  # a number no character has: separates runs
_TITLE_BIT = 1 << 31
_CODES_OK = sys.byteorder == "little" and array("H").itemsize == 2 and array("I").itemsize == 4
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


@functools.cache
def _han_numbers() -> tuple[list[int], list[int]]:
    """(translate table: code point -> number, or _SEP for a newline;
    number -> code point)."""
    chars = [cp for lo, hi in _HAN_RANGES if hi <= 0x10000 for cp in range(lo, hi)]
    assert len(chars) < _SEP
    table = list(range(0x10000))
    for number, cp in enumerate(chars, 1):
        table[cp] = number
    table[ord("\n")] = _SEP
    return table, [0, *chars]


def _coded(folded: str) -> tuple[set[int], set[str]]:
    """The terms of folded text as codes, and the terms that have none."""
    runs, words = set(), set()
    for han, word in set(TOKEN_RE.findall(folded)):
        (runs.add(han) if han else words.add(word))
    if _ASTRAL_RE.search(folded):
        astral = {r for r in runs if _ASTRAL_RE.search(r)}
        runs -= astral
        words |= terms("\n".join(astral))
    data = "\n".join(runs).translate(_han_numbers()[0]).encode("utf-16-le")
    codes = set(array("H", data))
    codes.update(array("I", data[:len(data) // 4 * 4]))
    codes.update(array("I", data[2:2 + (len(data) - 2) // 4 * 4]))
    return {c for c in codes if c & 0xFFFF != _SEP and c >> 16 != _SEP}, words


def _code_term(code: int) -> str:
    chars = _han_numbers()[1]
    term = chr(chars[code & 0xFFFF])
    if code & 0x7FFF0000:
        term += chr(chars[code >> 16 & 0x7FFF])
    return TITLE_PREFIX + term if code & _TITLE_BIT else term


@functools.lru_cache(maxsize=64)
def _shared_coded(shared: str) -> tuple[frozenset[int], frozenset[str]]:
    """The terms of a text many documents end with, as `_coded` gives them
    (keyed by the text as given: folding it is part of the work saved)."""
    codes, words = _coded(fold(shared))
    return frozenset(codes), frozenset(words)


def _coded_terms(title: str, agency: str, text: str, shared: str = "") -> tuple[array, list[str]]:
    """_text_terms as codes (an array) and the strings that have none.

    `shared` is text that ends `text` (after a line break) and ends many
    documents' texts alike (a format's table labels): its terms are worked
    out once.  Terms never span a line break, so the terms of the whole text
    are those of its two parts together.
    """
    if shared and text.endswith("\n" + shared):
        codes, words = _coded(fold("\n".join((title, agency, text[:-len(shared) - 1]))))
        shared_codes, shared_words = _shared_coded(shared)
        codes |= shared_codes
        words |= shared_words
    else:
        codes, words = _coded(fold("\n".join((title, agency, text))))
    head_codes, head_words = _coded(fold(title + "\n" + agency))
    codes.update([c | _TITLE_BIT for c in head_codes])
    words.update([TITLE_PREFIX + w for w in head_words])
    return array("I", codes), list(words)


@dataclass(frozen=True)
class IndexedEntry:
    """A search entry with its terms, computed where the entry was made.

    A build makes these in its worker processes (``index_entry``), so the
    process that writes the index only merges terms into postings. Small to
    pickle: most terms are 4-byte codes.
    """
    entry: SearchEntry
    codes: array        # terms with a code (see _coded)
    words: list[str]    # the other terms

    def terms(self) -> set[str]:
        """The same set as ``doc_terms(self.entry)``."""
        return set(map(_code_term, self.codes)).union(self.words)


def index_entry(entry: SearchEntry, shared: str = "") -> IndexedEntry:
    """``entry`` with its terms (the per-document part of indexing); `shared`
    is a common end of many entries' texts (see ``_coded_terms``).

    Needs the fold map: call ``prime_fold_map`` before forking workers.
    """
    if not _CODES_OK:
        return IndexedEntry(entry, array("I"), list(doc_terms(entry)))
    return IndexedEntry(entry, *_coded_terms(entry.title, entry.agency, entry.text, shared))


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
# _GAPS[d] encodes the gap d - 1 between a document number and the one before
# it (d >= 1); grown on demand, so encoding a list is a join of table lookups.
_GAPS = [""] + _SMALL
_GAPS_LIMIT = 1 << 20
_B64_BYTES = bytes.maketrans(bytes(range(64)), B64.encode("ascii"))


def _varints(values: Iterable[int]) -> str:
    return "".join(_SMALL[v] if v < 1024 else _varint(v) for v in values)


def _gap_string(ids: Sequence[int]) -> str:
    diffs = list(map(operator.sub, ids, chain((-1,), ids)))
    top = max(diffs)
    if top >= len(_GAPS):
        if top >= _GAPS_LIMIT:
            return "".join(_varint(d - 1) for d in diffs)
        _GAPS.extend(_varint(d - 1) for d in range(len(_GAPS), top + 1))
    return "".join(map(_GAPS.__getitem__, diffs))


def _bitmap(ids: Sequence[int]) -> str:
    """'~' + 6 document bits per character (bit b of char k = doc 6k + b)."""
    length = ids[-1] // 6 + 1
    mask = bytearray(6 * length)
    for i in ids:  # a plain loop is the fastest way to scatter in Python
        mask[i] = 1
    return _mask_bitmap(mask, length)


def _mask_bitmap(mask: bytearray, length: int) -> str:
    """The bitmap of a mask (one 0/1 byte per document), ``length`` chars."""
    value = 0
    for bit in range(6):  # interleave six 0/1 byte strings into 6-bit values
        value |= int.from_bytes(mask[bit:6 * length:6], "little") << bit
    return "~" + value.to_bytes(length, "little").translate(_B64_BYTES).decode("ascii")


_BIT_TABLES = [bytes.maketrans(B64.encode("ascii"), bytes((v >> bit) & 1 for v in range(64)))
               for bit in range(6)]


def _bitmap_mask(enc: str) -> bytearray:
    """The mask (one 0/1 byte per document) of a bitmap encoding."""
    chars = enc[1:].encode("ascii")
    mask = bytearray(6 * len(chars))
    for bit, table in enumerate(_BIT_TABLES):
        mask[bit::6] = chars.translate(table)
    return mask


def encode_postings(ids: Sequence[int]) -> str:
    """Sorted ordinals as gap varints, or '~' + bitmap when that is shorter."""
    if not ids:
        return ""
    bitmap_len = ids[-1] // 6 + 2
    if len(ids) >= bitmap_len:
        return _bitmap(ids)
    gaps = _gap_string(ids)
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


def _json_body(data: object) -> bytes:
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


def _js_prefix(key: str) -> bytes:
    return f"{CALLBACK}({json.dumps(key)},".encode("utf-8")


def js_file(key: str, data: object) -> bytes:
    """A JSONP file: calls the loader with its own key and the data."""
    return _js_prefix(key) + _json_body(data) + b");\n"


def read_js(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    start = text.index(",", len(CALLBACK)) + 1
    return json.loads(text[start:text.rindex(");")])


def write_if_changed(path: Path | str, data: bytes) -> bool:
    """Write unless the file already holds exactly these bytes.

    An existing file is replaced by a rename, never in place (the build
    hard-links index files into the output). A new file is written directly:
    nothing links to it yet, and a torn write is only possible in a run that
    never records its state, so the next run compares and replaces it.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        try:
            handle = open(path, "wb")
        except FileNotFoundError:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "wb")
        with handle:
            handle.write(data)
        return True
    if st.st_size == len(data):
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True


def doc_key(ordinal: int) -> str:
    return f"d/{ordinal // DOCS_PER_DIR}/{ordinal % DOCS_PER_DIR}"


def shard_key(shard: int, shards: int, big: int | None = None) -> str:
    name = shard_name(shard, shards)
    return f"p/{name}" if big is None else f"p/{name}-{big}"


# ---------------------------------------------------------------- documents

# A document's metadata as the index keeps it: the facets, then the date.
# (year, format, kind, level, region, failing, published)
Meta = tuple


def _meta(entry: SearchEntry) -> Meta:
    return (entry.year, entry.format, entry.kind, entry.level, entry.region,
            bool(entry.failing), entry.published)


def _order_key(meta: Meta, id_: str) -> tuple:
    """Documents are numbered by (year, format, kind, level, region, failing,
    published, id)."""
    return (meta[0], meta[1] or "", meta[2] or "", meta[3] or "", meta[4] or "",
            meta[5], meta[6] or "", id_)


def _entry_hash(entry: SearchEntry) -> str:
    raw = json.dumps([entry.id, entry.url, entry.title, entry.agency, entry.year,
                      entry.published, entry.level, entry.kind, entry.region, entry.format,
                      bool(entry.failing), entry.lang, entry.text], ensure_ascii=False)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _doc_payload(entry: SearchEntry) -> dict:
    return {"u": entry.url, "t": entry.title, "a": entry.agency, "y": entry.year,
            "p": entry.published, "l": entry.level, "k": entry.kind,
            "r": entry.region, "f": entry.format, "x": int(entry.failing),
            "g": entry.lang, "b": entry.text}


def _body_sum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=8).digest()


# ---------------------------------------------------------------- facets


def _run_column(codes: Sequence[int]) -> str:
    """(run length - 1, value index + 1) pairs; index 0 means no value."""
    pairs: list[int] = []
    for code, run in groupby(codes):
        pairs += [sum(1 for _ in run) - 1, code]
    return _varints(pairs)


def _facets_data(metas: _Metas, shards: int) -> dict:
    fields, runs = {}, {}
    for k, field in enumerate(FACETS):
        column = metas.column(k)
        if field == "failing":
            column = list(map(int, column))
        values = sorted(set(column) - {None}, key=lambda v: (str(type(v)), v))
        index = {v: i + 1 for i, v in enumerate(values)}
        fields[field] = values
        runs[field] = _run_column([index.get(v, 0) for v in column])
    return {"version": FORMAT_VERSION, "docs": len(metas), "shards": shards,
            "bucket": DOCS_PER_DIR, "values": fields, "runs": runs}


@functools.lru_cache(maxsize=1 << 16)
def _day_number(iso: str | None) -> int:
    if not iso:
        return 0
    from datetime import date

    try:
        return date.fromisoformat(iso[:10]).toordinal() - 719162  # days since 1970
    except ValueError:
        return 0


def _dates_data(metas: _Metas) -> str:
    """Publication days since 1970 (+1; 0 = unknown), zigzag-delta varints."""
    out, prev = [], 0
    for published in metas.column(6):
        day = _day_number(published) + (1 if published else 0)
        delta = day - prev
        out.append(delta * 2 if delta >= 0 else -delta * 2 - 1)
        prev = day
    return _varints(out)


class _Metas:
    """Documents' metadata by number, as seven columns of codes into tables
    of values (few distinct values: small to keep, fast to load)."""

    def __init__(self, columns: list[tuple[list, array]] | None = None) -> None:
        self.columns = columns if columns is not None else [([], array("I")) for _ in range(7)]
        self._index: list[dict] | None = None

    @classmethod
    def of(cls, metas: Sequence[Meta]) -> _Metas:
        columns = []
        for column in zip(*metas) if metas else [()] * 7:
            values = list(dict.fromkeys(column))
            index = {v: i for i, v in enumerate(values)}
            columns.append((values, array("I", map(index.__getitem__, column))))
        return cls(columns)

    def __len__(self) -> int:
        return len(self.columns[0][1])

    def __getitem__(self, n: int) -> Meta:
        return tuple(values[codes[n]] for values, codes in self.columns)

    def __setitem__(self, n: int, meta: Meta) -> None:
        if self._index is None:
            self._index = [{v: i for i, v in enumerate(values)} for values, _ in self.columns]
        for (values, codes), index, value in zip(self.columns, self._index, meta):
            code = index.get(value)
            if code is None:
                code = index[value] = len(values)
                values.append(value)
            codes[n] = code

    def column(self, k: int) -> list:
        values, codes = self.columns[k]
        return list(map(values.__getitem__, codes))

    def tuples(self) -> list[Meta]:
        return list(zip(*map(self.column, range(7))))

    def packed(self) -> list[tuple[list, array]]:
        return _Metas.of(self.tuples()).columns if self._index is not None else self.columns


# ---------------------------------------------------------------- shards


def _shard_files(shard: int, shards: int, encoded: dict[str, str]) -> dict[str, bytes]:
    """A shard's file and its long lists (files of their own, referenced '@k')."""
    inline, big = {}, []
    for term in sorted(encoded):
        enc = encoded[term]
        if len(enc) > BIG_POSTINGS:
            inline[term] = f"@{len(big)}"
            big.append(enc)
        else:
            inline[term] = enc
    key = shard_key(shard, shards)
    files = {key + ".js": js_file(key, inline)}
    for k, enc in enumerate(big):
        bkey = shard_key(shard, shards, k)
        files[bkey + ".js"] = js_file(bkey, enc)
    return files


class _Shard:
    """A shard's posting lists (arrays of document numbers) and their encodings."""

    __slots__ = ("postings", "encoded", "dirty")

    def __init__(self, postings: dict[str, array] | None = None,
                 encoded: dict[str, str] | None = None) -> None:
        self.postings = postings if postings is not None else {}
        self.encoded = encoded if encoded is not None else {}
        self.dirty: set[str] = set()

    def add(self, term: str, n: int) -> None:
        plist = self.postings.get(term)
        if plist is None:
            self.postings[term] = array("I", (n,))
        else:
            insort(plist, n)
        self.dirty.add(term)

    def discard(self, term: str, n: int) -> None:
        plist = self.postings.get(term)
        if plist is not None:
            i = bisect_left(plist, n)
            if i < len(plist) and plist[i] == n:
                del plist[i]
                self.dirty.add(term)

    def encode(self) -> None:
        """Encode the lists that changed; forget the ones now empty."""
        for term in self.dirty:
            plist = self.postings.get(term)
            if plist:
                self.encoded[term] = encode_postings(plist)
            else:
                self.postings.pop(term, None)
                self.encoded.pop(term, None)
        self.dirty.clear()


# ---------------------------------------------------------------- renumbering


_ITEM_SIZE_OK = array("I").itemsize == 4


class _Renumbering:
    """Old document number -> new one, for lists of sorted numbers.

    Unchanged documents keep their relative order, so the map is a few runs of
    numbers that all move by the same amount; each run of a list is shifted
    at once as one big integer (four bytes per number: adding a multiple of
    0x...000100000001 moves every number, and no lane can carry or borrow).
    """

    MAX_RUNS = 64

    def __init__(self, newpos: list[int | None]) -> None:
        self.newpos = newpos
        self.first = next((o for o, p in enumerate(newpos) if p != o), len(newpos))
        self.dropped = [o for o in range(self.first, len(newpos)) if newpos[o] is None]
        runs: list[tuple[int, int]] = []
        for o in range(self.first, len(newpos)):
            p = newpos[o]
            if p is not None and (not runs or p - o != runs[-1][1]):
                runs.append((o, p - o))
                if len(runs) > self.MAX_RUNS:
                    break
        self.runs = runs if _ITEM_SIZE_OK and len(runs) <= self.MAX_RUNS \
            and len(self.dropped) <= self.MAX_RUNS else None
        self.max_shift = max((shift for _, shift in runs), default=0)

    def apply(self, plist: array) -> array | None:
        """The list renumbered, or None when it does not change."""
        if plist[-1] < self.first:
            return None
        start = bisect_left(plist, self.first)
        if self.runs is None:
            out = plist[:start]
            out.extend(filter(_not_none, map(self.newpos.__getitem__, plist[start:])))
            return out if out != plist else None
        tail = plist[start:]
        for o in reversed(self.dropped):
            i = bisect_left(tail, o)
            if i < len(tail) and tail[i] == o:
                del tail[i]
        out = plist[:start]
        bounds = [bisect_left(tail, o) for o, _ in self.runs] + [len(tail)]
        out.extend(tail[:bounds[0]])  # dropped numbers only, already removed
        for k, (_, shift) in enumerate(self.runs):
            segment = tail[bounds[k]:bounds[k + 1]]
            if shift and segment:
                segment = _shifted(segment, shift)
            out.extend(segment)
        return out if out != plist else None


    def bitmap(self, enc: str, added: Sequence[int], plist: array) -> str:
        """The encoding of ``plist``: the list bitmap ``enc`` encodes,
        renumbered, with ``added``. Made from the old bitmap by moving slices
        of its mask, not numbers one by one (requires ``self.runs``)."""
        old = _bitmap_mask(enc)
        for o in self.dropped:
            if o < len(old):
                old[o] = 0
        length = plist[-1] // 6 + 1
        new = bytearray(max(len(old) + max(self.max_shift, 0), 6 * length))
        keep = min(self.first, len(old))
        new[:keep] = old[:keep]
        for k, (start, shift) in enumerate(self.runs):
            if start >= len(old):
                break
            end = self.runs[k + 1][0] if k + 1 < len(self.runs) else len(old)
            new[start + shift:min(end, len(old)) + shift] = old[start:end]
        for n in added:
            new[n] = 1
        if len(plist) < length + 1:  # the choice encode_postings makes
            gaps = _gap_string(plist)
            if len(gaps) <= length + 1:
                return gaps
        return _mask_bitmap(new, length)


def _shifted(segment: array, shift: int) -> array:
    count = len(segment)
    value = int.from_bytes(segment.tobytes(), sys.byteorder)
    lanes = int.from_bytes(_ONE_LANE * count, sys.byteorder)
    value = value + lanes * shift if shift > 0 else value - lanes * -shift
    out = array("I")
    out.frombytes(value.to_bytes(4 * count, sys.byteorder))
    return out


_ONE_LANE = (1).to_bytes(4, sys.byteorder)
_not_none = functools.partial(operator.is_not, None)


# ---------------------------------------------------------------- the cache
#
# <cache>/state.pickle   what the published index holds (see _new_state); it
#                        is deleted before anything changes and written last,
#                        so a run killed midway leaves no state and the next
#                        run rebuilds the index from entries.
# <cache>/postings/<shard>.pickle
#                        each shard's posting lists and their encodings.
# The document files of the published index are read back, and checked
# against the hash the state keeps, when documents are renumbered or when a
# changed document's old terms are needed.

INDEX_VERSION = 2  # layout of the cache; a different one is rebuilt
STATE_FILE = "state.pickle"
POSTINGS_DIR = "postings"
_LEGACY = ("docs", "index")  # folders of index version 1's cache (and its state.json)


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


@functools.cache
def _opencc_version() -> str:
    """Identifies the installed OpenCC: its files' names, sizes and times
    (cheaper than asking for its version through importlib.metadata)."""
    try:
        import importlib.util

        package = Path(importlib.util.find_spec("opencc").origin).parent
        h = hashlib.sha1()
        for folder, subfolders, names in os.walk(package):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        return h.hexdigest()[:16]
    except Exception:  # noqa: BLE001 - any failure just means an unknown version
        return "unknown"


def _state_key(version: str) -> tuple:
    return (INDEX_VERSION, FORMAT_VERSION, _opencc_version(), version)


def _new_state(key: tuple) -> dict:
    return {"key": key,
            "ids": [],        # document ids by document number
            "digests": [],    # their digests, as given
            "metas": _Metas(),  # their metadata (_meta)
            "sums": bytearray(),  # hash of each document file's payload, 8 bytes each
            "sizes": array("Q"),  # bytes of each document file
            "shards": 8,
            "files": {},      # shard -> (long lists in files of their own, bytes)
            "terms": 0,       # distinct terms
            "globals": {},    # bytes of facets.js, dates.js, fold.js
            "facets": b"",    # hash of facets.js: is the published index the one described?
            "published": ""}  # where it is, relative to the cache


def _join(items: list[str]) -> str | list[str]:
    joined = "\n".join(items)
    return joined if joined.count("\n") == max(len(items) - 1, 0) else items


def _split(packed: str | list[str], n: int) -> list[str]:
    if isinstance(packed, list):
        return packed
    return packed.split("\n") if n else []


def _pack_state(state: dict) -> dict:
    """The state in a form that pickles fast."""
    return {**state, "n": len(state["ids"]), "ids": _join(state["ids"]),
            "digests": _join(state["digests"]), "metas": state["metas"].packed(),
            "sums": bytes(state["sums"])}


def _unpack_state(packed: dict) -> dict:
    n = packed["n"]
    state = {**packed, "ids": _split(packed["ids"], n), "digests": _split(packed["digests"], n),
             "metas": _Metas(packed["metas"]), "sums": bytearray(packed["sums"])}
    del state["n"]
    if not (len(state["ids"]) == len(state["digests"]) == len(state["metas"])
            == len(state["sizes"]) == len(state["sums"]) // 8 == n) or \
            not isinstance(state["sizes"], array):
        raise ValueError("inconsistent search state")
    return state


def _sum_at(state: dict, n: int) -> bytes:
    return bytes(state["sums"][8 * n:8 * n + 8])


def _load_state(cache: Path, key: tuple, published: Path) -> dict | None:
    try:
        with open(cache / STATE_FILE, "rb") as handle:
            packed = pickle.load(handle)
        if not isinstance(packed, dict) or packed.get("key") != key \
                or packed.get("published") != os.path.relpath(published, cache):
            return None
        state = _unpack_state(packed)
    except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
        return None
    try:
        with open(published / "facets.js", "rb") as handle:
            if _body_sum(handle.read()) != state["facets"]:
                return None
    except OSError:
        return None
    return state


def _save_state(cache: Path, state: dict) -> None:
    tmp = cache / (STATE_FILE + ".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(_pack_state(state), handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cache / STATE_FILE)


def _drop_state(cache: Path) -> None:
    """From here on the cache changes: until it is consistent again, no state."""
    (cache / STATE_FILE).unlink(missing_ok=True)


def forget_index(cache: Path) -> None:
    """Make the next `sync_index` with this cache rebuild the index from its
    entries (a clean build trusts nothing it kept)."""
    _drop_state(Path(cache))


def _postings_path(cache: Path, shard: int, shards: int) -> Path:
    return cache / POSTINGS_DIR / f"{shard_name(shard, shards)}.pickle"


class _CacheDamaged(Exception):
    """A cache file the state relies on is missing or unreadable."""


def _load_shard(cache: Path, shard: int, shards: int) -> _Shard:
    try:
        with open(_postings_path(cache, shard, shards), "rb") as handle:
            postings, encoded = pickle.load(handle)
        if not isinstance(postings, dict) or not isinstance(encoded, dict):
            raise TypeError("not a shard")
    except Exception as exc:  # noqa: BLE001 - whatever is wrong, it is not usable
        raise _CacheDamaged(str(exc)) from None
    return _Shard(postings, encoded)


def _dump_shard(cache: Path, shard: int, shards: int, data: _Shard) -> None:
    path = _postings_path(cache, shard, shards)
    try:
        handle = open(path, "wb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "wb")
    with handle:
        pickle.dump((data.postings, data.encoded), handle, protocol=pickle.HIGHEST_PROTOCOL)


class _Published:
    """Writes files of the published index, noting those whose bytes changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = os.fspath(root) + os.sep
        self.changed: list[str] = []

    def put(self, rel: str, data: bytes) -> int:
        if write_if_changed(self.base + rel, data):
            self.changed.append(rel)
        return len(data)

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self.base + rel, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def remove(self, rel: str) -> None:
        try:
            os.unlink(self.base + rel)
        except FileNotFoundError:
            pass


class _Doc:
    """A document to (re)index: its entry, metadata and terms."""

    __slots__ = ("id", "digest", "entry", "indexed", "meta", "_terms")

    def __init__(self, id_: str, digest: str, item: SearchEntry | IndexedEntry) -> None:
        entry, indexed = (item.entry, item) if isinstance(item, IndexedEntry) else (item, None)
        if not isinstance(entry, SearchEntry) or entry.id != id_:
            raise ValueError(f"the search entry given for `{id_}` is not one")
        self.id, self.digest, self.entry, self.indexed = id_, digest, entry, indexed
        self.meta = _meta(entry)
        self._terms: set[str] | None = None

    def coded(self) -> tuple[Sequence[int], Sequence[str]]:
        """The terms as codes and strings (not kept: a rebuild goes through
        every document once)."""
        indexed = self.indexed or index_entry(self.entry)
        return indexed.codes, indexed.words

    def terms(self) -> set[str]:
        if self._terms is None:
            self._terms = self.indexed.terms() if self.indexed is not None else doc_terms(self.entry)
        return self._terms

    def body(self) -> bytes:
        return _json_body(_doc_payload(self.entry))


def _doc_file(ordinal: int, body: bytes) -> bytes:
    return _js_prefix(doc_key(ordinal)) + body + b");\n"


def _stored_body(out: _Published, ordinal: int, expected: bytes) -> bytes | None:
    """The payload of document file ``ordinal``, if it is the one the state
    recorded there."""
    data = out.read(doc_key(ordinal) + ".js")
    prefix = _js_prefix(doc_key(ordinal))
    if data is None or not data.startswith(prefix) or not data.endswith(b");\n"):
        return None
    body = data[len(prefix):-3]
    return body if _body_sum(body) == expected else None


_DOC_NAMES = [f"{r}.js" for r in range(DOCS_PER_DIR)]


def _index_files(state: dict) -> list[str]:
    files = ["dates.js", "facets.js", "fold.js"]
    n = len(state["ids"])
    for q in range(0, n, DOCS_PER_DIR):
        files += map(f"d/{q // DOCS_PER_DIR}/".__add__, _DOC_NAMES[:min(DOCS_PER_DIR, n - q)])
    for shard, (big, _) in sorted(state["files"].items()):
        name = "p/" + shard_name(shard, state["shards"])
        files.append(name + ".js")
        files += [f"{name}-{k}.js" for k in range(big)]
    return files


def _stats(state: dict, changed: Sequence[str], *, incremental: bool,
           tokenized: int) -> SearchStats:
    size = (sum(state["sizes"]) + sum(b for _, b in state["files"].values())
            + sum(state["globals"].values()))
    return SearchStats(docs=len(state["ids"]), terms=state["terms"], shards=state["shards"],
                       bytes=size, files_written=len(changed), docs_tokenized=tokenized,
                       incremental=incremental, files=tuple(_index_files(state)),
                       changed=tuple(sorted(changed)))


# ---------------------------------------------------------------- building


def sync_index(docs: Sequence[tuple[str, str]],
               fresh: Mapping[str, SearchEntry | IndexedEntry],
               published: Path, cache: Path,
               load: Callable[[str], SearchEntry | IndexedEntry], *,
               version: str = "", consume: bool = False) -> SearchStats:
    """Bring the index in ``published`` up to date with ``docs``.

    ``docs`` lists every document now in the archive as (id, digest), sorted
    by id; the digest must change whenever the document's search entry would.
    ``fresh`` holds entries already made in this run (by id; a ``SearchEntry``
    or an ``IndexedEntry``); ``load(id)`` must make the entry of a document
    whose digest changed and that is not in ``fresh``. A document whose
    digest is unchanged costs a comparison: its entry is not needed.
    ``version`` stands for whatever every entry depends on besides its own
    digest; when it differs from the last run, the index is rebuilt. With
    ``consume``, entries are removed from ``fresh`` (a dict) once indexed, so
    a rebuild can free them as it goes.

    The result is byte-identical to an index built from scratch from the same
    entries. Only files whose bytes change are written (``stats.changed``);
    ``stats.files`` lists every file of the index. ``cache`` keeps what makes
    this incremental; a missing or damaged cache means a rebuild from entries
    (``fresh``, then ``load`` for the others).
    """
    published, cache = Path(published), Path(cache)
    ids = [id_ for id_, _ in docs]
    for a, b in zip(ids, ids[1:]):
        if a >= b:
            raise ValueError(f"duplicate search entry id `{a}`" if a == b
                             else "search documents must be sorted by id")
    unknown = fresh.keys() - set(ids)
    if unknown:
        raise ValueError(f"search entry `{min(unknown)}` is not among the documents")
    prime_fold_map(cache)
    key = _state_key(version)

    def get(id_: str) -> SearchEntry | IndexedEntry:
        return fresh[id_] if id_ in fresh else load(id_)

    forget = fresh.pop if consume else None  # type: ignore[attr-defined]

    state = _load_state(cache, key, published)
    if state is None:
        return _rebuild(docs, get, published, cache, key, forget=forget)
    plan = _scan(docs, get, state, _Published(published), cache)
    if plan is None:
        return _stats(state, (), incremental=True, tokenized=0)
    out = _Published(published)
    try:
        if plan.old_terms is not None:
            _patch(plan, state, out, cache)
        else:
            _renumber(plan, state, out, cache, get)
    except _CacheDamaged:  # the state is gone already: start over from entries
        return _rebuild(docs, get, published, cache, key, out, plan.changed, forget)
    _save_state(cache, state)
    return _stats(state, out.changed, incremental=True, tokenized=len(plan.changed))


def write_search_index(entries: Iterable[SearchEntry | IndexedEntry], out_dir: Path,
                       cache_dir: Path | None = None) -> SearchStats:
    """Write the search index for ``entries`` into ``out_dir``.

    With ``cache_dir``, a later call redoes only what changed (entries are
    compared by a hash of their content). Files in ``out_dir`` whose bytes
    do not change are left alone; the stats list every index file and the
    ones written.
    """
    fresh: dict[str, SearchEntry | IndexedEntry] = {}
    docs = []
    for item in entries:
        entry = item.entry if isinstance(item, IndexedEntry) else item
        if entry.id in fresh:
            raise ValueError(f"duplicate search entry id `{entry.id}`")
        fresh[entry.id] = item
        docs.append((entry.id, _entry_hash(entry)))
    docs.sort()

    def load(id_: str) -> SearchEntry:
        raise AssertionError(f"no entry for `{id_}`")  # every entry is fresh

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(cache_dir) if cache_dir else Path(tmp)
        return sync_index(docs, fresh, Path(out_dir), cache, load, consume=True)


def _write_globals(state: dict, out: _Published, *, fold_too: bool) -> None:
    sizes, metas = state["globals"], state["metas"]
    facets = js_file("facets", _facets_data(metas, state["shards"]))
    sizes["facets.js"] = out.put("facets.js", facets)
    state["facets"] = _body_sum(facets)
    sizes["dates.js"] = out.put("dates.js", js_file("dates", _dates_data(metas)))
    if fold_too:
        sizes["fold.js"] = out.put("fold.js", js_file("fold", fold_map_js()))


def _write_shard(shard: int, data: _Shard, state: dict, out: _Published, cache: Path) -> None:
    """Publish a shard (its file and long lists) and keep its postings."""
    shards = state["shards"]
    old_big = state["files"].get(shard, (0, 0))[0]
    data.encode()
    new_big = 0
    if data.encoded:
        files = _shard_files(shard, shards, data.encoded)
        size = sum(out.put(rel, blob) for rel, blob in files.items())
        new_big = len(files) - 1
        state["files"][shard] = (new_big, size)
        _dump_shard(cache, shard, shards, data)
    else:
        if shard in state["files"]:
            out.remove(shard_key(shard, shards) + ".js")
            del state["files"][shard]
        _postings_path(cache, shard, shards).unlink(missing_ok=True)
    for k in range(new_big, old_big):
        out.remove(shard_key(shard, shards, k) + ".js")


def _write_all_shards(postings: dict[str | int, array], state: dict, out: _Published,
                      cache: Path) -> None:
    """Publish every shard of ``postings`` (terms or term codes -> lists)."""
    shards = state["shards"]
    by_shard: defaultdict[int, _Shard] = defaultdict(_Shard)
    state["terms"] = 0
    for key, plist in postings.items():
        if plist:
            term = key if isinstance(key, str) else _code_term(key)
            data = by_shard[shard_of(term, shards)]
            data.postings[term] = plist
            data.dirty.add(term)
            state["terms"] += 1
    postings.clear()
    for shard in sorted(by_shard):
        _write_shard(shard, by_shard.pop(shard), state, out, cache)


def _rebuild(docs, get, published: Path, cache: Path, key: tuple,
             out: _Published | None = None, known: dict[str, _Doc] | None = None,
             forget: Callable | None = None) -> SearchStats:
    """The whole index from entries (no usable state)."""
    known = known or {}
    found = [known.get(id_) or _Doc(id_, digest, get(id_)) for id_, digest in docs]
    _drop_state(cache)
    for name in (*_LEGACY, POSTINGS_DIR):
        shutil.rmtree(cache / name, ignore_errors=True)
    (cache / "state.json").unlink(missing_ok=True)
    found.sort(key=lambda d: _order_key(d.meta, d.id))
    state = _new_state(key)
    state["published"] = os.path.relpath(published, cache)
    state["shards"] = shard_count(len(found))
    out = out or _Published(published)
    postings: defaultdict[str, array] = defaultdict(_new_array)
    state["ids"] = [doc.id for doc in found]
    state["digests"] = [doc.digest for doc in found]
    state["metas"] = _Metas.of([doc.meta for doc in found])
    sums, sizes = state["sums"], state["sizes"]
    for n, doc in enumerate(found):
        found[n] = None  # type: ignore[call-overload]  # let entries go as we go
        known.pop(doc.id, None)
        if forget is not None:
            forget(doc.id, None)
        body = doc.body()
        sums += _body_sum(body)
        sizes.append(out.put(doc_key(n) + ".js", _doc_file(n, body)))
        codes, words = doc.coded()
        for plist in map(postings.__getitem__, codes):
            plist.append(n)
        for word in words:
            postings[word].append(n)
    tokenized = len(found)
    del found
    _write_all_shards(postings, state, out, cache)
    _write_globals(state, out, fold_too=True)
    _prune(published, set(_index_files(state)))
    _save_state(cache, state)
    return _stats(state, out.changed, incremental=False, tokenized=tokenized)


def _new_array() -> array:
    return array("I")


def _prune(published: Path, keep: set[str]) -> None:
    """Delete files under p/ and d/ that are not part of the index."""
    for sub in ("p", "d"):
        for folder, _, names in os.walk(published / sub):
            rel = Path(folder).relative_to(published).as_posix()
            for name in names:
                if f"{rel}/{name}" not in keep:
                    os.unlink(os.path.join(folder, name))


@dataclass
class _Plan:
    changed: dict[str, _Doc]             # new or changed documents
    removed: set[str]                    # ids no longer in the archive
    order: list[str]                     # ids by their new document number
    numbers: dict[str, int | None]       # changed docs' old numbers (None: new)
    old_terms: dict[str, set[str]] | None  # numbers unchanged: changed docs' old terms


def _scan(docs, get, state: dict, out: _Published, cache: Path) -> _Plan | None:
    """Compare ``docs`` with the state; gather what changed (None: nothing).

    Reads everything the update needs before anything changes, then drops
    the state: from there on a killed run leaves no state behind.
    """
    old_ids, metas = state["ids"], state["metas"]
    new_digests, old_digests = dict(docs), dict(zip(old_ids, state["digests"]))
    if new_digests == old_digests:
        return None
    position = dict(zip(old_ids, range(len(old_ids))))
    changed = {id_: _Doc(id_, digest, get(id_))
               for id_, digest in sorted(new_digests.items() - old_digests.items())}
    removed = set(old_digests.keys() - new_digests.keys())
    added = len(changed.keys() - old_digests.keys())
    numbers = {id_: position.get(id_) for id_ in changed}
    if added or removed or not _still_sorted(changed, numbers, old_ids, metas):
        keys = dict(zip(old_ids, metas.tuples()))
        for id_ in removed:
            del keys[id_]
        keys.update((doc.id, doc.meta) for doc in changed.values())
        order = sorted(keys, key=lambda i: _order_key(keys[i], i))
        if order != old_ids:
            return _plan_drop(cache, _Plan(changed, removed, order, numbers, None))
    old_terms = {}
    for doc in changed.values():
        n = numbers[doc.id]
        body = _stored_body(out, n, _sum_at(state, n))
        if body is None:  # the published copy is not the one recorded
            return _plan_drop(cache, _Plan(changed, removed, old_ids, numbers, None))
        data = json.loads(body)
        old_terms[doc.id] = _text_terms(data["t"], data["a"], data["b"])
    return _plan_drop(cache, _Plan(changed, removed, old_ids, numbers, old_terms))


def _still_sorted(changed: dict[str, _Doc], numbers: dict, ids: list[str], metas: _Metas) -> bool:
    """Whether documents changed in place keep the numbering: a sequence is
    sorted when each pair of neighbours is, and only pairs with a changed
    document can have changed."""
    def key(n: int) -> tuple:
        doc = changed.get(ids[n])
        return _order_key(doc.meta if doc else metas[n], ids[n])

    for id_, doc in changed.items():
        n = numbers[id_]
        if doc.meta != metas[n] and not ((n == 0 or key(n - 1) < key(n))
                                        and (n + 1 == len(ids) or key(n) < key(n + 1))):
            return False
    return True


def _plan_drop(cache: Path, plan: _Plan) -> _Plan:
    _drop_state(cache)
    return plan


def _patch(plan: _Plan, state: dict, out: _Published, cache: Path) -> None:
    """Same document numbers: move each changed document's number between the
    posting lists of the terms it gained or lost; rewrite only those shards."""
    shards = state["shards"]
    delta: defaultdict[int, list[tuple[str, int, bool]]] = defaultdict(list)
    for id_, doc in plan.changed.items():
        n, before, after = plan.numbers[id_], plan.old_terms[id_], doc.terms()
        for term in after - before:
            delta[shard_of(term, shards)].append((term, n, True))
        for term in before - after:
            delta[shard_of(term, shards)].append((term, n, False))
    for shard in sorted(delta):
        data = _load_shard(cache, shard, shards) if shard in state["files"] else _Shard()
        count = len(data.postings)
        for term, n, add in delta[shard]:
            data.add(term, n) if add else data.discard(term, n)
        data.encode()
        state["terms"] += len(data.postings) - count
        _write_shard(shard, data, state, out, cache)
    metas_changed = False
    for id_, doc in plan.changed.items():
        n = plan.numbers[id_]
        body = doc.body()
        state["sizes"][n] = out.put(doc_key(n) + ".js", _doc_file(n, body))
        state["sums"][8 * n:8 * n + 8] = _body_sum(body)
        state["digests"][n] = doc.digest
        if state["metas"][n] != doc.meta:
            state["metas"][n] = doc.meta
            metas_changed = True
    if metas_changed:
        _write_globals(state, out, fold_too=False)


def _renumber(plan: _Plan, state: dict, out: _Published, cache: Path, get) -> None:
    """Documents were added, removed or reordered: map every posting list to
    the new numbers (only new and changed documents are tokenized), move the
    document files, rewrite what differs."""
    old_ids, old_shards = state["ids"], state["shards"]
    new_number = {id_: n for n, id_ in enumerate(plan.order)}
    # old number -> new number; None for documents removed or indexed anew
    newpos = [None if id_ in plan.changed or id_ in plan.removed else new_number[id_]
              for id_ in old_ids]
    renumbering = _Renumbering(newpos)
    shards = shard_count(len(plan.order))
    additions: defaultdict[str, list[int]] = defaultdict(list)
    for id_ in sorted(plan.changed, key=new_number.__getitem__):
        n = new_number[id_]
        for term in plan.changed[id_].terms():
            additions[term].append(n)

    def renumbered(data: _Shard) -> None:
        for term, plist in list(data.postings.items()):
            moved = renumbering.apply(plist)
            if moved is not None:
                data.postings[term] = moved
                data.dirty.add(term)

    def add(data: _Shard, term: str, numbers: list[int]) -> None:
        plist = data.postings.get(term)
        if plist is None:
            data.postings[term] = array("I", numbers)
        else:
            for n in numbers:
                insort(plist, n)
        data.dirty.add(term)

    if shards == old_shards:
        by_shard: defaultdict[int, list[str]] = defaultdict(list)
        for term in additions:
            by_shard[shard_of(term, shards)].append(term)
        for shard in sorted(set(state["files"]) | set(by_shard)):
            data = _load_shard(cache, shard, shards) if shard in state["files"] else _Shard()
            count = len(data.postings)
            renumbered(data)
            for term in by_shard.get(shard, ()):
                add(data, term, additions[term])
            touched = bool(data.dirty)
            if renumbering.runs is not None:  # long lists: move bitmaps, not numbers
                for term in list(data.dirty):
                    enc, plist = data.encoded.get(term), data.postings.get(term)
                    if enc and enc[0] == "~" and plist:
                        data.encoded[term] = renumbering.bitmap(enc, additions.get(term, ()), plist)
                        data.dirty.discard(term)
            if touched:
                data.encode()
                state["terms"] += len(data.postings) - count
                _write_shard(shard, data, state, out, cache)
    else:  # the number of shards changed: every term moves
        everything: dict[str, array] = {}
        for shard in sorted(state["files"]):
            data = _load_shard(cache, shard, old_shards)
            renumbered(data)
            everything.update(data.postings)
        for shard, (big, _) in sorted(state["files"].items()):
            out.remove(shard_key(shard, old_shards) + ".js")
            for k in range(big):
                out.remove(shard_key(shard, old_shards, k) + ".js")
        shutil.rmtree(cache / POSTINGS_DIR, ignore_errors=True)
        state["files"], state["shards"] = {}, shards
        for term, numbers in additions.items():
            plist = everything.get(term)
            if plist is None:
                everything[term] = array("I", numbers)
            else:
                for n in numbers:
                    insort(plist, n)
        _write_all_shards(everything, state, out, cache)
    _move_documents(plan, state, out, newpos, new_number, get)
    _write_globals(state, out, fold_too=False)


def _move_documents(plan: _Plan, state: dict, out: _Published, newpos: list,
                    new_number: dict[str, int], get) -> None:
    """Document files at their new numbers; the state's columns with them.

    Unchanged documents keep their relative order, so moving those that go up
    from the top down, and those that go down from the bottom up, never
    overwrites a file before it is read.
    """
    old_ids, old_metas = state["ids"], state["metas"].tuples()
    n_new = len(plan.order)
    digests: list = [None] * n_new
    metas: list = [None] * n_new
    sums = bytearray(8 * n_new)
    sizes = array("Q", bytes(8 * n_new))
    for o, p in enumerate(newpos):
        if p is not None:
            digests[p], metas[p] = state["digests"][o], old_metas[o]
            sums[8 * p:8 * p + 8] = state["sums"][8 * o:8 * o + 8]
            sizes[p] = state["sizes"][o]
    moves = [(o, p) for o, p in enumerate(newpos) if p is not None and p != o]
    ups = sorted((m for m in moves if m[1] > m[0]), reverse=True)
    downs = sorted(m for m in moves if m[1] < m[0])
    for o, p in ups + downs:
        body = _stored_body(out, o, _sum_at(state, o))
        if body is None:  # not the copy recorded: make it again
            body = _Doc(old_ids[o], state["digests"][o], get(old_ids[o])).body()
            sums[8 * p:8 * p + 8] = _body_sum(body)
        sizes[p] = out.put(doc_key(p) + ".js", _doc_file(p, body))
    for id_, doc in plan.changed.items():
        p = new_number[id_]
        body = doc.body()
        digests[p], metas[p] = doc.digest, doc.meta
        sums[8 * p:8 * p + 8] = _body_sum(body)
        sizes[p] = out.put(doc_key(p) + ".js", _doc_file(p, body))
    for o in range(n_new, len(old_ids)):
        out.remove(doc_key(o) + ".js")
    state.update(ids=list(plan.order), digests=digests, metas=_Metas.of(metas), sums=sums,
                 sizes=sizes)


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
