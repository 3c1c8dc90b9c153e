"""Stage functions over one plain partition. Dask only schedules them (runner.py); each can
be called directly in a test. A stage writes its outputs and returns its result; the runner
then writes that result as the partition's completion marker: a rerun skips partitions
whose marker exists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import arrow_schemas
from pipeline.ingest.split import read_categories, read_partition
from pipeline.jsonstream import load_small_json
from pipeline.ledger import Ledger
from pipeline.normalize import Vocabulary
from pipeline.parquet_io import read_json_file, read_jsonl, write_jsonl, write_table
from pipeline.scenes import SceneContext, build_scenes
from pipeline.storage import FsPath, location


@dataclass(frozen=True)
class WorkLayout:
    """Where a run keeps its intermediate files (under <out>/_work, on the output's
    filesystem, so that workers on other machines see them)."""

    root: FsPath

    @property
    def split(self) -> FsPath:
        return self.root / "split"

    def stage_dir(self, stage: str) -> FsPath:
        return self.root / stage

    def part_file(self, stage: str, part: int, suffix: str) -> FsPath:
        return self.stage_dir(stage) / f"part-{part:05d}{suffix}"

    def marker(self, stage: str, part: int) -> FsPath:
        return self.part_file(stage, part, ".result.json")


@dataclass(frozen=True)
class SideFiles:
    """VG alias lists and synset maps, by path (each worker loads them once)."""

    object_alias: str | None = None
    relationship_alias: str | None = None
    object_synsets: str | None = None


@lru_cache(maxsize=4)
def scene_context(split_dir: str, side: SideFiles) -> SceneContext:
    vocab = Vocabulary.load(
        Path(side.object_alias) if side.object_alias else None,
        Path(side.relationship_alias) if side.relationship_alias else None,
    )
    synsets: dict[str, str] = {}
    if side.object_synsets:
        raw = load_small_json(Path(side.object_synsets))
        synsets = {k.strip().lower(): v for k, v in raw.items() if isinstance(v, str)}
    return SceneContext(read_categories(location(split_dir)), vocab, synsets)


def scene_stage(layout: WorkLayout, part: int, side: SideFiles) -> dict[str, Any]:
    """Routed records of one partition -> scenes Parquet + ledger result."""
    ctx = scene_context(str(layout.split), side)
    ledger = Ledger()
    scenes = build_scenes(list(read_partition(layout.split, part)), ctx, ledger)
    table = write_table(layout.part_file("scenes", part, ".parquet"), scenes, arrow_schemas.SCENE)
    # The later stages read these rows as JSON lines: the same dicts Parquet gives back
    # (written from the table, in its key order), at a quarter of the cost of to_pylist.
    write_jsonl(scene_rows_file(layout, part), table.to_pylist(), sort_keys=False)
    return {
        "part": part,
        "scenes": len(scenes),
        "ledger": ledger.to_dict(),
        "quarantine": ledger.quarantine_rows,
    }


def scene_rows_file(layout: WorkLayout, part: int) -> FsPath:
    return layout.part_file("scenes", part, ".rows.jsonl")


def read_scenes(layout: WorkLayout, part: int) -> list[dict[str, Any]]:
    """One partition's scenes, as `pq.read_table(...).to_pylist()` would give them."""
    return read_jsonl(scene_rows_file(layout, part))


def load_result(layout: WorkLayout, stage: str, part: int) -> dict[str, Any] | None:
    marker = layout.marker(stage, part)
    return read_json_file(marker) if marker.exists() else None
