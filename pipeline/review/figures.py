"""Figures of a review round: per (aspect, form), per aspect and overall, the items reviewed
and their verdicts, the error rate with a Wilson 95% interval, and Cohen's kappa for every
pair of reviewers who judged the same items."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from pipeline.evaluate.metrics import wilson  # the accuracy intervals' Wilson interval
from pipeline.review.verdicts import VERDICTS, Verdict, consensus


def tally(verdicts: list[str]) -> dict[str, Any]:
    """Counts of the item verdicts and the error rate (wrong / reviewed) with its interval."""
    n = len(verdicts)
    out: dict[str, Any] = {"reviewed": n} | {v: verdicts.count(v) for v in VERDICTS}
    out["error_rate"] = round(out["wrong"] / n, 6) if n else None
    out["ci95"] = wilson(out["wrong"], n)
    return out


def cohen_kappa(a: list[str], b: list[str]) -> dict[str, Any]:
    """Agreement of two reviewers over the same items (lists in item order)."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    expected = sum((a.count(v) / n) * (b.count(v) / n) for v in VERDICTS)
    # Both always gave one and the same verdict: chance agreement is total, kappa undefined.
    kappa = None if expected == 1 else round((observed - expected) / (1 - expected), 6)
    return {
        "items": n,
        "observed": round(observed, 6),
        "expected": round(expected, 6),
        "kappa": kappa,
    }


def agreement(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    by_reviewer: dict[str, dict[str, str]] = defaultdict(dict)
    for v in verdicts:
        by_reviewer[v.reviewer][v.id] = v.verdict
    pairs = []
    for r1, r2 in combinations(sorted(by_reviewer), 2):
        shared = sorted(set(by_reviewer[r1]) & set(by_reviewer[r2]))
        if shared:
            a = [by_reviewer[r1][i] for i in shared]
            b = [by_reviewer[r2][i] for i in shared]
            pairs.append({"reviewers": [r1, r2]} | cohen_kappa(a, b))
    return pairs


def review_figures(verdicts: list[Verdict], items: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`overall`, `by_aspect` ({aspect: {"overall", "by_form"}}), `agreement`, and the items
    whose verdict (the reviewers' consensus) is wrong, ambiguous or unanswerable."""
    by_item: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        by_item[v.id].append(v)
    final = {i: consensus(vs) for i, vs in sorted(by_item.items())}
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item_id, verdict in final.items():
        groups[items[item_id]["aspect"]][items[item_id]["form"]].append(verdict)
    by_aspect = {
        aspect: {
            "overall": tally([v for vs in forms.values() for v in vs]),
            "by_form": {form: tally(vs) for form, vs in sorted(forms.items())},
        }
        for aspect, forms in sorted(groups.items())
    }
    judged = [
        {
            "id": item_id,
            "verdict": verdict,
            "aspect": items[item_id]["aspect"],
            "form": items[item_id]["form"],
            "question": items[item_id]["question"],
            "answer": items[item_id]["answer"],
            "verdicts": [
                {"reviewer": v.reviewer, "verdict": v.verdict, "note": v.note}
                for v in by_item[item_id]
            ],
        }
        for item_id, verdict in final.items()
        if verdict != "correct"
    ]
    return {
        "overall": tally(list(final.values())),
        "by_aspect": by_aspect,
        "agreement": agreement(verdicts),
        "reviewers": sorted({v.reviewer for v in verdicts}),
        "verdicts": len(verdicts),
        "judged_not_correct": judged,
    }


def sampled_tally(verdicts: list[Verdict], sampled: set[str]) -> dict[str, Any]:
    """The tally over the items drawn at random only (not those on the page for a flag)."""
    by_item: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        if v.id in sampled:
            by_item[v.id].append(v)
    return tally([consensus(vs) for _, vs in sorted(by_item.items())])
