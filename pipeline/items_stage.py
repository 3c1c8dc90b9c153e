"""The shape both item stages share: over one partition of scenes, keep the images of one
side, turn each scene into records, validate every record, write them, count them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyarrow as pa

from pipeline.mcq.stats import Stats
from pipeline.parquet_io import read_json_file, write_json, write_table
from pipeline.sides import image_side
from pipeline.stages import read_scenes
from pipeline.validation import require_valid

# scene, stats, options, skip counter -> records of that scene, sorted by id
MakeRecords = Callable[[dict[str, Any], Stats, Any, Counter], list[dict[str, Any]]]


@lru_cache(maxsize=2)
def load_stats(path: str) -> Stats:
    return Stats(read_json_file(path))  # a local path or a URL (storage.FsPath as text)


def run_items_stage(
    layout,
    part: int,
    stats_path: str,
    options: Any,
    *,
    config: str,
    side: str,
    make_records: MakeRecords,
    schema: pa.Schema,
    count_by: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    stats = load_stats(stats_path)
    skipped: Counter = Counter()
    rows: list[dict[str, Any]] = []
    for scene in read_scenes(layout, part):
        if image_side(scene["scene_id"], options.tuning_fraction) == side:
            rows.extend(make_records(scene, stats, options, skipped))
    for row in rows:  # a record that breaks its schema is a bug: the build stops
        require_valid(config, row)
    write_table(layout.part_file(config, part, ".parquet"), rows, schema)
    counts = Counter(count_by(r) for r in rows)
    result = {
        "part": part,
        "items": len(rows),
        "counts": dict(sorted(counts.items())),
        "skipped": dict(sorted(skipped.items())),
    }
    write_json(layout.marker(config, part), result)
    return result
