"""Raw bytes to text: refuse what is not text, detect the encoding.

Chinese government sites serve UTF-8, GBK/GB2312 (read as GB18030, its
superset) and, from Windows tools, UTF-16; saved pages may carry a BOM.
"""
from __future__ import annotations

import codecs
import re

from site_gen.errors import SiteGenError

PDF_MAGIC = b"%PDF-"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")
MAX_CONTROL_SHARE = 0.01
MIN_HAN_SHARE = 0.05


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(PDF_MAGIC)


def decode(data: bytes, path: str) -> str:
    """The text of a raw report, or a SiteGenError saying why there is none."""
    if not data.strip():
        raise SiteGenError("empty file, nothing to import", path)
    text = _decode_with_bom(data)
    if text is None and _looks_utf16(data):
        text = _try(data, "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be")
    if text is None and b"\x00" in data:
        raise SiteGenError("binary file, not a text, HTML or PDF report", path)
    if text is None:
        text = _try(data, "utf-8") or _guess(data)
    if text is None:
        raise SiteGenError("unknown text encoding", path,
                           hint="save the report as UTF-8, GB18030/GBK or UTF-16")
    if len(_CONTROL.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise SiteGenError("binary file, not a text, HTML or PDF report", path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_with_bom(data: bytes) -> str | None:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _try(data, encoding)
    return None


def _looks_utf16(data: bytes) -> bool:
    """Mostly-ASCII-or-CJK UTF-16 without BOM has a NUL in nearly every other byte."""
    sample = data[:4000]
    zeros = max(sample[0::2].count(0), sample[1::2].count(0))
    return len(sample) >= 4 and zeros >= 0.3 * (len(sample) / 2)


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _guess(data: bytes) -> str | None:
    """GB18030 when it decodes into Chinese text, else what charset-normalizer finds."""
    text = _try(data, "gb18030")
    if text is not None and len(_HAN.findall(text)) >= MIN_HAN_SHARE * len(text) \
            and len(_PRIVATE_USE.findall(text)) <= MAX_CONTROL_SHARE * len(text):
        return text  # Big5 read as GB18030 decodes too, but into private-use characters
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    return text if _HAN.search(text) else None
