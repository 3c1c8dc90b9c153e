"""Which items the automatic checks flagged, and why: the annotation oracle's violations,
article and agreement problems, duplicate questions, captions that disagree, and referents
whose annotations clash (pipeline/audit). A reviewer looks at every one of them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.audit import captions, labels
from pipeline.errors import InputError

Flags = dict[str, list[str]]  # item id -> the findings that name it


def oracle_flags(out: Path, items: list[dict[str, Any]]) -> tuple[Flags, str | None]:
    """The oracle's violations per item, and why the oracle could not run (raw files gone)."""
    from pipeline.audit.oracle import oracle_for_build

    try:
        oracle = oracle_for_build(out)
    except InputError as err:
        return {}, str(err)
    found: Flags = {}
    for item in items:
        problems = oracle.violations(item)
        if problems:
            found[item["id"]] = [f"oracle: {p}" for p in problems]
    return found, None


def label_flags(
    items: list[dict[str, Any]], scenes: list[dict[str, Any]], near_duplicate_iou: float
) -> Flags:
    """Findings of the audit's label checks, mapped onto the items they concern."""
    found: Flags = defaultdict(list)
    for row in labels.grammar_violations(items):
        found[row["id"]] += [f"grammar: {p}" for p in row["problems"]]
    for row in labels.duplicate_questions(items, near_duplicate_iou):
        other = dict(zip(row["ids"], reversed(row["ids"]), strict=True))
        for item_id in row["ids"]:
            found[item_id].append(f"{row['kind'].replace('_', '-')} question of {other[item_id]}")
    # Annotation clashes: an item about that object and aspect rests on them.
    about: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in items:
        for object_id in item["referent_object_ids"]:
            about[(object_id, item["aspect"])].append(item["id"])
    for row in labels.exclusive_values(scenes):
        for item_id in about.get((row["object_id"], row["aspect"]), []):
            values = ", ".join(row["values"])
            found[item_id].append(
                f"labels: {row['object_id']} has exclusive {row['aspect']}s {values}"
            )
    for row in labels.duplicate_box_conflicts(scenes):
        hit = {i for o in row["object_ids"] for i in about.get((o, row["aspect"]), [])}
        for item_id in sorted(hit):
            found[item_id].append(
                f"labels: near-duplicate boxes of the {row['name']} disagree on {row['aspect']}"
            )
    for row in captions.check_captions(scenes, items)["disagreements"]:
        for item_id in row["item_ids"]:
            found[item_id].append(f"caption: {row['caption']!r} says {row['phrase']!r}")
    return dict(found)


def automatic_flags(
    out: Path,
    items: list[dict[str, Any]],
    scenes: list[dict[str, Any]],
    near_duplicate_iou: float,
) -> tuple[Flags, list[str]]:
    """Every finding per item id (sorted, no repeats), and notes on checks that could not run."""
    notes: list[str] = []
    found, why_not = oracle_flags(out, items)
    if why_not:
        notes.append(f"the annotation oracle did not run: {why_not}")
    merged: dict[str, set[str]] = defaultdict(set)
    for source in (found, label_flags(items, scenes, near_duplicate_iou)):
        for item_id, problems in source.items():
            merged[item_id].update(problems)
    return {i: sorted(p) for i, p in sorted(merged.items())}, notes
