"""Rotation groups of MSG-MCQ read back from the shards: a `msg build --circular` gives each
mcq item its rotated copies under one `group_id`; exports that score CircularEval need to
know whether there are any (and `msg evaluate` groups exactly the same way)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline.parquet_io import parquet_file
from pipeline.publish.layout import CONFIGS, shard_files

CIRCULAR_FORM = "mcq"  # only multiple choice is rotated (msg evaluate's `circular`)


def group_sizes(out: Path) -> Counter[str]:
    """Rows per `group_id` of the mcq-form items (an item without a group is its own)."""
    sizes: Counter[str] = Counter()
    for path in shard_files(out, CONFIGS["mcq"]):
        for batch in parquet_file(path).iter_batches(columns=["id", "form", "group_id"]):
            ids, forms, groups = (batch.column(c).to_pylist() for c in ("id", "form", "group_id"))
            rows = zip(ids, forms, groups, strict=True)
            sizes.update(g or i for i, f, g in rows if f == CIRCULAR_FORM)
    return sizes


def has_rotations(out: Path) -> bool:
    """Whether the build has rotated copies (some group holds more than one item)."""
    return any(n > 1 for n in group_sizes(out).values())
