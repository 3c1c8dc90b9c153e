"""Stage functions over one plain partition. Dask only schedules them (runner.py); each can
be called directly in a test. A stage writes its outputs and returns its result; the runner
then writes that result as the partition's completion marker: a rerun skips partitions
whose marker exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from pipeline import arrow_schemas
from pipeline.batch_checks import checked_table
from pipeline.ingest.split import read_categories, read_partition
from pipeline.jsonstream import load_small_json
from pipeline.ledger import Ledger
from pipeline.normalize import Vocabulary
from pipeline.parquet_io import read_json_file, read_jsonl, write_arrow, write_jsonl
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
    # Checked against schemas/scene.schema.json like the items: scenes are published too.
    table = checked_table("scene", scenes, arrow_schemas.SCENE)
    write_arrow(layout.part_file("scenes", part, ".parquet"), table)
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


def read_scenes(
    layout: WorkLayout, part: int, keep: Callable[[str], bool] | None = None
) -> list[dict[str, Any]]:
    """One partition's scenes, as `pq.read_table(...).to_pylist()` would give them; with
    `keep`, those whose id it keeps. A row is parsed only if kept: an item stage keeps one
    side's images, and the conv stage about one in five."""
    if keep is None:
        return read_jsonl(scene_rows_file(layout, part))
    scenes = []
    with scene_rows_file(layout, part).open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            scene_id = _leading_scene_id(line)
            if scene_id is not None and not keep(scene_id):
                continue
            scene = orjson.loads(line)
            if scene_id is None:  # kept or not: known once parsed
                if not keep(scene["scene_id"]):
                    continue
            elif scene["scene_id"] != scene_id:
                raise ValueError(f"{scene_rows_file(layout, part)}: row of {scene_id!r} misread")
            scenes.append(scene)
    return scenes


# Scene rows are written in the scene schema's order, scene_id first.
_ID_PREFIX = b'{"scene_id":'


def _leading_scene_id(line: bytes) -> str | None:
    """The id a scene row starts with, read without parsing the row; None where the row
    does not start with a plain string id (then the caller parses the whole row)."""
    if not line.startswith(_ID_PREFIX):
        return None
    end = line.find(b'",', len(_ID_PREFIX))  # a quote inside the id is escaped: \"
    try:
        scene_id = orjson.loads(line[len(_ID_PREFIX) : end + 1])
    except orjson.JSONDecodeError:
        return None
    return scene_id if isinstance(scene_id, str) else None


def load_result(layout: WorkLayout, stage: str, part: int) -> dict[str, Any] | None:
    marker = layout.marker(stage, part)
    return read_json_file(marker) if marker.exists() else None
