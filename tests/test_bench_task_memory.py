"""benchmarks/task_memory.py: each task's own peak, measured around the task."""

from __future__ import annotations

import sys

import pytest

import pipeline.runner as runner
from benchmarks.task_memory import TaskMemory

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="procfs")


def hold_mb(mb: int) -> int:
    block = bytearray(mb * 2**20)  # zero-filled: every page touched
    return len(block)


def small(_: int) -> int:
    return 0


def test_a_task_that_holds_memory_shows_its_rise_and_the_next_one_does_not(monkeypatch):
    monkeypatch.setattr(runner.StageRunner, "call", runner.StageRunner.call)  # restored after
    probe = TaskMemory()
    probe.install()
    stage_runner = runner.StageRunner(None)
    assert stage_runner.call(hold_mb, [(120,)]) == [120 * 2**20]
    assert stage_runner.call(small, [(1,), (2,)]) == [0, 0]
    held, light = probe.stages["hold_mb"], probe.stages["small"]
    assert held["tasks"] == 1 and light["tasks"] == 2
    assert held["rise_mb"] >= 110  # its own peak, though the block is freed when it ends
    assert light["rise_mb"] < 20  # the high-water mark was reset: not the earlier peak
    assert held["peak_mb"] >= held["rise_mb"] and light["peak_mb"] < held["peak_mb"]
