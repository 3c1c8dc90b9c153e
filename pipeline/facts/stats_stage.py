"""The global statistics as build steps: counted per partition (`stats_stage`), merged once
on the driver into one file (`write_global_stats`), loaded by each worker of the item
stages (`load_stats`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pipeline.facts.stats import Stats, merge_stats, scene_stats
from pipeline.parquet_io import read_json_file, write_json
from pipeline.stages import WorkLayout, read_scenes
from pipeline.storage import FsPath


def stats_stage(layout: WorkLayout, part: int) -> dict[str, Any]:
    """Counts over one partition's scenes, merged later into global statistics."""
    return {"part": part, "stats": scene_stats(read_scenes(layout, part))}


def global_stats_file(layout: WorkLayout) -> FsPath:
    return layout.root / "stats.json"


def write_global_stats(layout: WorkLayout, results: list[dict[str, Any]]) -> None:
    """The stats stage's results (in partition order) -> one file the item stages read."""
    write_json(global_stats_file(layout), merge_stats([r["stats"] for r in results]))


@lru_cache(maxsize=2)
def load_stats(path: str) -> Stats:
    return Stats(read_json_file(path))  # a local path or a URL (storage.FsPath as text)
