"""`msg build`: inputs -> split -> scenes -> items -> published folder + manifest."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config import BuildOptions
from pipeline.conv.release import (
    CONV_PLAN_STAGE,
    CONV_RELEASE_STAGE,
    CONV_UNITS_STAGE,
    conv_plan_stage,
    conv_release_stage,
    conv_units_stage,
)
from pipeline.conv.stage import conv_stage
from pipeline.errors import InputError
from pipeline.facts.stats_stage import (
    STATS_STAGE,
    global_stats_file,
    merge_stats_task,
    stats_stage,
)
from pipeline.manifest import build_manifest, describe_outputs
from pipeline.mcq.balance import (
    BALANCED_STAGE,
    PLAN_STAGE,
    UNITS_STAGE,
    balance_stage,
    units_stage,
)
from pipeline.mcq.plan_cells import plan_from_units
from pipeline.mcq.release import (
    RELEASE_PLAN_STAGE,
    RELEASE_STAGE,
    RELEASE_UNITS_STAGE,
    release_plan_stage,
    release_stage,
    release_units_stage,
)
from pipeline.mcq.stage import mcq_stage
from pipeline.parquet_io import write_json, write_jsonl
from pipeline.progress import Progress
from pipeline.publish.config_shards import SHARD_CONFIGS, SHARDS_STAGE, config_shards_task
from pipeline.publish.release_report import release_counts, release_facts
from pipeline.runner import (
    BuildState,
    Stage,
    prepare,
    run_split,
    run_stages,
    write_quarantine,
)
from pipeline.stages import scene_stage
from pipeline.storage import is_url


def with_demo_sample(options: BuildOptions) -> BuildOptions:
    """No inputs given: write the embedded sample beside the output folder and use it. The
    sample is an input, and inputs are local files: a URL output needs given inputs."""
    from pipeline.demo_sample import write_demo_sample

    if is_url(options.out):
        raise InputError(
            options.out,
            "the demo sample is written beside a local --out only; give the input files "
            "(--coco-instances, --coco-captions, --vg-dir) to build into a URL",
        )

    out = Path(options.out)
    sample = write_demo_sample(out.parent / f"{out.name}-input")
    return replace(
        options,
        coco_instances=[sample.coco_instances],
        coco_captions=[sample.coco_captions],
        vg_dir=sample.vg_dir,
    )


def run_build(options: BuildOptions, progress: Progress) -> dict[str, Any]:
    if options.uses_demo_sample:
        options = with_demo_sample(options)
    if options.images_dir:  # a missing folder or a clashing name stops the build up front
        from pipeline.publish.image_folders import ImageFolders

        ImageFolders(options.images_dir).check()
    state = prepare(options)
    progress.log(
        f"[build] {len(state.inputs.files)} input files, {state.num_partitions} partitions, "
        + (
            f"scheduler {options.scheduler}"
            if options.scheduler
            else f"{options.workers} worker(s)"
        )
    )
    run_stages(state, STAGES, progress)
    return state.results["publish"]


MERGE_STATS_STAGE = "merge_stats"  # the step's name and its one task's marker folder


# -- driver steps and stage arguments (STAGES, at the end, lists every step in order) --
def merge_stats(state: BuildState, progress: Progress) -> dict[str, Any]:
    """One task on a worker: the summed counts grow with the input, the driver stays flat."""
    (result,) = state.runner.map_resumable(
        MERGE_STATS_STAGE, merge_stats_task, state.layout, 1, (state.num_partitions,)
    )
    return result


def item_stage_args(state: BuildState) -> tuple:
    """The item stages read the global stats by path (each worker loads them once)."""
    return (str(global_stats_file(state.layout)), state.options)


def balance_plan(state: BuildState, progress: Progress) -> dict[str, Any]:
    """Global, so after every partition's units; run as tasks on the workers (the driver
    holds nothing per item); returns the report."""
    options = state.options
    return plan_from_units(
        state.layout, state.num_partitions, options.head_share, options.prior_balance, state.runner
    )


def options_arg(state: BuildState) -> tuple:
    return (state.options,)


def release_plan(state: BuildState, progress: Progress) -> dict[str, Any]:
    """--mcq-size: the fixed-size selection from the balanced pool (after every partition)."""
    return release_plan_stage(
        state.layout, state.num_partitions, state.options, state.results[RELEASE_UNITS_STAGE]
    )


def conv_release_plan(state: BuildState, progress: Progress) -> dict[str, Any]:
    return conv_plan_stage(state.layout, state.num_partitions, state.options)


def published_stage(state: BuildState, config: str) -> str:
    """The stage whose files a config publishes: the release when a size was asked."""
    if config == "mcq":
        return RELEASE_STAGE if state.options.mcq_size is not None else BALANCED_STAGE
    return CONV_RELEASE_STAGE if state.options.conv_size is not None else "conv"


def publish(state: BuildState, progress: Progress) -> dict[str, Any]:
    """The published folder and its manifest, from the stages' results; the work folder
    goes. Returns the manifest."""
    unreconciled = state.ledger.unreconciled()
    if unreconciled:  # a bug, not bad input: every record must be accounted for
        raise RuntimeError(f"record counts do not reconcile: {unreconciled}")
    options, out, results = state.options, state.out, state.results
    publish_scenes(state)
    write_quarantine(out, state.ledger)
    image_problems, coverage = shard_results(state)
    if image_problems:
        write_jsonl(out / "quarantine" / "images.jsonl", image_problems)
    counts = {
        "scenes": sum(r["scenes"] for r in results["scenes"]),
        "mcq": sum_counts(results[published_stage(state, "mcq")], "by_aspect_form")
        | {"balance": results[PLAN_STAGE]},
        "conv": sum_counts(results[published_stage(state, "conv")], "by_kind"),
        "images_quarantined": len(image_problems),
        "image_coverage": coverage,
    }
    if options.mcq_size is not None:
        counts["mcq"]["release"] = release_counts(
            results[RELEASE_PLAN_STAGE], results[RELEASE_STAGE]
        )
    if options.conv_size is not None:
        counts["conv"]["release"] = results[CONV_PLAN_STAGE]
    manifest = build_manifest(options, state.inputs, state.ledger, counts)
    if options.mcq_size is not None:  # rules and leakage: not counts (docs/release.md)
        manifest["release"] = {"mcq": release_facts(out, options)}
    from pipeline.publish.card import write_dataset_card  # `datasets`: 0.6 s, needed here only

    write_dataset_card(out, manifest)
    # Listed once every output, the card too, is written.
    manifest["outputs"] = describe_outputs(out)
    write_json(out / "manifest.json", manifest)
    state.layout.root.rmtree()
    return manifest


def sum_counts(results: list[dict], counted_by: str) -> dict[str, Any]:
    """Totals over partitions; `counted_by` names the per-item counts in the manifest."""
    total: dict[str, Any] = {"total": 0, counted_by: Counter(), "skipped": Counter()}
    for r in results:
        total["total"] += r["items"]
        total[counted_by].update(r["counts"])
        total["skipped"].update(r["skipped"])
    return {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()}


def write_shards(state: BuildState, progress: Progress) -> list[dict[str, Any]]:
    """Every config's shards, one task each on the workers (`publish/config_shards.py`)."""
    stages = [published_stage(state, config) for config in SHARD_CONFIGS]
    args = (state.out, state.options, stages, state.num_partitions)
    return state.runner.map_resumable(
        SHARDS_STAGE, config_shards_task, state.layout, len(SHARD_CONFIGS), args
    )


def shard_results(state: BuildState) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The written configs' quarantined items (in config order) and their image coverage
    per source, merged."""
    from pipeline.publish.images import ImageCoverage

    problems, coverage = [], ImageCoverage()
    for result in state.results[SHARDS_STAGE]:
        problems.extend(result["problems"])
        coverage.absorb(result["coverage"])
    return problems, coverage.to_dict()


def publish_scenes(state) -> None:
    """<out>/scenes/: copied under a hidden name, then renamed, so a killed build never
    leaves a partial scene file under its final name (on an object store, where a folder
    is moved file by file, each file is complete under its final name or absent)."""
    scenes_dir = state.out / "scenes"
    staging = state.out / ".scenes.tmp"
    staging.rmtree()
    staging.mkdir()
    for path in state.layout.stage_dir("scenes").iterdir():
        if path.name.endswith(".parquet") and not path.name.startswith("."):
            path.copy_to(staging / path.name)
    scenes_dir.rmtree()
    staging.replace(scenes_dir)


# Every step of a build, in order (tests/test_resume.py takes the stage names from here).
STAGES: tuple[Stage, ...] = (
    Stage("split", run_split, on_driver=True, maps_tasks=True),
    Stage("scenes", scene_stage, args=lambda state: (state.side,)),
    Stage(STATS_STAGE, stats_stage),
    Stage(MERGE_STATS_STAGE, merge_stats, on_driver=True),
    Stage("mcq", mcq_stage, args=item_stage_args),
    Stage(UNITS_STAGE, units_stage),
    Stage(PLAN_STAGE, balance_plan, on_driver=True),
    Stage(BALANCED_STAGE, balance_stage),
    Stage(RELEASE_UNITS_STAGE, release_units_stage, args=options_arg),
    Stage(RELEASE_PLAN_STAGE, release_plan, on_driver=True),
    Stage(RELEASE_STAGE, release_stage, args=options_arg),
    Stage("conv", conv_stage, args=item_stage_args),
    Stage(CONV_UNITS_STAGE, conv_units_stage, args=options_arg),
    Stage(CONV_PLAN_STAGE, conv_release_plan, on_driver=True),
    Stage(CONV_RELEASE_STAGE, conv_release_stage, args=options_arg),
    Stage(SHARDS_STAGE, write_shards, on_driver=True, maps_tasks=True),
    Stage("publish", publish, on_driver=True),
)
