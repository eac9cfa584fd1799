"""Open data files: every figure exactly as stored, null empty (never 0),
BOM, stable column order."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from site_gen.export import META_COLUMNS, flat_columns
from site_gen.figures import FIGURES, RATES, TOTAL
from tests.helpers import build
from tests.test_tables_site import SOURCES, make_archive, source_tables


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = make_archive(tmp_path_factory.mktemp("export") / "site")
    build(root)
    return root / "output"


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))
    text = data.decode("utf-8")[1:]
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def header(path: Path) -> list[str]:
    return next(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_flat_column_names_are_stable_and_documented():
    names = [n for n, _ in flat_columns("requests")]
    assert names[:7] == [f"requests.new_received.{c}" for c in
                         ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
                          "legal_service_org", "other_org", "total")]
    assert "requests.granted.total" in names and "requests.withheld.state_secret.total" in names
    assert "requests.other_handling.total" in names  # the cn-gov-2019 single row
    assert len(names) == (25 + 1) * 7 and len(set(names)) == len(names)
    proactive = [n for n, _ in flat_columns("proactive")]
    assert proactive.index("proactive.admin_penalty") < proactive.index("proactive.admin_penalty.decisions")
    docs = (Path(__file__).resolve().parent.parent / "docs" / "data.md").read_text(encoding="utf-8")
    for table in ("requests", "review_litigation", "proactive"):
        for name, _ in flat_columns(table):
            assert f"`{name}`" in docs or f"`{name.rsplit('.', 1)[0]}.*`" in docs, name
        for figure in FIGURES[table]:
            assert f"`{figure.id}`" in docs
        for rate in RATES[table]:
            assert f"`{rate.id}`" in docs


@pytest.mark.parametrize("table", ["requests", "review_litigation", "proactive"])
def test_table_csv_every_figure_as_stored(out, table):
    path = out / "data" / f"{table}.csv"
    assert header(path) == [*META_COLUMNS, f"{table}.present", *(n for n, _ in flat_columns(table))]
    rows = read_csv(path)
    assert [(r["agency"], r["year"]) for r in rows] == sorted((m["agency"], str(m["year"])) for _, m, _ in SOURCES)
    by_key = {(r["agency"], r["year"]): r for r in rows}
    checked = 0
    for _, meta, tables in SOURCES:
        row = by_key[(meta["agency"], str(meta["year"]))]
        if tables is None:
            assert row[f"{table}.present"] == "false"
            assert all(row[n] == "" for n, _ in flat_columns(table))
            continue
        assert row[f"{table}.present"] == "true"
        for name, path_ in flat_columns(table):
            node = tables[table]
            for key in path_:
                node = node.get(key) if isinstance(node, dict) else (
                    node[key] if isinstance(node, list) and isinstance(key, int) else None)
                if node is None:
                    break
            expected = "" if node is None or isinstance(node, (dict, list)) else str(node)
            assert row[name] == expected, (meta["agency"], meta["year"], name)
            checked += expected != ""
    assert checked >= 30


def test_null_is_empty_and_zero_is_zero(out):
    rows = {(r["agency"], r["year"]): r for r in read_csv(out / "data" / "requests.csv")}
    hexi = rows[("河西县人民政府", "2022")]
    assert hexi["requests.granted.natural_person"] == "" and hexi["requests.granted.total"] == ""
    assert hexi["requests.granted.commercial_enterprise"] == "0"
    proactive = {(r["agency"], r["year"]): r for r in read_csv(out / "data" / "proactive.csv")}
    assert proactive[("河西县人民政府", "2022")]["proactive.admin_fees"] == "1.5"
    assert proactive[("某市财政局", "2021")]["proactive.admin_fees"] == "12.25"
    old = proactive[("河西县人民政府", "2020")]
    assert old["proactive.admin_penalty"] == "" and old["proactive.admin_penalty.decisions"] == "88"
    assert old["proactive.admin_license.change"] == "-2"
    assert old["proactive.central_procurement.procurement_amount"] == "123.45"


def test_reports_json_has_every_report_with_tables_and_checks(out):
    text = (out / "data" / "reports.json").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(SOURCES) + 2
    reports = json.loads(text)
    by_key = {(r["year"], r["url"]): r for r in reports}
    for path, meta, tables in SOURCES:
        report = next(r for r in reports if r["agency"] == meta["agency"] and r["year"] == meta["year"])
        assert report["tables"] == (tables or {})
        assert report["published"] == meta["published"]
        beside = json.loads((out / report["url"] / "report.json").read_text(encoding="utf-8"))
        assert beside == report
    finance = next(r for r in reports if r["agency"] == "某市财政局" and r["year"] == 2022)
    assert any(c["rule"] == "R5" and c["status"] == "fail" for c in finance["checks"])
    assert len(by_key) == len(SOURCES)


def test_year_twins_match_the_page_figures(out):
    folder = out / "tables" / "requests" / "2022"
    rows = read_csv(folder / "data.csv")
    assert header(folder / "data.csv") == [*META_COLUMNS, *(f.id for f in FIGURES["requests"]), "grant_rate"]
    hexi = next(r for r in rows if r["agency"] == "河西县人民政府")
    source = source_tables("2022/hexi-county.md")["requests"]
    assert hexi["new_received"] == str(source["new_received"][TOTAL])
    assert hexi["granted"] == "" and hexi["grant_rate"] == ""
    finance = next(r for r in rows if r["agency"] == "某市财政局")
    assert finance["grant_rate"] == "0.842105" and finance["withheld"] == "0"
    doc = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    assert doc["table"] == "requests" and doc["year"] == 2022
    assert [r["agency"] for r in doc["rows"]] == [r["agency"] for r in rows]
    hexi = next(r for r in doc["rows"] if r["agency"] == "河西县人民政府")
    assert hexi["figures"]["granted"] is None and hexi["missing"]["granted"] == "blank"
    assert hexi["figures"]["new_received"] == 20
    assert hexi["rates"]["grant_rate"] == {"value": None, "numerator": None, "denominator": None,
                                           "reason": "blank"}
    none = next(r for r in doc["rows"] if r["agency"] == "东坡区政务服务中心")
    assert none["missing"]["new_received"] == "absent" and none["figures"]["new_received"] is None
    zero = next(r for r in doc["rows"] if r["agency"] == "涼山鄉人民政府")
    assert zero["rates"]["grant_rate"]["reason"] == "zero" and zero["figures"]["new_received"] == 0
    fees = json.loads((out / "tables" / "proactive" / "2020" / "data.json").read_text(encoding="utf-8"))
    assert fees["rows"][0]["missing"]["admin_fees"] == "format"
    assert fees["rows"][0]["figures"]["admin_penalty"] == 88


def test_data_files_are_deterministic(tmp_path):
    a = make_archive(tmp_path / "a")
    b = make_archive(tmp_path / "b")
    build(a)
    build(b)
    for rel in ("data/reports.json", "data/requests.csv", "tables/requests/2022/data.json"):
        assert (a / "output" / rel).read_bytes() == (b / "output" / rel).read_bytes()


def _reference_row(report, table, cols):
    """What a table CSV line holds: each column's value as flattened from the
    stored table, text for numbers only."""
    from site_gen.checks import flatten
    from site_gen.export import _figure_text
    flat = flatten(report.tables[table])
    return [_figure_text(flat.get(path)) for _, path in cols]


def test_table_rows_read_every_column_as_stored_whatever_the_shape(tmp_path):
    import copy
    import random
    from dataclasses import replace

    from site_gen.content import read_source
    from site_gen.export import _table_row
    from site_gen.model import report_from_source
    from tests.helpers import SEED_SOURCE

    path = tmp_path / "r.md"
    path.write_text(SEED_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    seed = report_from_source(read_source(path, tmp_path), None)
    rng = random.Random(4)
    oddities = [None, "12", 3.5, True, [], {}, [1, 2], {"x": 1}, -1, 0]
    for table in ("proactive", "requests", "review_litigation"):
        cols = flat_columns(table)
        for attempt in range(60):
            tables = copy.deepcopy(seed.tables)
            nodes = [tables[table]]
            for _ in range(rng.randint(1, 6)):  # replace a few nodes at any depth
                node = rng.choice(nodes)
                keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
                if not keys:
                    continue
                key = rng.choice(keys)
                if isinstance(node[key], (dict, list)) and rng.random() < 0.6:
                    nodes.append(node[key])
                    if isinstance(node[key], list) and rng.random() < 0.3:
                        del node[key][rng.randrange(len(node[key])):]  # a short row
                    continue
                node[key] = rng.choice(oddities)
            report = replace(seed, tables_data=tables)
            row = _table_row(report, table)
            assert row[len(META_COLUMNS)] == "true"
            assert row[len(META_COLUMNS) + 1:] == _reference_row(report, table, cols), (table, attempt)
