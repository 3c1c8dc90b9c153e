"""The benchmark's per-item figures count the build's own records: what its manifest says
was derived and published agrees with the Parquet files and the balance's drop counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.run import item_counts, per_item_costs


def published_rows(out: Path, config: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / "data" / config).glob("*.parquet"))


def test_item_counts_reconcile_with_the_published_files_and_the_drops(
    small, build: Callable[..., Path]
) -> None:
    out = build(small, tuning_fraction=0.5)
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    made, published = item_counts(counts)
    mcq_rows, conv_rows = published_rows(out, "mcq"), published_rows(out, "conv")
    assert mcq_rows > 0 and conv_rows > 0  # both halves of the sum are exercised
    assert published == mcq_rows + conv_rows
    dropped = sum(counts["mcq"]["balance"]["dropped"].values())  # by "aspect/form"
    assert dropped > 0  # the balance dropped some: made and published differ
    assert made == published + dropped


def test_a_manifest_without_the_counts_gives_no_per_item_figures() -> None:
    assert item_counts({"scenes": 3}) == (None, None)
    run = {"wall_s": 2.0, "cpu_s": 3.0, "scenes": 4, "items_made": None, "items_published": None}
    assert per_item_costs(run) == {}


def test_per_item_costs_divide_the_build_time_by_the_records() -> None:
    run = {"wall_s": 2.0, "cpu_s": 3.0, "scenes": 4, "items_made": 400, "items_published": 100}
    assert per_item_costs(run) == {
        "us_per_item_made": 5000.0,
        "cpu_us_per_item_made": 7500.0,
        "us_per_item_published": 20000.0,
        "cpu_us_per_item_published": 30000.0,
        "items_made_per_image": 100.0,
    }
