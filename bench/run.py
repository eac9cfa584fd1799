"""The archive-scale benchmark: site-gen against a floor measured in the same run.

    python bench/run.py                    # 10,000 reports
    python bench/run.py --reports 1000     # or 100000
    python bench/run.py --json out.json    # also write the figures as JSON

It generates a synthetic archive (bench/generate.py), then measures, each as
a separate process with its peak memory (the whole process tree, sampled):

- the floor: one process that only reads every source, parses its YAML
  (C loader) and Markdown, and writes one HTML file per report;
- site-gen: clean build, no-op rebuild, rebuild after editing one report's
  prose, after changing one figure of another report, after adding one
  report (to the oldest year, then to the newest), after editing one
  template; `site-gen check`; `--clean` over the built output (every page
  made again, only files that differ written);
- output size, search index size and the bytes a browser fetches per query.

Each step's CPU time (user + system, of the whole process tree: the build's
workers too) is printed beside its wall time. The floor is measured twice,
first and last, and the ratios are taken against the mean of the two: on a
shared machine one run of it can land on a busy or a quiet moment.

site-gen's bytecode is compiled first, as installing it would.

Every site-gen time is printed beside the floor as a ratio. Timings on a
shared machine are noisy: compare the ratios, and rerun before concluding.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from generate import generate  # noqa: E402

FLOOR = r'''
import sys, yaml, markdown
from pathlib import Path
src, out = Path(sys.argv[1]), Path(sys.argv[2])
md = markdown.Markdown(extensions=["tables"])
for path in sorted(src.rglob("*.md")):
    text = path.read_text("utf-8")
    _, meta, body = text.split("---\n", 2)
    data = yaml.load(meta, Loader=yaml.CSafeLoader)
    html = md.reset().convert(body)
    target = out / path.relative_to(src).with_suffix(".html")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<!DOCTYPE html><title>%s</title>%s" % (data.get("title", ""), html), "utf-8")
'''
QUERIES = ["政府信息", "行政处罚 复议", "領導", "2022"]


def _pss(pid: int) -> int:
    """Proportional set size: shared pages (forked workers) counted once overall."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Memory of a process and all its descendants (sum of PSS), in bytes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _pss(current)
        todo.extend(children.get(current, []))
    return total


def _children_cpu() -> float:
    """CPU seconds (user + system) of every descendant waited for so far: a
    build's workers count once the build has waited for them, and the build
    once we have."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmd: list[str], cwd: Path | None = None) -> dict:
    """Wall time, CPU time and peak tree memory of one command."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 2), "peak_mib": round(peak[0] / 2**20),
            "stdout": out.strip()}


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def site_gen(*args: str) -> list[str]:
    return [sys.executable, "-m", "site_gen", *args]


def edit_report(site: Path) -> None:
    path = sorted((site / "content").rglob("*.md"))[len(list((site / "content").rglob("*.md"))) // 2]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n本段为基准测试追加的修改。\n")


def edit_figure(site: Path) -> None:
    """Change one figure of another report (its tables, year, agency and data
    files change with it, not only its page)."""
    sources = sorted((site / "content").rglob("*.md"))
    path = sources[len(sources) // 3]
    text = path.read_text("utf-8")
    key = "  admin_penalty:"
    start = text.index(key)
    end = text.index("\n", start)
    line = text[start:end]
    digits = [i for i, ch in enumerate(line) if ch.isdigit()]
    i = digits[-1]
    line = line[:i] + str((int(line[i]) + 1) % 10) + line[i + 1:]
    path.write_text(text[:start] + line + text[end:], "utf-8")


def edit_template(site: Path) -> None:
    from site_gen.render import default_theme_dir
    target = site / "themes" / "default" / "templates" / "page.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((default_theme_dir() / "templates" / "page.html").read_text("utf-8")
                      + "{# benchmark edit #}\n", "utf-8")


def add_report(site: Path, *, newest_year: bool = False) -> None:
    """Add a report of a new agency beside the first source (the oldest year:
    the search numbers its documents by year, so every document after it is
    renumbered) or beside the last one (the newest year, where new reports
    usually arrive)."""
    source = sorted((site / "content").rglob("*.md"))[-1 if newest_year else 0]
    target = source.parent / ("added-to-newest-year.md" if newest_year else "added-by-benchmark.md")
    text = source.read_text("utf-8").replace("agency: ", "agency: 新增", 1)
    target.write_text(text, "utf-8")


def search_figures(output: Path) -> dict:
    root = output / "search"
    if not root.is_dir():
        return {}
    from search_bench import query_figures
    size, count = folder_size(root)
    return {"index_mb": round(size / 1e6, 1), "files": count,
            "queries": [query_figures(root, q) for q in QUERIES]}


def precompile() -> None:
    """Compile site-gen's bytecode, as installing a package does: each step is
    a fresh process, and where bytecode is not written (PYTHONDONTWRITEBYTECODE)
    every one would otherwise compile the sources again (~0.1 s)."""
    import compileall
    compileall.compile_dir(str(REPO / "site_gen"), quiet=1)


def run(reports: int, work: Path) -> dict:
    precompile()
    site = work / "site"
    print(f"generating {reports} reports in {site} ...", file=sys.stderr)
    generate(site, reports)
    src_size, _ = folder_size(site / "content")
    results: dict = {"reports": reports, "cores": os.cpu_count(), "source_mb": round(src_size / 1e6, 1)}

    floor_script = work / "floor.py"
    floor_script.write_text(FLOOR, "utf-8")

    def floor() -> dict:
        shutil.rmtree(work / "floor-out", ignore_errors=True)
        row = measure([sys.executable, str(floor_script), str(site / "content"), str(work / "floor-out")])
        row.pop("stdout")
        return row

    print("floor ...", file=sys.stderr)
    results["floor"] = floor()
    size, files = folder_size(work / "floor-out")
    results["floor_output_mb"], results["floor_output_files"] = round(size / 1e6, 1), files
    steps = [
        ("clean build", lambda: None, ["build", str(site), "--quiet", "--clean"]),
        ("no-op rebuild", lambda: None, ["build", str(site), "--quiet"]),
        ("edit one report", lambda: edit_report(site), ["build", str(site), "--quiet"]),
        ("edit one figure", lambda: edit_figure(site), ["build", str(site), "--quiet"]),
        ("add one report", lambda: add_report(site), ["build", str(site), "--quiet"]),
        ("add one, newest year", lambda: add_report(site, newest_year=True), ["build", str(site), "--quiet"]),
        ("edit one template", lambda: edit_template(site), ["build", str(site), "--quiet"]),
        ("check", lambda: None, ["check", str(site)]),
        ("clean over output", lambda: None, ["build", str(site), "--quiet", "--clean"]),
    ]
    for name, before, args in steps:
        print(f"{name} ...", file=sys.stderr)
        before()
        results[name] = measure(site_gen(*args))
        results[name].pop("stdout")
    out_size, out_files = folder_size(site / "output")
    results["output_mb"] = round(out_size / 1e6, 1)
    results["output_files"] = out_files
    results["search"] = search_figures(site / "output")
    print("floor, again ...", file=sys.stderr)
    results["floor, again"] = floor()
    return results


def floor_mean(results: dict, key: str) -> float:
    """The mean of the two floor runs."""
    return (results["floor"][key] + results["floor, again"][key]) / 2


def print_table(results: dict) -> None:
    floor, floor_cpu = floor_mean(results, "seconds"), floor_mean(results, "cpu_seconds")
    print(f"\n{results['reports']} reports ({results['source_mb']} MB of sources), {results['cores']} cores\n")
    print(f"{'step':<22}{'seconds':>9}{'x floor':>9}{'cpu s':>9}{'x floor':>9}{'peak MiB':>10}")
    for name in ("floor", "floor, again", "clean build", "no-op rebuild", "edit one report", "edit one figure",
                 "add one report", "add one, newest year", "edit one template", "check", "clean over output"):
        row = results[name]
        print(f"{name:<22}{row['seconds']:>9.2f}{row['seconds'] / floor:>9.2f}"
              f"{row['cpu_seconds']:>9.2f}{row['cpu_seconds'] / floor_cpu:>9.2f}{row['peak_mib']:>10}")
    print(f"\nratios against the mean of the two floor runs ({floor:.2f} s, {floor_cpu:.2f} s of CPU)")
    print(f"floor output: {results['floor_output_mb']} MB in {results['floor_output_files']} files")
    print(f"output: {results['output_mb']} MB in {results['output_files']} files")
    search = results.get("search") or {}
    if search:
        print(f"search index: {search['index_mb']} MB in {search['files']} files")
        for q in search["queries"]:
            print(f"  query {q['query']!r}: {q['index_kib']} KiB of index in {q['files']} files, "
                  f"+{q['first_page_docs_kib']} KiB for the first page of results ({q['candidates']} candidates)")


def main() -> None:
    parser = argparse.ArgumentParser(description="site-gen archive benchmark")
    parser.add_argument("--reports", type=int, default=10000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="site-gen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args.reports, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
