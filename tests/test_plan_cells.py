"""Issue 21: the balance plan as tasks (pipeline/mcq/plan_cells.py). Each cell task reads
its own (aspect, form) rows only, never a whole partition or every item, and the plan it
writes is the one the in-memory plan gives over all items at once."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

import pipeline.mcq.plan_cells as plan_cells
from pipeline.mcq.balance import PLAN_STAGE, UNITS_SCHEMA, UNITS_STAGE, plan_balance, unit_row
from pipeline.mcq.balance_plan import (
    DROP,
    ROW_COLUMN,
    TEXT_COLUMNS,
    CellFiller,
    Codes,
    ItemColumns,
    cells_of,
    write_units_by_cell,
)
from pipeline.parquet_io import parquet_file, read_json_file
from pipeline.runner import StageRunner
from pipeline.stages import WorkLayout
from pipeline.storage import location
from tests.test_audit_balance import row, skewed

PARTS = 3


def mixed_rows() -> list[dict]:
    """Several cells, closed and open forms, in shuffled (partition-crossing) order."""
    rows = (
        skewed(40, 12)
        + skewed(25, 9, start=3000, aspect="material", name="bench")
        + skewed(30, 8, start=6000, form="fill_blank")
        + [row(9000 + i, "red", form="yes_no", answer="yes" if i % 3 else "no") for i in range(30)]
    )
    random.Random(3).shuffle(rows)
    return rows


def write_partitions(layout: WorkLayout, rows: list[dict]) -> list[list[dict]]:
    parts = [rows[p::PARTS] for p in range(PARTS)]
    for p, part in enumerate(parts):
        path = layout.part_file(UNITS_STAGE, p, ".parquet")
        write_units_by_cell(
            path, pa.Table.from_pylist([unit_row(r) for r in part], schema=UNITS_SCHEMA)
        )
    return parts


@pytest.fixture
def layout(tmp_path) -> WorkLayout:
    return WorkLayout(location(tmp_path / "_work"))


def test_unit_file_has_one_row_group_per_cell_and_each_rows_place(layout):
    rows = mixed_rows()
    write_partitions(layout, rows)
    units = parquet_file(layout.part_file(UNITS_STAGE, 0, ".parquet"))
    cells = cells_of(units)
    assert cells == sorted(cells) and len(cells) == units.num_row_groups == 4
    places = []
    for index, cell in enumerate(cells):
        group = units.read_row_group(index)
        pairs = set(zip(*(group.column(c).to_pylist() for c in ("aspect", "form")), strict=True))
        assert pairs == {tuple(cell.split("/"))}
        place = group.column(ROW_COLUMN).to_pylist()
        assert place == sorted(place)  # a cell's rows keep their item order
        places += place
    assert sorted(places) == list(range(len(rows[0::PARTS])))


def test_cell_tasks_read_one_cell_each_and_plan_as_all_items_at_once(layout, monkeypatch):
    rows = mixed_rows()
    parts = write_partitions(layout, rows)
    read, decided = [], []
    to_columns, decide_cell = plan_cells.to_columns, plan_cells.decide_cell

    def spy_to_columns(table, codes):
        columns = (table.column(c).to_pylist() for c in ("aspect", "form"))
        read.append(set(zip(*columns, strict=True)))
        return to_columns(table, codes)

    def spy_decide_cell(group, *args):
        decided.append(len(group))
        return decide_cell(group, *args)

    monkeypatch.setattr(plan_cells, "to_columns", spy_to_columns)
    monkeypatch.setattr(plan_cells, "decide_cell", spy_decide_cell)
    report = plan_cells.plan_from_units(layout, PARTS, 0.5, True, StageRunner(None))

    assert all(len(cells) == 1 for cells in read)  # never more than one cell's rows
    assert len(read) == 4 * PARTS  # each cell's rows, once per partition
    assert sorted(decided) == sorted([52, 34, 38, 30]) and max(decided) < len(rows)
    assert decided == sorted(decided, reverse=True)  # the largest cell's task starts first

    expected = plan_balance([r for part in parts for r in part], 0.5)
    drop, position = [], {}
    for p, part in enumerate(parts):
        actions = read_json_file(layout.part_file(PLAN_STAGE, p, ".json"))["actions"]
        assert len(actions) == len(part)
        drop += [r["id"] for r, a in zip(part, actions, strict=True) if a == DROP]
        position |= {r["id"]: a for r, a in zip(part, actions, strict=True) if a >= 0}
    assert expected["drop"] and sorted(drop) == expected["drop"]
    assert position == expected["position"]
    assert report == expected["report"]


def test_read_cell_fills_the_cell_in_partition_order_where_a_partition_lacks_it(layout):
    """The cell's columns are made once from the footers' counts and filled part by part:
    the values of each partition's rows one after another, a partition without the cell
    counting 0."""
    rows = mixed_rows()
    parts = write_partitions(layout, [r for r in rows if r["aspect"] != "material"])
    parts.append([r for r in rows if r["aspect"] == "material"])  # only in a 4th partition
    write_units_by_cell(
        layout.part_file(UNITS_STAGE, PARTS, ".parquet"),
        pa.Table.from_pylist([unit_row(r) for r in parts[-1]], schema=UNITS_SCHEMA),
    )
    cells = plan_cells.unit_cells(layout, PARTS + 1)
    assert list(cells) == sorted(cells, key=lambda cell: (-sum(cells[cell]), cell))
    for cell in ("color/mcq", "material/mcq", "color/fill_blank"):
        codes = {column: Codes() for column in TEXT_COLUMNS}
        group = plan_cells.read_cell(layout, cell, cells[cell], codes)
        in_cell = [
            [unit_row(r) for r in part if f"{r['aspect']}/{r['form']}" == cell] for part in parts
        ]
        expected = [u for part in in_cell for u in part]  # partition, then item order
        assert cells[cell] == [len(part) for part in in_cell] and 0 in cells[cell] and expected
        assert group.rank.tolist() == [u["rank"] for u in expected]
        for column in ("name", "text", "answer", "offered1"):
            names = codes["answer" if column.startswith("offered") else column].names
            assert [names[c] for c in getattr(group, column)] == [u[column] for u in expected]
    assert len(plan_cells.read_cell(layout, "color/nothing", [0] * (PARTS + 1), codes)) == 0


class RecordingRunner(StageRunner):
    """The synchronous runner, remembering the arguments each stage's tasks were given."""

    def __init__(self) -> None:
        super().__init__(None)
        self.args: dict[str, tuple] = {}

    def map_resumable(self, stage, fn, layout, count, args):
        self.args[stage] = args
        return super().map_resumable(stage, fn, layout, count, args)


def test_plan_tasks_get_their_cells_from_a_file_not_from_their_arguments(layout):
    """Every task of both steps used to be given every cell's count per partition (140
    partitions: 174 tasks of 4,760 counts, held by the driver); the counts are in one file
    now, and a task's arguments do not grow with the partitions."""
    write_partitions(layout, mixed_rows())
    runner = RecordingRunner()
    plan_cells.plan_from_units(layout, PARTS, 0.5, True, runner)
    assert runner.args == {plan_cells.CELLS_STAGE: (0.5, True), plan_cells.ACTIONS_STAGE: ()}
    cells, counts = plan_cells.read_cells(layout)
    assert dict(zip(cells, counts, strict=True)) == plan_cells.unit_cells(layout, PARTS)


def _part(size: int, **values: list[int]) -> ItemColumns:
    """`size` entries: the given fields' values, 7 in every other field."""
    fields = ItemColumns.__dataclass_fields__
    return ItemColumns(**{f: np.array(values.get(f, [7] * size), dtype=np.int32) for f in fields})


def test_cell_filler_holds_a_column_with_one_value_throughout_as_that_value():
    """aspect: 7 in every part (one value, no memory per entry); name: one value per part
    but not the same one; value: one value in the first part only; rank: varies from the
    start. Every column reads back as the parts one after another."""
    parts = [
        _part(3, name=[1, 1, 1], value=[5, 5, 5], rank=[0, 1, 2]),
        _part(2, name=[2, 2], value=[5, 6], rank=[3, 4]),
        _part(1, name=[2], value=[6], rank=[5]),
    ]
    filler = CellFiller(6)
    for part in parts:
        filler.put(part)
    cell = filler.columns()
    for field in ItemColumns.__dataclass_fields__:
        expected = np.concatenate([getattr(part, field) for part in parts])
        assert getattr(cell, field).tolist() == expected.tolist(), field
        assert getattr(cell, field).dtype == np.int32
    assert cell.aspect.strides == (0,) and not cell.aspect.flags.writeable
    for field in ("name", "value", "rank"):
        assert getattr(cell, field).strides == (4,), field
    assert cell.take(np.array([5, 0])).aspect.tolist() == [7, 7]


def test_cell_filler_refuses_a_cell_not_filled_to_its_size():
    filler = CellFiller(4)
    filler.put(_part(3))
    with pytest.raises(ValueError, match="3 of its 4"):
        filler.columns()
    assert len(CellFiller(0).columns()) == 0
