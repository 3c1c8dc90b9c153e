"""The per-process pools of fact generation (absent names, related categories, draw
exponents) give what the straightforward per-scene computations give."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import read_scenes

from pipeline.config import BuildOptions
from pipeline.facts.context import (
    REGION_NAME_POOL,
    FactContext,
    coco_categories_present,
    make_context,
)
from pipeline.facts.generators import absent_category_distractors
from pipeline.facts.model import (
    PLAUSIBLE,
    Distractor,
    draw_exponent,
    draw_pools,
    weighted_sample,
)
from pipeline.facts.referents import can_refer, related
from pipeline.facts.stats import Stats, scene_stats
from pipeline.normalize.names import RelatedIndex


def _first_unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _reference_pools(ctx: FactContext) -> tuple[list[tuple], list[tuple]]:
    """(absent_categories, absent_region_names) as (option, tier, weight), computed the
    straightforward way: every candidate tested against the image's names."""
    index = RelatedIndex(ctx.names)
    absent = [n for n in ctx.stats.popular_categories() if not index.any_related(n)]
    present = coco_categories_present(ctx)
    cooc = [n for n in ctx.stats.cooccurring(sorted(present)) if not index.any_related(n)]
    tiers = {n: 0 for n in cooc} | {n: 1 for n in absent if n not in cooc}
    categories = [
        (n, tier, ctx.stats.category_weight(n)) for n, tier in tiers.items() if n not in present
    ]
    popular = [n for n in ctx.stats.popular_names()[:REGION_NAME_POOL] if can_refer(n)]
    region = _first_unique(
        [n for n in popular if not index.any_related(n)] + cooc + [n for n in absent]
    )
    regions = [(n, PLAUSIBLE, ctx.stats.name_weight(n)) for n in region]
    return categories, regions


def _triples(pool: list[Distractor]) -> list[tuple]:
    return [(d.option, d.tier, d.weight) for d in pool]


@pytest.fixture(scope="module")
def contexts(demo_build: Path) -> list[FactContext]:
    scenes = read_scenes(demo_build)
    stats = Stats(scene_stats(scenes))
    return [make_context(s, stats, BuildOptions()) for s in scenes]


def test_absent_pools_match_reference(contexts: list[FactContext]) -> None:
    assert any(ctx.absent_region_names for ctx in contexts)
    for ctx in contexts:
        categories, regions = _reference_pools(ctx)
        assert _triples(ctx.absent_categories) == categories, ctx.scene["scene_id"]
        assert _triples(ctx.absent_region_names) == regions, ctx.scene["scene_id"]
        assert all(d.source == "absent" and d.object_ids == [] for d in ctx.absent_region_names)


def test_absent_category_distractors_match_related(contexts: list[FactContext]) -> None:
    for ctx in contexts:
        for exclude in ["", *coco_categories_present(ctx), "animal", "person"]:
            expected = [c for c in ctx.absent_categories if not related(c.option, exclude)]
            assert absent_category_distractors(ctx, exclude) == expected, exclude


def test_same_name_matches_related(contexts: list[FactContext]) -> None:
    for ctx in contexts:
        for name in [*ctx.names, "animal", "person", "thing"]:
            expected = [g for g in ctx.groups if related(g.name, name)]
            assert ctx.same_name(name) == expected, name


def test_weighted_sample_with_exponents_draws_the_same() -> None:
    rng = random.Random(3)
    pool = [Distractor(option=str(i), source="s", weight=rng.choice([0.0, 1e-12, 0.5, 3.0]))
            for i in range(40)]  # fmt: skip
    exponents = [1.0 / max(d.weight, 1e-9) for d in pool]
    for seed in range(20):
        plain = weighted_sample(pool, 5, random.Random(seed))
        given = weighted_sample(pool, 5, random.Random(seed), exponents)
        assert [d.option for d in plain] == [d.option for d in given]


def _pairs_sample(pool: list[Distractor], k: int, rng: random.Random) -> list[Distractor]:
    """weighted_sample as first written: one (key, index) pair per candidate, sorted."""
    keyed = [(rng.random() ** (1.0 / max(d.weight, 1e-9)), i) for i, d in enumerate(pool)]
    keyed.sort(reverse=True)
    return [pool[i] for _, i in keyed[:k]]


@pytest.mark.parametrize(
    "weights", [[0.0, 1e-12, 0.5, 3.0], [0.0, 1e-12], [0.5, 3.0, float("nan")]]
)
def test_weighted_sample_matches_sorted_pairs(weights: list[float]) -> None:
    """Tiny weights make equal keys (0.0; only tiny ones: the largest keys tie), NaN
    weights NaN keys: both ordered as the sorted (key, index) pairs order them, and the
    generator ends in the same state."""
    rng = random.Random(5)
    for n in (1, 7, 60):
        pool = [Distractor(option=str(i), source="s", weight=rng.choice(weights))
                for i in range(n)]  # fmt: skip
        for k in (1, 3):
            for seed in range(30):
                ours, theirs = random.Random(seed), random.Random(seed)
                got = weighted_sample(pool, k, ours)
                assert [d.option for d in got] == [d.option for d in _pairs_sample(pool, k, theirs)]
                assert ours.random() == theirs.random()


def test_region_facts_share_the_scene_pools(contexts: list[FactContext]) -> None:
    """The pools a region fact is given are those of its own distractors."""
    for ctx in contexts:
        assert ctx.absent_region_pools == draw_pools(list(ctx.absent_region_names))


def test_draw_pools_exponents_are_draw_exponent() -> None:
    weights = [0.0, 1e-12, 1e-9, 0.5, 3.0, float("inf"), float("nan")]
    pool = [Distractor(option=str(i), source="s", weight=w, tier=i % 2)
            for i, w in enumerate(weights)]  # fmt: skip
    pools = draw_pools(pool)
    for tier, (tier_pool, exponents) in enumerate(pools):
        assert tier_pool == [d for d in pool if d.tier == tier]
        assert list(map(repr, exponents)) == [repr(draw_exponent(d.weight)) for d in tier_pool]
