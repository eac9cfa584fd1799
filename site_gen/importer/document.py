"""Understanding a report: its six sections, title, agency, year and date.

Works on the item stream of :mod:`shapes`.  The prose keeps the source's own
characters; labels and headings are recognised through :func:`match_key`.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from .clean import match_key, to_traditional, vocabulary
from .shapes import Item, Row, Text, row_from_text

SECTION_NUMERALS = "一二三四五六"
TABLE_SECTIONS = (2, 3, 4)
MAX_HEADING = 40
MAX_SIGNATURE = 30

_HEADING = re.compile(r"^\s*([一二三四五六])\s*[、.,，]\s*(\S.*)$")
_SUBHEADING = re.compile(r"^\s*[（(][一二三四五六七八九十]{1,3}[）)]")
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}
_DATE_LINE = re.compile(
    r"^\s*([0-9〇○零一二三四五六七八九]{4})\s*年\s*([0-9一二三四五六七八九十]{1,3})\s*月"
    r"\s*([0-9一二三四五六七八九十]{1,3})\s*日\s*$")
_ISO_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_SENTENCE_END = "。：:；;！!？?"


@dataclass
class Section:
    number: int
    heading: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Layout:
    """The report cut into its parts."""

    title: str | None
    preamble: list[Text]
    sections: list[Section]
    signature: list[str]          # agency line (if any) and date line, as printed
    published: dt.date | None
    outside: list[Text]           # lines around the report (page chrome)

    def section(self, number: int) -> Section | None:
        return next((s for s in self.sections if s.number == number), None)

    def table_rows(self, number: int) -> list[Row]:
        section = self.section(number)
        return [i for i in section.items if isinstance(i, Row)] if section else []


def section_number(text: str, after: int) -> int | None:
    """The section a heading line opens, if it is one and comes after ``after``."""
    text = unicodedata.normalize("NFKC", text).strip()
    match = _HEADING.match(text)
    if not match or len(text) > MAX_HEADING:
        return None
    number = SECTION_NUMERALS.index(match.group(1)) + 1
    key = match_key(match.group(2))
    if number > after and any(word in key for word in vocabulary().sections[number]):
        return number
    return None


def _heading_text(item: Item) -> str | None:
    if isinstance(item, Text):
        return item.text
    if isinstance(item, Row) and len(item.labels) == 1 and not item.values:
        return item.labels[0]
    return None


def parse_date(text: str) -> dt.date | None:
    match = _DATE_LINE.match(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    year = int("".join(str(_CN_DIGITS.get(c, c)) for c in match.group(1)))
    try:
        return dt.date(year, _cn_number(match.group(2)), _cn_number(match.group(3)))
    except ValueError:
        return None


def _cn_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def is_chrome(text: str) -> bool:
    """A short line of page furniture (navigation, footer, page information)."""
    key = match_key(text)
    return len(text) <= MAX_HEADING and any(word in key for word in vocabulary().chrome)


def split_report(items: list[Item], *, wrapped: bool = False,
                 page_title: str | None = None) -> Layout:
    """Cut the stream into preamble, six sections and signature."""
    starts = _section_starts(items)
    first = starts[0][0] if starts else len(items)
    head = [i for i in items[:first] if isinstance(i, Text)]
    title, preamble, outside = _split_head(head, page_title)
    sections = []
    for n, (index, number) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(items)
        sections.append(Section(number, _heading_text(items[index]).strip(),
                                list(items[index + 1:end])))
    signature, published, tail = _cut_signature(sections)
    for section in sections:
        section.items = _tidy(section, wrapped)
    preamble = _join_wrapped(preamble) if wrapped else preamble
    return Layout(title, preamble, sections, signature, published, outside + tail)


def _section_starts(items: list[Item]) -> list[tuple[int, int]]:
    starts, current = [], 0
    for index, item in enumerate(items):
        text = _heading_text(item)
        number = section_number(text, current) if text else None
        if number:
            starts.append((index, number))
            current = number
    return starts


def _split_head(head: list[Text], page_title: str | None):
    """Title, preamble prose and page chrome from the lines before section 一."""
    title, title_end = _find_title(head)
    if title is None and page_title and _is_title(page_title):
        title = clean_title(page_title)
    after = head[title_end:]
    preamble = [t for t in after if not is_chrome(t.text) and not _is_page_info(t.text)]
    outside = [t for t in head if t not in preamble]
    return title, preamble, outside


def _find_title(head: list[Text]) -> tuple[str | None, int]:
    """The title line (or two lines, when a page layout wrapped it) and where it ends."""
    for index, line in enumerate(head):
        if _is_title(line.text):
            return clean_title(line.text), index + 1
    for index, line in enumerate(head[:-1]):
        joined = line.text + head[index + 1].text
        if not is_chrome(line.text) and _is_title(joined):
            return clean_title(joined), index + 2
    return None, 0


def _is_title(text: str) -> bool:
    key = match_key(text)
    return len(text) <= 80 and ("年度报告" in key or "工作报告" in key) and "政府信息公开" in key


def clean_title(text: str) -> str:
    """The part of a page title that names the report (sites append their name)."""
    parts = [p.strip() for p in re.split(r"\s*[_|｜]\s*|\s+[-—–]\s+", text) if p.strip()]
    best = next((p for p in parts if _is_title(p)), text.strip())
    return re.sub(r"\s+", "", best) if not re.search(r"[A-Za-z]\s+[A-Za-z]", best) else best


def _is_page_info(text: str) -> bool:
    return len(text) <= MAX_HEADING and published_in_page_info(text) is not None


def published_in_page_info(text: str) -> dt.date | None:
    """A date after a label such as 发布时间：2023-01-12 in page chrome."""
    for label in vocabulary().published_labels:
        at = text.find(label)
        if at >= 0:
            match = _ISO_DATE.search(text, at)
            if match:
                try:
                    return dt.date(*(int(g) for g in match.groups()))
                except ValueError:
                    return None
    return None


def _cut_signature(sections: list[Section]):
    """Find the closing date line (and the agency line above it) in the last section."""
    if not sections:
        return [], None, []
    last = sections[-1]
    texts = [(i, it) for i, it in enumerate(last.items) if isinstance(it, Text)]
    for position in range(len(texts) - 1, -1, -1):
        index, item = texts[position]
        date = parse_date(item.text)
        if date is None:
            continue
        signature = [item.text.strip()]
        start = index
        if position > 0 and _is_signature_line(texts[position - 1][1].text):
            signature.insert(0, texts[position - 1][1].text.strip())
            start = texts[position - 1][0]
        tail = [t for t in last.items[index + 1:] if isinstance(t, Text)]
        last.items = last.items[:start]
        return signature, date, tail
    chrome = [t for t in last.items if isinstance(t, Text) and is_chrome(t.text)]
    last.items = [t for t in last.items if t not in chrome]
    return [], None, chrome


def _is_signature_line(text: str) -> bool:
    text = text.strip()
    return 0 < len(text) <= MAX_SIGNATURE and text[-1] not in _SENTENCE_END + "。，,"


def _tidy(section: Section, wrapped: bool) -> list[Item]:
    """Prose of a table section is only its full sentences; the rest are table labels."""
    if section.number in TABLE_SECTIONS:
        kept: list[Item] = []
        for item in section.items:
            if isinstance(item, Text) and not _is_prose(item.text):
                kept.append(row_from_text(item.text, item.line))
            else:
                kept.append(item)
        items = kept
    else:
        items = list(section.items)
    return _join_wrapped_items(items) if wrapped else items


def _is_prose(text: str) -> bool:
    return text.rstrip().endswith(("。", "；"))


def is_subheading(text: str) -> bool:
    text = text.strip()
    return bool(_SUBHEADING.match(text)) and len(text) <= MAX_SIGNATURE and \
        text[-1] not in "。；;，,"


def _join_wrapped_items(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    run: list[Text] = []
    for item in items:
        if isinstance(item, Text):
            run.append(item)
            continue
        out.extend(_join_wrapped(run))
        run = []
        out.append(item)
    out.extend(_join_wrapped(run))
    return out


def _join_wrapped(lines: list[Text]) -> list[Text]:
    """Join prose lines that a page layout wrapped: a full line continues on the next."""
    if not lines:
        return []
    width = max(len(t.text) for t in lines)
    joined = [Text(lines[0].text, lines[0].line)]
    for line in lines[1:]:
        prev = joined[-1].text
        full = len(prev_last_line := prev.split("\n")[-1]) >= 0.85 * width
        if full and prev_last_line[-1] not in _SENTENCE_END and not _starts_block(line.text):
            joined[-1] = Text(prev + line.text.strip(), joined[-1].line)
        else:
            joined.append(Text(line.text, line.line))
    return joined


def _starts_block(text: str) -> bool:
    return is_subheading(text) or parse_date(text) is not None or \
        section_number(text, 0) is not None


# --- metadata -------------------------------------------------------------

_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年度?政府信息公开")
_LEVELS = (
    ("township", ("乡", "镇", "街道", "街道办事处", "苏木")),
    ("county", ("县", "自治县", "旗", "区", "县级市")),
    ("city", ("市", "州", "自治州", "盟", "地区")),
    ("province", ("省", "自治区")),
)
_NATIONAL = ("国务院", "国家", "中华人民共和国")
_GOVERNMENT = ("人民政府", "人民政府办公室", "人民政府办公厅", "街道办事处", "政府")


def find_year(title: str | None, prose: str, published: dt.date | None) -> int | None:
    if title:
        match = _YEAR_IN_TITLE.search(unicodedata.normalize("NFKC", title))
        if match:
            return int(match.group(1))
    match = _YEAR_IN_TEXT.search(match_key(prose))
    if match:
        return int(match.group(1))
    return published.year - 1 if published else None


def find_agency(title: str | None, signature: list[str]) -> str | None:
    """The signing body, else the part of the title before the year."""
    if len(signature) == 2:
        return signature[0]
    if title:
        head = _YEAR_IN_TITLE.split(unicodedata.normalize("NFKC", title))[0]
        head = re.sub(r"(关于|關於)$", "", head.strip())
        return head or None
    return None


def agency_kind(agency: str) -> str:
    key = match_key(agency)
    return "government" if key.endswith(_GOVERNMENT) else "department"


def agency_level(agency: str) -> str | None:
    """The administrative level from the last place suffix before the body's own name."""
    key = match_key(agency)
    if key.startswith(_NATIONAL):
        return "national"
    for suffix in ("人民政府办公室", "人民政府办公厅", "人民政府", "办事处"):
        if suffix in key:
            key = key[: key.index(suffix)] + ("街道" if suffix == "办事处" and
                                              key[: key.index(suffix)].endswith("街道") else "")
            break
    best, best_at = None, -1
    for level, suffixes in _LEVELS:
        for suffix in suffixes:
            at = key.rfind(suffix)
            if at >= 0 and at + len(suffix) > best_at:
                best, best_at = level, at + len(suffix)
    return best


def make_title(agency: str, year: int, traditional: bool) -> str:
    title = f"{agency}{year}年政府信息公开工作年度报告"
    return agency + to_traditional(title[len(agency):]) if traditional else title


def render_body(layout: Layout) -> str:
    """The Markdown body: preamble, ``## `` per section, ``### `` subheadings, signature."""
    blocks = [t.text.strip() for t in layout.preamble]
    for section in layout.sections:
        blocks.append(f"## {section.heading}")
        for item in section.items:
            if isinstance(item, Text):
                text = item.text.strip()
                blocks.append(f"### {text}" if is_subheading(text) else text)
    if layout.signature:
        blocks.append("  \n".join(layout.signature))
    return "\n\n".join(b for b in blocks if b) + "\n"
