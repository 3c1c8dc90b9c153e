"""Issue 21: `select_units` keeps each bound up to date from round to round (bucket counts
follow a log of drops, caps are recomputed for the groups that lost a unit, and only the
buckets over their cap are walked). It must keep and drop exactly what running every bound
over every kept unit in every round does (the code before the change, kept here as the
reference), with the same reason per dropped unit, on inputs skewed enough that drops
cascade over many rounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.mcq import balance_plan as bp


def cap_every_group(kept, bucket, group, rank, cap_of) -> bool:
    """The reference bound: over every kept unit, in every group, each answer keeps its
    `cap_of(counts)` lowest-ranked units. Updates `kept`; True if any unit went."""
    idx = np.flatnonzero(kept)
    if len(idx) == 0:
        return False
    buckets, first, inverse, sizes = np.unique(
        bucket[idx], return_index=True, return_inverse=True, return_counts=True
    )
    bucket_group = group[idx][first]
    caps = np.empty(len(buckets), dtype=np.int64)
    for g in np.unique(bucket_group):
        mine = bucket_group == g
        cap = cap_of(sizes[mine].tolist())
        caps[mine] = np.iinfo(np.int64).max if cap is None else cap
    return bp._drop_beyond_caps(kept, idx, inverse, sizes, caps, rank)


def select_every_unit(units: bp.ItemColumns, form: str, share: float, distinct: int, aspect: str):
    kept = np.ones(len(units), dtype=bool)
    reason = np.full(len(kept), -1, dtype=np.int8)
    bounds = list(bp.bounds_for(units, form, share, distinct, aspect))
    while True:
        changed = False
        for name, bucket, group, cap in bounds:
            before = kept.copy()
            if cap_every_group(kept, bucket, group, units.rank, cap):
                reason[before & ~kept] = bp.REASONS.index(name)
                changed = True
        option_groups = [(units.frame,)]
        if aspect in bp.OPTION_PRIOR_BY_NAME:
            option_groups.append((units.frame, units.name))
        for columns in option_groups if form == "mcq" else ():
            before = kept.copy()
            if bp.option_prior_cap(kept, units, bp._combine(units.aspect, *columns)):
                reason[before & ~kept] = bp.REASONS.index("option_prior")
                changed = True
        if not changed:
            return kept, reason


def skewed(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Codes 0..size-1, Zipf-like: a few answers and names dominate, as in real cells."""
    weights = 1.0 / np.arange(1, size + 1) ** 1.2
    return rng.choice(size, n, p=weights / weights.sum()).astype(np.int64)


def random_units(seed: int, form: str, n: int = 4000) -> bp.ItemColumns:
    rng = np.random.default_rng(seed)
    name, value, frame = skewed(rng, n, 60), skewed(rng, n, 12), skewed(rng, n, 6)
    asked = skewed(rng, n, 12)
    if form == "yes_no":
        answer = (rng.random(n) < 0.7).astype(np.int64)  # more "yes" than "no"
    else:
        answer = value
    offered = [(answer + k + rng.integers(0, 3, n)) % 12 for k in (1, 4, 8)]
    return bp.ItemColumns(
        aspect=np.zeros(n, dtype=np.int64),
        form=np.zeros(n, dtype=np.int64),
        name=name,
        value=value,
        text=name * 6 + frame,  # the masked question: referent name and phrasing
        frame=frame,
        asked=asked,
        answer=answer,
        offered1=offered[0],
        offered2=offered[1],
        offered3=offered[2],
        rank=rng.permutation(n).astype(np.uint64),
        leader=np.ones(n, dtype=bool),
        leader_key=rng.permutation(n).astype(np.uint64),
        answer_index=np.zeros(n, dtype=np.int8),
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("form", "aspect", "distinct"),
    [
        ("mcq", "number", 0),
        ("mcq", "color", 0),
        ("yes_no", "color", 0),
        ("correction", "color", 12),
        ("fill_blank", "number", 12),
    ],
)
def test_incremental_bounds_select_what_every_unit_does(seed, form, aspect, distinct) -> None:
    units = random_units(seed, form)
    kept, reason = bp.select_units(units, form, 0.5, distinct, aspect)
    want_kept, want_reason = select_every_unit(units, form, 0.5, distinct, aspect)
    assert 0 < kept.sum() < len(units)  # the bounds bite, and something stays
    np.testing.assert_array_equal(kept, want_kept)
    np.testing.assert_array_equal(reason, want_reason)


def test_the_inputs_cascade() -> None:
    """Drops for one bound unbalance another for several rounds (else the test above would
    not exercise groups changed by a later round)."""
    units = random_units(0, "yes_no")
    rounds = 0
    steps = list(bp.bounds_for(units, "yes_no", 0.5, 0, "color"))
    kept = np.ones(len(units), dtype=bool)
    while any(cap_every_group(kept, b, g, units.rank, cap) for _, b, g, cap in steps):
        rounds += 1
    assert rounds >= 3
