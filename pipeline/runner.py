"""Runs a build's stages, declared once as `Stage`s (build.STAGES): driver steps in this
process, partition stages on Dask (the synchronous scheduler for one worker, a local
`distributed` cluster for several, or an existing cluster by address). The runner writes
each partition's completion marker; results are read back in partition order, so what is
written never depends on where or when a partition ran."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
from dask.utils import funcname
from fsspec.implementations.memory import MemoryFileSystem

from pipeline.config import BuildOptions, content_options
from pipeline.errors import InputError
from pipeline.gc_tuning import fewer_collections, set_worker_thresholds
from pipeline.ingest.inputs import Inputs, plan_inputs
from pipeline.ingest.split import (
    FIRST_KIND,
    later_kinds,
    split_kind_task,
    write_categories,
)
from pipeline.ledger import Ledger
from pipeline.memory_release import release_memory, system_allocator, use_system_allocator
from pipeline.parquet_io import kill_point, read_json_file, write_json, write_jsonl
from pipeline.progress import Progress
from pipeline.registry import registry
from pipeline.stages import SideFiles, WorkLayout, load_result
from pipeline.storage import FsPath, location
from pipeline.tables import tables_digest, tables_env_pinned

# Partitions come from the input size, never from the worker count. A worker holds one
# partition's records and items at a time: 8 MiB of input is about 700 images and keeps a
# worker under ~1 GB (docs/performance.md).
BYTES_PER_PARTITION = 8 * 1024 * 1024
MIN_PARTITIONS, MAX_PARTITIONS = 4, 1024


def choose_partitions(inputs: Inputs, requested: int) -> int:
    if requested > 0:
        return requested
    total = sum(f.path.stat().st_size for f in inputs.files)
    return max(MIN_PARTITIONS, min(MAX_PARTITIONS, math.ceil(total / BYTES_PER_PARTITION)))


# A partition stage's function: fn(layout, part, *args) -> its result, a JSON-able dict.
PartitionFn = Callable[..., dict[str, Any]]


def run_partition_task(
    stage: str, fn: PartitionFn, layout: WorkLayout, part: int, args: tuple
) -> dict[str, Any]:
    """One partition, on a worker: the stage's work, then its completion marker."""
    with tables_env_pinned():
        result = fn(layout, part, *args)
    # Freed blocks handed back: they no longer add to what the next task (often another
    # stage's) peaks at in this process.
    release_memory()
    write_json(layout.marker(stage, part), result)
    kill_point(stage)  # test hook (parquet_io): after the marker, so the partition is done
    return result


@dataclass
class StageRunner:
    """Maps a partition stage over partitions with the chosen Dask scheduler."""

    client: Any = None  # distributed.Client, or None for the synchronous scheduler

    def map(
        self, stage: str, fn: PartitionFn, layout: WorkLayout, parts: list[int], args: tuple
    ) -> list[dict]:
        calls = [(stage, fn, layout, part, args) for part in parts]
        return self.call(run_partition_task, calls, [task_key(fn, part) for part in parts])

    def call(
        self, fn: Callable[..., Any], calls: list[tuple], keys: list[str] | None = None
    ) -> list[Any]:
        """fn(*args) for every args in `calls`, as tasks (named `keys`, else after `fn`),
        started in call order (a caller puts its largest first); their results in call
        order."""
        if not calls:
            return []
        keys = keys or [task_key(fn, i) for i in range(len(calls))]
        tasks = [
            dask.delayed(fn, pure=False)(*args, dask_key_name=key)
            for args, key in zip(calls, keys, strict=True)
        ]
        # One task at a time, or one priority each: in one graph, Dask orders them itself.
        if self.client is None:
            return [dask.compute(task, scheduler="synchronous")[0] for task in tasks]
        futures = [self.client.compute(t, priority=len(tasks) - i) for i, t in enumerate(tasks)]
        return list(self.client.gather(futures))

    def map_resumable(
        self, stage: str, fn: PartitionFn, layout: WorkLayout, count: int, args: tuple
    ) -> list[dict]:
        """`fn` for tasks 0..count-1 that have no completion marker yet; every task's
        result, in task order (finished ones read back, not redone)."""
        todo = [task for task in range(count) if load_result(layout, stage, task) is None]
        self.map(stage, fn, layout, todo, args)
        return [load_result(layout, stage, task) for task in range(count)]


def task_key(fn: PartitionFn, part: int) -> str:
    """Named after the stage function, as Dask would name a call of it: its task prefix
    (dashboard, scheduler) says which stage ran, not the wrapper that writes markers."""
    return f"{funcname(fn)}-{part}-{uuid.uuid4().hex}"


def prepare_worker() -> None:
    """Run on each Dask worker (`Client.run`) before its first task."""
    set_worker_thresholds()
    use_system_allocator()


@contextmanager
def stage_runner(options: BuildOptions) -> Iterator[StageRunner]:
    with fewer_collections():  # this process runs the synchronous stages and the plan
        with _dask_runner(options) as runner:
            yield runner


# The local cluster's housekeeping, polled less often. On a machine with as many cores as
# workers, the scheduler and nannies (in this process) and each worker's event loop take
# their CPU from the tasks: at the defaults (an event-loop tick every 20 ms, system metrics
# every 500 ms, memory every 100 ms) this process spent about 7 s of CPU on a 10K-image
# build; about 4 s with these. Each worker also sampled its task's stack every 10 ms for
# the dashboard's profile page (the build starts no dashboard): 8-10% of the workers' CPU.
# Spawned workers get this config from their nanny.
LOCAL_CLUSTER_CONFIG = {
    "distributed.admin.tick.interval": "1s",  # only times warnings about a blocked loop
    "distributed.admin.system-monitor.interval": "5s",  # metrics for a dashboard (none)
    "distributed.worker.memory.monitor-interval": "1s",  # limits stay enforced, less often
    "distributed.worker.profile.enabled": False,  # the statistical profiler of tasks
}


@contextmanager
def _dask_runner(options: BuildOptions) -> Iterator[StageRunner]:
    if options.scheduler:
        from distributed import Client

        with Client(options.scheduler) as client:
            # Not restored: the cluster's workers stay up, and run the stages' kind of work.
            client.run(prepare_worker)
            yield StageRunner(client)
    elif options.workers > 1:
        from distributed import Client, LocalCluster

        with (
            dask.config.set(LOCAL_CLUSTER_CONFIG),
            LocalCluster(
                n_workers=options.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(prepare_worker)
            yield StageRunner(client)
    else:
        yield StageRunner(None)


@dataclass
class BuildState:
    options: BuildOptions
    out: FsPath  # options.out on its filesystem
    inputs: Inputs
    layout: WorkLayout
    num_partitions: int
    side: SideFiles
    ledger: Ledger = field(default_factory=Ledger)
    results: dict[str, Any] = field(default_factory=dict)  # by stage name, as stages finish
    # While Dask is up: a driver step between partition stages may map tasks of its own.
    runner: StageRunner | None = None


def no_args(state: BuildState) -> tuple:
    return ()


@dataclass(frozen=True)
class Stage:
    """One step of a build; build.STAGES lists every step, in order.

    A partition stage runs `fn(layout, part, *args(state))` on the workers for every
    partition without a completion marker, and the runner writes the marker (the dict `fn`
    returns). A driver step (`on_driver=True`) runs `fn(state, progress)` once, in this
    process. Either way the result is kept in `state.results[name]`."""

    name: str
    fn: Callable[..., Any]
    args: Callable[[BuildState], tuple] = no_args
    on_driver: bool = False
    maps_tasks: bool = False  # a driver step that runs tasks of its own: Dask must be up


def side_files(inputs: Inputs) -> SideFiles:
    def path(name: str) -> str | None:
        found = inputs.side_file(name)
        return str(found) if found else None

    return SideFiles(
        path("object_alias.txt"), path("relationship_alias.txt"), path("object_synsets.json")
    )


def run_split(state: BuildState, progress: Progress) -> None:
    """Stream the inputs into partition buckets, once: a finished split leaves a marker.
    One task per kind of file, on the workers (the driver parses no record): image_data.json
    first (it says which scene each VG image joins), then the other kinds side by side;
    their ledgers are merged in file order, so counts and quarantine rows are what one pass
    over the files gives."""
    split_dir = state.layout.split
    marker = split_dir / "_SUCCESS.json"
    if marker.exists():
        done = read_json_file(marker)
        state.ledger.merge_result(done["ledger"], done["quarantine"])
        progress.log("[split] reusing the finished split")
        return
    split_dir.rmtree()
    split_dir.mkdir()
    runner = state.runner or StageRunner()  # run on its own (tests): in this process
    first = (split_dir, FIRST_KIND, state.inputs.of_kind(FIRST_KIND), state.num_partitions)
    results = {FIRST_KIND: runner.call(split_kind_task, [first])[0]}
    file_order = [FIRST_KIND, *later_kinds(state.inputs)]
    # The largest kind first (two workers: relationships on one, the rest on the other).
    kinds = sorted(file_order[1:], key=lambda k: -state.inputs.bytes_of(k))
    calls = [(split_dir, k, state.inputs.of_kind(k), state.num_partitions) for k in kinds]
    results |= dict(zip(kinds, runner.call(split_kind_task, calls), strict=True))
    ledger, categories = Ledger(), []
    for kind in progress.track(file_order, "split", len(file_order)):
        ledger.merge_result(results[kind]["ledger"], results[kind]["quarantine"])
        categories += results[kind]["categories"]
    write_categories(split_dir, categories)
    write_json(marker, {"ledger": ledger.to_dict(), "quarantine": ledger.quarantine_rows})
    state.ledger.merge(ledger)


def run_stages(state: BuildState, stages: Sequence[Stage], progress: Progress) -> None:
    """Every stage in order. Dask is up from the first stage that runs tasks (the split) to
    the last partition stage only: the driver steps after it (publishing) have the machine
    to themselves. Arrow allocates with malloc in this process throughout (memory_release)."""
    first, end = dask_span(stages)
    with system_allocator():
        for stage in stages[:first]:
            run_stage(state, None, progress, stage)
        with stage_runner(state.options) as runner:
            state.runner = runner
            try:
                for stage in stages[first:end]:
                    run_stage(state, runner, progress, stage)
            finally:
                state.runner = None
        for stage in stages[end:]:
            run_stage(state, None, progress, stage)
            release_memory()


def dask_span(stages: Sequence[Stage]) -> tuple[int, int]:
    """[first, end) of the stages from the first partition stage to the last."""
    on_dask = [i for i, stage in enumerate(stages) if not stage.on_driver or stage.maps_tasks]
    return (on_dask[0], on_dask[-1] + 1) if on_dask else (len(stages), len(stages))


def run_stage(
    state: BuildState, runner: StageRunner | None, progress: Progress, stage: Stage
) -> None:
    if stage.on_driver:
        state.results[stage.name] = stage.fn(state, progress)
    else:
        assert runner is not None, f"partition stage {stage.name} outside the Dask span"
        state.results[stage.name] = run_partition_stage(state, runner, progress, stage)


def run_partition_stage(
    state: BuildState, runner: StageRunner, progress: Progress, stage: Stage
) -> list[dict]:
    """Run the stage for every partition without a marker; return all results in
    partition order (finished ones are read back, not redone)."""
    name, parts = stage.name, range(state.num_partitions)
    todo = [p for p in parts if load_result(state.layout, name, p) is None]
    if len(todo) < state.num_partitions:
        progress.log(f"[{name}] {state.num_partitions - len(todo)} partitions already done")
    finished = runner.map(name, stage.fn, state.layout, todo, stage.args(state))
    for _ in progress.track(finished, name, total=len(todo)):
        pass
    results = [load_result(state.layout, name, p) for p in parts]
    for result in results:
        if "ledger" in result:
            state.ledger.merge_result(result["ledger"], result["quarantine"])
    return results


def write_quarantine(out: FsPath, ledger: Ledger) -> list[FsPath]:
    """<out>/quarantine/<input file>.jsonl, rows in input order of discovery."""
    folder = out / "quarantine"
    folder.rmtree()
    by_file: dict[str, list[dict]] = {}
    for row in ledger.quarantine_rows:
        by_file.setdefault(row["file"], []).append(row)
    written = []
    for label, rows in sorted(by_file.items()):
        path = folder / f"{label}.jsonl"
        write_jsonl(path, rows)
        written.append(path)
        kill_point("quarantine")
    return written


# Hidden temp names of parquet_io, publish/shards and publish/card: ".<name>.tmp-<pid>".
_TEMP_NAME = re.compile(r"^\..+\.tmp-\d+$")
OUTPUT_FOLDERS = (".", "quarantine", "scenes", "data/mcq", "data/conv")


def remove_stale_temp_files(out: FsPath) -> None:
    """A killed run leaves its temp files (named after its pid) beside the final names; no
    later run would reuse or replace them, so they go before this run writes anything.
    Only the folders the build writes are looked at, never the whole tree."""
    for folder in OUTPUT_FOLDERS:
        for path in (out if folder == "." else out / folder).iterdir():
            if _TEMP_NAME.match(path.name) and path.is_file():
                path.unlink()


def output_root(options: BuildOptions) -> FsPath:
    """--out on its filesystem. The memory filesystem lives inside one process, so Dask
    worker processes could not see what the others wrote: refused with more than one."""
    out = location(options.out)
    if isinstance(out.fs, MemoryFileSystem) and (options.workers > 1 or options.scheduler):
        raise InputError(options.out, "memory:// is private to one process; use --workers 1")
    return out


def prepare(options: BuildOptions) -> BuildState:
    """Plan the run; work left by an interrupted run is reused only if it was made by the
    same inputs (path, size, mtime) and the same content options."""
    out = output_root(options)
    inputs = plan_inputs(options.coco_instances, options.coco_captions, options.vg_dir)
    layout = WorkLayout(out / "_work")
    num_partitions = choose_partitions(inputs, options.partitions)
    registry()  # checked before any work: a bad table is one error, never one mid-build
    signature = {
        "options": content_options(options),
        "tables": tables_digest(),  # work made under other rules is not reused
        "partitions": num_partitions,
        "inputs": [
            [str(f.path), f.path.stat().st_size, f.path.stat().st_mtime_ns]
            for f in (*inputs.files,)
        ],
    }
    if options.exclude_items is not None:  # its content decides what the mcq stage keeps
        from pipeline.review.exclusions import read_exclusions

        signature["exclude_items"] = sorted(read_exclusions(Path(options.exclude_items)))
    remove_stale_temp_files(out)
    run_file = layout.root / "run.json"
    if run_file.exists() and read_json_file(run_file) != signature:
        layout.root.rmtree()
    layout.root.mkdir()
    write_json(run_file, signature)
    return BuildState(options, out, inputs, layout, num_partitions, side_files(inputs))
