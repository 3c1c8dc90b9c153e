"""The balance plan as tasks (issue 21), so that no process holds every mcq item:

1. one task per (aspect, form) "cell" reads that cell's row group from each partition's
   unit file that has one, decides it (`balance_plan.decide_cell`) and writes its actions,
   partition after partition, as one byte per item;
2. one task per partition puts its slice of every cell's actions back in item order and
   writes the partition's plan file, which the balanced stage applies.

A task holds the largest cell's columns at most. The driver writes the cell list with each
cell's item count per partition to a file the tasks read (`cells_file`): passed to every
task, it made the graph grow with the square of the partitions (140 partitions: 174 tasks
of 4,760 counts each, and 30 MB the driver kept). The result is the one `balance_plan.plan`
gives over all items at once: each cell is decided on its own there too."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.mcq.balance import PLAN_STAGE, UNITS_SCHEMA, UNITS_STAGE, to_columns
from pipeline.mcq.balance_plan import (
    OPEN_FORMS,
    ROW_COLUMN,
    TEXT_COLUMNS,
    CellFiller,
    Codes,
    ItemColumns,
    Report,
    cells_of,
    decide_cell,
)
from pipeline.parquet_io import parquet_file, read_json_file, write_json
from pipeline.stages import WorkLayout
from pipeline.storage import FsPath

CELLS_STAGE = "balance_cells"  # markers of the per-cell tasks
ACTIONS_STAGE = "balance_actions"  # markers of the per-partition tasks


def units_file(layout: WorkLayout, part: int) -> FsPath:
    return layout.part_file(UNITS_STAGE, part, ".parquet")


def cell_actions_file(layout: WorkLayout, cell: int) -> FsPath:
    return layout.stage_dir(CELLS_STAGE) / f"cell-{cell:05d}.actions"


def cells_file(layout: WorkLayout) -> FsPath:
    """`unit_cells` as [[cell, counts], ...], for the plan's tasks."""
    return layout.root / "balance_cells.json"


def read_cells(layout: WorkLayout) -> tuple[list[str], list[list[int]]]:
    """The cells, largest first, and each one's item count per partition."""
    pairs = read_json_file(cells_file(layout))
    return [cell for cell, _ in pairs], [counts for _, counts in pairs]


def unit_cells(layout: WorkLayout, num_partitions: int) -> dict[str, list[int]]:
    """Every "aspect/form" with items in some partition and its item count in each
    partition (from the files' footers, one open at a time): the largest cell first (its
    task starts first: the cells differ a hundredfold in size), then by name."""
    rows: dict[str, list[int]] = {}
    for part in range(num_partitions):
        units = parquet_file(units_file(layout, part))
        for index, cell in enumerate(cells_of(units)):
            counts = rows.setdefault(cell, [0] * num_partitions)
            counts[part] = units.metadata.row_group(index).num_rows
    return dict(sorted(rows.items(), key=lambda item: (-sum(item[1]), item[0])))


def read_cell(
    layout: WorkLayout, cell: str, counts: list[int], codes: dict[str, Codes]
) -> ItemColumns:
    """One cell's items from the unit files of the partitions that have some (`counts`), in
    partition, then item order. The columns are made once at their full size and filled
    part by part (joining per-part copies held the cell twice; a column with one value
    throughout is held as that value, `CellFiller`), and each file is open only
    while it is read: a parsed footer is about 0.5 MB, so the 140 of a 100K build held at
    once cost 68 MB, more the more partitions."""
    cell_columns = CellFiller(sum(counts))
    for part, count in enumerate(counts):
        if not count:
            continue
        units = parquet_file(units_file(layout, part))
        table = units.read_row_group(cells_of(units).index(cell), columns=UNITS_SCHEMA.names)
        cell_columns.put(to_columns(table, codes))
    return cell_columns.columns()


def distinct_values(layout: WorkLayout, num_partitions: int, aspect: str) -> int:
    """How many distinct answer values the aspect has over every form and partition."""
    values: set[str] = set()
    for part in range(num_partitions):
        units = parquet_file(units_file(layout, part))
        for index, cell in enumerate(cells_of(units)):
            if cell.split("/")[0] == aspect:
                column = units.read_row_group(index, columns=["value"]).column("value")
                values.update(column.unique().to_pylist())
    return len(values)


def plan_cell_task(layout: WorkLayout, index: int, share: float, balance: bool) -> dict[str, Any]:
    """Step 1, for cell `index` of `cells_file`: its actions file; returns its report."""
    cells, counts = read_cells(layout)
    cell = cells[index]
    aspect, form = cell.split("/")
    codes = {column: Codes() for column in TEXT_COLUMNS}
    group = read_cell(layout, cell, counts[index], codes)
    # Only an open form's bounds use the aspect's distinct values (balance_plan.bounds_for).
    distinct = distinct_values(layout, len(counts[index]), aspect) if form in OPEN_FORMS else 0
    report = Report(codes)
    actions = decide_cell(group, codes, share, distinct, balance, report)
    path = cell_actions_file(layout, index)
    path.parent.mkdir()
    path.write_bytes(actions.tobytes())  # complete once the runner writes the marker
    return {"cell": cell, "report": report.fragment()}


def partition_actions_task(layout: WorkLayout, part: int) -> dict[str, Any]:
    """Step 2, for partition `part`: its slice of each cell's actions, back in item order,
    as the plan file the balanced stage reads (`cells_file`: items per cell and partition)."""
    cells, counts = read_cells(layout)
    units = parquet_file(units_file(layout, part))
    rows = units.read(columns=[ROW_COLUMN]).column(ROW_COLUMN).to_numpy()
    pieces = []
    for cell in cells_of(units):
        index = cells.index(cell)
        start, size = sum(counts[index][:part]), counts[index][part]
        with cell_actions_file(layout, index).open("rb") as handle:
            handle.seek(start)
            pieces.append(np.frombuffer(handle.read(size), dtype=np.int8))
    actions = np.empty(len(rows), dtype=np.int8)
    actions[rows] = np.concatenate(pieces) if pieces else []
    write_json(layout.part_file(PLAN_STAGE, part, ".json"), {"actions": actions.tolist()})
    return {"part": part, "items": len(rows)}


def plan_from_units(
    layout: WorkLayout, num_partitions: int, share: float, balance: bool, runner
) -> dict[str, Any]:
    """The balance plan (both steps on `runner`'s workers), then its report (for
    `counts.mcq.balance`). The report is written last, so a run killed while planning plans
    again (each finished task is reused) and a finished plan is not redone."""
    report_file = layout.root / "balance_report.json"
    if not report_file.exists():
        cells = unit_cells(layout, num_partitions)
        write_json(cells_file(layout), list(cells.items()))
        args = (share, balance)
        decided = runner.map_resumable(CELLS_STAGE, plan_cell_task, layout, len(cells), args)
        runner.map_resumable(ACTIONS_STAGE, partition_actions_task, layout, num_partitions, ())
        report = Report({})
        for result in decided:
            report.absorb(result["report"])
        write_json(report_file, report.finish())
    return read_json_file(report_file)
