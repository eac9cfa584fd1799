"""A small archive exercising every page type of the default theme.

A helper module (no tests of its own) used by tests/test_theme.py and tests/test_theme_browser.py (built once per
module): two years of one agency (previous/next links), a zh-Hans and a
zh-Hant report, a failing check (flagged cells), a blank (null) cell, a
report without standard tables, a cn-gov-2019 report and a plain page.
"""
from __future__ import annotations

from pathlib import Path

from conftest import SEED, write_files

SOURCE_URL = "https://www.example.gov.cn/zwgk/2023/liangshan-2022.html"


def seed_variant(**replacements: str) -> str:
    text = SEED.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def make_theme_site(root: Path, *, base_url: str = "https://reports.example.org/archive/") -> Path:
    """Lay out the fixture archive under `root` and return it."""
    hant = seed_variant(**{
        "  file: 000_05d8cabf3faf2b39.txt\n": f"  url: {SOURCE_URL}\n  file: 000_05d8cabf3faf2b39.txt\n",
        "admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
            "admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}",
        "admin_coercion: 0": "admin_coercion: null",
    })
    hans = seed_variant(**{
        "title: 涼山鄉人民政府2022年政府信息公開工作年度報告": "title: 凉山乡人民政府2021年政府信息公开工作年度报告",
        "year: 2022": "year: 2021", "published: 2023-01-12": "published: 2022-01-20",
        "lang: zh-Hant": "lang: zh-Hans",
        "## 一、總體情況": "## 一、总体情况",
    })
    return write_files(root, {
        "site.yaml": "title: 政府信息公开工作年度报告档案\ndescription: 测试用档案。\n"
                     + (f"base_url: {base_url}\n" if base_url else ""),
        "content/2022/liangshan-xiang.md": hant,
        "content/2021/liangshan-xiang.md": hans,
        "content/2020/example-bureau.md": """
            ---
            agency: 示例县统计局
            year: 2020
            published: 2021-01-28
            level: county
            kind: department
            region: 示例县
            ---
            ## 一、总体情况

            本局2020年度无依申请公开事项。本报告为自由格式，没有标准表格。
            """,
        "content/pages/about.md": """
            ---
            title: 关于本档案
            order: 1
            ---
            本档案收录各级行政机关的政府信息公开工作年度报告。

            ## 数据来源

            报告原文以各机关网站发布的版本为准。
            """,
    })
