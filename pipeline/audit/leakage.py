"""Language-prior leakage: how far the blind (text-only) attacks of `pipeline.evaluate.blind`
beat chance, per (aspect, form), per aspect and overall.

Leakage of a group = the better attack's accuracy there minus chance. Chance: closed forms
1/len(options) averaged over the group's items; open forms 1/(distinct answer values of the
aspect across the build). Every figure is a fraction: 0.05 is 5 percentage points."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.evaluate.blind import (
    ATTACKS,
    OPEN_FORMS,
    attack_correct,
    better_attack,
    blind_attacks,
)

UNIT = "fraction of items (0.05 = 5 percentage points)"


def chance_of(item: dict[str, Any], values_per_aspect: dict[str, int]) -> float:
    """A uniform guess: over the options, or for open forms over the aspect's answers."""
    if item["form"] in OPEN_FORMS:
        return 1.0 / max(1, values_per_aspect[item["aspect"]])
    return 1.0 / len(item["options"])


def _values_per_aspect(items: list[dict[str, Any]]) -> dict[str, int]:
    values: dict[str, set[str]] = defaultdict(set)
    for item in items:
        values[item["aspect"]].add(item["answer_value"])
    return {aspect: len(v) for aspect, v in values.items()}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Item-weighted figures of a set of rows (one per item, see `_rows`)."""
    out: dict[str, Any] = {"items": len(rows), "chance": _mean([r["chance"] for r in rows])}
    for name in ATTACKS:  # over the items the attack applies to (option prior: closed forms)
        out[f"{name}_accuracy"] = _mean([r[name] for r in rows if r[name] is not None])
    out["blind_accuracy"] = _mean([r["best"] for r in rows])
    out["leakage"] = round(out["blind_accuracy"] - out["chance"], 6)
    return out


def _rows(items: list[dict[str, Any]], folds: int, seed: int) -> dict[tuple, list[dict]]:
    """(aspect, form) -> one row per item: chance, each attack right or not, and `best`: right
    under the attack that does better on the group."""
    attacks = blind_attacks(items, folds, seed)
    sizes = _values_per_aspect(items)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        row = {n: attack_correct(item, attacks[n][item["id"]]) for n in ATTACKS}
        # Attack a answers every form; no prediction (nothing to learn from) is wrong.
        row["answer_prior"] = bool(row["answer_prior"])
        groups[item["aspect"], item["form"]].append(row | {"chance": chance_of(item, sizes)})
    for rows in groups.values():
        best = better_attack(rows)
        for row in rows:
            row["best"] = float(bool(row[best]))
    return groups


def blind_leakage(items: list[dict[str, Any]], folds: int, seed: int) -> dict[str, Any]:
    """{"by_aspect_form": {aspect: {form: summary}}, "by_aspect": {aspect: summary},
    "overall": summary, ...}; a summary has items, chance, each attack's accuracy, the
    better one's (`blind_accuracy`), `best_attack` (groups only) and `leakage`."""
    head = {"folds": folds, "unit": UNIT, "attacks": list(ATTACKS)}
    if not items:
        return head | {"by_aspect": {}, "by_aspect_form": {}, "overall": None}
    groups = _rows(items, folds, seed)
    by_form: dict[str, dict[str, Any]] = defaultdict(dict)
    by_aspect: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (aspect, form), rows in sorted(groups.items()):
        by_form[aspect][form] = _summary(rows) | {"best_attack": better_attack(rows)}
        by_aspect[aspect].extend(rows)
    return head | {
        "by_aspect_form": dict(by_form),
        "by_aspect": {a: _summary(rows) for a, rows in by_aspect.items()},
        "overall": _summary([r for rows in groups.values() for r in rows]),
    }


def markdown_table(leakage: dict[str, Any]) -> str:
    """The per-(aspect, form) table with the overall row, in percent, for docs and reviews."""
    lines = [
        "| aspect | form | items | chance | attack a (answer prior) | attack b (option prior) "
        "| leakage (points) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [
        (aspect, form, s)
        for aspect, forms in leakage["by_aspect_form"].items()
        for form, s in forms.items()
    ]
    if leakage["overall"]:
        rows.append(("**overall**", "", leakage["overall"]))
    for aspect, form, s in rows:
        cells = [s["chance"], s["answer_prior_accuracy"], s["option_prior_accuracy"]]
        shown = " | ".join("-" if v is None else f"{100 * v:.1f}" for v in cells)
        lines.append(f"| {aspect} | {form} | {s['items']} | {shown} | {100 * s['leakage']:+.1f} |")
    return "\n".join(lines) + "\n"
