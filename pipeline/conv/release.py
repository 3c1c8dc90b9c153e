"""A fixed-size MSG-Conv release (`--conv-size`): per kind in proportion to the pool,
spread over as many images as possible (passes allowing 1, 2, ... samples per image), in
the order of a seeded hash of each sample's id. Three steps like the MSG-MCQ release
(build.STAGES): small columns per partition, the choice on the driver, the filter per
partition. Without --conv-size every step does nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.config import BuildOptions
from pipeline.errors import InputError
from pipeline.hashing import stable_hash64
from pipeline.largest_remainder import largest_remainder
from pipeline.parquet_io import (
    read_json_file,
    read_rows,
    read_table,
    write_arrow,
    write_json,
    write_table,
)

CONV_UNITS_STAGE = "conv_release_units"
CONV_PLAN_STAGE = "conv_release_plan"
CONV_RELEASE_STAGE = "conv_release"
CONV_UNITS_SCHEMA = pa.schema([("kind", pa.string()), ("scene", pa.uint64()), ("tie", pa.uint64())])


def conv_units_stage(layout, part: int, options: BuildOptions) -> dict[str, Any]:
    if options.conv_size is None:
        return {"part": part, "items": 0}
    rows = read_rows(layout.part_file("conv", part, ".parquet"), columns=["id", "scene_id", "kind"])
    out = [
        {
            "kind": r["kind"],
            "scene": stable_hash64("scene", r["scene_id"]),
            "tie": stable_hash64(options.seed, "conv-release", r["id"]),
        }
        for r in rows
    ]
    write_table(layout.part_file(CONV_UNITS_STAGE, part, ".parquet"), out, CONV_UNITS_SCHEMA)
    return {"part": part, "items": len(rows)}


def quotas(pool: Counter, size: int) -> dict[str, int]:
    """Kind -> samples, in proportion to the pool (largest remainder, ties by name)."""
    total = sum(pool.values())
    quota, _ = largest_remainder({k: size * n / total for k, n in pool.items()}, size)
    return quota


def choose(kind: list[str], scene: np.ndarray, tie: np.ndarray, size: int) -> np.ndarray:
    """The chosen sample indices (sorted): kind quotas filled in seeded order, an image
    taking its (k+1)-th sample only once every image that could has k."""
    if size < 1 or size > len(kind):
        raise InputError(
            "--conv-size",
            f"must be between 1 and the MSG-Conv pool ({len(kind)} samples); got {size}",
        )
    quota = quotas(Counter(kind), size)
    order = np.argsort(tie, kind="stable").tolist()
    got: Counter = Counter()
    per_scene: Counter = Counter()
    taken = np.zeros(len(kind), dtype=bool)
    limit = 0
    while sum(got.values()) < size:
        limit += 1
        for i in order:
            if taken[i] or got[kind[i]] >= quota[kind[i]] or per_scene[int(scene[i])] >= limit:
                continue
            taken[i] = True
            got[kind[i]] += 1
            per_scene[int(scene[i])] += 1
    return np.flatnonzero(taken)


def conv_plan_stage(layout, num_partitions: int, options: BuildOptions) -> dict[str, Any]:
    if options.conv_size is None:
        return {}
    report_file = layout.root / "conv_release_report.json"
    if not report_file.exists():
        tables = [
            read_table(layout.part_file(CONV_UNITS_STAGE, p, ".parquet"))
            for p in range(num_partitions)
        ]
        offsets = np.cumsum([0, *(t.num_rows for t in tables)])
        kind = [k for t in tables for k in t.column("kind").to_pylist()]
        scene = np.concatenate([t.column("scene").to_numpy() for t in tables])
        tie = np.concatenate([t.column("tie").to_numpy() for t in tables])
        chosen = np.zeros(len(kind), dtype=bool)
        chosen[choose(kind, scene, tie, options.conv_size)] = True
        for p in range(num_partitions):
            keep = chosen[offsets[p] : offsets[p + 1]]
            write_json(layout.part_file(CONV_PLAN_STAGE, p, ".json"), {"keep": keep.tolist()})
        pool = Counter(kind)
        selected = Counter(k for k, c in zip(kind, chosen.tolist(), strict=True) if c)
        write_json(
            report_file,
            {
                "size": int(chosen.sum()),
                "pool": len(kind),
                "quotas": {
                    k: {"selected": selected[k], "available": pool[k]} for k in sorted(pool)
                },
            },
        )
    return read_json_file(report_file)


def conv_release_stage(layout, part: int, options: BuildOptions) -> dict[str, Any]:
    if options.conv_size is None:
        return {"part": part, "items": 0}
    table = read_table(layout.part_file("conv", part, ".parquet"))
    keep = read_json_file(layout.part_file(CONV_PLAN_STAGE, part, ".json"))["keep"]
    if len(keep) != table.num_rows:
        raise RuntimeError(f"conv release plan of partition {part} does not match its samples")
    kept = table.filter(pa.array(keep, pa.bool_()))
    write_arrow(layout.part_file(CONV_RELEASE_STAGE, part, ".parquet"), kept)
    return {
        "part": part,
        "items": kept.num_rows,
        "counts": dict(sorted(Counter(kept.column("kind").to_pylist()).items())),
        "skipped": read_json_file(layout.marker("conv", part))["skipped"],
    }
