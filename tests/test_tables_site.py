"""A fixture archive for the table, export and chart tests: several agencies
over several years, a cn-gov-2019 report, a null cell, a missing table.

`make_archive(root)` writes the sources; `SOURCES` keeps the tables as
written so tests compare pages and files with the sources, not with
hand-copied numbers.
"""
from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import yaml

Z7 = [0, 0, 0, 0, 0, 0, 0]


def vec(total: int | None, person: int | None = None) -> list:
    """A requests row: natural persons, five organisation kinds, total."""
    person = total if person is None else person
    return [person, 0, 0, 0, 0, (total - person) if total is not None and person is not None else 0, total]


def requests_2021(new: int, carried: int, granted: int, partial: int, not_held: int, forward: int) -> dict:
    results = granted + partial + not_held
    return {
        "new_received": vec(new), "carried_over": vec(carried),
        "granted": vec(granted), "partially_granted": vec(partial),
        "withheld": {k: list(Z7) for k in ("state_secret", "prohibited_by_law", "endangers_security",
                                           "third_party_rights", "internal_affairs", "process_info",
                                           "enforcement_case_file", "admin_query")},
        "unable_to_provide": {"not_held": vec(not_held), "needs_creation": list(Z7),
                              "unclear_after_correction": list(Z7)},
        "not_processed": {k: list(Z7) for k in ("petition_complaint", "duplicate", "publication",
                                                "excessive_repeated", "confirm_or_reissue")},
        "other_handling": {k: list(Z7) for k in ("overdue_correction", "fee_unpaid", "other")},
        "results_total": vec(results), "carried_forward": vec(forward),
    }


def review(corrected: int, total: int, pending: int = 0) -> dict:
    group = {"upheld": total - corrected - pending, "corrected": corrected, "other": 0, "pending": pending,
             "total": total}
    return {"admin_review": group, "litigation_direct": dict(group, corrected=0, upheld=0, total=0, pending=0),
            "litigation_after_review": {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0}}


def proactive_2021(penalty, license_=0, fees=0) -> dict:
    return {"rules": {"issued": 0, "repealed": 0, "in_force": 0},
            "normative_docs": {"issued": 2, "repealed": 0, "in_force": 9},
            "admin_license": license_, "admin_penalty": penalty, "admin_coercion": 0, "admin_fees": fees}


def tables_2019(new: int, granted: int, forward: int, penalty: int) -> dict:
    req = requests_2021(new, 0, granted, 0, new - granted - forward, forward)
    req["other_handling"] = list(Z7)  # one row in the 2019 format
    return {
        "proactive": {
            "rules": {"new_made": 0, "new_published": 0, "total_published": 2},
            "normative_docs": {"new_made": 3, "new_published": 3, "total_published": 20},
            "admin_license": {"prev_year_items": 50, "change": -2, "decisions": 310},
            "other_external_services": {"prev_year_items": 12, "change": 0, "decisions": 40},
            "admin_penalty": {"prev_year_items": 30, "change": 1, "decisions": penalty},
            "admin_coercion": {"prev_year_items": 5, "change": 0, "decisions": 3},
            "admin_fees": {"prev_year_items": 2, "change": 0},
            "central_procurement": {"procurement_items": 6, "procurement_amount": 123.45},
        },
        "requests": req,
        "review_litigation": review(1, 4),
    }


def _hexi_2022() -> dict:
    tables = {"proactive": proactive_2021(12, 40, 1.5), "requests": requests_2021(20, 3, 10, 4, 5, 4),
              "review_litigation": review(2, 5, 1)}
    tables["requests"]["granted"] = [None, 0, 0, 0, 0, 0, None]  # a blank 予以公开 row
    return tables


# (path, metadata, tables or None)
SOURCES: list[tuple[str, dict, dict | None]] = [
    ("2020/hexi-county.md", dict(agency="河西县人民政府", year=2020, level="county", kind="government",
                                 region="甲省", published="2021-03-20", format="cn-gov-2019"),
     tables_2019(8, 5, 1, 88)),
    ("2021/hexi-county.md", dict(agency="河西县人民政府", year=2021, level="county", kind="government",
                                 region="甲省", published="2022-04-02", format="cn-gov-2021"),
     {"proactive": proactive_2021(30), "requests": requests_2021(12, 1, 6, 2, 2, 3),
      "review_litigation": review(0, 2)}),
    ("2022/hexi-county.md", dict(agency="河西县人民政府", year=2022, level="county", kind="government",
                                 region="甲省", published="2023-03-31", format="cn-gov-2021"),
     _hexi_2022()),
    ("2021/city-finance.md", dict(agency="某市财政局", year=2021, level="city", kind="department",
                                  region="乙省", published="2022-01-30", format="cn-gov-2021"),
     {"proactive": proactive_2021(0, 0, 12.25), "requests": requests_2021(0, 0, 0, 0, 0, 2),
      "review_litigation": review(0, 0)}),
    ("2022/city-finance.md", dict(agency="某市财政局", year=2022, level="city", kind="department",
                                  region="乙省", published="2023-02-15", format="cn-gov-2021"),
     {"proactive": proactive_2021(7), "requests": requests_2021(100, 5, 60, 20, 15, 10),
      "review_litigation": review(3, 6)}),
    ("2022/liangshan-xiang.md", dict(agency="涼山鄉人民政府", year=2022, level="township", kind="government",
                                     region="甲省", published="2023-05-01", format="cn-gov-2021", lang="zh-Hant"),
     {"proactive": proactive_2021(5), "requests": requests_2021(0, 0, 0, 0, 0, 0),
      "review_litigation": review(0, 0)}),
    ("2022/dongpo-office.md", dict(agency="东坡区政务服务中心", year=2022, level="county", kind="department",
                                   published="2023-01-20", format="cn-gov-2021"),
     None),  # prose only: no tables
]


def source_text(meta: dict, tables: dict | None) -> str:
    data = dict(meta, title=f"{meta['agency']}{meta['year']}年政府信息公开工作年度报告")
    if tables is not None:
        data["tables"] = tables
    front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{front}---\n\n## 一、总体情况\n\n{meta['agency']}的报告正文。\n"


def make_archive(root: Path, extra: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text("title: 表格测试档案\n", encoding="utf-8")
    for path, meta, tables in SOURCES:
        target = root / "content" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source_text(meta, copy.deepcopy(tables)), encoding="utf-8")
    for path, text in (extra or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def source_tables(path: str) -> dict | None:
    for p, _, tables in SOURCES:
        if p == path:
            return tables
    raise KeyError(path)
