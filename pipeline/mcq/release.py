"""A fixed-size MSG-MCQ release (`--mcq-size`), after balancing, in three steps like the
balance plan (build.STAGES lists them):

1. `release_units_stage` (per partition): each balanced item's selection columns (its
   balancing texts, scene, fact, referent size, skips in its image) as a small file;
2. `release_plan_stage` (the driver): reads the columns only, chooses (`release_plan.py`),
   writes one action per item per partition and the report;
3. `release_stage` (per partition): keeps the chosen items, answers at their new positions.

Without --mcq-size every step does nothing and the balanced pool is published."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import BuildOptions
from pipeline.errors import InputError
from pipeline.hashing import stable_hash64
from pipeline.mcq.balance import (
    BALANCED_STAGE,
    UNIT_COLUMNS,
    UNITS_SCHEMA,
    apply_plan,
    unit_row,
)
from pipeline.mcq.balance_plan import DISTRACTOR_COLUMNS, TEXT_COLUMNS, Codes
from pipeline.mcq.release_plan import (
    DROP,
    Candidates,
    area_bin,
    preference_tuple,
    select,
    windows,
)
from pipeline.mcq.stage import skips_file
from pipeline.parquet_io import (
    read_json_file,
    read_rows,
    read_table,
    write_json,
    write_table,
)

RELEASE_UNITS_STAGE = "mcq_release_units"
RELEASE_PLAN_STAGE = "release_plan"
RELEASE_STAGE = "mcq_release"
SOURCE_COLUMNS = ["id", "image_source", "referent_bbox", "width", "height"]
RELEASE_SCHEMA = pa.schema(
    [
        *UNITS_SCHEMA,
        ("source", pa.string()),
        ("scene", pa.uint64()),
        ("fact", pa.uint64()),
        ("tie", pa.uint64()),
        ("area_bin", pa.int32()),
        ("skips", pa.int32()),
        ("row", pa.int64()),  # the item's place in its balanced partition
    ]
)


def fact_key(row: dict[str, Any]) -> str:
    """One fact: its image, aspect, referent set (or name, when it has no object: an absent
    category) and value; every form and statement of it shares the key. Existence asks
    a name, once per POPE setting: the same fact in each."""
    ids = ",".join(row["referent_object_ids"] or []) or f"name:{row['referent_name']}"
    value = row["referent_name"] if row["aspect"] == "existence" else row["answer_value"]
    return "|".join((row["scene_id"], row["aspect"], ids, str(value)))


def area_share(row: dict[str, Any]) -> float:
    """The referent box's share of the image; a question about the whole image (counts,
    existence, which object is present) has the whole image as its referent."""
    box = row["referent_bbox"]
    if not box:
        return 1.0
    return float(box[2] * box[3]) / float(row["width"] * row["height"])


def release_row(
    row: dict[str, Any], seed: int, skips: dict[str, int], place: int = 0
) -> dict[str, Any]:
    return unit_row(row) | {
        "source": row["image_source"],
        "scene": stable_hash64("scene", row["scene_id"]),
        "fact": stable_hash64("fact", fact_key(row)),
        "tie": stable_hash64(seed, "release", row["id"]),
        "area_bin": area_bin(area_share(row)),
        "skips": skips.get(row["scene_id"], 0),
        "row": place,
    }


def cell_name(row: dict[str, Any]) -> str:
    return f"{row['aspect']}/{row['form']}/{row['source']}"


def best_of_cells(rows: list[dict[str, Any]], limit: dict[str, int]) -> list[dict[str, Any]]:
    """Per (aspect, form, source), its `limit[aspect/form]` most preferred rows (an aspect
    or form without a quota: none), in their original order."""
    by_cell: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_cell[cell_name(row)].append(row)
    kept: list[dict[str, Any]] = []
    for cell, members in by_cell.items():
        members.sort(key=lambda r: preference_tuple(r["skips"], r["area_bin"], r["tie"]))
        kept.extend(members[: limit.get(cell.rsplit("/", 1)[0], 0)])
    return sorted(kept, key=lambda r: r["row"])


# -- the three steps ----------------------------------------------------------------------
def release_units_stage(layout, part: int, options: BuildOptions) -> dict[str, Any]:
    """Step 1: one partition's balanced items -> their selection columns, in item order."""
    if options.mcq_size is None:
        return {"part": part, "items": 0}
    rows = read_rows(
        layout.part_file(BALANCED_STAGE, part, ".parquet"), columns=UNIT_COLUMNS + SOURCE_COLUMNS
    )
    found = skips_file(layout, part)
    skips = read_json_file(found) if found.exists() else {}
    out = [release_row(r, options.seed, skips, k) for k, r in enumerate(rows)]
    pool = Counter(cell_name(r) for r in out)
    best = best_of_cells(out, windows(options.mcq_size, options.mcq_aspect_shares))
    write_table(layout.part_file(RELEASE_UNITS_STAGE, part, ".parquet"), best, RELEASE_SCHEMA)
    return {"part": part, "items": len(rows), "pool": dict(sorted(pool.items()))}


def read_candidates(
    layout, num_partitions: int, limit: dict[str, int]
) -> tuple[Candidates, np.ndarray, np.ndarray]:
    """Every partition's kept selection columns, cut to each cell's best `limit` over all
    partitions (so the same for any partitioning), with each candidate's partition and row
    in it; strings coded plan-wide. The cut is kept as partitions are read, so this holds
    two partitions' candidates at most, never the whole pool's."""
    kept: pa.Table | None = None
    for p in range(num_partitions):
        table = read_table(layout.part_file(RELEASE_UNITS_STAGE, p, ".parquet"))
        table = table.append_column("part", pa.array(np.full(table.num_rows, p, np.int64)))
        kept = table if kept is None else pa.concat_tables([kept, table])
        kept = kept.take(best_of_each_cell(kept, limit))
    return coded_candidates(kept)


def best_of_each_cell(table: pa.Table, limit: dict[str, int]) -> np.ndarray:
    """Indices (in order) of each (aspect, form, source)'s best `limit[aspect/form]` rows
    (`preference_tuple`'s order; equal rows by their order in the table)."""
    cell = pc.binary_join_element_wise(table["aspect"], table["form"], table["source"], "/")
    cell_code = cell.dictionary_encode().combine_chunks().indices.to_numpy()
    order = np.lexsort(
        (
            table.column("tie").to_numpy(),
            -table.column("area_bin").to_numpy().astype(np.int64),
            table.column("skips").to_numpy(),
            cell_code,
        )
    )
    sorted_cell = cell_code[order]
    place = np.arange(len(order)) - np.searchsorted(sorted_cell, sorted_cell)
    names = cell.combine_chunks().take(pa.array(order)).to_pylist()
    cap = np.array([limit.get(name.rsplit("/", 1)[0], 0) for name in names], dtype=np.int64)
    return np.sort(order[place < cap])


def coded_candidates(table: pa.Table) -> tuple[Candidates, np.ndarray, np.ndarray]:
    """The candidates' strings as codes (`answer` and the offered options share theirs)."""
    codes = {column: Codes() for column in (*TEXT_COLUMNS, "source")}
    coded_as = {c: c for c in (*TEXT_COLUMNS, "source")} | dict.fromkeys(
        DISTRACTOR_COLUMNS, "answer"
    )
    columns = {}
    for column, vocabulary in coded_as.items():
        encoded = table.column(column).combine_chunks().dictionary_encode()
        mapping = codes[vocabulary].encode(encoded.dictionary.to_pylist())
        columns[column] = mapping[encoded.indices.to_numpy(zero_copy_only=False)].astype(np.int32)
    for column in ("scene", "fact", "tie", "area_bin", "skips", "leader", "leader_key"):
        columns[column] = table.column(column).to_numpy()
    offered = np.stack([columns.pop(c) for c in DISTRACTOR_COLUMNS], axis=1)
    candidates = Candidates(
        names={k: v.names for k, v in codes.items()}, offered=offered, **columns
    )
    return candidates, table.column("part").to_numpy(), table.column("row").to_numpy()


def release_plan_stage(
    layout, num_partitions: int, options: BuildOptions, unit_results: list[dict[str, Any]]
) -> dict[str, Any]:
    """Step 2 (driver): choose, write each partition's actions, then the report (last, so a
    run killed while choosing chooses again, to the same result)."""
    if options.mcq_size is None:
        return {}
    report_file = layout.root / "release_report.json"
    if not report_file.exists():
        if options.circular:
            raise InputError(
                "--mcq-size", "a fixed-size release has one item per fact: not with --circular"
            )
        limit = windows(options.mcq_size, options.mcq_aspect_shares)
        candidates, part_of, row_of = read_candidates(layout, num_partitions, limit)
        pool: Counter = Counter()
        for result in unit_results:
            pool.update({tuple(k.split("/")): n for k, n in result["pool"].items()})
        chosen = select(
            candidates,
            options.mcq_size,
            pool,
            shares=options.mcq_aspect_shares,
            per_image=options.mcq_per_image,
            head_share=options.head_share,
            strict=options.strict_size,
        )
        for p in range(num_partitions):
            actions = np.full(unit_results[p]["items"], DROP, dtype=np.int8)
            mine = part_of == p
            actions[row_of[mine]] = chosen.actions[mine]
            write_json(
                layout.part_file(RELEASE_PLAN_STAGE, p, ".json"), {"actions": actions.tolist()}
            )
        write_json(report_file, chosen.report)
    return read_json_file(report_file)


def release_stage(layout, part: int, options: BuildOptions) -> dict[str, Any]:
    """Step 3: one partition's balanced items -> the chosen ones, answers moved."""
    if options.mcq_size is None:
        return {"part": part, "items": 0}
    kept = apply_plan(layout, part, BALANCED_STAGE, RELEASE_PLAN_STAGE, RELEASE_STAGE)
    cells = list(
        zip(
            *(kept.column(c).to_pylist() for c in ("aspect", "form", "image_source")),
            strict=True,
        )
    )
    return {
        "part": part,
        "items": kept.num_rows,
        "counts": dict(sorted(Counter(f"{a}/{f}" for a, f, _ in cells).items())),
        # aspect x form x source, for the card's composition table
        "composition": dict(sorted(Counter("/".join(c) for c in cells).items())),
        "skipped": read_json_file(layout.marker("mcq", part))["skipped"],
    }
