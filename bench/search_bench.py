"""Benchmark the search index on synthetic archives.

    python bench/search_bench.py            # 10,000 and 100,000 reports
    python bench/search_bench.py 20000      # any sizes
    python bench/search_bench.py --edits 1000 10000   # incremental updates

Prints build time, peak memory (ru_maxrss of a child process per size), index
size on disk and the bytes a browser downloads for some queries. The text is
~5 KB of Chinese per report, drawn from real report phrasing (the seed report's
clauses plus common phrases), with place names that make rare terms.

``--edits`` builds an index with its cache, then times ``sync_index`` for one
change at a time, each in a fresh process as a build would run it (the
process loads the cache's state; only the changed report's entry is given).
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from site_gen.search import (IndexReader, SearchEntry, index_entry, query_words,  # noqa: E402
                             sync_index, write_search_index)

PHRASES = """
政府信息公开工作 高度重视 认真贯彻落实 政务公开 主动公开 依申请公开 不予公开
行政许可 行政处罚 行政强制 行政事业性收费 规章 行政规范性文件 本年制发件数
本年废止件数 现行有效件数 本年处理决定数量 本年收费金额 自然人 法人或其他组织
商业企业 科研机构 社会公益组织 法律服务机构 其他 本年新收政府信息公开申请数量
上年结转政府信息公开申请数量 予以公开 部分公开 不予公开 属于国家秘密 其他法律行政法规禁止公开
危及三安全一稳定 保护第三方合法权益 属于三类内部事务信息 属于四类过程性信息 属于行政执法案卷
属于行政查询事项 本机关不掌握相关政府信息 没有现成信息需要另行制作 补正后申请内容仍不明确
信访举报投诉类申请 重复申请 要求提供公开出版物 无正当理由大量反复申请 要求行政机关确认或重新出具已获取信息
申请人无正当理由逾期不补正 申请人逾期未按收费通知要求缴纳费用 总计 结转下年度继续办理
行政复议 行政诉讼 结果维持 结果纠正 其他结果 尚未审结 未经复议直接起诉 复议后起诉
存在的主要问题及改进情况 其他需要报告的事项 政府网站 政务新媒体 政府公报 新闻发布会
政策解读 回应关切 重点领域信息公开 财政预算决算 三公经费 重大建设项目 公共资源配置
社会公益事业建设 乡村振兴 生态环境保护 安全生产 疫情防控 优化营商环境 减税降费
信息公开指南 信息公开目录 索引号编码 保密审查 平台建设 监督保障 考核评议 社会评议
责任追究 业务培训 工作人员 组织领导 领导小组 分管领导 具体负责 公开意识有待提高
信息发布不够及时 公开内容不够全面 栏目更新不及时 加强学习培训 完善制度建设 拓宽公开渠道
全年共发布信息 条 件 次 万元 人次 收到申请 按时答复 办结率 满意度
""".split()

PLACES = "东西南北中上下前后新老大小清河山水林石岩龙凤安平宁和康兴隆丰盛华阳江湖海泉沟坝桥田园"
SUFFIX = ["乡人民政府", "镇人民政府", "县人民政府", "市人民政府", "区人民政府",
          "县财政局", "市教育局", "区卫生健康委员会", "县自然资源局", "市生态环境局"]
LEVELS = ["township", "township", "township", "county", "county", "city", "province"]
REGIONS = ["北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
           "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西",
           "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆"]


def seed_clauses() -> list[str]:
    """Clauses of the seed report's prose (traditional script)."""
    text = (REPO / "content" / "2022" / "liangshan-xiang.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[-1]
    return [c for c in re.split(r"[,，。、;；:：()（）\s#]+", body) if len(c) >= 2]


def synthetic_entries(n: int, *, seed: int = 1, chars: int = 1700) -> Iterator[SearchEntry]:
    """``n`` reports of about ``chars`` characters (~3 bytes each in UTF-8)."""
    rng = random.Random(seed)
    pool = PHRASES * 3 + seed_clauses()
    for i in range(n):
        year = 2015 + i % 9
        place = "".join(rng.choice(PLACES) for _ in range(2))
        agency = place + rng.choice(SUFFIX)
        title = f"{agency}{year}年政府信息公开工作年度报告"
        parts, size = [title, agency], 0
        while size < chars:
            phrase = rng.choice(pool)
            if rng.random() < 0.15:
                phrase += str(rng.randint(0, 3000))
            parts.append(phrase)
            size += len(phrase) + 1
        level = rng.choice(LEVELS)
        yield SearchEntry(
            id=f"{year}/r{i:06d}/", url=f"{year}/r{i:06d}/", title=title, agency=agency,
            year=year, published=f"{year + 1}-{1 + i % 3:02d}-{1 + i % 28:02d}",
            level=level, kind="department" if "局" in agency or "委" in agency else "government",
            region=rng.choice(REGIONS), format="cn-gov-2021" if year >= 2021 else
            ("cn-gov-2019" if year >= 2019 else None), failing=rng.random() < 0.1,
            lang="zh-Hans", text="\n".join(parts[:2]) + "\n" + "，".join(parts[2:]) + "。")


QUERIES = ["政府", "行政处罚", "依申请公开", "领导小组", "清河",
           "行政处罚 信息", "政府信息公开 年度报告", "领导 预算", "2022"]


def query_figures(root: Path, query: str) -> dict:
    reader = IndexReader(root)
    ids = reader.candidates(query_words(query))
    files = set(reader.loaded) | {"fold.js"}
    index = sum((root / f).stat().st_size for f in files)
    docs = sum((root / f"d/{n // 1000}/{n % 1000}.js").stat().st_size for n in ids[:10])
    return {"query": query, "index_kib": round(index / 1024, 1), "files": len(files),
            "first_page_docs_kib": round(docs / 1024, 1), "candidates": len(ids)}


def disk_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def run_one(n: int) -> dict:
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "search"
        start = time.perf_counter()
        stats = write_search_index(synthetic_entries(n), out, Path(tmp) / "cache")
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size, count = disk_size(out)
        shard_sizes = sorted(p.stat().st_size for p in (out / "p").glob("*.js") if "-" not in p.name)
        start = time.perf_counter()
        write_search_index(synthetic_entries(n), out, Path(tmp) / "cache")
        unchanged = time.perf_counter() - start
        return {"docs": n, "build_s": round(seconds, 1), "peak_rss_mib": round(peak),
                "rebuild_unchanged_s": round(unchanged, 1),
                "index_mb": round(size / 1e6, 1), "files": count, "terms": stats.terms,
                "shards": stats.shards,
                "shard_kib_median_max": [round(shard_sizes[len(shard_sizes) // 2] / 1024, 1),
                                         round(shard_sizes[-1] / 1024, 1)],
                "facets_kib": round((out / "facets.js").stat().st_size / 1024, 1),
                "fold_kib": round((out / "fold.js").stat().st_size / 1024, 1),
                "queries": [query_figures(out, q) for q in QUERIES]}


# One change at a time, applied to the archive of the previous ones.
EDITS = [
    ("edit text (new rare word)", "text"),
    ("edit text (same words)", "same"),
    ("toggle failing (facets.js)", "failing"),
    ("add a report (newest year)", "add-new"),
    ("add a report (oldest year)", "add-old"),
    ("remove a report", "remove"),
    ("nothing changed", "none"),
]


def archive_after(n: int, steps: list[str]) -> dict[str, SearchEntry]:
    """The synthetic archive of ``n`` reports after the changes ``steps``."""
    from dataclasses import replace

    entries = {e.id: e for e in synthetic_entries(n)}
    ids = sorted(entries)
    for k, step in enumerate(steps):
        target = ids[(k * 7919 + n // 2) % n]
        e = entries[target]
        if step == "text":
            entries[target] = replace(e, text=e.text + f"\n补充说明鑫淼{k}号")
        elif step == "same":
            entries[target] = replace(e, text=e.text + "\n政府信息公开")
        elif step == "failing":
            entries[target] = replace(e, failing=not e.failing)
        elif step in ("add-new", "add-old"):
            year = 2023 if step == "add-new" else 2015
            new = replace(e, id=f"{year}/added{k}/", url=f"{year}/added{k}/", year=year)
            entries[new.id] = new
        elif step == "remove":
            del entries[ids[k]]
    return entries


def run_sync(n: int, steps: list[str], root: Path) -> dict:
    """One ``sync_index`` as a build runs it: fresh process, one new entry."""
    from site_gen.search import _entry_hash

    before, after = archive_after(n, steps[:-1]), archive_after(n, steps)
    docs = sorted((i, _entry_hash(e)) for i, e in after.items())
    fresh = {i: index_entry(e) for i, e in after.items() if before.get(i) != e}
    start = time.perf_counter()
    stats = sync_index(docs, fresh, root / "search", root / "cache", after.__getitem__)
    return {"ms": round((time.perf_counter() - start) * 1000, 1), "files_changed": len(stats.changed)}


def run_edits(n: int) -> dict:
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        entries = list(synthetic_entries(n))
        start = time.perf_counter()
        write_search_index(entries, root / "search", root / "cache")
        clean = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        del entries
        steps: list[str] = []
        rows = {}
        for label, step in EDITS:
            if step != "none":
                steps.append(step)
            out = subprocess.run([sys.executable, __file__, "--sync", str(n), tmp, *steps],
                                 check=True, capture_output=True, text=True).stdout
            rows[label] = json.loads(out)
        return {"docs": n, "clean_build_s": round(clean, 1), "peak_rss_mib": round(peak),
                "sync_index": rows}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(int(argv[1])), ensure_ascii=False))
        return
    if argv[:1] == ["--sync"]:
        print(json.dumps(run_sync(int(argv[1]), argv[3:], Path(argv[2]))))
        return
    if argv[:1] == ["--edits"]:
        for n in [int(a) for a in argv[1:]] or [1_000, 10_000]:
            out = subprocess.run([sys.executable, __file__, "--edits-one", str(n)], check=True,
                                 capture_output=True, text=True).stdout
            print(json.dumps(json.loads(out), ensure_ascii=False, indent=1))
        return
    if argv[:1] == ["--edits-one"]:
        print(json.dumps(run_edits(int(argv[1])), ensure_ascii=False))
        return
    for n in [int(a) for a in argv] or [10_000, 100_000]:
        # one child per size so peak memory is that size's alone
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                             capture_output=True, text=True).stdout
        print(json.dumps(json.loads(out), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
