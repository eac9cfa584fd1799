"""Cleaning raw report text, and the normal form labels are matched in.

Two different jobs live here and must not be confused:

* :func:`strip_pinyin_debris` changes the text we keep (prose and cells): it
  removes the pinyin that Simplified-to-Traditional converters leave after
  a character, ``領(lǐng)導(dǎo)`` or ``公(gong)(gong)開(kai)(kai)``.
* :func:`match_key` is only ever used to *compare* labels: it folds width,
  script (Traditional to Simplified with OpenCC), spaces and punctuation.  The
  prose keeps its own characters.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PLAIN = "aaaaeeeeiiiioooouuuuvvvvvnnnm"
_TONE_TABLE = str.maketrans(_TONED, _PLAIN)

# One Mandarin syllable, tones removed (ü written v).
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|uai|ian|iao|uan|van|ai|ei|ao|ou|an|en|er"
    r"|in|un|vn|ia|ie|iu|ua|uo|ui|ve|ue|a|o|e|i|u|v)"
)
_DEBRIS = re.compile(rf"(?<=[{HAN}])(?:\(([a-z{_TONED}]{{1,7}})\))+")
_PAREN = re.compile(rf"\(([a-z{_TONED}]{{1,7}})\)")


def _is_pinyin(word: str) -> bool:
    return _SYLLABLE.fullmatch(word.translate(_TONE_TABLE)) is not None


def _debris_or_keep(match: re.Match) -> str:
    words = _PAREN.findall(match.group(0))
    return "" if all(_is_pinyin(w) for w in words) else match.group(0)


def strip_pinyin_debris(text: str) -> tuple[str, int]:
    """Remove pinyin in ASCII parentheses directly after a Han character.

    Returns the cleaned text and how many debris groups were removed.  Only
    lower-case latin words that are whole pinyin syllables qualify, so
    ``（一）``, ``(本列数据…)``, ``第(一)项``, ``(GB18030)`` or ``(pdf)`` stay.
    """
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        kept = _debris_or_keep(match)
        if not kept:
            count += 1
        return kept

    return _DEBRIS.sub(replace, text), count


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


_NOT_KEY = re.compile(r"[\s\u3000.,、:;!?()\[\]{}<>《》〈〉“”\"'‘’「」『』·•…_~`|/\\\-—–]+")


@lru_cache(maxsize=4096)
def match_key(label: str) -> str:
    """The form two labels are compared in: width, script, spaces, punctuation folded."""
    text = unicodedata.normalize("NFKC", label)
    return _NOT_KEY.sub("", to_simplified(text))


def is_traditional(text: str) -> bool:
    """True when the Han text is written in Traditional characters.

    Counts characters that change under t2s against those that change under
    s2t; a Traditional text changes a lot one way and hardly the other.
    """
    han = "".join(re.findall(rf"[{HAN}]", text))
    if not han:
        return False
    t2s_changes = sum(a != b for a, b in zip(han, to_simplified(han)))
    s2t_changes = sum(a != b for a, b in zip(han, to_traditional(han)))
    return t2s_changes > s2t_changes


@dataclass(frozen=True)
class Vocabulary:
    """The importer's word lists, loaded from ``aliases.yaml``."""

    rows: dict[str, dict[str, tuple[str, ...]]]
    units: tuple[str, ...]
    blanks: frozenset[str]
    sections: dict[int, tuple[str, ...]]
    chrome: tuple[str, ...]
    published_labels: tuple[str, ...]

    def row_aliases(self, table: str, path: tuple[str, ...]) -> tuple[str, ...]:
        return self.rows.get(table, {}).get(".".join(path), ())


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = yaml.safe_load(resources.files(__package__).joinpath("aliases.yaml").read_text("utf-8"))
    return Vocabulary(
        rows={t: {p: tuple(v) for p, v in rows.items()} for t, rows in raw["rows"].items()},
        units=tuple(sorted(raw["units"], key=len, reverse=True)),
        blanks=frozenset(unicodedata.normalize("NFKC", b).strip() for b in raw["blanks"]),
        sections={int(k): tuple(match_key(w) for w in v) for k, v in raw["sections"].items()},
        chrome=tuple(match_key(w) for w in raw["chrome"] + raw["page_info"]),
        published_labels=tuple(raw["published_labels"]),
    )


@dataclass(frozen=True)
class Value:
    """A table cell read as a number (or None for a blank), with the unit it carried."""

    number: int | float | None
    unit: str | None = None
    raw: str = ""


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def read_value(cell: str) -> Value | None:
    """The cell as a value, or None when the cell is not a value (a label)."""
    text = unicodedata.normalize("NFKC", cell).strip()
    vocab = vocabulary()
    if text in vocab.blanks:
        return Value(None, None, cell)
    compact = re.sub(r"(?<=\d)[,\s](?=\d{3}\b)", "", text)
    unit = next((u for u in vocab.units if compact.endswith(u)), None)
    digits = compact[: -len(unit)].rstrip() if unit else compact
    if not _NUMBER.fullmatch(digits):
        return None
    number: int | float = float(digits) if "." in digits else int(digits)
    return Value(number, unit, cell)


def is_value(cell: str) -> bool:
    return read_value(cell) is not None
