"""The table grid: a skeleton laid out once per format, filled per report.

The cells a template gets (`grid.head`, `grid.body`) and the markup
`grid_rows` prints from the skeleton must equal the grid laid out cell by cell
from the report's data, for every format and table, with blanks, decimals,
flags and labels converted into Traditional characters.
"""
from __future__ import annotations

import copy
import random

import pytest
from markupsafe import Markup

from site_gen import grid as grid_mod
from site_gen.config import Config
from site_gen.formats import all_formats
from site_gen.grid import Cell, Grid, layout_table, to_traditional
from site_gen.render import Renderer, default_theme_dir

SPECS = [(fmt.id, key) for fmt in all_formats().values() for key in fmt.tables]


def spec_of(fmt_id: str, key: str):
    return all_formats()[fmt_id].tables[key]


def reference_layout(spec, data, flags=None, convert=None) -> Grid:
    """The grid laid out cell by cell from the data (the layout before skeletons)."""
    prefix = f"t-{spec.key.replace('_', '-')}"
    builder = {"matrix": grid_mod._matrix, "blocks": grid_mod._blocks}.get(spec.layout, grid_mod._groups)
    grid = builder(spec, data, prefix)
    units = {c.unit for c in spec.columns if c.unit} | {c.unit for b in spec.blocks for c in b.columns if c.unit}
    grid.unit = "、".join(sorted(units)) or None
    if convert:
        grid.title = convert(grid.title)
        for row in grid.head + grid.body:
            for cell in row:
                if cell.header:
                    cell.text = convert(cell.text)
    if flags:
        for cell in grid.value_cells():
            rules = flags.get(cell.path)
            if rules:
                cell.flags = rules
                cell.classes.append("flag")
    return grid


def sample_data(spec, rng: random.Random) -> dict:
    """Every slot of a table filled with ints, decimals and blanks."""
    def value():
        return rng.choice([0, 1, 7, 12345, None, 0.1, 2.5, 1e-7, 0.30000000000000004, -3])

    table: dict = {}
    for slot in spec.slots():
        if slot.shape == "vector":
            leaf = [value() for _ in slot.columns]
        elif slot.shape == "record":
            leaf = {c.key: value() for c in slot.columns}
        else:
            leaf = value()
        node = table
        for key in slot.path[:-1]:
            node = node.setdefault(key, {})
        if slot.path:
            node[slot.path[-1]] = leaf
    return table


def some_flags(grid: Grid, rng: random.Random) -> dict:
    paths = [c.path for c in grid.value_cells()]
    return {p: rng.sample(["R3.1", "R4.1", "R0", "<b>&"], rng.randint(1, 2)) for p in rng.sample(paths, 5)}


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    return Renderer(Config(root=root), [default_theme_dir()], {})


def old_rows(renderer, rows) -> str:
    return "".join(f"    <tr>{renderer.row_html(row)}</tr>\n" for row in rows)


@pytest.mark.parametrize("fmt_id, key", SPECS)
@pytest.mark.parametrize("convert", [None, to_traditional])
def test_skeleton_grid_equals_the_grid_laid_out_cell_by_cell(renderer, fmt_id, key, convert):
    spec = spec_of(fmt_id, key)
    for seed in range(3):
        rng = random.Random(seed)
        data = sample_data(spec, rng)
        flags = some_flags(reference_layout(spec, data), rng) if seed else None
        expected = reference_layout(spec, copy.deepcopy(data), flags, convert)

        fast = layout_table(spec, data, flags, convert)
        rows = renderer.grid_rows(fast)
        assert isinstance(rows.head, Markup) and isinstance(rows.body, Markup)
        assert str(rows.head) == old_rows(renderer, expected.head)
        assert str(rows.body) == old_rows(renderer, expected.body)

        cells = layout_table(spec, data, flags, convert)
        assert (cells.key, cells.title, cells.unit) == (expected.key, expected.title, expected.unit)
        assert cells.head == expected.head and cells.body == expected.body
        assert list(cells.value_cells()) == list(expected.value_cells())


def test_missing_and_odd_values_print_as_the_cell_by_cell_grid(renderer):
    """Rows absent from the data, the wrong shape, non-numbers: blank or escaped, as before."""
    spec = spec_of("cn-gov-2021", "requests")
    data = sample_data(spec, random.Random(1))
    data.pop("granted")
    data["carried_over"] = {"6": 5, 0: "<script>"}
    data["new_received"] = ["<b>", True, None, 3, 4]
    data["results_total"] = "x"
    expected = reference_layout(spec, copy.deepcopy(data))
    rows = renderer.grid_rows(layout_table(spec, data))
    assert str(rows.body) == old_rows(renderer, expected.body)
    assert "&lt;b&gt;" in rows.body and "<b>" not in rows.body


def test_cells_handed_to_a_template_are_its_own(renderer):
    """Cells are fresh per grid: changing one changes neither the skeleton nor other
    reports, and grid_rows then prints the cells as changed."""
    spec = spec_of("cn-gov-2019", "proactive")
    data = sample_data(spec, random.Random(2))
    first = layout_table(spec, data)
    first.head  # noqa: B018 - made on first use
    first.body[1][0].classes.append("mine")
    assert 'class="mine"' in renderer.grid_rows(first).body
    second = layout_table(spec, data)
    assert "mine" not in renderer.grid_rows(second).body
    assert "mine" not in second.body[1][0].classes


def test_a_grid_made_of_cells_prints_them(renderer):
    made = Grid("x", "X", [[Cell("<h>", header=True, id="h")]], [[Cell("1", path=("x", 0), value=1)]])
    rows = renderer.grid_rows(made)
    assert str(rows.head) == '    <tr><th id="h">&lt;h&gt;</th></tr>\n'
    assert str(rows.body) == '    <tr><td data-key="x.0">1</td></tr>\n'


def test_skeleton_is_made_once_per_format_and_script():
    spec = spec_of("cn-gov-2021", "requests")
    assert grid_mod.skeleton(spec) is grid_mod.skeleton(spec)
    assert grid_mod.skeleton(spec, to_traditional) is not grid_mod.skeleton(spec)
    equal = copy.deepcopy(spec)
    assert grid_mod.skeleton(equal).body == grid_mod.skeleton(spec).body
