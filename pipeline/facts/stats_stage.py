"""The global statistics as build steps: counted per partition (`stats_stage`), merged by
one task into one file (`merge_stats_task`), loaded by each worker of the item stages
(`load_stats`). The counts travel in files, never through the driver: they grow with the
input (distinct name pairs), and the driver holds nothing per image (issue 21)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

from pipeline.facts.stats import Stats, scene_stats, sorted_totals
from pipeline.parquet_io import read_json_file, write_json
from pipeline.stages import WorkLayout, read_scenes
from pipeline.storage import FsPath

STATS_STAGE = "stats"


def partition_stats_file(layout: WorkLayout, part: int) -> FsPath:
    return layout.part_file(STATS_STAGE, part, ".stats.json")


def stats_stage(layout: WorkLayout, part: int) -> dict[str, Any]:
    """Counts over one partition's scenes, in a file of their own (the result stays small)."""
    stats = scene_stats(read_scenes(layout, part))
    write_json(partition_stats_file(layout, part), stats)
    return {"part": part, "scenes": stats["scenes"]}


def global_stats_file(layout: WorkLayout) -> FsPath:
    return layout.root / "stats.json"


def merge_stats_task(layout: WorkLayout, task: int, num_partitions: int) -> dict[str, Any]:
    """The partitions' counts summed in partition order, one file at a time, into the file
    the item stages read. One task: `task` is always 0."""
    scenes, totals = 0, {}
    for part in range(num_partitions):
        counts = read_json_file(partition_stats_file(layout, part))
        scenes += counts.pop("scenes")
        for key, part_counts in counts.items():
            totals.setdefault(key, Counter()).update(part_counts)
    write_json(global_stats_file(layout), {"scenes": scenes} | sorted_totals(totals))
    return {"scenes": scenes}


@lru_cache(maxsize=2)
def load_stats(path: str) -> Stats:
    return Stats(read_json_file(path))  # a local path or a URL (storage.FsPath as text)
