"""The fact model: one grounded fact (image, referent, aspect, value) with the evidence it
rests on and the distractors that are verifiably wrong for this image."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipeline.registry import registry

PLAUSIBLE, FALLBACK = 0, 1  # distractor tiers: plausible ones are offered first


@dataclass(kw_only=True)
class Distractor:
    option: str
    source: str  # absent, other_object_value, class_prior, aspect_value, other_number, ...
    object_ids: list[str] = field(default_factory=list)
    tier: int = PLAUSIBLE


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

    @property
    def aspect(self) -> str:
        return registry().aspect_of(self.family)


def pick_distractors(fact: Fact, rng: random.Random, k: int) -> list[Distractor]:
    """Up to k distractors, plausible ones first, each tier sampled with the item's rng."""
    chosen: list[Distractor] = []
    for tier in (PLAUSIBLE, FALLBACK):
        pool = [d for d in fact.distractors if d.tier == tier]
        chosen += rng.sample(pool, min(len(pool), k - len(chosen)))
        if len(chosen) == k:
            break
    return chosen
