"""Fact generators: one small function per generator kind, from a scene to grounded facts
(image, referent, aspect, value) with the evidence they rest on and the distractors that are
verifiably wrong for this image. Which families exist, their aspects and phrasings are
data (tables/families.toml, pipeline/registry.py); a generator kind is code shared by every
family that names it (all attribute aspects share `attribute`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pipeline.facts.context import FactContext, coco_categories_present, dedupe
from pipeline.facts.model import FALLBACK, Distractor, Fact
from pipeline.facts.referents import (
    Referent,
    askable,
    is_askable,
    normalized_box,
    phrase_for,
    region_text,
    related,
    spans_image,
)
from pipeline.facts.slots import plural, subject_slots
from pipeline.facts.stats import Stats
from pipeline.hashing import hash_prefix, seeded_rng, stable_hash64
from pipeline.normalize import are_confusable, attribute_values, lexicon
from pipeline.normalize.attributes import surface_index
from pipeline.normalize.countability import COUNT, countability
from pipeline.registry import Family, registry
from pipeline.scenes import DUPLICATE_IOU, iou
from pipeline.tables import load_table


def item_rules() -> dict[str, Any]:
    return load_table("item_rules")


def _clarity() -> dict[str, float]:
    """When a direction is clear and which boxes are too big to be placed (item_rules)."""
    return item_rules()["spatial"]["clarity"]


def name_states(name: str, aspect: str) -> bool:
    """A word of the name is a value of the aspect ("grey" in "grey computer monitor")."""
    index = surface_index()
    return any(index.get(word, ("", ""))[0] == aspect for word in name.split())


def _asked_of_any(aspect: str) -> frozenset[str]:
    """Values asked whatever the kind of object ("parked" of a car)."""
    return frozenset(item_rules()["asked_of_any"].get(aspect, []))


def _not_asked_of(name: str) -> frozenset[str]:
    """Aspects not asked of this kind of object (item_rules.toml, [not_asked_of]): by the
    WordNet lexicographer file of the name's first noun sense."""
    senses = lexicon.phrase_noun_senses(name)
    kind = senses[0].lexname() if senses else ""
    return frozenset(a for a, kinds in item_rules()["not_asked_of"].items() if kind in kinds)


def _excluded(aspect: str) -> set[str]:
    return set(item_rules()["excluded_values"].get(aspect, []))


# -- entity ------------------------------------------------------------------------------
def absent_category_distractors(ctx: FactContext, exclude: str) -> list[Distractor]:
    """COCO's 80 categories are exhaustive: a category with no instance is absent (unless
    a VG object of a related name is there)."""
    # Looked up in the absent pools' index; a name outside it (none from one Stats) is
    # compared directly.
    ruled_out, indexed = ctx.candidates_related_to(exclude), ctx.candidate_names
    return [
        c
        for c in ctx.absent_categories
        if (c.option not in ruled_out if c.option in indexed else not related(c.option, exclude))
    ]


def entity_present_facts(ctx: FactContext, family: Family) -> list[Fact]:
    if ctx.scene["image_source"] != "coco":
        ctx.skip(family.name, "not_exhaustive")
        return []
    facts = []
    for category, objs in sorted(coco_categories_present(ctx).items()):
        ids = [o["object_id"] for o in objs]
        facts.append(
            Fact(
                family=family.name,
                key=f"present|{category}",
                value=category,
                slots={},
                referent_name=category,
                referent_ids=ids,
                referent_bbox=None,
                evidence=sorted({e for o in objs for e in o["evidence_ids"]})
                + ctx.scene["evidence_ids"],
                distractors=absent_category_distractors(ctx, category),
            )
        )
    return facts


REGION_FACTS_PER_SCENE = 4


def overlaps(a: Referent, b: Referent) -> bool:
    """Some box of one covers some box of the other as much as a duplicate would."""
    return any(iou(m["bbox"], n["bbox"]) >= DUPLICATE_IOU for m in a.members for n in b.members)


def entity_region_facts(ctx: FactContext, family: Family) -> list[Fact]:
    scene = ctx.scene
    max_span = _clarity()["max_span"]  # the tables, read once per scene, not per referent
    eligible = []
    groups = ctx.groups
    for g in askable(groups):
        if g.main["bbox"][2] * g.main["bbox"][3] < ctx.min_count_area:
            continue
        if not ctx.visible(g.main):
            ctx.skip(family.name, "too_small_to_see")
            continue
        # A region over most of the image holds unannotated things (VG is not
        # exhaustive): "Can a desk be seen in the region [0, 0, 1, 1]?" has no sure "no".
        if spans_image(g.main["bbox"], scene["width"], scene["height"], max_span):
            ctx.skip(family.name, "spans_image")
            continue
        eligible.append(g)
    eligible.sort(key=lambda g: stable_hash64(ctx.seed, scene["scene_id"], g.main["object_id"]))
    facts = []
    for g in eligible:
        if len(facts) == REGION_FACTS_PER_SCENE:
            break
        # Another object of an unrelated name fills the same region ("cement" and "bridge"):
        # the region shows both, so a single answer would be disputed. (Boxes of related
        # names overlapping this much are already one referent.) Checked in the draw's
        # order, only until the scene has its region facts: every referent's boxes against
        # every other's would cost more than the rest of the family.
        if any(h is not g and overlaps(h, g) for h in groups):
            ctx.skip(family.name, "region_shows_two_objects")
            continue
        box = normalized_box(g.main["bbox"], scene["width"], scene["height"])
        # Absent names are related to no object here, this one included: no further filter.
        cands = list(ctx.absent_region_names)
        facts.append(
            Fact(
                family=family.name,
                key=f"region|{g.main['object_id']}",
                value=g.name,
                slots={"box": region_text(box)},
                referent_name=g.name,
                referent_ids=g.ids,
                referent_bbox=g.main["bbox"],
                evidence=g.evidence + scene["evidence_ids"],
                distractors=cands,
                pools=ctx.absent_region_pools,
            )
        )
    return facts


# -- number ------------------------------------------------------------------------------
def _number_distractors(ctx: FactContext, category: str, n: int) -> list[Distractor]:
    """Every other count up to the cap, weighted by how often the category has that many
    instances in an image: the options then look like answers of this category, and the
    true count's rank among them is not a give-away."""
    return list(_count_distractors(ctx.stats, category, n, ctx.count_cap))


@lru_cache(maxsize=16_384)
def _count_distractors(
    stats: Stats, category: str, n: int, count_cap: int
) -> tuple[Distractor, ...]:
    """_number_distractors made once per process (the weights depend on the stats only;
    distractors are never changed after they are made)."""
    others = [k for k in range(count_cap + 1) if k != n]
    weight = stats.count_weight
    return tuple(
        Distractor(option=str(k), source="other_number", weight=weight(category, k)) for k in others
    )


def number_facts(ctx: FactContext, family: Family) -> list[Fact]:
    """Counts from COCO's exhaustive instances only: no crowd region of the category, no
    instance too small to see, at most count_cap."""
    if ctx.scene["image_source"] != "coco":
        ctx.skip(family.name, "not_exhaustive")
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
        if not all(ctx.visible(o) for o in objs):  # would a person count that one?
            ctx.skip("number", "too_small_to_see")
            continue
        if len(objs) > ctx.count_cap:
            ctx.skip("number", "over_cap")
            continue
        if countability(category) != COUNT:  # "one skis", "five broccolis"
            ctx.skip("number", "not_countable")
            continue
        evidence = sorted(o["object_id"] for o in objs) + ctx.scene["evidence_ids"]
        facts.append(
            _number_fact(ctx, family, category, len(objs), [o["object_id"] for o in objs], evidence)
        )
    # One zero count per image, about a plausible absent category.
    absent = absent_category_distractors(ctx, "")
    if absent:
        category = absent[0].option
        facts.append(_number_fact(ctx, family, category, 0, [], list(ctx.scene["evidence_ids"])))
    return facts


def _number_fact(
    ctx: FactContext, family: Family, category: str, n: int, ids: list[str], evidence: list[str]
) -> Fact:
    return Fact(
        family=family.name,
        key=f"count|{category}",
        value=str(n),
        slots={"plural": plural(category), "category": category},
        referent_name=category,
        referent_ids=ids,
        referent_bbox=None,
        evidence=evidence,
        distractors=_number_distractors(ctx, category, n),
    )


# -- attribute aspects (color, material, shape, size, action, ...) ----------------------
def exclusive_pool(aspect: str, value: str) -> list[str] | None:
    """For an aspect with exclusive sets (item_rules.toml): the other values of the set
    holding `value` (None when no set holds it). VG does not list every action of an
    object, so only a value that excludes the answer can be a distractor."""
    pool = [v for group in item_rules()["exclusive_sets"][aspect] if value in group for v in group]
    return list(dict.fromkeys(v for v in pool if v != value)) or None


def attribute_facts(ctx: FactContext, family: Family) -> list[Fact]:
    aspect = family.aspect
    excluded, asked_of_any = _excluded(aspect), _asked_of_any(aspect)  # once per scene
    facts = []
    for g in askable(ctx.groups):
        values = g.values(aspect)
        if not values:
            continue
        # "the grey computer monitor", "the metal rod": the name says (or contradicts)
        # the answer; and a person's colour is not asked.
        unfit = aspect in _not_asked_of(g.name) and not values <= asked_of_any
        if name_states(g.name, aspect) or unfit:
            ctx.skip(aspect, "name_states_the_aspect")
            continue
        if g.compound(aspect) or values & excluded:
            ctx.skip(aspect, "multi_valued")
            continue
        if len(values) > 1:
            ctx.skip(aspect, "conflicting_labels")
            continue
        if not ctx.visible(g.main):
            ctx.skip(aspect, "too_small_to_see")
            continue
        (value,) = values
        fact = _attribute_fact(ctx, family, g, value)
        if fact is not None:
            facts.append(fact)
    return facts


def _attribute_fact(ctx: FactContext, family: Family, g: Referent, value: str) -> Fact | None:
    aspect = family.aspect
    same = ctx.same_name(g.name)
    phrase, _ = phrase_for(g, len(same) == 1, ctx.scene)
    # Values true of any object the words could mean are never distractors.
    forbidden = set().union(*(c.any_values(aspect) for c in same))
    forbidden |= _excluded(aspect)
    if aspect in item_rules()["exclusive_sets"]:
        pool = exclusive_pool(aspect, value)
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

    options = _value_options(ctx.stats, aspect, g.name)
    weight = options.weight
    # Options are filtered before de-duplication (both act per option, so they commute).
    same_ids = {id(c) for c in same}  # referents of a related name (same_name above)
    cands = [
        Distractor(option=v, source="other_object_value", object_ids=other.ids, weight=weight(v))
        for other, values in ctx.valued_groups(aspect)
        if id(other) not in same_ids
        for v in values
        if usable(v)
    ]
    cands += [options.prior(v) for v in options.seen_with if usable(v)]
    # usable() minus its image-independent tests, which _fallback_values applied already.
    cands += [
        options.fallback(v)
        for v in _fallback_values(aspect, value)
        if v not in forbidden and (allowed is None or v in allowed)
    ]
    return Fact(
        family=family.name,
        key=f"{aspect}|{g.main['object_id']}",
        value=value,
        slots=subject_slots(phrase, g.name),
        referent_name=g.name,
        referent_ids=g.ids,
        referent_bbox=g.main["bbox"],
        evidence=g.evidence + ctx.scene["evidence_ids"],
        distractors=dedupe(cands),
    )


class _ValueOptions:
    """The value distractors of one (aspect, referent name) that carry no object ids, made
    once per process: their weight depends on the name only, and distractors are never
    changed after they are made."""

    def __init__(self, stats: Stats, aspect: str, name: str) -> None:
        self._stats, self._aspect, self._name = stats, aspect, name
        self.seen_with = stats.values_seen_with(aspect, name)
        self._weights: dict[str, float] = {}
        self._priors: dict[str, Distractor] = {}
        self._fallbacks: dict[str, Distractor] = {}

    def weight(self, value: str) -> float:
        w = self._weights.get(value)
        if w is None:
            w = self._weights[value] = self._stats.value_weight(self._aspect, self._name, value)
        return w

    def prior(self, value: str) -> Distractor:
        d = self._priors.get(value)
        if d is None:
            d = Distractor(option=value, source="class_prior", weight=self.weight(value))
            self._priors[value] = d
        return d

    def fallback(self, value: str) -> Distractor:
        d = self._fallbacks.get(value)
        if d is None:
            weight = self.weight(value)
            d = Distractor(option=value, source="aspect_value", tier=FALLBACK, weight=weight)
            self._fallbacks[value] = d
        return d


@lru_cache(maxsize=4096)
def _value_options(stats: Stats, aspect: str, name: str) -> _ValueOptions:
    return _ValueOptions(stats, aspect, name)


@lru_cache(maxsize=4096)
def _fallback_values(aspect: str, value: str) -> tuple[str, ...]:
    """The aspect's values that may stand against `value` in any image: not the value
    itself and not confusable with it (in attribute_values order)."""
    return tuple(
        v for v in attribute_values(aspect) if v != value and not are_confusable(aspect, v, value)
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


def centre_offsets(a: list[float], b: list[float]) -> tuple[float, float]:
    """Centre of box a minus centre of box b (x, y; y grows downwards)."""
    return a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2


# Direction -> (axis, sign): the centre offset of a from b along that axis, times the
# sign, is positive when the direction holds (y grows downwards).
AXIS_SIGN = {"left": (0, -1), "right": (0, 1), "above": (1, -1), "below": (1, 1)}


def clear_by_centres(direction_name: str, a: list[float], b: list[float], ratio: float) -> bool:
    """a's centre is on that side of b's, apart along the direction's axis at least `ratio`
    times as much as across it: "left of" in a diagonal layout is not clear."""
    offsets = centre_offsets(a, b)
    axis, sign = AXIS_SIGN[direction_name]
    along, across = sign * offsets[axis], offsets[1 - axis]
    return along > 0 and along >= ratio * abs(across)


def clear_direction(a: list[float], b: list[float], scene: dict[str, Any], margin: float):
    """(the one clear direction of a from b, or None, and the skip reason). Clear: it holds
    by the margin and edge tests even with every edge moved by the slack, no other direction
    holds even with the edges moved the other way (so every other direction is clearly
    false), and it is clear by the centres."""
    rules = _clarity()
    args = (a, b, scene["width"], scene["height"], margin)
    found = direction(*args, SPATIAL_SLACK_PX)
    loose = direction(*args, -SPATIAL_SLACK_PX)
    if len(found) != 1 or loose != found:
        return None, "boxes_nearly_align" if not found else "two_directions"
    (value,) = found
    if not clear_by_centres(value, a, b, rules["axis_ratio"]):
        return None, "diagonal"
    return value, None


def _spatial_candidates(ctx: FactContext, family: Family) -> list[Referent]:
    """Unique, visible objects that do not span most of the image."""
    scene = ctx.scene
    image_area = scene["width"] * scene["height"]
    span = _clarity()["max_span"]
    out = []
    for g in askable(ctx.groups):
        if len(ctx.same_name(g.name)) != 1:
            continue
        box = g.main["bbox"]
        if box[2] * box[3] < MIN_SPATIAL_AREA_SHARE * image_area or not ctx.visible(g.main):
            ctx.skip(family.name, "too_small_to_see")
        elif spans_image(box, scene["width"], scene["height"], span):
            ctx.skip(family.name, "spans_image")
        else:
            out.append(g)
    return out


def spatial_facts(ctx: FactContext, family: Family) -> list[Fact]:
    scene = ctx.scene
    unique = _spatial_candidates(ctx, family)
    pairs = [(a, b) for a in unique for b in unique if a is not b and not related(a.name, b.name)]
    pair_hash = hash_prefix(ctx.seed, scene["scene_id"])  # the same values as stable_hash64
    pairs.sort(key=lambda p: pair_hash(p[0].name, p[1].name))
    phrases = item_rules()["spatial"]["phrases"]
    facts = []
    for a, b in pairs:
        if len(facts) == SPATIAL_PAIRS_PER_SCENE:
            break
        value, reason = clear_direction(a.main["bbox"], b.main["bbox"], scene, ctx.spatial_margin)
        if value is None:
            ctx.skip(family.name, reason)
            continue
        others = [d for d in phrases if d != value]
        facts.append(
            Fact(
                family=family.name,
                key=f"spatial|{a.main['object_id']}|{b.main['object_id']}",
                value=value,
                slots=subject_slots(f"the {a.name}", a.name) | {"ref2": f"the {b.name}"},
                referent_name=a.name,
                referent_ids=a.ids + b.ids,
                referent_bbox=a.main["bbox"],
                evidence=a.evidence + b.evidence + scene["evidence_ids"],
                distractors=[Distractor(option=d, source="other_direction") for d in others],
                anchor_ids=b.ids,
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


def relation_facts(ctx: FactContext, family: Family) -> list[Fact]:
    asked = item_rules()["relation"]["asked"]
    group_of = {oid: g for g in ctx.groups for oid in g.ids}
    facts, seen = [], set()
    for rel in ctx.scene["relations"]:
        pred = rel["predicate"]
        if pred not in asked:
            continue
        s, o = group_of.get(rel["subject_id"]), group_of.get(rel["object_id"])
        if s is None or o is None or s is o or not (is_askable(s) and is_askable(o)):
            continue
        if len(ctx.same_name(s.name)) != 1 or len(ctx.same_name(o.name)) != 1:
            ctx.skip(family.name, "ambiguous_referent")
            continue
        if not (ctx.visible(s.main) and ctx.visible(o.main)):
            ctx.skip(family.name, "too_small_to_see")
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
        # A false predicate must be one annotated elsewhere between objects of these two
        # names ("holding" a helmet, never "flying" it), weighted by how often.
        elsewhere = ctx.stats.pair_predicates(s.name, o.name)
        cands = [
            Distractor(option=p, source="seen_with_pair", weight=elsewhere[p])
            for p in asked
            if p in elsewhere and p not in banned
        ]
        if not cands:
            ctx.skip(family.name, "no_plausible_false_predicate")
            continue
        facts.append(
            Fact(
                family=family.name,
                key=key,
                value=pred,
                slots=subject_slots(f"the {s.name}", s.name) | {"ref2": f"the {o.name}"},
                referent_name=s.name,
                referent_ids=s.ids + o.ids,
                referent_bbox=s.main["bbox"],
                evidence=[rel["relation_id"], *s.evidence, *o.evidence, *ctx.scene["evidence_ids"]],
                distractors=cands,
                anchor_ids=o.ids,
            )
        )
    return facts


# -- existence (POPE) --------------------------------------------------------------------
POPE_PER_SIDE = 3


def existence_facts(ctx: FactContext, family: Family) -> list[Fact]:
    """POPE: present categories (yes) and, per setting, as many absent ones (no): random,
    popular (most frequent overall), adversarial (most co-occurring with what is present)."""
    if ctx.scene["image_source"] != "coco":
        ctx.skip(family.name, "not_exhaustive")
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
            ctx.skip(family.name, f"too_few_negatives_{setting}")
            continue
        for category in positives:
            objs = present[category]
            evidence = sorted(o["object_id"] for o in objs) + ctx.scene["evidence_ids"]
            ids = [o["object_id"] for o in objs]
            facts.append(_existence(family, setting, category, True, ids, evidence))
        for category in negatives:
            evidence = list(ctx.scene["evidence_ids"])
            facts.append(_existence(family, setting, category, False, [], evidence))
    return facts


def _existence(
    family: Family, setting: str, category: str, present: bool, ids: list[str], ev: list[str]
) -> Fact:
    return Fact(
        family=family.name,
        key=f"exist|{setting}|{category}",
        value="yes" if present else "no",
        slots={"name": category},
        referent_name=category,
        referent_ids=ids,
        referent_bbox=None,
        evidence=ev,
        distractors=[],
        pope_setting=setting,
    )


# One function per generator kind of the registry (pipeline/registry.GENERATOR_KINDS).
Generator = Callable[[FactContext, Family], list[Fact]]
GENERATORS: dict[str, Generator] = {
    "entity_present": entity_present_facts,
    "entity_region": entity_region_facts,
    "number": number_facts,
    "attribute": attribute_facts,
    "spatial": spatial_facts,
    "relation": relation_facts,
    "existence": existence_facts,
}


def family_facts(ctx: FactContext, family: str) -> list[Fact]:
    """The facts of one family of the registry."""
    spec = registry().family(family)
    return GENERATORS[spec.generator](ctx, spec)


def scene_facts(ctx: FactContext) -> list[Fact]:
    """Every family's facts, in registry order."""
    return [fact for name in registry().families for fact in family_facts(ctx, name)]
