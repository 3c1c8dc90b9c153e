"""Build-time balancing of MSG-MCQ, GQA-style: bound the head answer's share per (aspect,
form) and per (aspect, form, referent name), then spread the correct option's position
evenly. Decisions are global, so they run in three steps (build.STAGES lists them):

1. `units_stage` (per partition, on the workers): each item's unit rank, texts and flags as
   a small columnar file, one row group per (aspect, form);
2. the plan (`plan_cells.py`, tasks on the workers): each (aspect, form) decided from its
   own rows (`balance_plan.py`, tens of bytes per item), then one action per item per
   partition;
3. `balance_stage` (per partition): applies its actions.

Every decision comes from content hashes and sorted ids, never from which partition an item
is in, so the output is the same for any partitioning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.facts.referents import mask_regions
from pipeline.hashing import stable_hash64
from pipeline.mcq.balance_plan import (
    DISTRACTOR_COLUMNS,
    DROP,
    TEXT_COLUMNS,
    Codes,
    ItemColumns,
    head_cap,
    plan,
    write_units_by_cell,
)
from pipeline.parquet_io import (
    parquet_file,
    read_json_file,
    read_rows,
    read_table,
    write_arrow,
)

__all__ = [
    "BALANCED_STAGE",
    "PLAN_STAGE",
    "UNITS_STAGE",
    "apply_plan",
    "balance_stage",
    "head_cap",
    "plan_balance",
    "rotate_column",
    "units_stage",
    "UnitColumns",
    "write_units",
]

BALANCED_STAGE = "mcq_balanced"
UNITS_STAGE = "mcq_units"
PLAN_STAGE = "balance_plan"
UNIT_COLUMNS = [
    "id",
    "scene_id",
    "aspect",
    "form",
    "answer_value",
    "referent_name",
    "referent_object_ids",
    "template_id",
    "group_id",
    "answer_index",
    "question",
    "answer",
    "options",
    "distractor_sources",
    "pope_setting",
]
UNITS_SCHEMA = pa.schema(
    [
        ("aspect", pa.string()),
        ("form", pa.string()),
        ("name", pa.string()),
        ("value", pa.string()),
        ("text", pa.string()),
        ("frame", pa.string()),
        ("asked", pa.string()),
        ("answer", pa.string()),
        *((column, pa.string()) for column in DISTRACTOR_COLUMNS),
        ("rank", pa.uint64()),
        ("leader", pa.bool_()),
        ("leader_key", pa.uint64()),
        ("answer_index", pa.int8()),
    ]
)


def unit_key(row: dict[str, Any]) -> str:
    """The items that stand or fall together: one fact in one form (a yes/no pair, the
    rotations of a circular question)."""
    family = row["template_id"].split(".", 1)[0]
    ids = ",".join(row["referent_object_ids"] or [])
    parts = (row["scene_id"], family, row["aspect"], row["form"], row["referent_name"], ids)
    # The two statements of a yes/no fact are balanced one by one (per asked value).
    answer = row["answer"] if row["form"] == "yes_no" else ""
    setting = row["pope_setting"] or ""  # POPE asks a category once per setting
    return "|".join(map(str, (*parts, row["answer_value"], answer, setting)))


def asked_value(row: dict[str, Any]) -> str:
    """The value a yes/no question or a correction's false statement asserts: the false
    option when there is one, else the true value (POPE: the category, per setting)."""
    if row["answer_value"] in ("yes", "no"):  # existence: the name is what is asked
        return f"{row['pope_setting'] or ''}|{row['referent_name']}"
    sources = row["distractor_sources"] or []
    return sources[0]["option"] if sources else row["answer_value"]


def _offered_distractors(row: dict[str, Any]) -> list[str]:
    others = [o for o in row["options"] or [] if o != row["answer"]] if row["form"] == "mcq" else []
    return (others + [""] * len(DISTRACTOR_COLUMNS))[: len(DISTRACTOR_COLUMNS)]


def answer_label(row: dict[str, Any]) -> str:
    """What a text-only model would have to say: the option text or yes/no for closed
    forms, the value for open ones."""
    return row["answer"] if row["form"] in ("mcq", "yes_no") else row["answer_value"]


def unit_values(row: dict[str, Any]) -> tuple[Any, ...]:
    """An item's unit columns, in UNITS_SCHEMA order."""
    # A leader is a non-circular mcq item; its id is "mcq-<16 hex digits>" (the schema says
    # so and every item is validated), so the number sorts like the id.
    form = row["form"]
    leader = form == "mcq" and row["group_id"] == row["id"]
    question = row["question"]
    masked = mask_regions(question)
    return (
        row["aspect"],
        form,
        row["referent_name"] or "",
        row["answer_value"],
        # The question as a model sees it without the image (POPE: per setting).
        f"{row['pope_setting'] or ''}|{masked}",
        # The phrasing without the object: the template, and whether it names a region.
        f"{row['template_id']}|{masked != question}",
        asked_value(row),
        answer_label(row),
        # The other options a multiple-choice item offers ("" where it has none).
        *_offered_distractors(row),
        # Unseeded: the order in which a bound drops units is a property of the facts
        # (the bounds themselves look at phrasing and options, which the seed draws).
        stable_hash64("balance", unit_key(row)),
        leader,
        int(row["id"][4:20], 16) if leader else 0,
        row["answer_index"],
    )


def unit_row(row: dict[str, Any]) -> dict[str, Any]:
    return dict(zip(UNITS_SCHEMA.names, unit_values(row), strict=True))


class UnitColumns:
    """The unit columns of a partition's items, filled in item order: one tuple per item
    (no dict per item), turned into Arrow every ROWS_PER_TABLE items (a tuple per item
    for a whole partition weighed tens of MB) and joined when the table is made."""

    ROWS_PER_TABLE = 4096

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.tables: list[pa.Table] = []
        self.in_tables = 0

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.extend(map(unit_values, rows))
        if len(self.rows) >= self.ROWS_PER_TABLE:
            self.tables.append(self._rows_table())
            self.in_tables += len(self.rows)
            self.rows = []

    def __len__(self) -> int:
        return self.in_tables + len(self.rows)

    def table(self) -> pa.Table:
        return pa.concat_tables([*self.tables, self._rows_table()])

    def _rows_table(self) -> pa.Table:
        columns = zip(*self.rows, strict=True) if self.rows else ([] for _ in UNITS_SCHEMA)
        return pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, UNITS_SCHEMA, strict=True)],
            schema=UNITS_SCHEMA,
        )


def to_columns(table: pa.Table, codes: dict[str, Codes]) -> ItemColumns:
    """A units table -> integer columns, texts coded with the plan-wide `codes`."""
    coded = {}
    # Offered options share the answers' codes, so an option and an answer compare.
    coded_as = {column: column for column in TEXT_COLUMNS} | dict.fromkeys(
        DISTRACTOR_COLUMNS, "answer"
    )
    for column, vocabulary in coded_as.items():
        encoded = table.column(column).combine_chunks().dictionary_encode()
        mapping = codes[vocabulary].encode(encoded.dictionary.to_pylist())
        coded[column] = mapping[encoded.indices.to_numpy(zero_copy_only=False)]

    def numbers(column: str) -> np.ndarray:
        return table.column(column).to_numpy()

    return ItemColumns(
        **coded,
        rank=numbers("rank"),
        leader=numbers("leader"),
        leader_key=numbers("leader_key"),
        # null outside the forms with options; -1 keeps the column integral
        answer_index=table.column("answer_index").fill_null(-1).to_numpy(),
    )


def plan_balance(rows: list[dict[str, Any]], share: float, balance: bool = True) -> dict[str, Any]:
    """The plan for a list of mcq rows (UNIT_COLUMNS), as ids: {"drop": ids, "position":
    {id: index}, "report": ...}. The build uses the same `plan` over partition files."""
    codes = {column: Codes() for column in TEXT_COLUMNS}
    units = UnitColumns()
    units.extend(rows)
    decided = plan(to_columns(units.table(), codes), codes, share, balance)
    actions = decided.actions.tolist()
    return {
        "drop": sorted(r["id"] for r, a in zip(rows, actions, strict=True) if a == DROP),
        "position": dict(
            sorted((r["id"], a) for r, a in zip(rows, actions, strict=True) if a >= 0)
        ),
        "report": decided.report,
    }


# -- the three steps ----------------------------------------------------------------------
def units_file(layout, part: int):
    return layout.part_file(UNITS_STAGE, part, ".parquet")


def write_units(layout, part: int, units: UnitColumns) -> None:
    write_units_by_cell(units_file(layout, part), units.table())


def units_stage(layout, part: int) -> dict[str, Any]:
    """Step 1: one partition's mcq items -> their unit columns, in item order. The mcq stage
    writes them from the items it has in memory (pipeline/mcq/stage.py); this reads its
    items back only when that file is missing."""
    found = units_file(layout, part)
    if found.exists():
        return {"part": part, "items": parquet_file(found).metadata.num_rows}
    units = UnitColumns()
    units.extend(read_rows(layout.part_file("mcq", part, ".parquet"), columns=UNIT_COLUMNS))
    write_units(layout, part, units)
    return {"part": part, "items": len(units)}


def rotate_column(table: pa.Table, targets: np.ndarray) -> pa.Table:
    """Every row whose target is >= 0 gets its options turned left (cyclic order kept) by
    (answer_index - target) mod their length, on the Arrow columns (no Python row objects).
    Options are unique (schemas/mcq.schema.json), so the answer lands exactly at target."""
    options = table.column("options").combine_chunks()
    offsets = options.offsets.to_numpy().astype(np.int64)
    lengths = np.diff(offsets)
    index = table.column("answer_index").fill_null(0).to_numpy().astype(np.int64)
    move = targets >= 0
    shift = np.where(move, index - targets, 0) % np.maximum(lengths, 1)
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    place = np.arange(len(row_of)) - (offsets[row_of] - offsets[0])
    source = offsets[row_of] + (place + shift[row_of]) % np.maximum(lengths[row_of], 1)
    turned = pa.ListArray.from_arrays(
        pa.array(offsets - offsets[0], pa.int32()), options.values.take(pa.array(source))
    ).cast(table.schema.field("options").type)
    old_index = table.column("answer_index").combine_chunks()
    new_index = pa.array(
        np.where(move, targets, index),
        pa.int64(),
        mask=~move & old_index.is_null().to_numpy(zero_copy_only=False),
    ).cast(table.schema.field("answer_index").type)
    for name, column in (("options", turned), ("answer_index", new_index)):
        at = table.schema.get_field_index(name)
        table = table.set_column(at, table.schema.field(at), column)
    return table


def apply_plan(layout, part: int, source: str, plan: str, target: str) -> pa.Table:
    """One partition's items of stage `source` -> stage `target`: those the plan of stage
    `plan` keeps, answers moved to their planned position (on Arrow columns: the items are
    never Python objects here). Balancing and the fixed-size release both end this way."""
    table = read_table(layout.part_file(source, part, ".parquet"))
    actions = np.asarray(
        read_json_file(layout.part_file(plan, part, ".json"))["actions"], dtype=np.int64
    )
    if len(actions) != table.num_rows:  # the plan was made from these very files
        raise RuntimeError(f"{plan} of partition {part} does not match its items")
    kept = rotate_column(table, actions).filter(pa.array(actions != DROP))
    write_arrow(layout.part_file(target, part, ".parquet"), kept)
    return kept


def balance_stage(layout, part: int) -> dict[str, Any]:
    """Step 3: one partition's mcq items -> the kept ones, answers moved."""
    kept = apply_plan(layout, part, "mcq", PLAN_STAGE, BALANCED_STAGE)
    pairs = zip(kept.column("aspect").to_pylist(), kept.column("form").to_pylist(), strict=True)
    skipped = read_json_file(layout.marker("mcq", part))["skipped"]
    return {  # counted like the mcq stage's results
        "part": part,
        "items": kept.num_rows,
        "counts": dict(sorted(Counter(f"{a}/{f}" for a, f in pairs).items())),
        "skipped": skipped,
    }
