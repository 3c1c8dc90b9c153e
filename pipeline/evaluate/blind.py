"""The blind (text-only) baseline: answers each item from the answers of *other* images'
items that share its question template and referent, never looking at its own image. If it
beats chance by much, the questions leak their answers through language priors.

Images are split into k folds by a stable hash of the scene id, so an image's items (its
rotations, its yes/no twins) are never both in training and held out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from pipeline.hashing import stable_hash64

OPEN_FORMS = frozenset({"fill_blank", "correction"})


def _keys(item: dict[str, Any]) -> list[Hashable]:
    """Back-off order: the template with its referent, the template, the aspect and form."""
    return [
        ("template_referent", item["template_id"], item.get("referent_name")),
        ("template", item["template_id"]),
        ("aspect_form", item["aspect"], item["form"]),
    ]


def _answer(item: dict[str, Any]) -> str:
    # Open forms are scored on the value; closed forms on the option text.
    return item["answer_value"] if item["form"] in OPEN_FORMS else item["answer"]


def _fold(item: dict[str, Any], folds: int, seed: int) -> int:
    return stable_hash64(seed, "blind-fold", item["scene_id"]) % folds


def _pick(candidates: list[str], counts: Counter, seed: int, group: str) -> str | None:
    """The most frequent candidate; ties broken by a hash, neither by position nor order."""
    best = max((counts[c] for c in candidates), default=0)
    if best == 0:
        return None
    tied = [c for c in candidates if counts[c] == best]
    return min(tied, key=lambda c: stable_hash64(seed, "blind-tie", group, c))


def blind_predictions(items: list[dict], folds: int = 5, seed: int = 0) -> dict[str, str]:
    """item id -> the text-only prediction for that item, by k-fold over images."""
    if folds < 2:
        raise ValueError("blind_predictions needs at least 2 folds")
    per_fold: list[dict[Hashable, Counter]] = [{} for _ in range(folds)]
    fold_of = {}
    for item in items:
        f = fold_of[item["id"]] = _fold(item, folds, seed)
        for key in _keys(item):
            per_fold[f].setdefault(key, Counter())[_answer(item)] += 1
    total: dict[Hashable, Counter] = {}
    for counters in per_fold:
        for key, c in counters.items():
            total.setdefault(key, Counter()).update(c)

    training: dict[tuple[int, Hashable], Counter] = {}  # (fold, key) -> counts outside it
    out: dict[str, str] = {}
    for item in items:
        f = fold_of[item["id"]]
        # Rotations share a group: the same option text is picked for all of them.
        group = item.get("group_id") or item["id"]
        closed = item["form"] not in OPEN_FORMS
        choice = None
        for key in _keys(item):
            if (f, key) not in training:
                training[f, key] = total[key] - per_fold[f].get(key, Counter())
            counts = training[f, key]
            candidates = list(item["options"]) if closed else sorted(counts)
            choice = _pick(candidates, counts, seed, group)
            if choice is not None:
                break
        if choice is None:  # nothing learnt at any level: a seeded guess
            pool = list(item["options"]) if closed else [""]
            choice = min(pool, key=lambda c: stable_hash64(seed, "blind-tie", group, c))
        out[item["id"]] = choice
    return out
