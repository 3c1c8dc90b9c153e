"""The shape both item stages share: over one partition of scenes, keep the images of one
side, turn each scene into records, check them against their schema, write them, count them.

The records are made, checked and written CHUNK_SCENES scenes at a time (one Parquet row
group per chunk), so a worker holds one chunk's records, never the partition's (about 60K
MCQ items for 700 images). Readers get the same rows in the same order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa

from pipeline.batch_checks import checked_table
from pipeline.config import BuildOptions
from pipeline.parquet_io import write_row_groups
from pipeline.sides import image_side
from pipeline.stages import WorkLayout, read_scenes

# scene, stats, options, skip counter -> records of that scene, sorted by id. The stats are
# the caller's (the global statistics): this layer only hands them on.
MakeRecords = Callable[[dict[str, Any], Any, BuildOptions, Counter], list[dict[str, Any]]]

# Scenes whose records are held at once: about 5K MCQ items, a few tens of MB. Larger
# chunks only save row-group overhead; the published shards regroup rows anyway.
CHUNK_SCENES = 64


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
    counts: Counter = Counter()
    scenes = iter(
        read_scenes(
            layout,
            part,
            keep=lambda scene_id: image_side(scene_id, options.tuning_fraction) == side,
        )
    )

    def records(chunk: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [row for scene in chunk for row in make_records(scene, stats, options, skipped)]
        counts.update(count_by(row) for row in rows)
        return rows

    # A record that breaks its schema is a bug: checked_table stops the build, naming it.
    tables = (
        checked_table(config, records(chunk), schema) for chunk in _chunks(scenes, CHUNK_SCENES)
    )
    write_row_groups(layout.part_file(config, part, ".parquet"), _non_empty(tables, schema), schema)
    return {
        "part": part,
        "items": counts.total(),
        "counts": dict(sorted(counts.items())),
        "skipped": dict(sorted(skipped.items())),
    }


def _non_empty(tables: Iterator[pa.Table], schema: pa.Schema) -> Iterator[pa.Table]:
    """The tables that have rows; one empty table when none has, so that a partition
    without records is still written the way a one-shot write of no rows was."""
    written = False
    for table in tables:
        if table.num_rows:
            written = True
            yield table
    if not written:
        yield schema.empty_table()


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of `size` items (the last one shorter); itertools.batched is 3.12."""
    while chunk := list(islice(items, size)):
        yield chunk
