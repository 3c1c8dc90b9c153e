"""`msg build`: inputs -> split -> scenes -> items -> published folder + manifest."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config import BuildOptions
from pipeline.errors import InputError
from pipeline.manifest import build_manifest
from pipeline.mcq.stage import mcq_stage
from pipeline.mcq.stats import merge_stats
from pipeline.parquet_io import write_json
from pipeline.progress import Progress
from pipeline.runner import (
    prepare,
    run_partition_stage,
    run_split,
    stage_runner,
    write_quarantine,
)
from pipeline.stages import scene_stage, stats_stage


def with_demo_sample(options: BuildOptions) -> BuildOptions:
    """No inputs given: write the embedded sample beside the output folder and use it."""
    from pipeline.demo_sample import write_demo_sample

    sample = write_demo_sample(options.out.parent / f"{options.out.name}-input")
    return replace(
        options,
        coco_instances=[sample.coco_instances],
        coco_captions=[sample.coco_captions],
        vg_dir=sample.vg_dir,
    )


def run_build(options: BuildOptions, progress: Progress) -> dict[str, Any]:
    if options.uses_demo_sample:
        options = with_demo_sample(options)
    state = prepare(options)
    progress.log(
        f"[build] {len(state.inputs.files)} input files, {state.num_partitions} partitions, "
        + (
            f"scheduler {options.scheduler}"
            if options.scheduler
            else f"{options.workers} worker(s)"
        )
    )
    run_split(state, progress)
    with stage_runner(options) as runner:
        scenes = run_partition_stage(state, runner, progress, "scenes", scene_stage, state.side)
        stats = run_partition_stage(state, runner, progress, "stats", stats_stage)
        stats_path = state.layout.root / "stats.json"
        write_json(stats_path, merge_stats([r["stats"] for r in stats]))
        mcq = run_partition_stage(
            state, runner, progress, "mcq", mcq_stage, str(stats_path), options
        )
    unreconciled = state.ledger.unreconciled()
    if unreconciled:  # a bug, not bad input: every record must be accounted for
        raise RuntimeError(f"record counts do not reconcile: {unreconciled}")
    scenes_dir = options.out / "scenes"
    shutil.rmtree(scenes_dir, ignore_errors=True)
    shutil.copytree(state.layout.stage_dir("scenes"), scenes_dir, ignore=_only_parquet)
    write_quarantine(options.out, state.ledger)
    write_partitions_as_shards(state, "mcq", "test")
    counts = {"scenes": sum(r["scenes"] for r in scenes), "mcq": sum_counts(mcq)}
    manifest = build_manifest(options, state.inputs, state.ledger, counts)
    write_json(options.out / "manifest.json", manifest)
    shutil.rmtree(state.layout.root)
    return manifest


def sum_counts(results: list[dict]) -> dict[str, Any]:
    total: dict[str, Any] = {"total": 0, "by_aspect_form": Counter(), "skipped": Counter()}
    for r in results:
        total["total"] += r["items"]
        total["by_aspect_form"].update(r["by_aspect_form"])
        total["skipped"].update(r["skipped"])
    return {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()}


def write_partitions_as_shards(state, config: str, split: str) -> None:
    """Concatenate the stage's partition files, in partition order, into the shards."""
    from pipeline import arrow_schemas
    from pipeline.parquet_io import read_rows, write_table

    dest = state.options.out / "data" / config
    shutil.rmtree(dest, ignore_errors=True)
    rows = []
    for part in range(state.num_partitions):
        rows.extend(read_rows(state.layout.part_file(config, part, ".parquet")))
    write_table(
        dest / f"{split}-00000-of-00001.parquet", rows, getattr(arrow_schemas, config.upper())
    )


def _only_parquet(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".parquet") or n.startswith(".")]


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
