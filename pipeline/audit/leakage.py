"""Language-prior leakage: the blind (text-only) baseline's accuracy minus chance, per aspect
and per (aspect, form). The baseline itself lives in `pipeline.evaluate.blind`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.evaluate.blind import OPEN_FORMS, blind_predictions


def as_seen(item: dict[str, Any]) -> dict[str, Any]:
    """The item as a text-only model sees it: for entity questions the referent's name is
    the answer itself, and the question refers by region, so the name is hidden (for both
    yes/no twins alike, so hiding it does not tell them apart)."""
    if item.get("referent_name") == item["answer_value"]:
        return dict(item, referent_name=None)
    return item


def chance_of(item: dict[str, Any], values_per_aspect: dict[str, int]) -> float:
    """A uniform guess: over the options, or for open forms over the aspect's answers."""
    if item["form"] in OPEN_FORMS:
        return 1.0 / max(1, values_per_aspect[item["aspect"]])
    return 1.0 / len(item["options"])


def correct(item: dict[str, Any], prediction: str | None) -> bool:
    truth = item["answer_value"] if item["form"] in OPEN_FORMS else item["answer"]
    return prediction == truth


def _summary(rows: list[tuple[bool, float]]) -> dict[str, Any]:
    n = len(rows)
    accuracy = sum(c for c, _ in rows) / n
    chance = sum(p for _, p in rows) / n
    return {
        "items": n,
        "blind_accuracy": round(accuracy, 6),
        "chance": round(chance, 6),
        "leakage": round(accuracy - chance, 6),
    }


def blind_leakage(items: list[dict[str, Any]], folds: int, seed: int) -> dict[str, Any]:
    """{"by_aspect": {aspect: summary}, "by_aspect_form": {aspect: {form: summary}}}."""
    if not items:
        return {"by_aspect": {}, "by_aspect_form": {}}
    predictions = blind_predictions([as_seen(i) for i in items], folds=folds, seed=seed)
    values: dict[str, set] = defaultdict(set)
    for item in items:
        values[item["aspect"]].add(item["answer_value"])
    sizes = {a: len(v) for a, v in values.items()}
    by_aspect: dict[str, list] = defaultdict(list)
    by_form: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        row = (correct(item, predictions.get(item["id"])), chance_of(item, sizes))
        by_aspect[item["aspect"]].append(row)
        by_form[item["aspect"]][item["form"]].append(row)
    return {
        "folds": folds,
        "by_aspect": {a: _summary(rows) for a, rows in sorted(by_aspect.items())},
        "by_aspect_form": {
            a: {f: _summary(rows) for f, rows in sorted(forms.items())}
            for a, forms in sorted(by_form.items())
        },
    }
