"""The shape both item stages share: over one partition of scenes, keep the images of one
side, turn each scene into records, check them against their schema, write them, count them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from pipeline.batch_checks import checked_table
from pipeline.config import BuildOptions
from pipeline.parquet_io import write_arrow
from pipeline.sides import image_side
from pipeline.stages import WorkLayout, read_scenes

# scene, stats, options, skip counter -> records of that scene, sorted by id. The stats are
# the caller's (the global statistics): this layer only hands them on.
MakeRecords = Callable[[dict[str, Any], Any, BuildOptions, Counter], list[dict[str, Any]]]


def run_items_stage(
    layout: WorkLayout,
    part: int,
    stats: Any,
    options: BuildOptions,
    *,
    config: str,
    side: str,
    make_records: MakeRecords,
    schema: pa.Schema,
    count_by: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    skipped: Counter = Counter()
    rows: list[dict[str, Any]] = []
    for scene in read_scenes(layout, part):
        if image_side(scene["scene_id"], options.tuning_fraction) == side:
            rows.extend(make_records(scene, stats, options, skipped))
    # A record that breaks its schema is a bug: checked_table stops the build, naming it.
    table = checked_table(config, rows, schema)
    write_arrow(layout.part_file(config, part, ".parquet"), table)
    counts = Counter(count_by(r) for r in rows)
    return {
        "part": part,
        "items": len(rows),
        "counts": dict(sorted(counts.items())),
        "skipped": dict(sorted(skipped.items())),
    }
