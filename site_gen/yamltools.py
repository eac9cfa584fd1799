"""YAML reading with the safety limits and the line numbers users need.

PyYAML (YAML 1.1, with its C loader) is the reference for what a source
means.  Most frontmatter is read by yaml-rs instead, about ten times faster
(PyYAML builds every node in Python: 2.8 ms against 0.3 ms for a report's
frontmatter), but only when the text holds nothing that the two read
differently (see :func:`_fast_load`); anything else, and any text yaml-rs
refuses, goes to PyYAML.  Positions are only needed when something is wrong,
so :func:`locate` re-composes the text into a node tree and walks it to the
offending key: the slow path runs only on errors.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

import yaml

from .errors import SiteGenError

try:
    import yaml_rs
except ImportError:  # pragma: no cover - the fast path is optional
    yaml_rs = None

try:
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader


class FastLoader(_Base):  # type: ignore[misc,valid-type]
    """The C loader, but a date-like scalar that is no real date (2023-13-45)
    stays text, so the model can report it at its own line."""

    def construct_yaml_timestamp(self, node):  # noqa: D102
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


FastLoader.add_constructor("tag:yaml.org,2002:timestamp", FastLoader.construct_yaml_timestamp)

MAX_DEPTH = 32
# Text nested deeper than this is refused before parsing: libyaml recurses
# without a limit (tens of thousands of `[` crash the interpreter) and slows
# down quadratically long before that.  Generous, so an estimate that
# overcounts (brackets inside quoted text) never refuses a real file.
MAX_TEXT_NESTING = 200
_FLOW = re.compile(r"[\[\]{}]")
_BLOCK_MARKERS = re.compile(r"(?:[-?:](?:[ \t]+|$))+")


_LEADING = re.compile(r"^[ \t?:-]*", re.MULTILINE)
_NESTED_FLOW = re.compile(r"[\[{][^\]}]*[\[{]")


def nesting_bound(text: str) -> int:
    """A cheap upper bound on how deep `text` nests, from C-level searches.

    A line's block depth is at most its leading indentation and markers
    plus one (indents only grow, and each marker takes a character); flow
    depth is one when no bracket opens before the last one closed, and at
    most the number of opening brackets otherwise.  Most sources are far
    below the limits, so the exact walks below run only for the rest.
    """
    leading = max(map(len, _LEADING.findall(text)), default=0)
    flow = text.count("[") + text.count("{") if _NESTED_FLOW.search(text) else 1
    return leading + 1 + flow


def _check_text_nesting(text: str, path: str, line_offset: int) -> None:
    """Refuse absurdly deep nesting from the text alone, before libyaml sees it.

    The estimate is an upper bound: indentation levels open on the line, block
    markers (`- `, `? `) that start it, and open flow brackets.
    """
    indents: list[int] = []
    flow = 0
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while indents and indents[-1] >= indent:
            indents.pop()
        indents.append(indent)
        markers = _BLOCK_MARKERS.match(stripped)
        depth = len(indents) + (markers.group(0).count("-") + markers.group(0).count("?") if markers else 0)
        if "[" in line or "{" in line or "]" in line or "}" in line:
            for match in _FLOW.finditer(line):
                flow = flow + 1 if match.group(0) in "[{" else max(flow - 1, 0)
                if depth + flow > MAX_TEXT_NESTING:
                    break
        if depth + flow > MAX_TEXT_NESTING:
            raise SiteGenError(f"YAML nested deeper than {MAX_DEPTH} levels", path, number + line_offset, 1,
                               "site-gen files need only a few levels of nesting")


def _reject_aliases(text: str, path: str, line_offset: int) -> None:
    """Refuse YAML aliases: sources never need them and they enable bombs."""
    if "*" not in text and "&" not in text:
        return
    try:
        for event in yaml.parse(text, Loader=FastLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise SiteGenError(
                    "YAML aliases (*name) are not allowed in site-gen files",
                    path, mark.line + 1 + line_offset, mark.column + 1,
                    "write the value out in full instead of referring to an anchor",
                )
    except yaml.YAMLError:
        return  # the real parse below reports it with its position


# Characters XML 1.0 cannot carry (C0 controls but tab and line breaks, lone
# surrogates, U+FFFE/U+FFFF): quoted YAML can write them as escapes, and a
# page, feed or sitemap holding one is broken or cannot even be encoded.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check_text(value: str, keys: list, text: str, path: str, line_offset: int) -> None:
    bad = _NOT_TEXT.search(value)
    if bad:
        line, column = locate(text, keys, line_offset)
        raise SiteGenError(f"text holds the character U+{ord(bad.group(0)):04X}, which no page can show",
                           path, line, column, "remove it (quoted YAML writes it as an escape such as \\x01 or \\ud800)")


def _check_depth(value: Any, path: str, line_offset: int, text: str = "", *, shallow: bool = False) -> None:
    """Refuse values nested deeper than MAX_DEPTH and text no page can show.

    Runs on every source, so the walk allocates nothing, and is skipped when
    the text is `shallow` (its nesting bound is half of MAX_DEPTH or less,
    leaving room for a block sequence at its key's indentation) and holds no
    character that could make bad text.  Text is only looked at when the YAML
    could hold such a character (raw, or as a backslash escape), and located
    by a second, keyed walk only when one is found.
    """
    look_at_text = "\\" in text or _NOT_TEXT.search(text) is not None
    if shallow and not look_at_text:
        return
    if _has_bad_text(value, 0, path, line_offset, look_at_text):
        _locate_bad_text(value, [], text, path, line_offset)


def _has_bad_text(value: Any, depth: int, path: str, line_offset: int, look_at_text: bool) -> bool:
    if depth > MAX_DEPTH:
        raise SiteGenError(f"YAML nested deeper than {MAX_DEPTH} levels", path, line_offset + 1, 1)
    if isinstance(value, str):
        return look_at_text and _NOT_TEXT.search(value) is not None
    found = False
    if isinstance(value, dict):
        for key, item in value.items():
            found |= look_at_text and isinstance(key, str) and _NOT_TEXT.search(key) is not None
            found |= _has_bad_text(item, depth + 1, path, line_offset, look_at_text)
    elif isinstance(value, list):
        for item in value:
            found |= _has_bad_text(item, depth + 1, path, line_offset, look_at_text)
    return found


def _locate_bad_text(value: Any, keys: list, text: str, path: str, line_offset: int) -> None:
    if isinstance(value, str):
        _check_text(value, keys, text, path, line_offset)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _check_text(key, keys, text, path, line_offset)
            _locate_bad_text(item, keys + [key], text, path, line_offset)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _locate_bad_text(item, keys + [index], text, path, line_offset)


# What YAML 1.1 (PyYAML) and YAML 1.2 (yaml-rs) may read differently, found
# from the text alone and generously: a false alarm only costs speed.  The
# text is searched with a "\n" in front, so a token (a run of text between
# spaces or flow punctuation) always has a character before it.  Each rule
# starts with a literal or a class, which lets the regex engine skip ahead:
# one pattern with every rule as a branch is four times slower.
_END = r"(?=[\s\]},]|:(?:\s|$)|$)"  # where a token ends; [\s\[{,] is what comes before one
_NOT_FOR_FAST = [re.compile(rule) for rule in (
    # a digit: 1e5 (a float only in 1.2), 1_000 and 1_ (yaml-rs reads any
    # underscores), 1:20 (80 in 1.1: base 60) and times, 012 (10 in 1.1), 0x1F
    r"[0-9](?:[eE][-+]?[0-9]+" + _END + r"|_[0-9_.]*" + _END + r"|:[0-9]"
    r"|(?:(?<=[\s\[{,]0)|(?<=[\s\[{,][-+]0))[0-9_xob][0-9a-fA-F_.]*" + _END + r")",
    # .5 and _1 at a token's start
    r"[._][0-9](?:(?<=[\s\[{,]..)|(?<=[\s\[{,][-+]..))",
    # 1.1 booleans; inf and nan in any spelling
    r"[\s\[{,+.-](?:[yY][eE][sS]|[nN][oO]|[oO][nN]|[oO][fF][fF]"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])" + _END,
    # tags, anchors, aliases, complex keys (PyYAML reads [?a] as a key) and
    # reserved characters at a token's start
    r"[!&*@`?](?<=[\s\[{,].)",
    # the 1.1 value key, empty keys and flow colons (1.2 reads more of them)
    r"=(?<=[\s\[{,]=)" + _END,
    r":(?:[\]},]|(?<=[\s\[{,]:)" + _END + r")",
    r"[\[{,\]}] *:",
    # directives, document markers
    r"\n(?:---|\.\.\.|%)",
    # anything but printable text: tabs, CR, NEL, BOM, line separators, controls
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]",
)]
_NOT_FOR_FAST_TEXT = ("\\", "<<")  # escapes in double quotes; merge keys
# yaml-rs makes a date of any string that looks like one, quoted or not;
# PyYAML only of a plain scalar.  Every date-like text must be a plain
# `key: YYYY-MM-DD` line for the fast path.
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]")
_PLAIN_DATE = re.compile(r"^[^'\"#\n|>]*: +[0-9]{4}-[0-9]{2}-[0-9]{2} *$", re.MULTILINE)
_SLOW = object()


# A line no rule above (nor the date rules) can find anything in: a lowercase
# key (none of the 1.1 words) with nothing, a plain number, or a flow list or
# mapping of plain numbers -- most lines of a report's tables.  Taking them out
# before the rules run gives the same verdict (a rule never reaches across a
# line break into the next line's text: what follows a line is its "\n" either
# way), and the rules, which try at every digit, space and comma, then read a
# tenth of the text.
_PLAIN_KEY = r"(?!(?:yes|no|on|off|inf|infinity|nan):)[a-z][a-z_]*"
_PLAIN_NUMBER = r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
_PLAIN_LINE = re.compile(
    rf"^ *{_PLAIN_KEY}:(?: (?:{_PLAIN_NUMBER}|\[(?:{_PLAIN_NUMBER}(?:, {_PLAIN_NUMBER})*)?\]"
    rf"|\{{(?:{_PLAIN_KEY}: {_PLAIN_NUMBER}(?:, {_PLAIN_KEY}: {_PLAIN_NUMBER})*)?\}}))?\n", re.MULTILINE)


def _risky_lines(text: str) -> str:
    """`text` without its `_PLAIN_LINE`s: what the fast path's rules must read."""
    return _PLAIN_LINE.sub("", text)


def _fast_path_safe(text: str) -> bool:
    """No rule of `_NOT_FOR_FAST` finds anything in `text`."""
    if any(part in text for part in _NOT_FOR_FAST_TEXT):
        return False
    text = "\n" + text
    return not any(rule.search(text) for rule in _NOT_FOR_FAST)


def _fast_load(text: str) -> Any:
    """The value of `text` by yaml-rs, or `_SLOW` when PyYAML must read it:
    yaml-rs is missing, the text holds something the two YAML versions read
    differently, or yaml-rs refuses it (PyYAML then reports the problem, or
    reads it: duplicate keys, for one)."""
    if yaml_rs is None:
        return _SLOW
    risky = _risky_lines(text)
    if not _fast_path_safe(risky):
        return _SLOW
    dates = _DATE_LIKE.findall(risky)
    if dates and len(dates) != len(_PLAIN_DATE.findall(risky)):
        return _SLOW
    try:
        return yaml_rs.loads(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - any refusal, a Rust panic too: PyYAML has the final word
        return _SLOW


def _pyyaml_load(text: str) -> Any:
    return yaml.load(text, Loader=FastLoader)


def load_yaml(text: str, path: str, line_offset: int = 0) -> Any:
    """Parse YAML text, turning every parser problem into a located error.

    `line_offset` is the number of file lines before the YAML text starts
    (1 for frontmatter after its opening ``---``).
    """
    bound = nesting_bound(text)
    if bound > MAX_TEXT_NESTING:
        _check_text_nesting(text, path, line_offset)
    _reject_aliases(text, path, line_offset)
    value = _fast_load(text)
    try:
        if value is _SLOW:
            value = _pyyaml_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        column = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        hint = "check indentation, colons and quotes on this line"
        start = exc.context_mark
        if exc.context and start is not None and mark is not None and start.line != mark.line:
            what = exc.context.removeprefix("while parsing ").removeprefix("while scanning ")
            what = what.removeprefix("a ").removeprefix("an ")
            hint = f"the {what} that starts on line {start.line + 1 + line_offset} is not closed properly"
        raise SiteGenError(f"invalid YAML: {problem}", path, line, column, hint) from None
    except yaml.YAMLError as exc:
        raise SiteGenError(f"invalid YAML: {exc}", path, line_offset + 1, 1) from None
    except RecursionError:
        raise SiteGenError("YAML nested too deeply", path, line_offset + 1, 1) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise SiteGenError(f"invalid YAML value: {exc}", path, line_offset + 1, 1) from None
    _check_depth(value, path, line_offset, text=text, shallow=bound <= MAX_DEPTH // 2)
    return value


def locate(text: str, keys: Sequence[str | int], line_offset: int = 0,
           *, want_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the node at `keys` in YAML `text`.

    Walks as deep as the path exists, so a missing key points at its parent.
    With `want_key`, a mapping entry points at its key rather than its value.
    """
    node = _compose(text)
    if node is False:
        return line_offset + 1, 1
    mark = node.start_mark if node is not None else None
    for key in keys:
        found = None
        if isinstance(node, yaml.MappingNode):
            for k_node, v_node in node.value:
                if k_node.value == str(key):
                    found = (k_node, v_node)
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            found = (node.value[key], node.value[key])
        if found is None:
            break
        mark = found[0].start_mark if want_key and key == keys[-1] else found[1].start_mark
        node = found[1]
    if mark is None:
        return line_offset + 1, 1
    return mark.line + 1 + line_offset, mark.column + 1


@lru_cache(maxsize=4)
def _compose(text: str) -> Any:
    """The node tree of `text` (False if it does not parse), kept for the
    next few calls: a file with many problems is composed once, not once
    per problem."""
    try:
        return yaml.compose(text, Loader=FastLoader)
    except (yaml.YAMLError, RecursionError):
        return False
