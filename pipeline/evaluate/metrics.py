"""Metrics over judged items: accuracy with a Wilson interval, POPE's yes/no set,
CircularEval over rotation groups, and the misgrounding breakdown of wrong mcq answers."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.evaluate.extract import Judgement, value_of_option
from pipeline.normalize import are_confusable

Z95 = 1.959963984540054
BUCKETS = ("wrong_object", "prior", "confusable", "unrelated", "unparsed", "missing")
SOURCE_BUCKET = {"other_object_value": "wrong_object", "class_prior": "prior"}


@dataclass(frozen=True)
class Scored:
    """One item with its judgement; `judgement` is None when the item had no prediction."""

    item: dict[str, Any]
    judgement: Judgement | None

    @property
    def correct(self) -> bool:
        return self.judgement is not None and self.judgement.correct

    @property
    def unparsed(self) -> bool:
        return self.judgement is not None and not self.judgement.parsed

    @property
    def missing(self) -> bool:
        return self.judgement is None

    @property
    def chosen(self) -> str | None:
        return None if self.judgement is None else self.judgement.chosen


def wilson(correct: int, n: int, z: float = Z95) -> list[float] | None:
    """Wilson score interval: sound for small n and for accuracies near 0 or 1."""
    if n == 0:
        return None
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 6) if b else None


def accuracy(rows: list[Scored]) -> dict[str, Any]:
    n = len(rows)
    correct = sum(r.correct for r in rows)
    return {
        "n": n,
        "correct": correct,
        "unparsed": sum(r.unparsed for r in rows),
        "missing": sum(r.missing for r in rows),
        "accuracy": _ratio(correct, n),
        "ci95": wilson(correct, n),
    }


def grouped(
    rows: Iterable[Scored], key: Callable[[Scored], str | None], metric: Callable
) -> dict[str, Any]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        k = key(r)
        if k is not None:
            groups[k].append(r)
    return {k: metric(v) for k, v in sorted(groups.items())}


def pope(rows: list[Scored]) -> dict[str, Any]:
    """POPE's set with "yes" as the positive class. An unparsed or missing answer is no
    "yes": it is a false negative on a yes item and wrong in the accuracy."""
    said_yes = [r for r in rows if r.chosen == "yes"]
    tp = sum(r.item["answer"] == "yes" for r in said_yes)
    positives = sum(r.item["answer"] == "yes" for r in rows)
    precision = _ratio(tp, len(said_yes))
    recall = _ratio(tp, positives)
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0
    return {
        **accuracy(rows),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "yes_ratio": _ratio(len(said_yes), len(rows)),
    }


def yes_no_metrics(rows: list[Scored]) -> dict[str, Any]:
    yn = [r for r in rows if r.item["form"] == "yes_no"]
    return {
        "overall": pope(yn),
        "by_aspect": grouped(yn, lambda r: r.item["aspect"], pope),
        "by_pope_setting": grouped(yn, lambda r: r.item.get("pope_setting"), pope),
    }


def has_rotations(rows: list[Scored]) -> bool:
    sizes = Counter(r.item.get("group_id", r.item["id"]) for r in rows if r.item["form"] == "mcq")
    return any(n > 1 for n in sizes.values())


def circular(rows: list[Scored]) -> dict[str, Any]:
    """MMBench's CircularEval: a group of rotations counts only if every rotation is right
    (a missing rotation is not right)."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        if r.item["form"] == "mcq":
            groups[r.item.get("group_id", r.item["id"])].append(r)

    def summary(members: list[list[Scored]]) -> dict[str, Any]:
        correct = sum(all(r.correct for r in g) for g in members)
        return {
            "groups": len(members),
            "correct": correct,
            "accuracy": _ratio(correct, len(members)),
            "ci95": wilson(correct, len(members)),
        }

    by_aspect: dict[str, list[list[Scored]]] = defaultdict(list)
    for g in groups.values():
        by_aspect[g[0].item["aspect"]].append(g)
    return {
        "overall": summary(list(groups.values())),
        "by_aspect": {a: summary(gs) for a, gs in sorted(by_aspect.items())},
    }


def misgrounding_bucket(r: Scored) -> str | None:
    """Why a wrong mcq answer was wrong, from the chosen distractor's recorded source:
    grounded to another object, a prior of the class, a confusable value, or unrelated."""
    if r.item["form"] != "mcq" or r.correct:
        return None
    if r.missing:
        return "missing"
    if r.unparsed or r.chosen is None:
        return "unparsed"
    aspect = r.item["aspect"]
    chosen = value_of_option(aspect, r.chosen)
    answer = value_of_option(aspect, r.item["answer"])
    # Checked first: a near-identical value says more than where the distractor came from.
    if are_confusable(aspect, chosen, answer):
        return "confusable"
    source = next(
        (d["source"] for d in r.item["distractor_sources"] if d["option"] == r.chosen), None
    )
    return SOURCE_BUCKET.get(source or "", "unrelated")


def misgrounding(rows: list[Scored]) -> dict[str, Any]:
    def count(group: list[Scored]) -> dict[str, int]:
        found = Counter(misgrounding_bucket(r) for r in group)
        return {"wrong": sum(found[b] for b in BUCKETS)} | {b: found[b] for b in BUCKETS}

    mcq = [r for r in rows if r.item["form"] == "mcq"]
    return {"overall": count(mcq), "by_aspect": grouped(mcq, lambda r: r.item["aspect"], count)}


def report(rows: list[Scored]) -> dict[str, Any]:
    """Every metric of one predictions file over the build's items."""
    return {
        "overall": accuracy(rows),
        "by_aspect": grouped(rows, lambda r: r.item["aspect"], accuracy),
        "by_form": grouped(rows, lambda r: r.item["form"], accuracy),
        "by_aspect_form": grouped(rows, lambda r: f"{r.item['aspect']}/{r.item['form']}", accuracy),
        "yes_no": yes_no_metrics(rows),
        "circular": circular(rows) if has_rotations(rows) else None,
        "misgrounding": misgrounding(rows),
    }
