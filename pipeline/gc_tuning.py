"""Fewer garbage collections while stages run. A stage builds hundreds of thousands of
long-lived dicts and lists; with CPython's default thresholds (700, 10, 10) the collector
rescans them again and again, about a quarter of a build's CPU time (docs/performance.md).
The pipeline makes few reference cycles, so collecting less often costs little memory."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

STAGE_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """In this process, for the duration (restored after: a caller's process is theirs)."""
    before = gc.get_threshold()
    gc.set_threshold(*STAGE_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def set_worker_thresholds() -> tuple[int, ...]:
    """Run on each Dask worker (`Client.run`): its process exists for the build's stages."""
    gc.set_threshold(*STAGE_THRESHOLDS)
    return gc.get_threshold()
