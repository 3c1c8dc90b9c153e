"""What each task of a 1-worker build adds to the process's memory: the build runs in this
process (synchronous scheduler), and around every task the kernel's high-water mark is
reset (`/proc/self/clear_refs`), so each task's peak is its own, not the build's so far.

    python -m benchmarks.task_memory --images 10000 [--json FILE]

Per stage: the highest peak of its tasks, the largest rise of one task over the memory the
process held when it started, the number of tasks and their seconds. A stage whose peak
grows with the input while its rise does not inherits memory from earlier stages; one whose
rise grows holds something per item itself. Linux only (procfs)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.run import DEFAULT_DATA, ensure_inputs, generated_build_options

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def resident_mb() -> tuple[float, float]:
    """This process's (current, high-water) resident memory, MB."""
    found = {}
    for line in STATUS.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def reset_high_water() -> None:
    CLEAR_REFS.write_text("5")  # 5: reset the peak resident size to the current one


class TaskMemory:
    """Wraps `StageRunner.call` so that its tasks run one by one, each measured."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}

    def install(self) -> None:
        import pipeline.runner as runner

        original = runner.StageRunner.call

        def call(
            runner_self: Any,
            fn: Callable[..., Any],
            calls: list[tuple],
            keys: list[str] | None = None,
        ) -> list[Any]:
            results = []
            for i, args in enumerate(calls):
                # A partition task's first argument is its stage; other tasks go by name.
                label = args[0] if fn is runner.run_partition_task else fn.__name__
                before, _ = resident_mb()
                reset_high_water()
                started = time.perf_counter()
                results += original(runner_self, fn, [args], None if keys is None else [keys[i]])
                self.add(label, before, resident_mb()[1], time.perf_counter() - started)
            return results

        runner.StageRunner.call = call

    def add(self, stage: str, before: float, peak: float, seconds: float) -> None:
        row = self.stages.setdefault(stage, {"peak_mb": 0.0, "rise_mb": 0.0, "tasks": 0, "s": 0.0})
        row["peak_mb"] = max(row["peak_mb"], round(peak, 1))
        row["rise_mb"] = max(row["rise_mb"], round(peak - before, 1))
        row["tasks"] += 1
        row["s"] = round(row["s"] + seconds, 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.task_memory", description=__doc__)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path, help="write the per-stage figures here")
    args = ap.parse_args(argv)

    from pipeline.build import run_build
    from pipeline.progress import Progress

    gen, _ = ensure_inputs(args.images, args.seed, args.data_dir)
    probe = TaskMemory()
    probe.install()
    with tempfile.TemporaryDirectory(prefix="msg-task-memory-") as tmp:
        run_build(generated_build_options(gen, Path(tmp) / "out", 1), Progress(quiet=True))
    _, whole = resident_mb()  # since the last reset: what the driver steps after it held
    print(f"{'stage':<22} {'peak MB':>8} {'rise MB':>8} {'tasks':>6} {'seconds':>8}")
    for stage, row in probe.stages.items():
        print(
            f"{stage:<22} {row['peak_mb']:>8.0f} {row['rise_mb']:>8.0f} "
            f"{row['tasks']:>6} {row['s']:>8.1f}"
        )
    print(f"{'after the last task':<22} {whole:>8.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"images": args.images, "stages": probe.stages, "after_last_task_mb": whole}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
