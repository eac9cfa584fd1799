"""Benchmark `site-gen serve`: from saving a report to the reloaded page.

    python bench/serve_bench.py              # 1,000 and 10,000 reports
    python bench/serve_bench.py 2000 --edits 10

For each size, generates an archive by copying the seed report with other
agency names, slugs and years, starts `site-gen serve --port 0` on it, then
edits one report's prose at a time and measures:

  change  file write -> the server's epoch moves (the long-poll an open page
          waits on answers)
  page    the same plus an HTTP fetch of the edited page showing the new text

then changes one figure of a report's frontmatter (which its year, table and
agency pages and the data files show too) and measures the same way, then adds
new reports of new agencies to the newest year and measures the time until the
new report's page is served.

Then it repeats one edit against `build_site` in-process to show where the
incremental build spends its time (`BuildResult.timings`).  Targets: < 300 ms
at 1,000 reports, < 1 s at 10,000.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from site_gen.build import build_site  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from run import precompile  # noqa: E402

SEED = REPO / "content" / "2022" / "liangshan-xiang.md"
SEED_AGENCY = "涼山鄉人民政府"
MARKER = "總體情況"
PLACES = "东西南北中上下前后新老大小清河山水林石岩龙凤安平宁和康兴隆丰盛华阳江湖海泉沟坝桥田园"
SUFFIX = ["乡人民政府", "镇人民政府", "县人民政府", "县财政局", "市教育局", "区卫生健康委员会"]
YEARS = (2021, 2022, 2023, 2024)


def agency_name(i: int, rng: random.Random) -> str:
    place = "".join(rng.choice(PLACES) for _ in range(2)) + f"{i:05d}"
    return place + rng.choice(SUFFIX)


def seed_report(seed: str, agency: str, year: int) -> str:
    """The seed report as another agency's, for another year."""
    return (seed.replace(SEED_AGENCY, agency)
            .replace("year: 2022", f"year: {year}", 1)
            .replace("2022年", f"{year}年")
            .replace("published: 2023-01-12", f"published: {year + 1}-01-12", 1))


def make_archive(root: Path, count: int) -> list[Path]:
    """An archive of `count` reports made from the seed; returns the source paths."""
    rng = random.Random(count)
    root.mkdir(parents=True, exist_ok=True)
    seed = SEED.read_text(encoding="utf-8")
    (root / "site.yaml").write_text("title: 基准测试档案\nlanguage: zh-Hans\n", encoding="utf-8")
    paths = []
    for i in range(count):
        year = YEARS[i % len(YEARS)]
        path = root / "content" / str(year) / f"agency-{i:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seed_report(seed, agency_name(i, rng), year), encoding="utf-8")
        paths.append(path)
    return paths


def edit_figure(path: Path, value: int) -> None:
    """Change one figure of the frontmatter (its year, table and agency pages
    and the data files change with it)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^(\s*admin_penalty: )\d+", rf"\g<1>{value}", text, count=1), encoding="utf-8")


def add_report(root: Path, k: int) -> tuple[Path, str]:
    """A new report of a new agency in the newest year, as an editor adds one;
    returns its source and its agency's name."""
    year = YEARS[-1]
    agency = f"新增{k:03d}乡人民政府"
    path = root / "content" / str(year) / f"added-{k:03d}.md"
    path.write_text(seed_report(SEED.read_text(encoding="utf-8"), agency, year), encoding="utf-8")
    return path, agency


def edit(path: Path, word: str) -> None:
    """Replace the first heading word of the prose, the way an editor saves."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"## 一、[^\n]*", f"## 一、{word}", text, count=1)
    path.write_text(text, encoding="utf-8")


class LiveServer:
    def __init__(self, site: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "site_gen", "serve", str(site), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self.wait_line(r"serving (http://\S+)", 60).group(1)

    def _drain(self) -> None:
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_line(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.lines[start:]:
                    if m := re.search(pattern, line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"no {pattern!r}: {self.lines[-5:]}")
                self._seen.wait(left)

    def get(self, path: str, timeout: float = 60) -> bytes:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=timeout) as r:
            return r.read()

    def state(self) -> dict:
        return json.loads(self.get("/__site-gen__/state"))

    def wait_epoch(self, epoch: int, error_id: int) -> dict:
        while True:
            snap = json.loads(self.get(f"/__site-gen__/poll?epoch={epoch}&error={error_id}"))
            if snap["epoch"] != epoch:
                return snap
            if snap["error"]:
                raise RuntimeError(snap["error"])
            error_id = snap["error_id"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure_server(site: Path, sources: list[Path], edits: int, figure_edits: int, adds: int = 0) -> dict:
    started = time.perf_counter()
    server = LiveServer(site)
    try:
        server.wait_line(r"^built in", 3600)
        initial = time.perf_counter() - started
        rng = random.Random(7)
        change, page, figure = [], [], []
        for k in range(edits + figure_edits):
            path = rng.choice(sources)
            url = "/" + path.parent.name + "/" + path.stem + "/"
            snap = server.state()
            mark = len(server.lines)
            prose = k < edits
            shown = f"修订第{k}版" if prose else f">{900 + k}<"
            time.sleep(0.05)  # let the previous burst settle
            t0 = time.perf_counter()
            if prose:
                edit(path, shown)
            else:
                edit_figure(path, 900 + k)
            server.wait_epoch(snap["epoch"], snap["error_id"])
            t1 = time.perf_counter()
            body = server.get(url).decode("utf-8")
            t2 = time.perf_counter()
            if shown not in body:
                raise RuntimeError(f"edited page {url} does not show {shown!r}")
            if prose:
                change.append(t1 - t0)
                page.append(t2 - t0)
            else:
                figure.append(t2 - t0)
            server.wait_line(r"^built in", 120, mark)
        added = []
        for k in range(adds):
            snap = server.state()
            mark = len(server.lines)
            time.sleep(0.05)
            t0 = time.perf_counter()
            path, agency = add_report(site, k)
            server.wait_epoch(snap["epoch"], snap["error_id"])
            body = server.get(f"/{path.parent.name}/{path.stem}/").decode("utf-8")
            added.append(time.perf_counter() - t0)
            if agency not in body:
                raise RuntimeError(f"the added report's page does not show {agency!r}")
            server.wait_line(r"^built in", 120, mark)
        rebuilds = [ln for ln in server.lines if ln.startswith("built in")]
        return {"initial": initial, "change": change, "page": page, "figure": figure, "added": added,
                "server_lines": rebuilds}
    finally:
        server.stop()


def measure_stages(site: Path, sources: list[Path], work: Path) -> dict[str, float]:
    """One incremental build after an edit, in-process, to see its stages."""
    out, cache = work / "site", work / "cache"
    build_site(site, out_dir=out, cache_dir=cache, portable=False)
    edit(sources[len(sources) // 2], "阶段计时")
    result = build_site(site, out_dir=out, cache_dir=cache, portable=False)
    return {**result.timings, "written": len(result.written)}


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def run(count: int, edits: int, stages: bool, figure_edits: int = 0, adds: int = 0) -> None:
    precompile()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        site = Path(tmp) / "site"
        t = time.perf_counter()
        sources = make_archive(site, count)
        print(f"{count} reports generated in {time.perf_counter() - t:.1f}s", flush=True)
        result = measure_server(site, sources, edits, figure_edits, adds)
        print(f"  serve: first build and ready {result['initial']:.1f}s", flush=True)
        print(f"  save -> epoch moves:       {ms(result['change'])}", flush=True)
        print(f"  save -> reloaded page:     {ms(result['page'])}", flush=True)
        if result["figure"]:
            print(f"  figure edit -> page:       {ms(result['figure'])}", flush=True)
        if result["added"]:
            print(f"  added report -> its page:  {ms(result['added'])}", flush=True)
        print(f"  first build: {result['server_lines'][0] if result['server_lines'] else '?'}", flush=True)
        for line in result["server_lines"][1:]:
            print(f"  server: {line}", flush=True)
        if stages:
            timings = measure_stages(site, sources, Path(tmp) / "inproc")
            written = timings.pop("written")
            parts = ", ".join(f"{k} {v * 1000:.0f}" for k, v in timings.items())
            print(f"  one incremental build in-process ({written} files written), ms: {parts}", flush=True)
        shutil.rmtree(site, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=8, help="prose edits measured per size (default 8)")
    parser.add_argument("--figure-edits", type=int, default=2,
                        help="then edits of one figure of the frontmatter (default 2)")
    parser.add_argument("--adds", type=int, default=2,
                        help="then new reports added to the newest year (default 2)")
    parser.add_argument("--stages", action="store_true",
                        help="also time every stage of one incremental build in-process (builds the archive again)")
    args = parser.parse_args()
    for count in args.sizes:
        run(count, args.edits, args.stages, args.figure_edits, args.adds)


if __name__ == "__main__":
    main()
