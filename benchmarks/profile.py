"""Where a build's time goes: per-stage wall time of an in-process `run_build`, optionally
under cProfile (py-spy is not available here).

    python -m benchmarks.profile --images 1000 [--workers 1] [--cprofile out.prof] [--top 30]

Stages are timed by wrapping the build's own stage calls from outside (the pipeline code is
not changed): every step of build.STAGES (split, each partition stage, the global balance
plan, `shards`: one task per config, `publish`: scenes, quarantine, manifest, card); the
rest (imports, cluster start) is reported as `other`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from benchmarks.run import DEFAULT_DATA, ensure_inputs, generated_build_options
from benchmarks.task_memory import resident_mb


class StageMemory(threading.Thread):
    """Peak RSS of this process and its children, per running stage, and each child
    process's own peak (polled)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stage = "other"
        self.peaks: dict[str, int] = {}
        self.driver_peaks: dict[str, int] = {}  # this process alone, per stage
        self.children: dict[int, tuple[str, int]] = {}  # pid -> (role, peak RSS)
        self.done = threading.Event()
        self.me = psutil.Process()

    def run(self) -> None:
        while not self.done.is_set():
            stage = self.stage  # once per poll: the build may move on meanwhile
            rss = self._rss(self.me)
            self.driver_peaks[stage] = max(self.driver_peaks.get(stage, 0), rss)
            for proc in self.me.children(recursive=True):
                child = self._rss(proc)
                role, peak = self.children.get(proc.pid) or (process_role(proc), 0)
                self.children[proc.pid] = (role, max(peak, child))
                rss += child
            self.peaks[stage] = max(self.peaks.get(stage, 0), rss)
            self.done.wait(0.1)

    @staticmethod
    def _rss(proc: psutil.Process) -> int:
        try:
            return proc.memory_info().rss
        except psutil.Error:
            return 0


def process_role(proc: psutil.Process) -> str:
    """What a child of the build is, from its command line (Dask's spawned workers run
    multiprocessing's spawn entry point)."""
    try:
        cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        return "gone"
    for marker, role in (("resource_tracker", "resource tracker"), ("spawn_main", "worker")):
        if marker in cmdline:
            return role
    return cmdline[:60] or "unknown"


def _wrap(
    module: Any,
    name: str,
    label: Callable[..., str],
    times: dict[str, float],
    memory: StageMemory,
) -> None:
    original = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        key = label(*args, **kwargs)
        outer, memory.stage = memory.stage, key
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[key] = times.get(key, 0.0) + time.perf_counter() - started
            memory.stage = outer

    setattr(module, name, timed)


def stage_times(
    options: Any, profile: cProfile.Profile | None
) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """Per stage: seconds, peak RSS MB of the tree and of the driver alone; and the peak MB
    of the driver alone and of each child process over the whole build."""
    import pipeline.build as build
    import pipeline.runner as runner
    from pipeline.progress import Progress

    times: dict[str, float] = {}
    memory = StageMemory()
    memory.start()
    # Every step of build.STAGES runs through run_stage(state, runner, progress, stage).
    _wrap(runner, "run_stage", lambda *a, **k: a[3].name, times, memory)
    started = time.perf_counter()
    if profile:
        profile.enable()
    build.run_build(options, Progress(quiet=True))
    if profile:
        profile.disable()
    total = time.perf_counter() - started
    memory.done.set()
    memory.join()
    times["other"] = total - sum(times.values())
    times["total"] = total
    peaks = {k: round(v / 2**20, 1) for k, v in memory.peaks.items()}
    drivers = {k: round(v / 2**20, 1) for k, v in memory.driver_peaks.items()}
    _, own_peak = resident_mb()  # the driver alone, without children
    processes = {"driver (own high-water mark)": round(own_peak, 1)}
    for pid, (role, peak) in sorted(memory.children.items()):
        processes[f"{role} {pid}"] = round(peak / 2**20, 1)
    return {k: round(v, 2) for k, v in times.items()}, peaks, drivers, processes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--cprofile", type=Path, help="profile the build and save the stats here")
    ap.add_argument("--top", type=int, default=30, help="functions listed from the profile")
    ap.add_argument("--json", type=Path, help="write the stage times here")
    args = ap.parse_args(argv)

    gen, _ = ensure_inputs(args.images, args.seed, args.data_dir)
    with tempfile.TemporaryDirectory(prefix="msg-profile-") as tmp:
        options = generated_build_options(gen, Path(tmp) / "out", args.workers)
        profile = cProfile.Profile() if args.cprofile else None
        times, peaks, drivers, processes = stage_times(options, profile)
    width = max(map(len, times))
    print(f"{'stage':<{width}} {'seconds':>9} {'share':>6} {'peak RSS MB':>12} {'driver MB':>10}")
    for stage, seconds in times.items():
        share = 100 * seconds / times["total"]
        peak = f"{peaks[stage]:>12.0f} {drivers[stage]:>10.0f}" if stage in peaks else ""
        print(f"{stage:<{width}} {seconds:>8.2f}s {share:>5.1f}% {peak}")
    print(f"\n{'process':<{width + 20}} {'peak RSS MB':>12}")
    for name, peak in processes.items():
        print(f"{name:<{width + 20}} {peak:>12.0f}")
    if profile and args.cprofile:
        profile.dump_stats(args.cprofile)
        stats = pstats.Stats(str(args.cprofile))
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "images": args.images,
            "workers": args.workers,
            "stage_seconds": times,
            "stage_peak_rss_mb": peaks,
            "stage_driver_peak_rss_mb": drivers,
            "process_peak_rss_mb": processes,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
