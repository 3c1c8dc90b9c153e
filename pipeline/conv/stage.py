"""The MSG-Conv stage over one partition of scenes (tuning side only)."""

from __future__ import annotations

from typing import Any

from pipeline import arrow_schemas
from pipeline.config import BuildOptions
from pipeline.conv.samples import conv_samples
from pipeline.facts.stats_stage import load_stats
from pipeline.items_stage import run_items_stage
from pipeline.sides import TUNING


def conv_stage(layout, part: int, stats_path: str, options: BuildOptions) -> dict[str, Any]:
    return run_items_stage(
        layout,
        part,
        load_stats(stats_path),
        options,
        config="conv",
        side=TUNING,
        make_records=conv_samples,
        schema=arrow_schemas.CONV,
        count_by=lambda r: r["kind"],
    )
