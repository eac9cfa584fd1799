"""The archive-wide checks page sorts by agency, year and rule in a real browser."""
from __future__ import annotations

import pytest

from tests.helpers import SEED_SOURCE, build

SEED = SEED_SOURCE.read_text(encoding="utf-8")
BAD_REVIEW = ("admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
              "admin_review: {upheld: 1, corrected: 0, other: 0, pending: 0, total: 0}")
BAD_ROW = ("    granted: [0, 0, 0, 0, 0, 0, 0]", "    granted: [1, 0, 0, 0, 0, 0, 0]")


def failing(agency: str, year: int, fault: tuple[str, str]) -> str:
    return (SEED.replace("agency: 涼山鄉人民政府", f"agency: {agency}").replace("year: 2022", f"year: {year}")
            .replace(*fault))


@pytest.mark.browser
def test_checks_page_sorts(make_site, page):
    site = make_site({
        "content/2021/b.md": failing("乙县人民政府", 2021, BAD_REVIEW),
        "content/2022/a.md": failing("甲县人民政府", 2022, BAD_ROW),
    })
    build(site, search=False)
    page.goto((site / "output" / "checks" / "index.html").as_uri())

    def column(index: int) -> list[str]:
        return page.eval_on_selector_all(
            "table.checks-archive tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")

    assert column(0)[0] == "乙县人民政府"  # server order: by agency (code point)
    page.click("table.checks-archive th:nth-child(2) button")
    years = column(1)
    assert years == sorted(years)
    assert page.get_attribute("table.checks-archive th:nth-child(2)", "aria-sort") == "ascending"
    page.click("table.checks-archive th:nth-child(2) button")
    assert column(1) == sorted(years, reverse=True)
    page.click("table.checks-archive th:nth-child(3) button")
    rules = column(2)
    assert rules == sorted(rules) and set(rules) >= {"R4.1", "R3.2"}
