"""Interrupted and concurrent builds: a build killed at any moment leaves
every file of output/ from the old or from a complete new build, and the
next build is byte-identical to a clean one; a second build of the same site
at the same time is refused with the lock error and corrupts nothing."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEED

REPORTS = 200


def make_archive(root: Path, extra: str = "") -> Path:
    seed = SEED.read_text("utf-8")
    for index in range(REPORTS):
        year = 2019 + index % 4
        text = seed.replace("year: 2022", f"year: {year}").replace("format: cn-gov-2021\n", "format: none\n")
        text = text.replace("agency: 涼山鄉人民政府", f"agency: 第{index // 4}号人民政府")
        text = text.split("tables:\n")[0] + "---\n" + text.split("\n---\n", 1)[1] + extra
        path = root / "content" / str(year) / f"r{index}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def start_build(site: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "site_gen", "build", "--quiet", "--jobs", "2", str(site), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_build(site: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "site_gen", "build", "--quiet", "--jobs", "2", str(site), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    old_site = make_archive(root / "old")
    new_site = make_archive(root / "new", "\n## 六、其他需要报告的事项\n\n修订后的文字。\n")
    started = time.monotonic()
    run_build(old_site)
    duration = time.monotonic() - started
    run_build(new_site)
    return root, files(old_site / "output"), files(new_site / "output"), duration


def assert_old_or_new(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    if not out.exists():  # killed between the two renames of a swap: the next run puts it back
        assert (out.parent / f".{out.name}.old").is_dir()
        return
    now = files(out)
    for rel, data in now.items():
        assert data in (old.get(rel), new.get(rel)), f"{rel} is from neither build"
    if set(now) != set(old) and not all(now.get(rel) == data for rel, data in new.items()):
        missing_old = set(old) - set(now) - set(new)
        assert not (set(old) & set(new)) - set(now), "a file present in both builds disappeared"
        assert not missing_old or all(rel not in new for rel in missing_old)


@pytest.mark.parametrize("clean", [False, True], ids=["incremental", "full"])
def test_killed_builds_leave_old_or_new_files_and_next_build_is_clean(archives, tmp_path, clean):
    root, old, new, duration = archives
    rng = random.Random(8 + clean)
    site = tmp_path / "site"
    shutil.copytree(root / "old", site)
    shutil.copytree(root / "new" / "content", site / "content", dirs_exist_ok=True)
    for attempt in range(4):
        process = start_build(site, *(["--clean"] if clean else []))
        time.sleep(rng.uniform(0.05, max(duration, 0.5)))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert_old_or_new(site / "output", old, new)
        # a later run may have finished before the kill: then it is the new site
    run_build(site)
    built = files(site / "output")
    assert built == new


def test_killed_first_builds_leave_no_output_or_a_whole_one(archives, tmp_path):
    """With no output yet, a build is written into a fresh folder and swapped
    in (a full build over an existing output stages its files instead, as
    above): a kill leaves no output/ or the whole new one."""
    root, _, new, duration = archives
    rng = random.Random(11)
    site = tmp_path / "site"
    shutil.copytree(root / "new" / "content", site / "content")
    for attempt in range(4):
        shutil.rmtree(site / "output", ignore_errors=True)
        process = start_build(site, "--clean")
        time.sleep(rng.uniform(0.05, max(duration, 0.5)))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        out = site / "output"
        assert not out.exists() or files(out) == new
    run_build(site)
    assert files(site / "output") == new


KILL_IN_SEARCH = """
import os, sys
import site_gen.search as search
real = search._scan
def killed(*args, **kwargs):
    real(*args, **kwargs)
    os._exit(9)  # as if SIGKILLed after the cache's documents were updated, before its state was
search._scan = killed
from site_gen.cli import main
sys.exit(main(["build", "--quiet", "--jobs", "1", sys.argv[1]]))
"""


def test_build_killed_while_patching_the_search_cache(archives, tmp_path):
    root, old, new, duration = archives
    site = tmp_path / "site"
    shutil.copytree(root / "old", site)
    shutil.copytree(root / "new" / "content", site / "content", dirs_exist_ok=True)
    killed = subprocess.run([sys.executable, "-c", KILL_IN_SEARCH, str(site)], capture_output=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    assert files(site / "output") == old
    run_build(site)
    assert files(site / "output") == new


def test_two_builds_at_once_one_is_refused(archives, tmp_path):
    root, old, new, duration = archives
    site = tmp_path / "site"
    shutil.copytree(root / "old", site)
    shutil.copytree(root / "new" / "content", site / "content", dirs_exist_ok=True)
    first = start_build(site, "--clean")
    deadline = time.monotonic() + 30
    lock = site / ".site-gen-cache" / "lock"
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    second = subprocess.run([sys.executable, "-m", "site_gen", "build", "--quiet", str(site)],
                            capture_output=True, text=True, timeout=60)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    if second.returncode == 0:
        pytest.skip("the first build finished before the second started")
    assert second.returncode == 1
    assert "site.yaml: another site-gen build of this site is running" in second.stderr
    assert files(site / "output") == new
