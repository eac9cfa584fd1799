"""The benchmark script (bench/run.py): what it measures and prints, on a tiny archive."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _bench():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import run
    finally:
        sys.path.remove(str(REPO / "bench"))
    return run


def test_measure_counts_the_cpu_of_grandchildren():
    """A build's work happens in its workers: their CPU time must count."""
    burn = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.4: pass'], check=True)")
    row = _bench().measure([sys.executable, "-c", burn])
    assert row["cpu_seconds"] >= 0.35
    assert row["seconds"] >= 0.35


def test_benchmark_runs_end_to_end_on_a_tiny_archive(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--reports", "24",
                           "--keep", str(tmp_path / "work"), "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text("utf-8"))
    steps = ("floor", "floor, again", "clean build", "no-op rebuild", "edit one report", "edit one figure",
             "add one report", "add one, newest year", "edit one template", "check", "clean over output")
    for step in steps:
        assert figures[step]["seconds"] > 0 and figures[step]["cpu_seconds"] > 0, step
        assert f"\n{step} " in done.stdout, step
    assert figures["output_files"] > figures["floor_output_files"] == 24
    assert figures["search"]["queries"]
    assert "ratios against the mean of the two floor runs" in done.stdout
    # the steps changed the site as they say: both added reports have pages,
    # and the edited template is the site's own
    site = tmp_path / "work" / "site"
    for name in ("added-by-benchmark", "added-to-newest-year"):
        page = next((site / "output").glob(f"*/{name}/index.html"))
        assert "新增" in page.read_text("utf-8")
    assert "benchmark edit" in (site / "themes" / "default" / "templates" / "page.html").read_text("utf-8")


def test_serve_benchmark_measures_edits_and_additions_through_a_real_server():
    """bench/serve_bench.py drives `site-gen serve`: it fails unless each
    edited or added report's page is served showing the change."""
    done = subprocess.run([sys.executable, str(REPO / "bench" / "serve_bench.py"), "12",
                           "--edits", "1", "--figure-edits", "1", "--adds", "2"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    for line in ("save -> reloaded page:", "figure edit -> page:", "added report -> its page:"):
        assert line in done.stdout, line
    # at least one rebuild per change after the first build, each reported by the server
    assert done.stdout.count("  server: built in") >= 4
