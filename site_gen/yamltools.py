"""YAML reading with the safety limits and the line numbers users need.

Sources are parsed with the fast C loader.  Positions are only needed when
something is wrong, so :func:`locate` re-composes the text into a node tree
and walks it to the offending key: the slow path runs only on errors.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

import yaml

from .errors import SiteGenError

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


def _check_depth(value: Any, path: str, line_offset: int, text: str = "") -> None:
    """Refuse values nested deeper than MAX_DEPTH and text no page can show.

    Runs on every source, so the walk allocates nothing; text is only looked
    at when the YAML could hold such a character (raw, or as a backslash
    escape), and located by a second, keyed walk only when one is found.
    """
    look_at_text = "\\" in text or _NOT_TEXT.search(text) is not None
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


def load_yaml(text: str, path: str, line_offset: int = 0) -> Any:
    """Parse YAML text, turning every parser problem into a located error.

    `line_offset` is the number of file lines before the YAML text starts
    (1 for frontmatter after its opening ``---``).
    """
    _check_text_nesting(text, path, line_offset)
    _reject_aliases(text, path, line_offset)
    try:
        value = yaml.load(text, Loader=FastLoader)
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
    _check_depth(value, path, line_offset, text=text)
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
