"""The command line end to end: exit codes, exact error text, untouched output."""
from __future__ import annotations

import json

from tests.helpers import SEED_SOURCE, run_cli, snapshot

SEED = SEED_SOURCE.read_text(encoding="utf-8")
SITE_YAML = "title: 测试\n"


def broken(**replace: str) -> str:
    text = SEED
    for old, new in replace.items():
        text = text.replace(old, new, 1)
    return text


BROKEN_SOURCES = {
    "content/2022/a-yaml.md": broken(**{"agency: 涼山鄉人民政府": "agency: [涼山鄉人民政府"}),
    "content/2022/b-agency.md": broken(**{"agency: 涼山鄉人民政府\n": ""}),
    "content/2022/c-row.md": broken(**{"    granted: [0, 0, 0, 0, 0, 0, 0]": "    granted: [0, 0, 0, 0, 0, 0]"}),
    "content/2022/d-text.md": broken(**{"    admin_penalty: 5": "    admin_penalty: 5件"}),
    "content/2022/e-key.md": broken(**{"  review_litigation:": "  reviews:\n    x: 1\n  review_litigation:"}),
    "content/2022/f-date.md": broken(**{"published: 2023-01-12": "published: 2023-13-45"}),
}

EXPECTED = """\
content/2022/a-yaml.md:4:5: invalid YAML: did not find expected ',' or ']'
  hint: the flow sequence that starts on line 3 is not closed properly
content/2022/b-agency.md:2:1: missing required field `agency`
  hint: add a line `agency: ...` to the frontmatter
content/2022/c-row.md:25:14: row 三、本年度办理结果 / （一）予以公开 has 6 values; the format has 7 columns
  hint: columns: 自然人 · 商业企业 · 科研机构 · 社会公益组织 · 法律服务机构 · 其他 · 总计
content/2022/d-text.md:19:20: text where a number belongs: '5件'
  hint: write the number alone; the unit is part of the format
content/2022/e-key.md:52:3: unknown table key `reviews`
  hint: known: proactive, requests, review_litigation
content/2022/f-date.md:5:12: `published` is not a date: '2023-13-45'
  hint: write dates as YYYY-MM-DD, e.g. 2023-01-12
6 errors; nothing was written
"""


def test_every_broken_source_reported_at_once(make_site):
    site = make_site({"site.yaml": SITE_YAML}, with_seed=True)
    assert run_cli("build", str(site)).returncode == 0
    before = snapshot(site / "output")
    for rel, text in BROKEN_SOURCES.items():
        (site / rel).write_text(text, encoding="utf-8")
    result = run_cli("build", str(site))
    assert result.returncode == 1
    assert result.stderr == EXPECTED
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(site / "output") == before


def test_build_in_a_folder_with_only_content(make_site):
    site = make_site({}, with_seed=True)
    result = run_cli("build", "--quiet", cwd=site)
    assert result.returncode == 0, result.stderr
    assert (site / "output" / "2022" / "liangshan-xiang" / "index.html").is_file()
    assert (site / "output" / "static" / "site.css").is_file()


def test_config_errors_all_at_once(make_site):
    site = make_site({"site.yaml": "title: 测试\ntitel: x\nlanguage: fr\nlatest_count: many\n"}, with_seed=True)
    result = run_cli("build", str(site))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "site.yaml:2:1: unknown setting `titel`",
        "  hint: did you mean `title`?",
        "site.yaml:3:11: `language` must be one of zh-Hans, zh-Hant, en, not 'fr'",
        "site.yaml:4:15: `latest_count` must be a whole number, not 'many'",
        "3 errors; nothing was written",
    ]
    assert not (site / "output").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(make_site):
    site = make_site({"output/mine.txt": "precious"}, with_seed=True)
    result = run_cli("build", str(site))
    assert result.returncode == 1
    assert "output: output folder has files site-gen did not write" in result.stderr
    assert (site / "output" / "mine.txt").read_text() == "precious"


def test_check_reports_failures_and_strict(make_site):
    bad = broken(**{"    admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}":
                    "    admin_review: {upheld: 10, corrected: 1, other: 0, pending: 0, total: 0}"})
    site = make_site({"content/2023/hongze.md": bad.replace("year: 2022", "year: 2023")})
    result = run_cli("check", str(site))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (
        "content/2023/hongze.md:53: R4.1 四、行政复议: 总计 0 ≠ 结果维持 10 + 结果纠正 1 + 其他结果 0 + 尚未审结 0 = 11")
    assert run_cli("check", "--strict", str(site)).returncode == 1
    data = json.loads(run_cli("check", "--format", "json", str(site)).stdout)
    assert data["summary"]["failed"] == 1 and data["failures"][0]["line"] == 53
    assert run_cli("build", "--strict", str(site)).returncode == 1
    assert run_cli("build", str(site)).returncode == 0


def test_help_texts_name_every_command():
    result = run_cli("--help")
    for command in ("build", "check", "import", "serve"):
        assert command in result.stdout
    assert "--portable" in run_cli("build", "--help").stdout


def test_bad_jobs_is_a_usage_error_not_a_crash(make_site):
    site = make_site({}, with_seed=True)
    result = run_cli("build", str(site), "--jobs", "-1")
    assert result.returncode == 2 and "--jobs: must be 1 or more" in result.stderr
    assert "Traceback" not in result.stderr and not (site / "output").exists()
