"""Rendering: the Jinja2 theme, relative links, messages and page contexts.

A theme is a folder with `templates/` and `static/`.  A site's theme may
override any single template or static file of the default theme by placing
one at the same path.  Every link a page prints is relative to that page
(``href``), so the output works from any host, any sub-path and, with
portable links, from ``file://``; ``base_url`` is only used where an
absolute URL is required (sitemap, feed, canonical link).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

import jinja2
import yaml
from markupsafe import Markup, escape

from .config import Config
from .errors import SiteGenError
from .grid import filled_cell, format_number
from .model import value_at, value_at_key

PACKAGE_DIR = Path(__file__).resolve().parent
MESSAGES_DIR = PACKAGE_DIR / "messages"


def default_theme_dir() -> Path:
    """The default theme: inside the installed package, or the repository's."""
    installed = PACKAGE_DIR / "themes" / "default"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "themes" / "default"


def theme_dirs(config: Config) -> list[Path]:
    """Theme folders, most specific first: the site's theme, then the default."""
    dirs = []
    own = config.root / "themes" / config.theme
    if own.is_dir():
        dirs.append(own)
    elif config.theme != "default":
        raise SiteGenError(f"theme `{config.theme}` not found", "site.yaml", None, None,
                           f"create the folder themes/{config.theme}/ or set `theme: default`")
    default = default_theme_dir()
    if not dirs or dirs[0].resolve() != default.resolve():
        dirs.append(default)
    return dirs


def theme_files(dirs: list[Path], sub: str) -> dict[str, Path]:
    """Relative path -> file for a theme sub-folder, overrides winning."""
    found: dict[str, Path] = {}
    for base in reversed(dirs):
        folder = base / sub
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    found[path.relative_to(folder).as_posix()] = path
    return dict(sorted(found.items()))


def template_digests(dirs: list[Path]) -> dict[str, str]:
    """Per template, a digest of its source and of every template it extends,
    includes or imports; "*" is the digest of the whole template set.

    A template that names another through an expression (not a constant)
    depends on all of them.  Remembered per set of files (names, sizes, times).
    """
    files = theme_files(dirs, "templates")
    stamp = tuple((name, str(path), path.stat().st_size, path.stat().st_mtime_ns) for name, path in files.items())
    return _template_digests(stamp)


@lru_cache(maxsize=8)
def _template_digests(stamp: tuple) -> dict[str, str]:
    from jinja2 import meta

    sources = {name: Path(path).read_bytes() for name, path, _, _ in stamp}
    parser = jinja2.Environment()
    refs: dict[str, set[str | None]] = {}
    for name, data in sources.items():
        try:
            refs[name] = set(meta.find_referenced_templates(parser.parse(data.decode("utf-8"))))
        except (jinja2.TemplateSyntaxError, UnicodeDecodeError):
            refs[name] = {None}
    whole = hashlib.sha256(b"".join(n.encode() + b"\0" + d for n, d in sorted(sources.items()))).hexdigest()
    digests: dict[str, str] = {"*": whole}

    def closure(name: str) -> set[str | None]:
        seen: set[str | None] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            for ref in refs.get(current, ()):
                if ref not in seen:
                    seen.add(ref)
                    if ref is not None:
                        todo.append(ref)
        return seen

    for name in sources:
        deps = closure(name)
        if None in deps:
            digests[name] = whole
            continue
        h = hashlib.sha256(name.encode() + b"\0" + sources[name])
        for dep in sorted(d for d in deps if d):
            h.update(dep.encode() + b"\0" + sources.get(dep, b"<missing>"))
        digests[name] = h.hexdigest()
    return digests


@lru_cache(maxsize=None)
def load_messages(language: str) -> dict[str, str]:
    """The UI message catalog for a language (zh-Hans fills any gaps)."""
    messages: dict[str, str] = {}
    for lang in ("zh-Hans", language):
        folder = MESSAGES_DIR / lang
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            messages.update(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {})
    return messages


def format_date(value: dt.date | None, language: str) -> str:
    """A date the local way: 2023年1月12日, or 12 January 2023 in English."""
    if value is None:
        return ""
    if language == "en":
        return f"{value.day} {value:%B} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def root_for(out_rel: str) -> str:
    """The relative prefix from an output file to the site root."""
    return "../" * out_rel.count("/")


def make_href(root: str, portable: bool) -> Callable[[str], str]:
    """A function turning a site-root path ('2022/x/', 'static/a.css') into a link."""

    def href(target: str) -> str:
        link = root + target
        if portable and (target == "" or target.endswith("/")):
            link += "index.html"
        return link or "./"

    return href


class GridRows(NamedTuple):
    head: Markup
    body: Markup


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's environment, with `a.b` on a plain dict looked up as the key first
    when `b` is no attribute of dict: the same result (a dict has no attribute
    of its own), without raising and catching an AttributeError first, which
    was a good part of rendering the pages whose models are dicts."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and type(attribute) is str and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@dataclass(frozen=True)
class Rendered:
    path: str
    data: bytes


class Renderer:
    """Renders theme templates into bytes; knows nothing about files on disk."""

    def __init__(self, config: Config, dirs: list[Path], common: dict[str, Any]):
        self.config = config
        self.messages = load_messages(config.language)
        loader = jinja2.FileSystemLoader([str(d / "templates") for d in dirs])
        self.env = _Environment(
            loader=loader,
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(_bytecode_dir(config))),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.globals.update(t=self.t, site=config, format_date=self.date, to_json=to_json_script,
                                row_html=self.row_html, grid_rows=self.grid_rows,
                                figure_cells=self.figure_cells)
        self.env.filters["date"] = self.date
        self.common = common
        self._blank_html = f'<span class="visually-hidden">{escape(self.t("report.blank"))}</span>'
        self._flag_note = str(escape(self.t("report.flag_note")))
        self._grid_plans: dict[Any, tuple] = {}
        self._delta_title = str(escape(self.t("tables.delta")))
        self._figure_cells: dict[tuple, str] = {}

    def t(self, key: str, **values: Any) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def row_html(self, cells: Iterable[Any]) -> Markup:
        """The markup of a row of grid cells (see grid.Cell), every text escaped."""
        cell_html = self._cell_html
        return Markup("".join([cell_html(c) for c in cells]))

    def _cell_html(self, c: Any) -> str:
        """One grid cell's markup: `<th>`/`<td>` with its attributes, the figure
        (or the hidden word for a blank) and the note of the rules it fails."""
        return self._open_tag(c) + self._cell_body(c) + ("</th>" if c.header else "</td>")

    @staticmethod
    def _open_tag(c: Any) -> str:
        attrs = ["<th" if c.header else "<td"]
        if c.id:
            attrs.append(f' id="{escape(c.id)}"')
        if c.rowspan > 1:
            attrs.append(f' rowspan="{c.rowspan}"')
        if c.colspan > 1:
            attrs.append(f' colspan="{c.colspan}"')
        if c.scope:
            attrs.append(f' scope="{escape(c.scope)}"')
        if c.headers:
            attrs.append(f' headers="{escape(c.headers)}"')
        if c.classes:
            attrs.append(f' class="{escape(" ".join(c.classes))}"')
        if c.path is not None:
            attrs.append(f' data-key="{escape(".".join(map(str, c.path)))}"')
        if c.flags:
            attrs.append(f' tabindex="0" aria-describedby="{escape("-".join(map(str, c.path)) + "-flag")}"')
        attrs.append(">")
        return "".join(attrs)

    def _cell_body(self, c: Any) -> str:
        body = self._blank_html if c.is_null else str(escape(c.text))
        if c.flags:
            note_id = escape("-".join(map(str, c.path)) + "-flag")
            body += (f'<span class="flag-mark" aria-hidden="true">⚠</span><span class="flag-note" '
                     f'role="tooltip" id="{note_id}">{self._flag_note}：{escape("、".join(c.flags))}</span>')
        return body

    def grid_rows(self, grid: Any) -> GridRows:
        """A grid's rows as markup, `head` and `body`: each row `    <tr>…</tr>`
        and a line break, the same markup as `row_html` per row.  Made from the
        grid's skeleton (see grid.Skeleton): the label cells are printed once
        per table format, only the figures per report."""
        skel = getattr(grid, "skeleton", None)
        if skel is None or getattr(grid, "materialized", True):
            return GridRows(self._rows_markup(grid.head), self._rows_markup(grid.body))
        plan = self._grid_plans.get(skel)
        if plan is None:
            if len(self._grid_plans) >= 64:
                self._grid_plans.clear()
            plan = self._grid_plans[skel] = self._grid_plan(skel)
        head, row_paths, items = plan
        data, flags = grid.data, grid.flags
        nodes = [value_at(data, p) for p in row_paths]
        out: list[str] = []
        append = out.append
        for item in items:
            if item.__class__ is str:
                append(item)
                continue
            node_index, last, pre, null_html, slot = item
            value = value_at_key(nodes[node_index], last)
            if flags and flags.get(slot.path):
                append(self._cell_html(filled_cell(slot, value, flags[slot.path])))
            elif value is None:
                append(null_html)
            elif value.__class__ is int:
                append(pre + str(value) + "</td>")
            else:
                append(pre + str(escape(format_number(value))) + "</td>")
        return GridRows(head, Markup("".join(out)))

    def _rows_markup(self, rows: Iterable[Iterable[Any]]) -> Markup:
        cell_html = self._cell_html
        return Markup("".join(["    <tr>" + "".join([cell_html(c) for c in row]) + "</tr>\n" for row in rows]))

    def _grid_plan(self, skel: Any) -> tuple[Markup, list[tuple], list[Any]]:
        """The constant markup of a skeleton, and a slot per figure."""
        head = self._rows_markup(skel.head)
        row_paths: dict[tuple, int] = {}
        items: list[Any] = []
        text: list[str] = []
        for row in skel.body:
            text.append("    <tr>")
            for cell in row:
                if cell.path is None:
                    text.append(self._cell_html(cell))
                    continue
                if text:
                    items.append("".join(text))
                    text = []
                row_path = tuple(cell.path[1:-1])
                index = row_paths.setdefault(row_path, len(row_paths))
                plain = filled_cell(cell, 0, None)
                null = filled_cell(cell, None, None)
                items.append((index, cell.path[-1], self._open_tag(plain), self._cell_html(null), cell))
            text.append("</tr>\n")
        if text:
            items.append("".join(text))
        return head, list(row_paths), items

    def figure_cells(self, cells: Iterable[Any]) -> Markup:
        """The `<td>` of each figure cell of a table or agency page (dicts made by
        tables.value_cell / rate_cell: text, sort, missing, why, optional delta),
        the markup of the `figure_cell` macro of _tables_macros.html, every text
        escaped.  One call per row: a macro call per figure dominated those pages;
        the markup of a cell is remembered by its texts (figures repeat a lot)."""
        known = self._figure_cells
        parts = []
        for c in cells:
            text, sort, missing, why = c["text"], c["sort"], c["missing"], c["why"]
            key = (text, sort, missing, why)
            if type(text) is str and type(sort) is str and type(why) is str and (missing is None or type(missing) is str):
                html = known.get(key)
                if html is None:
                    if len(known) >= 20_000:
                        known.clear()
                    html = known[key] = self._figure_cell(text, sort, missing, why)
            else:
                html = self._figure_cell(text, sort, missing, why)
            delta = c.get("delta")
            if delta:
                html = html[:-5] + (f'<span class="delta" title="{self._delta_title}"><span class="visually-hidden">'
                                    f'{self._delta_title} </span>{escape(delta)}</span></td>')
            parts.append(html)
        return Markup("".join(parts))

    @staticmethod
    def _figure_cell(text: Any, sort: Any, missing: Any, why: Any) -> str:
        if not missing:
            return f'<td class="num" data-value="{escape(sort)}">{escape(text)}</td>'
        kind = escape(missing)
        if missing == "blank" and text != "—":
            body = f'<span class="visually-hidden">{escape(why)}</span>'
        else:
            body = ("—" if text == "—" else "") + f'<span class="why">{escape(why)}</span>'
        return f'<td class="num missing missing--{kind}" data-value="{escape(sort)}" data-missing="{kind}">{body}</td>'

    def date(self, value: dt.date | None) -> str:
        return format_date(value, self.config.language)

    def render(self, template: str, out_rel: str, **context: Any) -> Rendered:
        root = root_for(out_rel)
        href = make_href(root, self.config.portable_links)
        ctx = dict(self.common)
        ctx.update(root=root, href=href, static=lambda p: root + "static/" + p,
                   page_path=out_rel, absolute=self.absolute)
        ctx.update(context)
        try:
            text = self.env.get_template(template).render(ctx)
        except jinja2.TemplateError as exc:
            raise template_error(exc, template) from None
        return Rendered(out_rel, text.encode("utf-8"))

    def absolute(self, target: str) -> str:
        """An absolute URL from base_url, or the site-root path when unset."""
        return (self.config.base_url or "/") + target


def _bytecode_dir(config: Config) -> Path:
    """Compiled templates are kept in the cache (Jinja checks them against the
    template's modification time), so a rebuild does not recompile them."""
    folder = config.cache_path / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def template_error(exc: jinja2.TemplateError, template: str) -> SiteGenError:
    name = getattr(exc, "filename", None) or template
    line = getattr(exc, "lineno", None)
    return SiteGenError(f"template error: {exc.message if hasattr(exc, 'message') else exc}",
                        str(name), line, None, "fix the theme template named here")


def to_json_script(value: Any) -> Markup:
    """JSON safe to embed in a <script> element (no `</script>` break-out)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def json_bytes(value: Any) -> bytes:
    """Deterministic compact JSON for data files (the C encoder: no indent)."""
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
