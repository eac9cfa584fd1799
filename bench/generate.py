"""Generate a synthetic archive that looks like the real thing.

Both table formats, Traditional and Simplified text, many agencies over many
years, ~5 KB of prose per report, full tables that pass the checks (a few
that fail, on purpose), deterministic for a given seed.

    python bench/generate.py DIR --reports 10000
"""
from __future__ import annotations

import argparse
import random
import zlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_gen.formats import get_format  # noqa: E402

PHRASES = [
    "坚持以公开为常态、不公开为例外", "全面推进决策、执行、管理、服务、结果公开", "加强政策解读和回应关切",
    "进一步完善政府信息公开工作机制", "依法依规做好政府信息公开申请办理工作", "强化政务公开平台建设",
    "及时更新政府门户网站信息公开专栏", "推进基层政务公开标准化规范化", "认真落实政府信息公开条例",
    "做好行政规范性文件的公开与备案", "加大重点领域信息公开力度", "围绕优化营商环境公开涉企政策",
    "规范依申请公开受理、审查、答复流程", "落实保密审查制度", "开展政务公开业务培训",
    "畅通政民互动渠道", "主动接受社会监督", "公开财政预决算和三公经费", "公开行政许可、行政处罚结果",
    "做好人大代表建议和政协委员提案办理结果公开", "推进政务新媒体规范化管理", "完善政务公开考核评估",
]
TRAD = str.maketrans("开为务规权决执长结则处罚许强设环营监议调导领关应资财预县乡镇区门户网络",
                     "開為務規權決執長結則處罰許強設環營監議調導領關應資財預縣鄉鎮區門戶網絡")
REGIONS = ["东湖区", "西山县", "南江县", "北塘区", "青石县", "白沙县", "临河市", "长宁县", "安平县", "清水县"]
DEPTS = ["人民政府", "发展和改革局", "教育局", "公安局", "民政局", "财政局", "人力资源和社会保障局", "自然资源局",
         "生态环境局", "住房和城乡建设局", "交通运输局", "农业农村局", "卫生健康委员会", "市场监督管理局"]
SECTION_TITLES = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                  "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def agencies(count: int) -> list[tuple[str, str, str, str]]:
    """(name, level, kind, region) for `count` agencies."""
    out = []
    for i in range(count):
        region = REGIONS[i % len(REGIONS)] + (f"{i // (len(REGIONS) * len(DEPTS))}" if i >= len(REGIONS) * len(DEPTS) else "")
        dept = DEPTS[(i // len(REGIONS)) % len(DEPTS)]
        kind = "government" if dept == "人民政府" else "department"
        level = "county" if region.endswith(("县", "区")) else "city"
        out.append((region + dept, level, kind, region))
    return out


def prose(rng: random.Random, size: int) -> str:
    parts, total = [], 0
    while total < size:
        sentence = "，".join(rng.sample(PHRASES, 3)) + "。"
        parts.append(sentence)
        total += len(sentence.encode())
    return "".join(parts)


def vector(rng: random.Random, width: int = 7) -> list[int]:
    values = [rng.choice([0, 0, 0, 1, 2, 3, 5, 8]) for _ in range(width - 1)]
    return values + [sum(values)]


def requests_table(rng: random.Random, fmt_id: str, carried_over: list[int]) -> dict:
    """A requests table that satisfies R3.1-R3.3."""
    spec = get_format(fmt_id).tables["requests"]
    table: dict = {}
    results_total = [0] * 7
    for slot in spec.slots():
        if slot.path[0] in ("new_received", "carried_over", "results_total", "carried_forward"):
            continue
        row = vector(rng)
        node = table
        for key in slot.path[:-1]:
            node = node.setdefault(key, {})
        node[slot.path[-1]] = row
        results_total = [a + b for a, b in zip(results_total, row)]
    carried_forward = vector(rng)
    new_received = [r + f - c for r, f, c in zip(results_total, carried_forward, carried_over)]
    if any(v < 0 for v in new_received):
        carried_forward = [f - min(0, n) for f, n in zip(carried_forward, new_received)]
        new_received = [max(0, n) for n in new_received]
        carried_forward[6] = sum(carried_forward[:6])
    ordered = {"new_received": new_received, "carried_over": carried_over}
    ordered.update(table)
    ordered["results_total"] = results_total
    ordered["carried_forward"] = carried_forward
    return ordered


def review_table(rng: random.Random) -> dict:
    out = {}
    for group in ("admin_review", "litigation_direct", "litigation_after_review"):
        parts = [rng.choice([0, 0, 1, 2]) for _ in range(4)]
        out[group] = dict(zip(("upheld", "corrected", "other", "pending", "total"), parts + [sum(parts)]))
    return out


def proactive_table(rng: random.Random, fmt_id: str) -> dict:
    n = lambda: rng.choice([0, 1, 2, 5, 12, 30])  # noqa: E731
    if fmt_id == "cn-gov-2021":
        return {"rules": {"issued": n(), "repealed": n(), "in_force": n()},
                "normative_docs": {"issued": n(), "repealed": n(), "in_force": n()},
                "admin_license": n(), "admin_penalty": n(), "admin_coercion": n(),
                "admin_fees": rng.choice([0, 0.5, 12.3, 100])}
    rec = lambda: {"prev_year_items": n(), "change": rng.choice([-2, 0, 3]), "decisions": n()}  # noqa: E731
    return {"rules": {"new_made": n(), "new_published": n(), "total_published": n()},
            "normative_docs": {"new_made": n(), "new_published": n(), "total_published": n()},
            "admin_license": rec(), "other_external_services": rec(), "admin_penalty": rec(),
            "admin_coercion": rec(), "admin_fees": {"prev_year_items": n(), "change": 0},
            "central_procurement": {"procurement_items": n(), "procurement_amount": rng.choice([0, 35.5, 120])}}


def yaml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def yaml_table(name: str, table: dict, indent: str = "  ") -> list[str]:
    lines = [f"{indent}{name}:"]
    for key, value in table.items():
        if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
            lines.append(f"{indent}  {key}:")
            lines.extend(f"{indent}    {k}: {yaml_value(v)}" for k, v in value.items())
        else:
            lines.append(f"{indent}  {key}: {yaml_value(value)}")
    return lines


def report_text(rng: random.Random, agency: tuple, year: int, carried_over: list[int], broken: bool,
                traditional: bool) -> tuple[str, list[int]]:
    name, level, kind, region = agency
    fmt_id = "cn-gov-2021" if year >= 2021 else "cn-gov-2019"
    requests = requests_table(rng, fmt_id, carried_over)
    review = review_table(rng)
    if broken:
        review["admin_review"]["total"] += 1  # an R4.1 failure, on purpose
    month = 1 if kind == "department" else rng.choice([1, 2, 3, 4])
    conv = (lambda s: s.translate(TRAD)) if traditional else (lambda s: s)
    lines = ["---", f"title: {conv(name)}{year}年政府信息公开工作年度报告", f"agency: {conv(name)}", f"year: {year}",
             f"published: {year + 1}-{month:02d}-{rng.randint(1, 28):02d}", f"level: {level}", f"kind: {kind}",
             f"region: {conv(region)}", f"format: {fmt_id}", f"lang: {'zh-Hant' if traditional else 'zh-Hans'}",
             "source:", f"  url: https://www.example.gov.cn/{zlib.crc32(name.encode()) % 10**6}/{year}.html", "tables:"]
    lines += yaml_table("proactive", proactive_table(rng, fmt_id))
    lines += yaml_table("requests", requests)
    lines += yaml_table("review_litigation", review)
    lines.append("---")
    for title in SECTION_TITLES:
        lines += ["", "## " + conv(title), ""]
        if title.startswith(("一", "五", "六")):
            for _ in range(3):
                lines += [conv(prose(rng, 550)), ""]
    return "\n".join(lines) + "\n", requests["carried_forward"]


def generate(target: Path, reports: int, seed: int = 1) -> list[Path]:
    """Write `reports` sources under target/content; return their paths."""
    rng = random.Random(seed)
    years = list(range(2019, 2025))
    count = max(1, reports // len(years))
    written = []
    carried: dict[int, list[int]] = {}
    (target / "content").mkdir(parents=True, exist_ok=True)
    (target / "site.yaml").write_text("title: 基准测试档案\nbase_url: https://bench.example.org/\n", "utf-8")
    for index in range(reports):
        year = years[index // count] if index // count < len(years) else years[-1]
        agency_index = index % count if index // count < len(years) else count + index
        agency = agencies(agency_index + 1)[-1] if agency_index < 2000 else \
            (f"第{agency_index}号乡人民政府", "township", "government", f"第{agency_index % 97}区")
        carried_over = carried.get(agency_index, [0] * 7)
        text, carried[agency_index] = report_text(rng, agency, year, carried_over, index % 97 == 13,
                                                  traditional=index % 5 == 0)
        path = target / "content" / str(year) / f"r{agency_index:06d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--reports", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.target, args.reports, args.seed)


if __name__ == "__main__":
    main()
