"""`site-gen new`: a skeleton that builds at once and never overwrites a file."""
from __future__ import annotations


import pytest

from helpers import build, run_cli, soup
from site_gen.config import load_config
from site_gen.errors import SiteGenError
from site_gen.scaffold import create_site


def test_new_site_builds_at_once(tmp_path):
    target = tmp_path / "archive"
    made = create_site(target)
    rel = sorted(p.relative_to(target).as_posix() for p in made)
    assert rel == [".gitignore", "content/2022/liangshan-xiang.md", "content/pages/about.md",
                   "site.yaml", "themes/site/README.md"]
    assert (target / "themes" / "site" / "templates").is_dir()
    config = load_config(target)
    assert config.theme == "site" and config.language == "zh-Hans"
    assert "#" in (target / "site.yaml").read_text(encoding="utf-8")  # commented
    result = build(target, search=False, jobs=1)
    assert result.reports == 1 and result.pages == 1
    about = soup(target / "output" / "about" / "index.html")
    assert about.h1.get_text() == "关于本档案"
    assert (target / "output" / "2022" / "liangshan-xiang" / "index.html").is_file()


def test_theme_folder_overrides_at_once(tmp_path):
    target = tmp_path / "archive"
    create_site(target)
    (target / "themes" / "site" / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1 id="mine">我的</h1>{% endblock %}', encoding="utf-8")
    build(target, search=False, jobs=1)
    assert soup(target / "output" / "404.html").find(id="mine") is not None


def test_empty_existing_folder_is_fine(tmp_path):
    create_site(tmp_path)
    assert (tmp_path / "site.yaml").is_file()


@pytest.mark.parametrize("existing", ["site.yaml", "notes.txt", ".hidden"])
def test_refuses_a_non_empty_folder(tmp_path, existing):
    (tmp_path / existing).write_text("mine", encoding="utf-8")
    with pytest.raises(SiteGenError) as info:
        create_site(tmp_path)
    assert info.value.message == "the folder is not empty"
    assert "never overwrites" in info.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]
    assert (tmp_path / existing).read_text(encoding="utf-8") == "mine"


def test_refuses_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(SiteGenError, match="not a folder"):
        create_site(path)


def test_cli_new(tmp_path):
    done = run_cli("new", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    assert "site-gen build" in done.stdout
    again = run_cli("new", str(tmp_path / "a"))
    assert again.returncode == 1
    assert again.stderr.startswith(f"{tmp_path / 'a'}: the folder is not empty\n  hint: ")
