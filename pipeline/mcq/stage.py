"""The MSG-MCQ stage over one partition of scenes (evaluation side only)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from pipeline import arrow_schemas
from pipeline.config import BuildOptions
from pipeline.facts.context import make_context
from pipeline.facts.generators import scene_facts
from pipeline.facts.stats import Stats
from pipeline.facts.stats_stage import load_stats
from pipeline.items_stage import run_items_stage
from pipeline.mcq.balance import UnitColumns, write_units
from pipeline.mcq.render import Renderer
from pipeline.parquet_io import write_json
from pipeline.review.exclusions import base_id, read_exclusions
from pipeline.sides import EVALUATION


@lru_cache(maxsize=4)
def _excluded(path: str) -> frozenset[str]:
    """Read once per worker process (the file must be at this path on every worker)."""
    return read_exclusions(Path(path))


def mcq_items(
    scene: dict[str, Any], stats: Stats, options: BuildOptions, skipped: Counter
) -> list[dict]:
    ctx = make_context(scene, stats, options)
    renderer = Renderer(scene, options.seed, options.circular, skipped)
    items = [item for fact in scene_facts(ctx) for item in renderer.render(fact)]
    skipped.update(ctx.skipped)
    if options.exclude_items is not None:  # before balancing, which then plans without them
        excluded = _excluded(str(options.exclude_items))
        for item in items:
            if base_id(item["id"]) in excluded:
                skipped[f"{item['aspect']}:excluded_by_review"] += 1
        items = [item for item in items if base_id(item["id"]) not in excluded]
    items.sort(key=itemgetter("id"))
    return items


def skips_file(layout, part: int):
    """scene id -> facts or items skipped there (a release prefers images with few)."""
    return layout.part_file("mcq", part, ".skips.json")


def mcq_stage(layout, part: int, stats_path: str, options: BuildOptions) -> dict[str, Any]:
    per_scene: dict[str, int] = {}
    # The balance's unit columns, from the items while they are in memory (in the order
    # run_items_stage writes them: scene by scene), instead of reading the partition back.
    units = UnitColumns()

    def make_records(scene, stats, options, skipped: Counter) -> list[dict]:
        before = skipped.total()
        items = mcq_items(scene, stats, options, skipped)
        per_scene[scene["scene_id"]] = skipped.total() - before
        units.extend(items)
        return items

    result = run_items_stage(
        layout,
        part,
        load_stats(stats_path),
        options,
        config="mcq",
        side=EVALUATION,
        make_records=make_records,
        schema=arrow_schemas.MCQ,
        count_by=lambda r: f"{r['aspect']}/{r['form']}",
    )
    write_json(skips_file(layout, part), dict(sorted(per_scene.items())))
    if len(units) != result["items"]:  # every item made is written: the columns match them
        raise RuntimeError(f"mcq partition {part}: {len(units)} units for {result['items']} items")
    write_units(layout, part, units)
    return result
