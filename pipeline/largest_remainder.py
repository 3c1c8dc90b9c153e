"""Whole quotas from fractional shares by the largest-remainder method, shared by the
MSG-MCQ and MSG-Conv fixed-size releases so both round the same way."""

from __future__ import annotations

from collections.abc import Callable, Hashable


def one_step(_cell: Hashable) -> int:
    return 1


def largest_remainder(
    ideal: dict,
    total: int,
    start: dict | None = None,
    step: Callable[[Hashable], int] = one_step,
) -> tuple[dict, int]:
    """Whole quotas from `start` (default: the ideal rounded down to steps) towards
    `total`, a step at a time to the cell furthest below its ideal (ties by cell name);
    returns them and what could not be placed (a remainder smaller than every cell's
    step, e.g. an odd one among cells that grow in pairs)."""
    quota = dict(start) if start else {c: int(v // step(c)) * step(c) for c, v in ideal.items()}
    left = total - sum(quota.values())
    while left > 0:
        fits = [c for c in ideal if ideal[c] > 0 and step(c) <= left]
        if not fits:
            break
        cell = min(fits, key=lambda c: (-(ideal[c] - quota[c]) / step(c), c))
        quota[cell] += step(cell)
        left -= step(cell)
    return quota, left
