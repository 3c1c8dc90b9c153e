"""The benchmark runner end to end on a tiny input: it generates, measures the floor in a
process of its own, builds, and reports figures that agree with each other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IMAGES = 40

pytestmark = pytest.mark.slow


def test_runner_reports_a_reconciled_build_and_consistent_ratios(
    sample_folder: Path, tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "benchmarks.run", "--sizes", str(IMAGES), "--workers", "1"]
    cmd += ["--data-dir", str(tmp_path / "data"), "--json", str(report_path)]
    env = {**os.environ, "MSG_SAMPLE_DATA": str(sample_folder)}
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started  # measured here, independently of the runner
    assert done.returncode == 0, done.stderr

    report = json.loads(report_path.read_text())
    (result,) = report["results"]
    floor, (build,) = result["floor"], result["builds"]
    assert result["generated"]["images"] == IMAGES
    assert floor["bytes"] == sum(result["generated"]["bytes"].values())
    # The times are real: inside the runner's own run, and a build (which derives and
    # validates ~70 records per image) is slower than just parsing its input.
    assert 0 < floor["seconds"] < build["wall_s"] < elapsed
    assert build["build_over_floor"] > 1
    assert build["exit_code"] == 0 and build["reconciled"] is True
    assert build["scenes"] == IMAGES
    assert build["ms_per_image"] * IMAGES / 1000 == pytest.approx(build["wall_s"], rel=0.01)
    # The per-item figures divide the same wall time by the build's own records.
    assert build["items_made"] > build["items_published"] > 0
    made_s = build["us_per_item_made"] * build["items_made"] / 1e6
    assert made_s == pytest.approx(build["wall_s"], rel=0.01)
    assert build["items_made_per_image"] == round(build["items_made"] / IMAGES, 1)
    assert "per item:" in done.stdout.splitlines()[3]
    # Both memory figures are the build's: a process that imports pyarrow and spaCy
    # holds well over 50 MB, and one polled sum cannot exceed the whole tree by much.
    assert 50 < build["peak_tree_rss_mb"] and 50 < build["peak_single_rss_mb"]
    assert 50 < build["peak_driver_rss_mb"] <= build["peak_tree_rss_mb"]
    assert report["summary"]["largest_images"] == IMAGES
    assert f"{IMAGES}" in done.stdout.splitlines()[2]  # the table's first row
