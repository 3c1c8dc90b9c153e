"""Global statistics the item rules need (distractor plausibility, POPE popular and
adversarial sampling). Counted per partition and summed in partition order, so they do not
depend on partitioning."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.facts.referents import live_objects
from pipeline.registry import registry


def scene_stats(scenes: list[dict[str, Any]]) -> dict[str, Any]:
    category_images: Counter = Counter()
    cooccur: Counter = Counter()
    name_images: Counter = Counter()
    name_values: Counter = Counter()
    predicates: Counter = Counter()
    value_aspects = registry().attribute_aspects
    for scene in scenes:
        objects = live_objects(scene)
        cats = sorted({o["coco_category"] for o in objects if o["coco_category"]})
        category_images.update(cats)
        cooccur.update(f"{a}|{b}" for a in cats for b in cats if a != b)
        name_images.update({o["name"] for o in objects})
        for o in objects:
            for aspect in value_aspects:
                name_values.update(f"{aspect}|{o['name']}|{v}" for v in o["attributes"][aspect])
        predicates.update(r["predicate"] for r in scene["relations"])
    return {
        "scenes": len(scenes),
        "category_images": dict(category_images),
        "cooccur": dict(cooccur),
        "name_images": dict(name_images),
        "name_values": dict(name_values),
        "predicates": dict(predicates),
    }


def merge_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"scenes": 0}
    for part in parts:
        total["scenes"] += part["scenes"]
        for key, counts in part.items():
            if isinstance(counts, dict):
                bucket = total.setdefault(key, Counter())
                bucket.update(counts)
    return {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()}


class Stats:
    """Read access to merged statistics, with deterministic tie-breaking by name."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._values: dict[tuple[str, str], list[str]] = {}
        for key, n in data.get("name_values", {}).items():
            aspect, name, value = key.split("|", 2)
            self._values.setdefault((aspect, name), []).append((n, value))
        self._categories = _by_count(data.get("category_images", {}))
        self._names = _by_count(data.get("name_images", {}))
        self._with: dict[str, dict[str, int]] = {}  # category -> categories seen with it
        for key, n in data.get("cooccur", {}).items():
            a, b = key.split("|")
            self._with.setdefault(a, {})[b] = n
        self._ranked: dict[tuple[str, ...], list[str]] = {}

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


def _by_count(counts: dict[str, int]) -> list[str]:
    """Most frequent first, ties by name (deterministic)."""
    return sorted(counts, key=lambda c: (-counts[c], c))
