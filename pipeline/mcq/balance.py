"""Build-time balancing of MSG-MCQ, GQA-style: bound the head answer's share per (aspect,
form) and per (aspect, form, referent name), then spread the correct option's position
evenly. Decisions are global (made from every partition's items, in the driver) and applied
per partition by `balance_stage`, so the output is the same for any partitioning."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline import arrow_schemas
from pipeline.hashing import stable_hash64
from pipeline.parquet_io import read_json_file, read_rows, write_json, write_table

BALANCED_STAGE = "mcq_balanced"
# POPE's existence questions are balanced by construction (as many absent as present
# categories per setting); dropping by answer would unbalance its three settings.
EXEMPT_ASPECTS = frozenset({"existence"})
# A referent name with fewer questions says nothing about a language prior, and bounding it
# would only shrink the small aspects.
MIN_LOCAL_GROUP = 10
OPTIONS = 4  # every mcq item has four options (schemas/mcq.schema.json)
TOP_ANSWERS = 20  # answers listed per aspect in the manifest (the rest summed as "(other)")
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
    "rotation",
    "answer_index",
]


@dataclass
class Unit:
    """The items that stand or fall together: one fact in one form (a yes/no pair, the
    rotations of a circular question)."""

    aspect: str
    form: str
    name: str
    value: str
    rank: int
    ids: list[str] = field(default_factory=list)


def unit_key(row: dict[str, Any]) -> str:
    family = row["template_id"].split(".", 1)[0]
    ids = ",".join(row["referent_object_ids"] or [])
    parts = (row["scene_id"], family, row["aspect"], row["form"], row["referent_name"], ids)
    return "|".join(str(p) for p in (*parts, row["answer_value"]))


def head_cap(counts: Iterable[int], share: float) -> int:
    """The largest per-answer count C with C <= share * sum(min(c, C)): capping every answer
    at C bounds the head's share. share * sum(min(c, C)) - C is concave in C and 0 at 0, so
    the feasible C form an interval and a binary search finds its end."""
    counts = list(counts)
    lo, hi = 0, max(counts, default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid <= share * sum(min(c, mid) for c in counts):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cap_groups(units: dict[str, Unit], kept: set[str], local: bool, share: float) -> bool:
    """Drop the highest-ranked units of every over-represented answer; True if any went."""
    groups: dict[tuple, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key in kept:
        u = units[key]
        group = (u.aspect, u.form, u.name) if local else (u.aspect, u.form)
        groups[group][u.value].append(key)
    dropped = False
    for by_answer in groups.values():
        size = sum(len(keys) for keys in by_answer.values())
        if len(by_answer) < 2 or (local and size < MIN_LOCAL_GROUP):
            continue
        cap = head_cap((len(keys) for keys in by_answer.values()), share)
        for keys in by_answer.values():
            if len(keys) > cap:
                keys.sort(key=lambda k: (units[k].rank, k))
                kept.difference_update(keys[cap:])
                dropped = True
    return dropped


def select_units(units: dict[str, Unit], share: float) -> set[str]:
    """Local then global bounds, repeated until both hold (a global drop can unbalance a
    local group); only drops, so it ends."""
    kept = {k for k, u in units.items() if u.aspect not in EXEMPT_ASPECTS}
    while _cap_groups(units, kept, True, share) | _cap_groups(units, kept, False, share):
        pass
    return kept | {k for k, u in units.items() if u.aspect in EXEMPT_ASPECTS}


def assign_positions(rows: list[dict[str, Any]], kept_ids: set[str]) -> dict[str, int]:
    """Round-robin correct positions by sorted id within each aspect (ids are hashes, so
    the order is unrelated to content). Circular rotations keep their own positions."""
    by_aspect: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["form"] == "mcq" and r["id"] in kept_ids and r["group_id"] == r["id"]:
            by_aspect[r["aspect"]].append(r["id"])
    return {ident: i % OPTIONS for ids in by_aspect.values() for i, ident in enumerate(sorted(ids))}


def plan_balance(rows: list[dict[str, Any]], share: float) -> dict[str, Any]:
    """rows: UNIT_COLUMNS of every mcq item -> {"drop": ids, "position": {id: index},
    "report": before/after counts for the manifest}."""
    units: dict[str, Unit] = {}
    for r in rows:
        key = unit_key(r)
        if key not in units:
            # Unseeded on purpose: which facts survive is a property of the facts; the seed
            # only varies phrasing and option choices (tests/test_determinism.py).
            name, rank = r["referent_name"] or "", stable_hash64("balance", key)
            units[key] = Unit(r["aspect"], r["form"], name, r["answer_value"], rank)
        units[key].ids.append(r["id"])
    kept = select_units(units, share)
    kept_ids = {i for k in kept for i in units[k].ids}
    positions = assign_positions(rows, kept_ids)
    after_rows = [r for r in rows if r["id"] in kept_ids]
    moved = [dict(r, answer_index=positions.get(r["id"], r["answer_index"])) for r in after_rows]
    # Counts only (the manifest's counts are a tree of integers); head_share is an option.
    report = {
        "min_local_group": MIN_LOCAL_GROUP,
        "before": describe(rows),
        "after": describe(moved),
        "dropped": dict(sorted(Counter(_af(r) for r in rows if r["id"] not in kept_ids).items())),
    }
    drop = sorted(r["id"] for r in rows if r["id"] not in kept_ids)
    return {"drop": drop, "position": dict(sorted(positions.items())), "report": report}


def _af(row: dict[str, Any]) -> str:
    return f"{row['aspect']}/{row['form']}"


def describe(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Items per aspect/form, the mcq answers (top ones) and correct positions per aspect."""
    answers: dict[str, Counter] = defaultdict(Counter)
    positions: dict[str, dict[str, int]] = defaultdict(lambda: {str(k): 0 for k in range(OPTIONS)})
    for r in rows:
        if r["form"] == "mcq":
            answers[r["aspect"]][r["answer_value"]] += 1
            positions[r["aspect"]][str(r["answer_index"])] += 1
    top = {}
    for aspect, counter in sorted(answers.items()):
        head = counter.most_common()
        head.sort(key=lambda kv: (-kv[1], kv[0]))  # ties by name: stable across runs
        listed = dict(head[:TOP_ANSWERS])
        rest = sum(n for _, n in head[TOP_ANSWERS:])
        top[aspect] = listed | ({"(other)": rest} if rest else {})
    return {
        "items": dict(sorted(Counter(_af(r) for r in rows).items())),
        "mcq_answers": top,
        "mcq_positions": dict(sorted(positions.items())),
    }


# -- applying the plan ------------------------------------------------------------------
def read_unit_rows(layout, num_partitions: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in range(num_partitions):
        path = layout.part_file("mcq", part, ".parquet")
        if path.exists():
            rows.extend(pq.read_table(path, columns=UNIT_COLUMNS).to_pylist())
    return rows


@lru_cache(maxsize=2)
def _load_plan(path: str) -> tuple[frozenset[str], dict[str, int]]:
    plan = read_json_file(Path(path))
    return frozenset(plan["drop"]), plan["position"]


def rotate_to(item: dict[str, Any], target: int) -> dict[str, Any]:
    """Rotate the options (keeping their cyclic order) so the answer sits at `target`."""
    options = item["options"]
    k = (item["answer_index"] - target) % len(options)
    turned = options[k:] + options[:k]
    return dict(item, options=turned, answer_index=turned.index(item["answer"]))


def balance_stage(layout, part: int, plan_path: str) -> dict[str, Any]:
    """One partition's mcq items -> the kept ones, answers moved to their planned position."""
    drop, position = _load_plan(plan_path)
    rows = []
    for item in read_rows(layout.part_file("mcq", part, ".parquet")):
        if item["id"] in drop:
            continue
        target = position.get(item["id"])
        rows.append(item if target is None else rotate_to(item, target))
    write_table(layout.part_file(BALANCED_STAGE, part, ".parquet"), rows, arrow_schemas.MCQ)
    skipped = read_json_file(layout.marker("mcq", part))["skipped"]
    result = {
        "part": part,
        "items": len(rows),
        "counts": dict(sorted(Counter(_af(r) for r in rows).items())),
        "skipped": skipped,
    }
    write_json(layout.marker(BALANCED_STAGE, part), result)
    return result


def balance_mcq(state, runner, progress) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Plan from all partitions, apply per partition; returns the stage results (counted
    like the mcq stage's) and the report for `counts.mcq.balance`."""
    from pipeline.runner import run_partition_stage

    options = state.options
    plan = plan_balance(read_unit_rows(state.layout, state.num_partitions), options.head_share)
    plan_path = state.layout.root / "balance_plan.json"
    write_json(plan_path, {k: plan[k] for k in ("drop", "position")})
    _load_plan.cache_clear()  # a rerun in this process may write a new plan at the same path
    results = run_partition_stage(
        state, runner, progress, BALANCED_STAGE, balance_stage, str(plan_path)
    )
    return results, plan["report"]
