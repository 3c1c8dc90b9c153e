"""The fact model: one grounded fact (image, referent, aspect, value) with the evidence it
rests on and the distractors that are verifiably wrong for this image."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property
from math import isnan

from pipeline.registry import registry

PLAUSIBLE, FALLBACK = 0, 1  # distractor tiers: plausible ones are offered first


@dataclass(kw_only=True)
class Distractor:
    option: str
    source: str  # absent, other_object_value, class_prior, aspect_value, other_number, ...
    object_ids: list[str] = field(default_factory=list)
    tier: int = PLAUSIBLE
    # How often this value is the answer where it could be (stats): distractors are drawn
    # in proportion, so an option is offered about as often as it is right and its text
    # alone does not say which (issue 16).
    weight: float = 1.0


@dataclass(kw_only=True)
class Fact:
    family: str  # a family of the registry; the aspect is the family's
    key: str  # stable within the scene: names the fact, not its phrasing
    value: str
    slots: dict[str, str]
    referent_name: str | None
    referent_ids: list[str]
    referent_bbox: list[float] | None
    evidence: list[str]
    distractors: list[Distractor]
    pope_setting: str | None = None
    # The second referent of a pair fact (spatial, relation): referent_ids lists both, and
    # MSG-Conv needs to know which ids are the subject to follow one object across turns.
    anchor_ids: list[str] = field(default_factory=list)
    # draw_pools(distractors), when the caller already has them: facts that share one
    # distractor list (a scene's region facts) share its pools too.
    pools: DrawPools | None = field(default=None, repr=False, compare=False)

    @property
    def subject_ids(self) -> list[str]:
        return [i for i in self.referent_ids if i not in self.anchor_ids]

    @property
    def aspect(self) -> str:
        return registry().aspect_of(self.family)

    @cached_property
    def draw_pools(self) -> DrawPools:
        """The distractors of each tier with their draw exponents: every form of the fact
        draws from them (distractors are not changed once the fact is made)."""
        return self.pools if self.pools is not None else draw_pools(self.distractors)


# Per tier (plausible, then fallback): its distractors and their draw exponents.
DrawPools = tuple[tuple[list[Distractor], list[float]], ...]


def draw_pools(distractors: list[Distractor]) -> DrawPools:
    """The distractors of each tier (plausible, then fallback) with their draw exponents."""
    pools = []
    for tier in (PLAUSIBLE, FALLBACK):
        pool = [d for d in distractors if d.tier == tier]
        # draw_exponent written out: one call less per distractor (about a million per 1K
        # images); test_speed_facts checks it against draw_exponent.
        pools.append((pool, [1.0 / (1e-9 if d.weight < 1e-9 else d.weight) for d in pool]))
    return tuple(pools)


def draw_exponent(weight: float) -> float:
    """1 / weight, as weighted_sample raises each draw to (max(weight, 1e-9); NaN kept, as
    max keeps it)."""
    return 1.0 / (1e-9 if weight < 1e-9 else weight)


def weighted_sample(
    pool: list[Distractor], k: int, rng: random.Random, exponents: list[float] | None = None
) -> list[Distractor]:
    """k of the pool without replacement, each drawn in proportion to its weight
    (Efraimidis-Spirakis keys u^(1/w): one draw per candidate, in pool order).
    `exponents` are draw_exponent of the pool's weights, when the caller has them."""
    if exponents is None:
        exponents = [draw_exponent(d.weight) for d in pool]
    draw = rng.random  # the bound method: saves per-candidate call overhead
    keys = [draw() ** e for e in exponents]
    return [pool[i] for i in _top_indices(keys, k, nan=isnan(sum(exponents)))]


def _top_indices(keys: list[float], k: int, nan: bool) -> list[int]:
    """The indices of the k largest keys, largest first and equal keys by the higher index:
    the order of sorting (key, index) pairs in reverse, without a tuple per candidate.
    Sorting the indices from last to first by key, reversed, keeps equal keys in that
    order (sort is stable). A NaN key (a NaN weight) compares differently on its own than
    inside a pair: the pairs are sorted then, as they always were."""
    if nan:
        keyed = sorted(((key, i) for i, key in enumerate(keys)), reverse=True)
        return [i for _, i in keyed[:k]]
    if k == 1 and keys:  # most draws want one: max meets the higher of equal keys first
        return [max(range(len(keys) - 1, -1, -1), key=keys.__getitem__)]
    return sorted(range(len(keys) - 1, -1, -1), key=keys.__getitem__, reverse=True)[:k]


def pick_distractors(fact: Fact, rng: random.Random, k: int) -> list[Distractor]:
    """Up to k distractors, plausible ones first, each tier drawn with the item's rng in
    proportion to the distractors' weights."""
    chosen: list[Distractor] = []
    for pool, exponents in fact.draw_pools:
        n = min(len(pool), k - len(chosen))
        chosen += weighted_sample(pool, n, rng, exponents)
        if len(chosen) == k:
            break
    return chosen
