"""Global statistics the item rules need: distractor plausibility and the answer
frequencies distractors are matched to (so that no option's text says whether it is right),
POPE popular and adversarial sampling. Counted per partition and summed in partition order,
so they do not depend on partitioning."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.facts.referents import live_objects
from pipeline.registry import registry
from pipeline.tables import load_table

# The stats file's tables that `Stats` looks up as they are (the others become indexes).
RAW_LOOKUPS = ("name_values", "category_images", "name_images")
# Pseudo-counts of the aspect-wide frequency in a name's (or category's) own frequency.
PRIOR_WEIGHT = 5.0


def scene_stats(scenes: list[dict[str, Any]]) -> dict[str, Any]:
    category_images: Counter = Counter()
    cooccur: Counter = Counter()
    name_images: Counter = Counter()
    name_values: Counter = Counter()
    predicates: Counter = Counter()
    pair_predicates: Counter = Counter()
    category_counts: Counter = Counter()
    value_aspects = registry().attribute_aspects
    # Only the predicates relation questions ask are looked up; the others (nine in ten
    # name pairs) would make every worker's copy of the stats several times larger.
    asked = frozenset(load_table("item_rules")["relation"]["asked"])
    for scene in scenes:
        objects = live_objects(scene)
        cats = sorted({o["coco_category"] for o in objects if o["coco_category"]})
        if scene["image_source"] == "coco":
            # How many instances a category has in an image: the answers of count questions.
            per_category = Counter(o["coco_category"] for o in objects if o["coco_category"])
            category_counts.update(f"{c}|{n}" for c, n in per_category.items())
            category_counts["|0"] += 1  # one zero count per image is asked
        names = {o["object_id"]: o["name"] for o in scene["objects"]}
        category_images.update(cats)
        cooccur.update(f"{a}|{b}" for a in cats for b in cats if a != b)
        name_images.update({o["name"] for o in objects})
        for o in objects:
            for aspect in value_aspects:
                name_values.update(f"{aspect}|{o['name']}|{v}" for v in o["attributes"][aspect])
        predicates.update(r["predicate"] for r in scene["relations"])
        pair_predicates.update(
            f"{names[r['subject_id']]}|{names[r['object_id']]}|{r['predicate']}"
            for r in scene["relations"]
            if r["predicate"] in asked and r["subject_id"] in names and r["object_id"] in names
        )
    return {
        "scenes": len(scenes),
        "category_images": dict(category_images),
        "cooccur": dict(cooccur),
        "name_images": dict(name_images),
        "name_values": dict(name_values),
        "predicates": dict(predicates),
        "pair_predicates": dict(pair_predicates),
        "category_counts": dict(category_counts),
    }


def sorted_totals(totals: dict[str, Counter]) -> dict[str, dict[str, int]]:
    """Summed counts as the stats file holds them: keys sorted, so the file does not depend
    on the order partitions met them."""
    return {key: dict(sorted(counts.items())) for key, counts in totals.items()}


class Stats:
    """Read access to merged statistics, with deterministic tie-breaking by name."""

    def __init__(self, data: dict[str, Any]) -> None:
        # Only what the look-ups below read stays; the rest is parsed into the indexes.
        self.data = {key: data[key] for key in RAW_LOOKUPS if key in data}
        self._values: dict[tuple[str, str], list[str]] = {}
        self._value_totals: Counter = Counter()  # (aspect, value) over every name
        self._name_totals: Counter = Counter()  # (aspect, name) over every value
        for key, n in data.get("name_values", {}).items():
            aspect, name, value = key.split("|", 2)
            self._values.setdefault((aspect, name), []).append((n, value))
            self._value_totals[aspect, value] += n
            self._name_totals[aspect, name] += n
        self._categories = _by_count(data.get("category_images", {}))
        self._names = _by_count(data.get("name_images", {}))
        self._with: dict[str, dict[str, int]] = {}  # category -> categories seen with it
        for key, n in data.get("cooccur", {}).items():
            a, b = key.split("|")
            self._with.setdefault(a, {})[b] = n
        self._ranked: dict[tuple[str, ...], list[str]] = {}
        self.scenes = data.get("scenes", 0)
        self._aspect_totals: Counter = Counter()
        for (aspect, _), n in self._value_totals.items():
            self._aspect_totals[aspect] += n
        self._pairs = _pair_index(data.get("pair_predicates", {}))
        self._counts: Counter = Counter()  # (category, n); "" is every category's zero
        for key, n in data.get("category_counts", {}).items():
            category, count = key.rsplit("|", 1)
            self._counts[category, int(count)] += n
        self._count_totals: Counter = Counter()
        for (category, count), n in list(self._counts.items()):
            self._count_totals[category] += n
            if category:
                self._counts["*", count] += n
                self._count_totals["*"] += n
        self._counts["*", 0] += self._counts["", 0]
        self._count_totals["*"] += self._counts["", 0]

    def values_seen_with(self, aspect: str, name: str) -> list[str]:
        pairs = self._values.get((aspect, name), [])
        return [v for _, v in sorted(pairs, key=lambda p: (-p[0], p[1]))]

    def popular_categories(self) -> list[str]:
        return self._categories

    def cooccurring(self, present: list[str]) -> list[str]:
        """Categories ranked by how often they appear with the present ones (images share
        their sets of categories, so each set is ranked once)."""
        key = tuple(sorted(set(present)))
        if key not in self._ranked:
            score: Counter = Counter()
            for category in key:
                score.update(self._with.get(category, {}))
            self._ranked[key] = sorted(score, key=lambda c: (-score[c], c))
        return self._ranked[key]

    def popular_names(self) -> list[str]:
        return self._names

    # -- distractor weights: the odds of being the answer ------------------------------
    # A value can be a distractor only where it is false, so a value that is the answer in
    # a share p of the questions is drawn with weight p / (1 - p): then it is offered about
    # as often as it is right, whatever its p ("white" for cars, "person" in COCO), and no
    # option's text says whether it is the answer (issue 16).
    def value_weight(self, aspect: str, name: str, value: str) -> float:
        """Odds that `value` answers this aspect for objects of this name, its share
        smoothed towards its share over every name (PRIOR_WEIGHT pseudo-counts)."""
        overall = (self._value_totals[aspect, value] + 1) / (self._aspect_totals[aspect] + 1)
        seen = self.data.get("name_values", {}).get(f"{aspect}|{name}|{value}", 0)
        return _odds(_smoothed(seen, self._name_totals[aspect, name], overall))

    def category_weight(self, category: str) -> float:
        """Odds that a category is present in a COCO image (an entity or existence answer)."""
        images = self.data.get("category_images", {}).get(category, 0)
        return _odds((images + 1) / (self._count_totals[""] + 2))

    def name_weight(self, name: str) -> float:
        """Odds that an object of this name is in an image."""
        return _odds((self.data.get("name_images", {}).get(name, 0) + 1) / (self.scenes + 2))

    def count_weight(self, category: str, count: int) -> float:
        """Odds that a count question about the category has this answer: zero as often as
        zero is asked at all (one absent category per image), other counts as often as the
        category has that many instances, smoothed towards every category's counts."""
        everything = self._count_totals["*"] + 1
        zero_share = (self._counts["*", 0] + 1) / everything
        if count == 0:
            return _odds(zero_share)
        overall = (self._counts["*", count] + 1) / everything
        share = _smoothed(self._counts[category, count], self._count_totals[category], overall)
        return _odds((1 - zero_share) * share)

    def pair_predicates(self, subject: str, obj: str) -> dict[str, int]:
        """Predicates annotated anywhere between objects of these two names."""
        found = self._pairs.get(f"{subject}|{obj}")
        return dict(zip(found[::2], found[1::2], strict=True)) if found else {}


def _pair_index(counts: dict[str, int]) -> dict[str, tuple]:
    """Counts by "subject|object|predicate" -> "subject|object": (predicate, count, ...). Every
    worker holds this for the whole build and it grows with the input (84K counts at 100K
    images). With a dict per name pair, keyed by a tuple of two new strings, `Stats` held
    37 MB there; with one flat tuple per pair and one string object per predicate, 10 MB."""
    grouped: dict[str, list] = {}
    predicates: dict[str, str] = {}
    for key, n in counts.items():
        subject, obj, predicate = key.split("|", 2)
        flat = grouped.setdefault(f"{subject}|{obj}", [])
        flat += (predicates.setdefault(predicate, predicate), n)
    return {pair: tuple(flat) for pair, flat in grouped.items()}


def _smoothed(seen: float, total: float, overall: float) -> float:
    """A share of `total`, with PRIOR_WEIGHT pseudo-counts at the `overall` share."""
    return (seen + PRIOR_WEIGHT * overall) / (total + PRIOR_WEIGHT)


def _odds(share: float) -> float:
    return share / max(1.0 - share, 1e-6)


def _by_count(counts: dict[str, int]) -> list[str]:
    """Most frequent first, ties by name (deterministic)."""
    return sorted(counts, key=lambda c: (-counts[c], c))
