"""The balance's unit columns: made by the mcq stage from the items in memory, or read
back from the partition when that file is missing; both must equal unit_row's."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.mcq.balance import (
    UNIT_COLUMNS,
    UNITS_SCHEMA,
    UNITS_STAGE,
    UnitColumns,
    unit_row,
    units_stage,
)
from pipeline.mcq.balance_plan import ROW_COLUMN
from pipeline.parquet_io import read_table
from pipeline.stages import WorkLayout
from pipeline.storage import location


def mcq_rows(out: Path) -> list[dict]:
    files = sorted((out / "data" / "mcq").glob("*.parquet"))
    return pa.concat_tables(pq.read_table(f, columns=UNIT_COLUMNS) for f in files).to_pylist()


def test_unit_columns_equal_unit_rows(demo_build: Path) -> None:
    rows = mcq_rows(demo_build)
    assert rows
    units = UnitColumns()
    units.extend(rows[:7])
    units.extend(rows[7:])
    expected = pa.Table.from_pylist([unit_row(r) for r in rows], schema=UNITS_SCHEMA)
    assert len(units) == len(rows)
    assert units.table().equals(expected)


def test_unit_columns_turned_into_arrow_in_batches_equal_one_table(
    demo_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = mcq_rows(demo_build)
    monkeypatch.setattr(UnitColumns, "ROWS_PER_TABLE", 5)
    units = UnitColumns()
    for start in range(0, len(rows), 3):
        units.extend(rows[start : start + 3])
    assert len(rows) > 12 and units.tables  # turned into Arrow as the rows came
    # Each table holds a batch's worth: at least 5 rows, and no more than one extend past it.
    assert all(5 <= table.num_rows < 5 + 3 for table in units.tables)
    assert len(units) == len(rows)
    expected = pa.Table.from_pylist([unit_row(r) for r in rows], schema=UNITS_SCHEMA)
    assert units.table().equals(expected)


def test_no_units_gives_an_empty_table() -> None:
    table = UnitColumns().table()
    assert table.num_rows == 0 and table.schema.equals(UNITS_SCHEMA)


def test_units_stage_reads_items_back_only_when_the_file_is_missing(
    demo_build: Path, tmp_path: Path
) -> None:
    rows = mcq_rows(demo_build)
    layout = WorkLayout(location(tmp_path))
    items = layout.part_file("mcq", 0, ".parquet")
    items.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), items.path)

    assert units_stage(layout, 0) == {"part": 0, "items": len(rows)}
    made = layout.part_file(UNITS_STAGE, 0, ".parquet")
    expected = pa.Table.from_pylist([unit_row(r) for r in rows], schema=UNITS_SCHEMA)
    # the file is grouped by (aspect, form) cell; its row column restores item order
    written = read_table(made).sort_by(ROW_COLUMN).drop_columns([ROW_COLUMN])
    assert written.equals(expected)

    # A units file the mcq stage wrote is kept as it is (here: its first row only).
    pq.write_table(expected.slice(0, 1), made.path)
    assert units_stage(layout, 0) == {"part": 0, "items": 1}
    assert read_table(made).num_rows == 1
