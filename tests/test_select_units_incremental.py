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


def bucket_and_group(columns: tuple[np.ndarray, ...], answer: np.ndarray) -> tuple[np.ndarray, ...]:
    """A bound's bucket and group key per unit, as the reference loop takes them."""
    bucket, per_group = bp.bound_keys(columns, answer)
    return bucket, bucket // per_group


def select_every_unit(units: bp.ItemColumns, form: str, share: float, distinct: int, aspect: str):
    kept = np.ones(len(units), dtype=bool)
    reason = np.full(len(kept), -1, dtype=np.int8)
    bounds = [
        (name, *bucket_and_group(columns, units.answer), cap)
        for name, columns, cap in bp.bounds_for(units, form, share, distinct, aspect)
    ]
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
    steps = [
        (name, *bucket_and_group(columns, units.answer), cap)
        for name, columns, cap in bp.bounds_for(units, "yes_no", 0.5, 0, "color")
    ]
    kept = np.ones(len(units), dtype=bool)
    while any(cap_every_group(kept, b, g, units.rank, cap) for _, b, g, cap in steps):
        rounds += 1
    assert rounds >= 3


@pytest.mark.parametrize(("form", "aspect"), [("mcq", "number"), ("yes_no", "color")])
def test_the_units_order_does_not_change_what_is_kept(form, aspect) -> None:
    """`decide_cell` decides a cell of one-item units on the items as they come, not on a
    copy sorted by rank: what the bounds keep must depend on ranks alone."""
    units = random_units(3, form)
    perm = np.random.default_rng(7).permutation(len(units))
    kept, reason = bp.select_units(units, form, 0.5, 0, aspect)
    kept_p, reason_p = bp.select_units(units.take(perm), form, 0.5, 0, aspect)
    assert 0 < kept.sum() < len(units)
    np.testing.assert_array_equal(kept_p, kept[perm])
    np.testing.assert_array_equal(reason_p, reason[perm])


def codes_for(group: bp.ItemColumns, form: str, aspect: str) -> dict[str, bp.Codes]:
    """Names for every code the group uses (the report names answers)."""
    codes = {column: bp.Codes() for column in bp.TEXT_COLUMNS}
    for column, code in codes.items():
        used = int(getattr(group, column).max()) + 1
        code.encode({"form": [form], "aspect": [aspect]}.get(column, map(str, range(used))))
    return codes


def decide_on_sorted_units(group: bp.ItemColumns, form: str, aspect: str) -> np.ndarray:
    """`decide_cell` as it was: the units as a copy in rank order, mapped back."""
    _, first, unit_of = np.unique(group.rank, return_index=True, return_inverse=True)
    kept, _ = bp.select_units(group.take(first), form, 0.5, 0, aspect)
    kept = kept[unit_of]
    position = bp.assign_positions(group, kept)
    return np.where(kept, np.where(position >= 0, position, bp.KEEP), bp.DROP).astype(np.int8)


@pytest.mark.parametrize("multi_item_units", [False, True])
def test_decide_cell_gives_what_sorted_units_give(multi_item_units) -> None:
    group = random_units(5, "mcq")
    if multi_item_units:  # circular rotations: several items share their unit's rank
        group.rank = group.rank // np.uint64(3)
    units, unit_of = bp.units_of(group)
    assert (unit_of is None) is not multi_item_units
    codes = codes_for(group, "mcq", "number")
    actions = bp.decide_cell(group, codes, 0.5, 0, True, bp.Report(codes))
    np.testing.assert_array_equal(actions, decide_on_sorted_units(group, "mcq", "number"))
    assert (actions == bp.DROP).any() and (actions != bp.DROP).any()
