"""`site-gen check --links`: broken links written in sources are reported at
their file and line; the theme's own links and assets all resolve."""
from __future__ import annotations

import subprocess
import sys

from site_gen.build import build_site
from site_gen.config import load_config
from site_gen.links import check_links, resolve

BODY = "\n".join([
    "## 一、总体情况", "",
    "见[上年报告](../../2021/a/)与[本年](../b/)，[首页](../../)。",  # line 7: all fine
    "[不存在](../../2021/nope/)",                                      # line 8: broken
    "![图](../../static/nope.png)",                                    # line 9: broken
    "[外部](https://www.gov.cn/) [邮件](mailto:a@b.cn) [锚](#s1)",     # line 10: not checked
    "```", "[代码里](../../nowhere/)", "```",                          # lines 11-13: code, ignored
    '<a href="../../2021/gone/">原始</a>',                             # line 14: broken
    "[ref]: ../../2021/a/report.json",                                 # line 15: fine
    "[越界](../../../../etc/passwd)",                                  # line 16: outside the site
])


def make(make_site):
    return make_site({
        "content/2021/a.md": "---\nagency: 甲\nyear: 2021\n---\n正文\n",
        "content/2022/b.md": "---\nagency: 甲\nyear: 2022\n---\n" + BODY + "\n",
        "content/pages/about.md": "---\ntitle: 关于\n---\n[第一份](../2021/a/) [坏的](../2022/zzz/)\n",
    })


def test_broken_links_in_sources_reported_at_file_and_line(make_site):
    site = make(make_site)
    build_site(site)
    config = load_config(site)
    errors = [str(e).split("\n")[0] for e in check_links(config, config.output_path)]
    assert errors == [
        "content/2022/b.md:8: broken link ../../2021/nope/",
        "content/2022/b.md:9: broken link ../../static/nope.png",
        "content/2022/b.md:14: broken link ../../2021/gone/",
        "content/2022/b.md:16: broken link ../../../../etc/passwd",
        "content/pages/about.md:4: broken link ../2022/zzz/",
    ]


def test_theme_links_resolve_in_normal_and_portable_builds(make_site, tmp_path):
    site = make_site({"content/2021/a.md": "---\nagency: 甲\nyear: 2021\n---\n正文\n",
                      "content/pages/about.md": "---\ntitle: 关于\n---\n正文\n"}, with_seed=True)
    for portable in (False, True):
        build_site(site, portable=portable)
        config = load_config(site)
        assert check_links(config, config.output_path) == []


def test_deleted_page_is_reported_in_the_output_file(make_site):
    site = make(make_site)
    build_site(site)
    config = load_config(site)
    (config.output_path / "checks" / "index.html").unlink()
    errors = check_links(config, config.output_path)
    assert any(e.path == "output/index.html" and e.message == "broken link checks/" for e in errors)


def test_resolve_never_leaves_the_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert resolve(out, "a/index.html", "../../x") is None
    assert resolve(out, "index.html", "/x/", "/") == out / "x" / "index.html"
    assert resolve(out, "index.html", "%2e%2e/%2e%2e/x") is None


def test_cli_check_links(make_site):
    site = make(make_site)
    build_site(site)
    result = subprocess.run([sys.executable, "-m", "site_gen", "check", "--links", str(site)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "content/2022/b.md:8: broken link ../../2021/nope/" in result.stderr.splitlines()


def test_check_links_reports_a_fifo_among_the_built_pages_without_waiting(make_site):
    """A FIFO named like a page would make reading it wait for a writer: it
    is reported as not a page, and the check ends (a subprocess with a
    timeout, so a hang fails the test)."""
    import os
    site = make(make_site)
    build_site(site)
    os.mkfifo(site / "output" / "stray.html")
    result = subprocess.run([sys.executable, "-m", "site_gen", "check", "--links", str(site)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "output/stray.html: not a regular file where a built page belongs" in result.stderr
