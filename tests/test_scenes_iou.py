"""`iou` spells out min and max and returns early; it must give the builtins' floats."""

from __future__ import annotations

import random

from pipeline.scenes import iou


def _reference_iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = min(ax2, bx2) - max(a[0], b[0])
    h = min(ay2, by2) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_iou_equals_the_builtin_formula() -> None:
    rng = random.Random(21)
    boxes = [
        [round(rng.uniform(0, 600), 2), round(rng.uniform(0, 400), 2)]
        + [round(rng.uniform(0.01, 300), 2), round(rng.uniform(0.01, 300), 2)]
        for _ in range(300)
    ]
    boxes += [[float(rng.randint(0, 4)), float(rng.randint(0, 4)), 2.0, 2.0] for _ in range(60)]
    overlapping = 0
    for a in boxes:
        for b in boxes[::3]:
            value = iou(a, b)
            assert value.hex() == _reference_iou(a, b).hex()
            overlapping += value > 0
    assert overlapping > 1000  # both branches exercised
    assert iou([0, 0, 2, 2], [2, 0, 2, 2]) == 0.0  # touching edges do not overlap
    assert iou([1, 1, 2, 2], [1, 1, 2, 2]) == 1.0
