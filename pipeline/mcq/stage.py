"""The MSG-MCQ stage over one partition of scenes (evaluation side only)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

from pipeline import arrow_schemas
from pipeline.mcq.facts import make_context, scene_facts
from pipeline.mcq.render import Renderer
from pipeline.mcq.stats import Stats
from pipeline.parquet_io import read_json_file, read_rows, write_json, write_table
from pipeline.sides import EVALUATION, image_side
from pipeline.validation import require_valid


@lru_cache(maxsize=2)
def load_stats(path: str) -> Stats:
    from pathlib import Path

    return Stats(read_json_file(Path(path)))


def mcq_items(scene: dict[str, Any], stats: Stats, options: Any, skipped: Counter) -> list[dict]:
    ctx = make_context(scene, stats, options)
    renderer = Renderer(scene, options.seed, options.circular, skipped)
    items = [item for fact in scene_facts(ctx) for item in renderer.render(fact)]
    skipped.update(ctx.skipped)
    items.sort(key=lambda item: item["id"])
    return items


def mcq_stage(layout, part: int, stats_path: str, options: Any) -> dict[str, Any]:
    stats = load_stats(stats_path)
    skipped: Counter = Counter()
    rows: list[dict] = []
    for scene in read_rows(layout.part_file("scenes", part, ".parquet")):
        if image_side(scene["scene_id"], options.tuning_fraction) != EVALUATION:
            continue
        rows.extend(mcq_items(scene, stats, options, skipped))
    for row in rows:
        require_valid("mcq", row)
    write_table(layout.part_file("mcq", part, ".parquet"), rows, arrow_schemas.MCQ)
    by_aspect_form = Counter(f"{r['aspect']}/{r['form']}" for r in rows)
    result = {
        "part": part,
        "items": len(rows),
        "by_aspect_form": dict(sorted(by_aspect_form.items())),
        "skipped": dict(sorted(skipped.items())),
    }
    write_json(layout.marker("mcq", part), result)
    return result
