"""Fact generators: one small function per question family, from a scene to grounded facts
(image, referent, aspect, value) with the evidence they rest on and the distractors that are
verifiably wrong for this image. Families and phrasings live in tables/families.toml."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

from pipeline.hashing import seeded_rng, stable_hash64
from pipeline.mcq.referents import (
    Referent,
    askable,
    can_refer,
    normalized_box,
    phrase_for,
    referents,
    region_text,
    related,
)
from pipeline.mcq.stats import Stats
from pipeline.normalize import are_confusable, attribute_values
from pipeline.normalize.names import RelatedIndex

TABLES = Path(__file__).resolve().parent.parent / "tables"
PLAUSIBLE, FALLBACK = 0, 1  # distractor tiers: plausible ones are offered first


@cache
def item_rules() -> dict[str, Any]:
    return tomllib.loads((TABLES / "item_rules.toml").read_text(encoding="utf-8"))


@dataclass
class Distractor:
    option: str
    source: str  # absent, other_object_value, class_prior, aspect_value, other_number, ...
    object_ids: list[str] = field(default_factory=list)
    tier: int = PLAUSIBLE


@dataclass
class Fact:
    family: str
    aspect: str
    key: str  # stable within the scene: names the fact, not its phrasing
    value: str
    slots: dict[str, str]
    referent_name: str | None
    referent_ids: list[str]
    referent_bbox: list[float] | None
    evidence: list[str]
    distractors: list[Distractor]
    pope_setting: str | None = None


@dataclass
class FactContext:
    scene: dict[str, Any]
    groups: list[Referent]
    stats: Stats
    seed: int
    count_cap: int
    min_count_area: float
    spatial_margin: float
    skipped: Counter = field(default_factory=Counter)

    def skip(self, family: str, reason: str) -> None:
        self.skipped[f"{family}:{reason}"] += 1

    @cached_property
    def names(self) -> list[str]:
        return sorted({g.name for g in self.groups})

    @cached_property
    def _present(self) -> RelatedIndex:
        return RelatedIndex(self.names)

    @cached_property
    def _absent(self) -> dict[str, bool]:
        return {}

    def absent(self, name: str) -> bool:
        """No object in the image answers to this name or a related one (asked for many
        candidate names by several families: remembered per scene)."""
        if name not in self._absent:
            self._absent[name] = not self._present.any_related(name)
        return self._absent[name]

    @cached_property
    def _same_name(self) -> dict[str, list[Referent]]:
        return {}

    def same_name(self, name: str) -> list[Referent]:
        """Every referent the word `name` could refer to, as `referents.same_name` finds them:
        one related() per distinct name of the image, not per referent (and remembered)."""
        if name not in self._same_name:
            names = {n for n in self.names if related(n, name)}
            self._same_name[name] = [g for g in self.groups if g.name in names]
        return self._same_name[name]

    @cached_property
    def _valued(self) -> dict[str, list[tuple[Referent, list[str]]]]:
        return {}

    def valued_groups(self, aspect: str) -> list[tuple[Referent, list[str]]]:
        """Referents with values of this aspect, values sorted (every attribute fact of the
        scene asks: remembered)."""
        if aspect not in self._valued:
            valued = [(g, sorted(g.values(aspect))) for g in self.groups]
            self._valued[aspect] = [(g, values) for g, values in valued if values]
        return self._valued[aspect]

    def _absent_options(self, names: Iterable[str], tier: int) -> list[Distractor]:
        return [Distractor(n, "absent", [], tier) for n in names if self.absent(n)]

    # The candidate pools below are the same for every fact of the scene: built once.
    # Absence is filtered before de-duplication: both act per option, so they commute.
    @cached_property
    def _absent_category_candidates(self) -> list[Distractor]:
        """Absent COCO categories, those seen most with the present ones first."""
        present = sorted(coco_categories_present(self))
        cands = self._absent_options(self.stats.cooccurring(present), PLAUSIBLE)
        return cands + self._absent_options(self.stats.popular_categories(), FALLBACK)

    @cached_property
    def absent_categories(self) -> list[Distractor]:
        """Absent COCO categories, plausible ones first."""
        present = coco_categories_present(self)
        cands = _dedupe(self._absent_category_candidates)
        return [c for c in cands if c.option not in present]

    @cached_property
    def absent_region_names(self) -> list[Distractor]:
        """Absent categories and popular names: the entity_region distractor pool."""
        popular = _referable(tuple(self.stats.popular_names()[:200]))
        return _dedupe(self._absent_category_candidates + self._absent_options(popular, FALLBACK))


@lru_cache(maxsize=16)
def _referable(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names that can be a question's subject (the same popular names every scene)."""
    return tuple(n for n in names if can_refer(n))


def _dedupe(cands: list[Distractor]) -> list[Distractor]:
    seen: set[str] = set()
    out = []
    for c in sorted(cands, key=lambda c: c.tier):
        if c.option not in seen:
            seen.add(c.option)
            out.append(c)
    return out


def _excluded(aspect: str) -> set[str]:
    return set(item_rules()["excluded_values"].get(aspect, []))


# -- entity ------------------------------------------------------------------------------
def coco_categories_present(ctx: FactContext) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for obj in ctx.scene["objects"]:
        if obj["coco_category"]:
            found.setdefault(obj["coco_category"], []).append(obj)
    return found


def absent_category_distractors(ctx: FactContext, exclude: str) -> list[Distractor]:
    """COCO's 80 categories are exhaustive: a category with no instance is absent (unless
    a VG object of a related name is there)."""
    return [c for c in ctx.absent_categories if not related(c.option, exclude)]


def entity_present_facts(ctx: FactContext) -> list[Fact]:
    if ctx.scene["image_source"] != "coco":
        ctx.skip("entity_present", "not_exhaustive")
        return []
    facts = []
    for category, objs in sorted(coco_categories_present(ctx).items()):
        ids = [o["object_id"] for o in objs]
        facts.append(
            Fact(
                "entity_present",
                "entity",
                f"present|{category}",
                category,
                {},
                category,
                ids,
                None,
                sorted({e for o in objs for e in o["evidence_ids"]}) + ctx.scene["evidence_ids"],
                absent_category_distractors(ctx, category),
            )
        )
    return facts


REGION_FACTS_PER_SCENE = 4


def entity_region_facts(ctx: FactContext) -> list[Fact]:
    scene = ctx.scene
    eligible = [
        g
        for g in askable(ctx.groups)
        if not g.main["iscrowd"] and g.main["bbox"][2] * g.main["bbox"][3] >= ctx.min_count_area
    ]
    eligible.sort(key=lambda g: stable_hash64(ctx.seed, scene["scene_id"], g.main["object_id"]))
    facts = []
    for g in eligible[:REGION_FACTS_PER_SCENE]:
        box = normalized_box(g.main["bbox"], scene["width"], scene["height"])
        # Absent names are related to no object here, this one included: no further filter.
        cands = list(ctx.absent_region_names)
        facts.append(
            Fact(
                "entity_region",
                "entity",
                f"region|{g.main['object_id']}",
                g.name,
                {"box": region_text(box)},
                g.name,
                g.ids,
                g.main["bbox"],
                g.evidence + scene["evidence_ids"],
                cands,
            )
        )
    return facts


# -- number ------------------------------------------------------------------------------
def _number_distractors(n: int, cap: int) -> list[Distractor]:
    others = sorted((k for k in range(cap + 1) if k != n), key=lambda k: (abs(k - n), k))
    return [Distractor(str(k), "other_number", [], PLAUSIBLE) for k in others]


def number_facts(ctx: FactContext) -> list[Fact]:
    """Counts from COCO's exhaustive instances only: no crowd region of the category, no
    instance too small to see, at most count_cap."""
    if ctx.scene["image_source"] != "coco":
        ctx.skip("number", "not_exhaustive")
        return []
    facts = []
    present = coco_categories_present(ctx)
    for category, objs in sorted(present.items()):
        if any(o["iscrowd"] for o in objs):
            ctx.skip("number", "crowd")
            continue
        if any(o["area"] < ctx.min_count_area for o in objs):
            ctx.skip("number", "too_small")
            continue
        if len(objs) > ctx.count_cap:
            ctx.skip("number", "over_cap")
            continue
        evidence = sorted(o["object_id"] for o in objs) + ctx.scene["evidence_ids"]
        facts.append(
            _number_fact(ctx, category, len(objs), [o["object_id"] for o in objs], evidence)
        )
    # One zero count per image, about a plausible absent category.
    absent = absent_category_distractors(ctx, "")
    if absent:
        category = absent[0].option
        facts.append(_number_fact(ctx, category, 0, [], list(ctx.scene["evidence_ids"])))
    return facts


def _number_fact(
    ctx: FactContext, category: str, n: int, ids: list[str], evidence: list[str]
) -> Fact:
    from pipeline.mcq.slots import plural

    return Fact(
        "number",
        "number",
        f"count|{category}",
        str(n),
        {"plural": plural(category), "category": category},
        category,
        ids,
        None,
        evidence,
        _number_distractors(n, ctx.count_cap),
    )


# -- attribute aspects (color, material, shape, size, action) ---------------------------
def _action_pool(value: str) -> list[str] | None:
    for group in item_rules()["action"]["exclusive"]:
        if value in group:
            return [v for v in group if v != value]
    return None


def attribute_facts_for(aspect: str) -> Callable[[FactContext], list[Fact]]:
    def generate(ctx: FactContext) -> list[Fact]:
        facts = []
        for g in askable(ctx.groups):
            values = g.values(aspect)
            if not values:
                continue
            if g.compound(aspect) or values & _excluded(aspect):
                ctx.skip(aspect, "multi_valued")
                continue
            if len(values) > 1:
                ctx.skip(aspect, "conflicting_labels")
                continue
            (value,) = values
            fact = _attribute_fact(ctx, aspect, g, value)
            if fact is not None:
                facts.append(fact)
        return facts

    return generate


def _attribute_fact(ctx: FactContext, aspect: str, g: Referent, value: str) -> Fact | None:
    same = ctx.same_name(g.name)
    phrase, _ = phrase_for(g, len(same) == 1, ctx.scene)
    # Values true of any object the words could mean are never distractors.
    forbidden = set().union(*(c.values(aspect) for c in same))
    forbidden |= _excluded(aspect)
    if aspect == "action":
        pool = _action_pool(value)
        if pool is None:
            ctx.skip(aspect, "no_exclusive_values")
            return None
        allowed = set(pool)
    else:
        allowed = None

    def usable(v: str) -> bool:
        return (
            v not in forbidden
            and v != value
            and (allowed is None or v in allowed)
            and not are_confusable(aspect, v, value)
        )

    # Options are filtered before de-duplication (both act per option, so they commute).
    same_ids = {id(c) for c in same}  # referents of a related name (same_name above)
    cands = [
        Distractor(v, "other_object_value", other.ids, PLAUSIBLE)
        for other, values in ctx.valued_groups(aspect)
        if id(other) not in same_ids
        for v in values
        if usable(v)
    ]
    prior = ctx.stats.values_seen_with(aspect, g.name)
    cands += [Distractor(v, "class_prior", [], PLAUSIBLE) for v in prior if usable(v)]
    cands += [
        Distractor(v, "aspect_value", [], FALLBACK) for v in attribute_values(aspect) if usable(v)
    ]
    valid = _dedupe(cands)
    return Fact(
        aspect,
        aspect,
        f"{aspect}|{g.main['object_id']}",
        value,
        {"ref": phrase},
        g.name,
        g.ids,
        g.main["bbox"],
        g.evidence + ctx.scene["evidence_ids"],
        valid,
    )


# -- spatial -----------------------------------------------------------------------------
SPATIAL_PAIRS_PER_SCENE = 3
MIN_SPATIAL_AREA_SHARE = 0.005


def direction(
    a: list[float], b: list[float], width: int, height: int, margin: float, slack: float = 0.0
) -> set[str]:
    """Directions of box a relative to box b that hold with a clear margin: centres apart by
    margin x image size, and both edges on that side. `slack` (pixels) makes every test
    stricter (> 0) or looser (< 0)."""
    ax, ay, bx, by = a[0] + a[2] / 2, a[1] + a[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2

    def before(p: list[float], q: list[float], pc: float, qc: float, axis: int, size: int):
        lo, ext = p[axis], p[axis] + p[axis + 2]
        return (
            pc + margin * size + slack < qc
            and lo + slack < q[axis]
            and ext + slack < q[axis] + q[axis + 2]
        )

    found = set()
    if before(a, b, ax, bx, 0, width):
        found.add("left")
    if before(b, a, bx, ax, 0, width):
        found.add("right")
    if before(a, b, ay, by, 1, height):
        found.add("above")
    if before(b, a, by, ay, 1, height):
        found.add("below")
    return found


# Boxes are clipped to the image by up to BOX_TOLERANCE_PX: a direction must hold, and no
# other hold, even when every edge moves by more than that.
SPATIAL_SLACK_PX = 3.0


def spatial_facts(ctx: FactContext) -> list[Fact]:
    scene = ctx.scene
    image_area = scene["width"] * scene["height"]
    unique = [
        g
        for g in askable(ctx.groups)
        if not g.main["iscrowd"]
        and g.main["bbox"][2] * g.main["bbox"][3] >= MIN_SPATIAL_AREA_SHARE * image_area
        and len(ctx.same_name(g.name)) == 1
    ]
    pairs = [(a, b) for a in unique for b in unique if a is not b and not related(a.name, b.name)]
    pairs.sort(key=lambda p: stable_hash64(ctx.seed, scene["scene_id"], p[0].name, p[1].name))
    phrases = item_rules()["spatial"]["phrases"]
    facts = []
    for a, b in pairs:
        if len(facts) == SPATIAL_PAIRS_PER_SCENE:
            break
        args = (a.main["bbox"], b.main["bbox"], scene["width"], scene["height"])
        found = direction(*args, ctx.spatial_margin, SPATIAL_SLACK_PX)
        loose = direction(*args, ctx.spatial_margin, -SPATIAL_SLACK_PX)
        if len(found) != 1 or loose != found:
            ctx.skip("spatial", "boxes_nearly_align" if not found else "two_directions")
            continue
        (value,) = found
        others = [d for d in phrases if d != value]
        facts.append(
            Fact(
                "spatial",
                "spatial",
                f"spatial|{a.main['object_id']}|{b.main['object_id']}",
                value,
                {"ref": f"the {a.name}", "ref2": f"the {b.name}"},
                a.name,
                a.ids + b.ids,
                a.main["bbox"],
                a.evidence + b.evidence + scene["evidence_ids"],
                [Distractor(d, "other_direction", [], PLAUSIBLE) for d in others],
            )
        )
    return facts


# -- relation ----------------------------------------------------------------------------
def _compatible(predicate: str) -> set[str]:
    out = {predicate}
    for group in item_rules()["relation"]["compatible"]:
        if predicate in group:
            out |= set(group)
    return out


def relation_facts(ctx: FactContext) -> list[Fact]:
    asked = item_rules()["relation"]["asked"]
    group_of = {oid: g for g in ctx.groups for oid in g.ids}
    facts, seen = [], set()
    for rel in ctx.scene["relations"]:
        pred = rel["predicate"]
        if pred not in asked:
            continue
        s, o = group_of.get(rel["subject_id"]), group_of.get(rel["object_id"])
        if s is None or o is None or s is o or not (can_refer(s.name) and can_refer(o.name)):
            continue
        if len(ctx.same_name(s.name)) != 1 or len(ctx.same_name(o.name)) != 1:
            ctx.skip("relation", "ambiguous_referent")
            continue
        key = f"relation|{s.main['object_id']}|{pred}|{o.main['object_id']}"
        if key in seen:
            continue
        seen.add(key)
        # Every predicate annotated between objects of these names is true here.
        true_preds = {
            r["predicate"]
            for r in ctx.scene["relations"]
            if related(group_of.get(r["subject_id"], s).name, s.name)
            and related(group_of.get(r["object_id"], o).name, o.name)
        }
        banned = set().union(*(_compatible(p) for p in true_preds | {pred}))
        cands = [Distractor(p, "aspect_value", [], PLAUSIBLE) for p in asked if p not in banned]
        facts.append(
            Fact(
                "relation",
                "relation",
                key,
                pred,
                {"ref": f"the {s.name}", "ref2": f"the {o.name}"},
                s.name,
                s.ids + o.ids,
                s.main["bbox"],
                [rel["relation_id"], *s.evidence, *o.evidence, *ctx.scene["evidence_ids"]],
                cands,
            )
        )
    return facts


# -- existence (POPE) --------------------------------------------------------------------
POPE_PER_SIDE = 3


def existence_facts(ctx: FactContext) -> list[Fact]:
    """POPE: present categories (yes) and, per setting, as many absent ones (no): random,
    popular (most frequent overall), adversarial (most co-occurring with what is present)."""
    if ctx.scene["image_source"] != "coco":
        ctx.skip("existence", "not_exhaustive")
        return []
    present = coco_categories_present(ctx)
    by_area = sorted(present, key=lambda c: (-max(o["area"] for o in present[c]), c))
    positives = by_area[:POPE_PER_SIDE]
    absent = [d.option for d in absent_category_distractors(ctx, "")]
    rng = seeded_rng(ctx.seed, ctx.scene["scene_id"], "pope-random")
    settings = {
        "random": rng.sample(sorted(absent), min(len(absent), len(positives))),
        "popular": [c for c in ctx.stats.popular_categories() if c in absent],
        "adversarial": [c for c in ctx.stats.cooccurring(list(present)) if c in absent],
    }
    facts = []
    for setting, negatives in settings.items():
        negatives = negatives[: len(positives)]
        if len(negatives) < len(positives):
            ctx.skip("existence", f"too_few_negatives_{setting}")
            continue
        for category in positives:
            objs = present[category]
            evidence = sorted(o["object_id"] for o in objs) + ctx.scene["evidence_ids"]
            facts.append(
                _existence(setting, category, True, [o["object_id"] for o in objs], evidence)
            )
        for category in negatives:
            facts.append(_existence(setting, category, False, [], list(ctx.scene["evidence_ids"])))
    return facts


def _existence(setting: str, category: str, present: bool, ids: list[str], ev: list[str]) -> Fact:
    return Fact(
        "existence",
        "existence",
        f"exist|{setting}|{category}",
        "yes" if present else "no",
        {"name": category},
        category,
        ids,
        None,
        ev,
        [],
        pope_setting=setting,
    )


GENERATORS: dict[str, Callable[[FactContext], list[Fact]]] = {
    "entity_present": entity_present_facts,
    "entity_region": entity_region_facts,
    "number": number_facts,
    "color": attribute_facts_for("color"),
    "material": attribute_facts_for("material"),
    "shape": attribute_facts_for("shape"),
    "size": attribute_facts_for("size"),
    "action": attribute_facts_for("action"),
    "spatial": spatial_facts,
    "relation": relation_facts,
    "existence": existence_facts,
}


def scene_facts(ctx: FactContext) -> list[Fact]:
    facts = []
    for generate in GENERATORS.values():
        facts.extend(generate(ctx))
    return facts


def make_context(scene: dict[str, Any], stats: Stats, options: Any) -> FactContext:
    return FactContext(
        scene,
        referents(scene),
        stats,
        options.seed,
        options.count_cap,
        options.min_count_area,
        options.spatial_margin,
    )
