"""Measure `msg build` against the parse floor, at several input sizes and worker counts.

    python -m benchmarks.run --sizes 1000 10000 [--workers 1 2] [--json results/NAME.json]

For each size it generates (or reuses) inputs with benchmarks.generate, then measures in
this one run:
  * parse floor: the faster of a plain orjson load and an ijson stream of the same input
    files, doing nothing else (the least any reader of these bytes must spend);
  * end-to-end `msg build --quiet` as a subprocess, once per worker count: wall time,
    CPU time, peak resident memory of the whole process tree (psutil, polled, children
    and Dask worker processes included) and the largest single process (wait4 rusage);
  * the ratios the targets are stated in: build / floor, per-image cost, 1 vs N workers.
It prints a table and writes JSON. Targets (issue 8): build <= 3x floor, peak <= 2 GB at
100K images, per-image cost flat within 25% from 1K to 100K, 2 workers >= 1.6x faster.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ijson
import orjson
import psutil

from benchmarks.generate import GENERATOR_VERSION, Generated, generate, sample_folder

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO / "benchmarks" / "data"
POLL_SECONDS = 0.1
# Issue 21's targets (issue 8's were 3x the floor and a 1.6x speed-up).
TARGETS = {
    "build_over_floor_max_1_worker_at_100k": 20.0,
    "peak_tree_rss_mb_2_workers_at_100k_max": 2048,
    "driver_peak_spread_10k_to_100k_max": 1.25,
    "speedup_2_workers_at_100k_min": 1.8,
}


@dataclass
class Floor:
    bytes: int
    orjson_s: float
    ijson_s: float
    orjson_cpu_s: float = 0.0  # this process's CPU time: steadier on a shared machine
    ijson_cpu_s: float = 0.0

    @property
    def seconds(self) -> float:
        return min(self.orjson_s, self.ijson_s)


@dataclass
class BuildRun:
    images: int
    workers: int
    wall_s: float
    cpu_s: float  # user + system of the whole tree (waited-for children)
    peak_tree_rss_mb: float  # polled sum over the process tree
    peak_single_rss_mb: float  # the largest single process (kernel high-water mark)
    peak_driver_rss_mb: float  # the build process itself (polled)
    exit_code: int
    reconciled: bool | None
    scenes: int | None
    # The build's own work, from its manifest: the records it derived (every mcq
    # candidate the balance saw, every conversation) and those it published.
    items_made: int | None = None
    items_published: int | None = None
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# -- inputs ---------------------------------------------------------------------------
def ensure_inputs(images: int, seed: int, data_dir: Path) -> tuple[Generated, float | None]:
    """Reuse generated inputs when they match (images, seed, generator version)."""
    out = data_dir / f"n{images}-s{seed}"
    info_path = out / "generated.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("generator_version") == GENERATOR_VERSION and info.get("images") == images:
            coco = out / "coco" / "annotations"
            found = Generated(
                out, coco / "instances_bench.json", coco / "captions_bench.json", out / "vg", info
            )
            return found, None
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    result = generate(images, out, seed, sample_folder())
    return result, time.monotonic() - started


def generated_build_options(gen: Generated, out: Path, workers: int) -> Any:
    """The BuildOptions of a quiet in-process build of generated inputs (profile,
    task_memory); the runner's own builds pass the same files as `msg build` flags."""
    from pipeline.config import BuildOptions  # the runner itself builds in subprocesses

    return BuildOptions(
        coco_instances=[gen.coco_instances],
        coco_captions=[gen.coco_captions],
        vg_dir=gen.vg_dir,
        out=out,
        workers=workers,
        quiet=True,
    )


def input_files(gen: Generated) -> list[Path]:
    names = ("image_data.json", "objects.json", "attributes.json", "relationships.json")
    return [gen.coco_instances, gen.coco_captions, *(gen.vg_dir / n for n in names)]


# -- parse floor ------------------------------------------------------------------------
def parse_floor(files: list[Path]) -> Floor:
    for path in files:  # read once so both readers start from the page cache
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
    # GC off while loading: a plain load allocates millions of objects and CPython's cyclic
    # collector would otherwise rescan them over and over (3-5x the parse time), which is
    # the collector's cost, not the parse's.
    gc.collect()
    gc.disable()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for path in files:
            value = orjson.loads(path.read_bytes())
            del value
        orjson_s, orjson_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        gc.enable()
    started, cpu = time.perf_counter(), time.process_time()
    for path in files:
        with open(path, "rb") as handle:
            for _ in ijson.basic_parse(handle, use_float=True):
                pass
    ijson_s, ijson_cpu = time.perf_counter() - started, time.process_time() - cpu
    size = sum(p.stat().st_size for p in files)
    return Floor(size, orjson_s, ijson_s, orjson_cpu, ijson_cpu)


def parse_floor_apart(files: list[Path]) -> Floor:
    """parse_floor in a fresh (spawned) process. The plain load holds the whole input in
    memory, and Linux carries a process's RSS high-water mark into the children it starts:
    measured here, every later build's "largest single process" would read as the floor's."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(parse_floor, files).result()


# -- one build --------------------------------------------------------------------------
class TreeSampler(threading.Thread):
    """Polls the summed RSS of a process and all its descendants (Dask nannies and
    workers included) until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak = 0
        self.driver_peak = 0  # the build process alone (issue 21: flat in the input size)
        self.stop = threading.Event()

    def tree_rss(self) -> int:
        total = 0
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:  # exited between listing and reading
                continue
            total += rss
            if proc.pid == self.root.pid:
                self.driver_peak = max(self.driver_peak, rss)
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.tree_rss())
            self.stop.wait(POLL_SECONDS)


def msg_command() -> list[str]:
    script = Path(sys.executable).parent / "msg"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def run_build(gen: Generated, images: int, workers: int, extra_args: list[str]) -> BuildRun:
    out_root = Path(tempfile.mkdtemp(prefix="msg-bench-"))
    out = out_root / "out"
    cmd = [*msg_command(), "build", "--quiet", *gen.build_args(), "--out", str(out)]
    cmd += ["--workers", str(workers), *extra_args]
    stderr_path = out_root / "stderr.txt"
    try:
        with open(stderr_path, "wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, cwd=out_root)
            sampler = TreeSampler(proc.pid)
            sampler.start()
            # wait4 gives this child's own rusage (CPU, max RSS), not every child's so far.
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            sampler.stop.set()
            sampler.join()
        reconciled = scenes = None
        made = published = None
        manifest_path = out / "manifest.json"
        if proc.returncode == 0 and manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            reconciled = manifest.get("reconciled")
            scenes = manifest.get("counts", {}).get("scenes")
            made, published = item_counts(manifest.get("counts", {}))
        return BuildRun(
            images=images,
            workers=workers,
            wall_s=round(wall, 3),
            cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
            peak_tree_rss_mb=round(sampler.peak / 2**20, 1),
            peak_single_rss_mb=round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
            peak_driver_rss_mb=round(sampler.driver_peak / 2**20, 1),
            exit_code=proc.returncode,
            reconciled=reconciled,
            scenes=scenes,
            items_made=made,
            items_published=published,
            stderr_tail=stderr_path.read_text(errors="replace")[-2000:] if proc.returncode else "",
        )
    finally:
        shutil.rmtree(out_root, ignore_errors=True)


def item_counts(counts: dict[str, Any]) -> tuple[int | None, int | None]:
    """(records derived, records published) from a manifest's counts: the mcq candidates
    before balancing plus the conversations, and the balanced mcq items plus the
    conversations (conversations are not balanced). None where the manifest lacks them."""
    mcq, conv = counts.get("mcq", {}), counts.get("conv", {})
    before = mcq.get("balance", {}).get("before", {}).get("items")
    if before is None or "total" not in mcq or "total" not in conv:
        return None, None
    return sum(before.values()) + conv["total"], mcq["total"] + conv["total"]


def per_item_costs(run: dict[str, Any]) -> dict[str, float]:
    """Microseconds of wall and CPU time per record derived and per record published: the
    cost in the build's own work, which a target per item can be stated in (the parse
    floor measures reading the input only)."""
    costs: dict[str, float] = {}
    for name, count in (("made", run.get("items_made")), ("published", run.get("items_published"))):
        if count:
            costs[f"us_per_item_{name}"] = round(1e6 * run["wall_s"] / count, 1)
            costs[f"cpu_us_per_item_{name}"] = round(1e6 * run["cpu_s"] / count, 1)
    if run.get("items_made") and run.get("scenes"):
        costs["items_made_per_image"] = round(run["items_made"] / run["scenes"], 1)
    return costs


# -- report -----------------------------------------------------------------------------
def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Compare the measured figures with the targets (ratios only from this one run)."""
    built = [r for r in results if r["builds"]]
    summary: dict[str, Any] = {"targets": TARGETS}
    if not built:
        return summary
    ratios = [b["build_over_floor"] for r in built for b in r["builds"]]
    summary["build_over_floor_max"] = max(ratios)
    for workers in sorted({b["workers"] for r in built for b in r["builds"]}):
        for metric in ("ms_per_image", "cpu_ms_per_image"):
            costs = [b[metric] for r in built for b in r["builds"] if b["workers"] == workers]
            if len(costs) > 1:  # largest over smallest per-image cost across sizes
                summary[f"{metric}_spread_w{workers}"] = round(max(costs) / min(costs), 3)
        summary |= marginal_costs(built, workers)
        drivers = [  # result files from before issue 21 lack the figure
            b["peak_driver_rss_mb"]
            for r in built
            for b in r["builds"]
            if b["workers"] == workers and "peak_driver_rss_mb" in b
        ]
        if len(drivers) > 1 and min(drivers) > 0:  # issue 21: flat in the number of images
            summary[f"driver_peak_spread_w{workers}"] = round(max(drivers) / min(drivers), 3)
    summary["target_checks"] = target_checks(built)
    speedups = [b["speedup"] for r in built for b in r["builds"] if b.get("speedup")]
    if speedups:
        summary["speedup_at_largest"] = built[-1]["builds"][-1].get("speedup")
    largest = built[-1]
    peak = max(b["peak_tree_rss_mb"] for b in largest["builds"])
    summary["largest_images"] = largest["images"]
    summary["peak_tree_rss_mb_at_largest"] = peak
    if len(built) > 1 and largest["images"] < 100_000:
        # Linear in images through the two largest sizes: labelled as an extrapolation.
        small = built[-2]
        p0 = max(b["peak_tree_rss_mb"] for b in small["builds"])
        slope = (peak - p0) / (largest["images"] - small["images"])
        summary["peak_tree_rss_mb_at_100k_extrapolated"] = round(
            peak + slope * (100_000 - largest["images"]), 1
        )
    return summary


def target_checks(built: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each of issue 21's targets that this run's sizes and worker counts can measure:
    the measured value, the limit and whether it is met (a target the run cannot measure,
    e.g. without a 100K build, is left out rather than guessed)."""
    at = {(r["images"], b["workers"]): b for r in built for b in r["builds"]}
    checks: dict[str, dict[str, Any]] = {}

    def check(name: str, measured: float, *, at_most: bool) -> None:
        limit = TARGETS[name]
        met = measured <= limit if at_most else measured >= limit
        checks[name] = {"measured": round(measured, 3), "limit": limit, "met": met}

    if (one := at.get((100_000, 1))) is not None:
        check("build_over_floor_max_1_worker_at_100k", one["build_over_floor"], at_most=True)
    if (two := at.get((100_000, 2))) is not None:
        check("peak_tree_rss_mb_2_workers_at_100k_max", two["peak_tree_rss_mb"], at_most=True)
        if two.get("speedup"):
            check("speedup_2_workers_at_100k_min", two["speedup"], at_most=False)
    spreads = []
    for workers in sorted({w for _, w in at}):
        drivers = [
            b["peak_driver_rss_mb"]
            for (images, w), b in at.items()
            if w == workers and images >= 10_000 and b.get("peak_driver_rss_mb")
        ]
        if len(drivers) > 1 and 100_000 in {i for i, w in at if w == workers}:
            spreads.append(max(drivers) / min(drivers))
    if spreads:  # the worst worker count: flat must hold for each
        check("driver_peak_spread_10k_to_100k_max", max(spreads), at_most=True)
    return checks


def marginal_costs(built: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    """Per-image cost with the fixed part taken out: between two sizes, the extra seconds
    over the extra images. Interpreter start, imports, WordNet and spaCy loading and the
    fixed number of stages cost the same at any size, so they weigh on small builds only;
    flat marginal costs say the build itself scales linearly. The fixed part is what the
    smallest build spent beyond its images at the first marginal rate."""
    runs = sorted(
        (r["images"], b["wall_s"]) for r in built for b in r["builds"] if b["workers"] == workers
    )
    if len(runs) < 2:
        return {}
    steps = [
        {"from": n0, "to": n1, "ms_per_image": round(1000 * (t1 - t0) / (n1 - n0), 2)}
        for (n0, t0), (n1, t1) in itertools.pairwise(runs)
    ]
    n0, t0 = runs[0]
    out: dict[str, Any] = {
        f"marginal_ms_per_image_w{workers}": steps,
        f"fixed_s_w{workers}": round(t0 - steps[0]["ms_per_image"] * n0 / 1000, 2),
    }
    costs = [s["ms_per_image"] for s in steps]
    if len(costs) > 1 and min(costs) > 0:
        out[f"marginal_spread_w{workers}"] = round(max(costs) / min(costs), 3)
    return out


def print_table(results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    head = (
        f"{'images':>8} {'MB in':>7} {'floor s':>8} {'orjson s':>8} {'ijson s':>8} "
        f"{'workers':>7} {'build s':>8} {'x floor':>8} {'ms/img':>7} {'peak MB':>8} "
        f"{'max1 MB':>8} {'driver':>7} {'speedup':>7} ok"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        floor = r["floor"]
        lead = (
            f"{r['images']:>8} {floor['bytes'] / 1e6:>7.1f} {floor['seconds']:>8.2f} "
            f"{floor['orjson_s']:>8.2f} {floor['ijson_s']:>8.2f}"
        )
        if not r["builds"]:
            print(f"{lead} {'(parse floor only)':>7}")
        for b in r["builds"]:
            ok = "yes" if b["exit_code"] == 0 and b["reconciled"] else f"NO ({b['exit_code']})"
            speedup = f"{b['speedup']:.2f}" if b.get("speedup") else "-"
            print(
                f"{lead} {b['workers']:>7} {b['wall_s']:>8.1f} {b['build_over_floor']:>8.1f} "
                f"{b['ms_per_image']:>7.1f} {b['peak_tree_rss_mb']:>8.0f} "
                f"{b['peak_single_rss_mb']:>8.0f} {b.get('peak_driver_rss_mb', 0):>7.0f} "
                f"{speedup:>7} {ok}"
            )
            if "us_per_item_made" in b:
                print(
                    f"{'':>8} per item: {b['items_made']:,} made ({b['items_made_per_image']}"
                    f" per image), {b['us_per_item_made']} us each (CPU "
                    f"{b['cpu_us_per_item_made']}); {b['items_published']:,} published, "
                    f"{b['us_per_item_published']} us each"
                )
            lead = " " * len(lead)
    print()
    for key, value in summary.items():
        if key not in ("targets", "target_checks"):
            print(f"{key}: {value}")
    for name, check in summary.get("target_checks", {}).items():
        verdict = "met" if check["met"] else "NOT met"
        print(f"target {name}: {check['measured']} (limit {check['limit']}): {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="image counts")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="generated inputs")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--floor-only", action="store_true", help="generate and measure the parse floor only"
    )
    ap.add_argument("--build-arg", action="append", default=[], help="extra `msg build` argument")
    args = ap.parse_args(argv)

    results: list[dict[str, Any]] = []
    for images in args.sizes:
        gen, gen_seconds = ensure_inputs(images, args.seed, args.data_dir)
        floor = parse_floor_apart(input_files(gen))
        print(
            f"[bench] {images} images: {floor.bytes / 1e6:.1f} MB, floor {floor.seconds:.2f}s"
            + (f" (generated in {gen_seconds:.1f}s)" if gen_seconds else ""),
            file=sys.stderr,
            flush=True,
        )
        builds: list[dict[str, Any]] = []
        for workers in [] if args.floor_only else args.workers:
            run = asdict(run_build(gen, images, workers, args.build_arg))
            run["build_over_floor"] = round(run["wall_s"] / floor.seconds, 2)
            run["ms_per_image"] = round(1000 * run["wall_s"] / images, 2)
            # CPU time is steadier than wall time on a shared machine: reported beside it.
            run["cpu_ms_per_image"] = round(1000 * run["cpu_s"] / images, 2)
            floor_cpu = min(floor.orjson_cpu_s, floor.ijson_cpu_s)
            run["cpu_over_floor_cpu"] = round(run["cpu_s"] / floor_cpu, 2) if floor_cpu else None
            run |= per_item_costs(run)
            if builds and builds[0]["workers"] == 1:
                run["speedup"] = round(builds[0]["wall_s"] / run["wall_s"], 3)
            builds.append(run)
            print(
                f"[bench]   workers {workers}: {run['wall_s']:.1f}s, "
                f"peak {run['peak_tree_rss_mb']:.0f} MB, exit {run['exit_code']}",
                file=sys.stderr,
                flush=True,
            )
        results.append(
            {
                "images": images,
                "generated": gen.info,
                "floor": {**asdict(floor), "seconds": round(floor.seconds, 3)},
                "builds": builds,
            }
        )
    summary = summarize(results)
    print_table(results, summary)
    if args.json:
        report = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {
                "cpus": os.cpu_count(),
                "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                "python": platform.python_version(),
                "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "results": results,
            "summary": summary,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    failed = [b for r in results for b in r["builds"] if b["exit_code"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
