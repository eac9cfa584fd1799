"""Resource bombs: each is refused (or handled) by `site-gen check` within a
time bound and an address-space limit, with a located message and no
traceback.  Every case runs in a subprocess killed after TIME_LIMIT seconds."""
from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_files

TIME_LIMIT = 30
MEMORY_LIMIT = 2 * 1024 ** 3
GOOD = "---\nagency: 甲镇人民政府\nyear: 2022\n---\n\n## 一、总体情况\n\n正文。\n"


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def check(site: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "site_gen", "check", str(site), *args], capture_output=True,
                          text=True, timeout=TIME_LIMIT, preexec_fn=_limit_memory)


def assert_refused(result: subprocess.CompletedProcess, location: str, message: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(location) and message in line]
    assert lines, result.stderr


def front(meta: str, body: str = "正文。\n") -> str:
    return f"---\nagency: 甲镇人民政府\nyear: 2022\n{meta}---\n{body}"


def site_with(tmp_path: Path, text: str | bytes) -> Path:
    return write_files(tmp_path / "site", {"content/2022/good.md": GOOD,
                                           "content/2022/x.md": text if isinstance(text, bytes) else text.encode()})


BILLION_LAUGHS = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))


BOMBS = [
    ("alias bomb", front("l0: &l0 lol\n" + BILLION_LAUGHS), "content/2022/x.md:5:", "YAML aliases"),
    ("deep flow YAML", front("tags: " + "[" * 100_000 + "]" * 100_000 + "\n"), "content/2022/x.md:4:1:",
     "YAML nested deeper than 32 levels"),
    ("deep block YAML", front("".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "x: 1\n"),
     "content/2022/x.md:", "YAML nested deeper than 32 levels"),
    ("deep YAML sequence", front("tags:\n" + "- " * 50_000 + "x\n"), "content/2022/x.md:5:1:",
     "YAML nested deeper than 32 levels"),
    ("table with 100,000 rows", front("format: cn-gov-2021\ntables:\n  requests:\n" + "".join(
        f"    new_received_{i}: [0, 0, 0, 0, 0, 0, 0]\n" for i in range(100_000))),
     "content/2022/x.md:2:1:", "frontmatter is"),
    ("5,000 unknown rows", front("format: cn-gov-2021\ntables:\n  requests:\n" + "".join(
        f"    r{i}: [0, 0, 0, 0, 0, 0, 0]\n" for i in range(5000))),
     "content/2022/x.md:", "unknown row"),
    ("blockquotes 10,000 deep", front("", ">" * 10_000 + " x\n"), "content/2022/x.md:5:1:",
     "Markdown nested deeper than 32 levels"),
    ("nested lists 200 lines deep", front("", "\n".join("  " * i + "- x" for i in range(200))),
     "content/2022/x.md:37:1:", "Markdown nested deeper than 32 levels"),
    ("nested lists 10,000 deep", front("", "- " * 10_000 + "x\n"), "content/2022/x.md:5:1:",
     "Markdown nested deeper than 32 levels"),
    ("nested quoted lists", front("", "> - " * 5000 + "x\n"), "content/2022/x.md:5:1:",
     "Markdown nested deeper than 32 levels"),
    ("list markers 5,000 on a line", front("", "- " * 5000 + "x\n"), "content/2022/x.md:5:1:",
     "Markdown nested deeper"),
    ("unclosed brackets", front("", "[" * 300 + "a" * 200_000 + "\n"), "content/2022/x.md:5:1:",
     "too much inline markup"),
    ("unclosed tags across the text", front("", "|a|b|\n|-|-|\n" + "|x|<y|\n" * 6000), "content/2022/x.md:7:1:",
     "too many `<` (6,000)"),
    ("backslashes", front("", "\\\\" * 200_000 + "\n"), "content/2022/x.md:5:1:", "too much inline markup"),
    ("a single 5 MB line", front("", "a" * 5_000_000 + "\n"), "content/2022/x.md:5:1:",
     "the text is 5,000,001 characters; the limit is 1,000,000"),
    ("Markdown table of 100,000 rows", front("", "|a|b|\n|-|-|\n" + "|1|2|\n" * 100_000),
     "content/2022/x.md:20005:1:", "the text has 100,003 lines; the limit is 20,000"),
    ("Markdown table of 40,000 cells", front("", "|a|b|\n|-|-|\n" + ("|1" * 100 + "|\n") * 500),
     "content/2022/x.md:", "more than 40,000 table cells"),
]


@pytest.mark.parametrize("index", range(len(BOMBS)), ids=[b[0] for b in BOMBS])
def test_bomb_refused_in_bounded_time(tmp_path, index):
    name, text, location, message = BOMBS[index]
    assert_refused(check(site_with(tmp_path, text)), location, message)


def test_50_mb_source_refused_without_reading_it(tmp_path):
    site = site_with(tmp_path, GOOD)
    with open(site / "content" / "2022" / "x.md", "r+b") as handle:
        handle.truncate(50 * 1024 * 1024)
    assert_refused(check(site), "content/2022/x.md:", "source is 50 MB; the limit is 8 MB")


def test_large_site_yaml_refused(tmp_path):
    site = site_with(tmp_path, GOOD)
    (site / "site.yaml").write_text("title: x\n" + "# padding\n" * 100_000, "utf-8")
    assert_refused(check(site), "site.yaml:", "site.yaml is 976 KB; the limit is 256 KB")


def test_alias_bomb_in_site_yaml_refused(tmp_path):
    site = site_with(tmp_path, GOOD)
    (site / "site.yaml").write_text("l0: &l0 lol\n" + BILLION_LAUGHS, "utf-8")
    assert_refused(check(site), "site.yaml:2:", "YAML aliases")


def test_largest_accepted_markdown_table_renders_in_bounded_time(tmp_path):
    """The size limits leave a worst accepted body that still builds quickly."""
    body = "|a|b|\n|-|-|\n" + "|[x|<y|\n" * 400 + "|[x|y|\n" * 12_500  # near MAX_TABLE_CELLS and MAX_HTML_SCAN
    site = write_files(tmp_path / "site", {"content/2022/x.md": front("", body)})
    result = subprocess.run([sys.executable, "-m", "site_gen", "build", str(site), "--no-search", "--jobs", "1"],
                            capture_output=True, text=True, timeout=TIME_LIMIT, preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr
