"""Site configuration: `site.yaml`, validated as a typed schema.

Every problem in the file is collected and reported at once with its line;
unknown keys are reported with the nearest known key as a hint.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ErrorList, SiteGenError
from .yamltools import load_yaml, locate

CONFIG_FILE = "site.yaml"
MAX_CONFIG_BYTES = 256 * 1024
LANGUAGES = ("zh-Hans", "zh-Hant", "en")


@dataclass(frozen=True)
class Config:
    """The validated settings of one site; paths are absolute."""

    root: Path
    title: str = "政府信息公开工作年度报告档案"
    description: str = ""
    base_url: str = ""
    language: str = "zh-Hans"
    theme: str = "default"
    content_dir: str = "content"
    output_dir: str = "output"
    portable_links: bool = False
    trusted_html: bool = False
    latest_count: int = 10
    agencies_file: str = "agencies.yaml"
    strict: bool = False
    search: bool = True
    cache_dir: str = ".site-gen-cache"

    @property
    def content_path(self) -> Path:
        return (self.root / self.content_dir).resolve()

    @property
    def output_path(self) -> Path:
        # The folder itself is not resolved: a symbolic link there must stay
        # visible so the build refuses to write through it.
        path = self.root / self.output_dir
        if path.name in ("", ".", ".."):
            return path.resolve()
        return path.parent.resolve() / path.name

    @property
    def cache_path(self) -> Path:
        return (self.root / self.cache_dir).resolve()

    def digest_fields(self) -> dict[str, Any]:
        """Settings that change rendered output (for cache keys)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("root", "cache_dir", "output_dir", "strict")}


_TYPES: dict[str, type | tuple[type, ...]] = {
    "title": str, "description": str, "base_url": str, "language": str, "theme": str,
    "content_dir": str, "output_dir": str, "portable_links": bool, "trusted_html": bool,
    "latest_count": int, "agencies_file": str, "strict": bool, "search": bool, "cache_dir": str,
}
_TYPE_NAMES = {str: "text", bool: "true or false", int: "a whole number"}


def _check_value(key: str, value: Any) -> str | None:
    expected = _TYPES[key]
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"`{key}` must be a whole number, not {value!r}"
    if not isinstance(value, expected):
        return f"`{key}` must be {_TYPE_NAMES[expected]}, not {value!r}"
    if key == "language" and value not in LANGUAGES:
        return f"`language` must be one of {', '.join(LANGUAGES)}, not {value!r}"
    if key == "base_url" and value and not value.startswith(("http://", "https://")):
        return "`base_url` must be an absolute http(s) URL such as https://example.gov.cn/reports/"
    if key == "latest_count" and value < 0:
        return "`latest_count` must not be negative"
    if key in ("content_dir", "output_dir", "cache_dir") and (not value or "\0" in value):
        return f"`{key}` must be a folder name"
    if key == "theme" and ("/" in value or "\\" in value or value.startswith(".") or not value):
        return "`theme` must be the name of a folder under themes/"
    return None


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read `site.yaml` under `root` (optional) and return a validated Config."""
    root = root.resolve()
    path = root / CONFIG_FILE
    rel = CONFIG_FILE
    values: dict[str, Any] = {}
    if path.is_file():
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise SiteGenError(f"site.yaml is {path.stat().st_size // 1024} KB; the limit is "
                               f"{MAX_CONFIG_BYTES // 1024} KB", rel, None, None,
                               "site.yaml holds a few settings, one per line")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SiteGenError(f"not UTF-8 text (byte {exc.start})", rel, 1, 1,
                               "save site.yaml as UTF-8") from None
        data = load_yaml(text, rel)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise SiteGenError("site.yaml must be a mapping of settings", rel, 1, 1,
                               "write one `key: value` per line")
        errors = ErrorList()
        for key, value in data.items():
            if not isinstance(key, str) or key not in _TYPES:
                line, col = locate(text, [str(key)], want_key=True)
                near = difflib.get_close_matches(str(key), list(_TYPES), n=1)
                hint = f"did you mean `{near[0]}`?" if near else "known settings: " + ", ".join(sorted(_TYPES))
                errors.add(SiteGenError(f"unknown setting `{key}`", rel, line, col, hint))
                continue
            problem = _check_value(key, value)
            if problem:
                line, col = locate(text, [key])
                errors.add(SiteGenError(problem, rel, line, col))
                continue
            values[key] = value
        errors.raise_if_any()
    if overrides:
        values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("base_url") and not values["base_url"].endswith("/"):
        values["base_url"] += "/"
    return Config(root=root, **values)
