"""site.yaml: defaults, validation, every problem at once."""
from __future__ import annotations

import pytest

from site_gen.config import load_config
from site_gen.errors import BuildFailed, SiteGenError


def test_defaults_without_site_yaml(tmp_path):
    config = load_config(tmp_path)
    assert config.title and config.language == "zh-Hans" and config.output_path == tmp_path / "output"


def test_values_and_base_url_slash(tmp_path):
    (tmp_path / "site.yaml").write_text("title: 县档案\nbase_url: https://x.gov.cn/gk\nportable_links: true\n",
                                        encoding="utf-8")
    config = load_config(tmp_path)
    assert (config.title, config.base_url, config.portable_links) == ("县档案", "https://x.gov.cn/gk/", True)


def test_every_problem_reported_with_line(tmp_path):
    (tmp_path / "site.yaml").write_text("base_url: ftp://x\nthem: dark\nsearch: maybe\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as info:
        load_config(tmp_path)
    assert [(e.line, e.message) for e in info.value.errors] == [
        (1, "`base_url` must be an absolute http(s) URL such as https://example.gov.cn/reports/"),
        (2, "unknown setting `them`"),
        (3, "`search` must be true or false, not 'maybe'"),
    ]
    assert info.value.errors[1].hint == "did you mean `theme`?"


def test_not_a_mapping(tmp_path):
    (tmp_path / "site.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SiteGenError, match="must be a mapping"):
        load_config(tmp_path)


def test_overrides_win(tmp_path):
    (tmp_path / "site.yaml").write_text("search: true\n", encoding="utf-8")
    assert load_config(tmp_path, {"search": False, "strict": None}).search is False
