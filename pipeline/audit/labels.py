"""Label checks that list annotations and items for a human to look at: one VG object with
mutually exclusive values in one aspect, near-duplicate boxes of one object that disagree,
and duplicate or near-duplicate questions on one image."""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations
from typing import Any

from pipeline.normalize import are_confusable
from pipeline.normalize.countability import COUNT, be, countability
from pipeline.registry import registry
from pipeline.tables import load_table

REGION = re.compile(r"\[[0-9., ]+\]")


def values_conflict(aspect: str, a: str, b: str) -> bool:
    """Two values that cannot both be true of one object (confusable ones can)."""
    if a == b or are_confusable(aspect, a, b):
        return False
    exclusive_sets = load_table("item_rules")["exclusive_sets"]
    if aspect in exclusive_sets:  # VG lists several actions; only the exclusive sets clash
        return any(a in group and b in group for group in exclusive_sets[aspect])
    return True


def _clashes(aspect: str, values: list[str]) -> list[list[str]]:
    return [[a, b] for a, b in combinations(sorted(values), 2) if values_conflict(aspect, a, b)]


def exclusive_values(scenes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects annotated with two values of one aspect that exclude each other. A compound
    value ("white and red") is one multi-coloured label, not a clash."""
    out = []
    for scene in scenes:
        for obj in scene["objects"]:
            for aspect in registry().single_valued_aspects:
                if aspect in (obj.get("multi_valued") or []):
                    continue
                clashes = _clashes(aspect, obj["attributes"].get(aspect) or [])
                if clashes:
                    out.append(
                        {
                            "scene_id": scene["scene_id"],
                            "object_id": obj["object_id"],
                            "name": obj["name"],
                            "aspect": aspect,
                            "values": sorted(obj["attributes"][aspect]),
                            "clashes": clashes,
                            "raw_attributes": obj.get("raw_attributes") or [],
                        }
                    )
    return out


def _root(obj_id: str, parent: dict[str, str | None]) -> str:
    seen = set()
    while parent.get(obj_id) and obj_id not in seen:  # a cycle would be a scene bug: stop
        seen.add(obj_id)
        obj_id = parent[obj_id]  # type: ignore[assignment]
    return obj_id


def duplicate_box_conflicts(scenes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Near-duplicate boxes of one object (VG `duplicate_of`) whose values in one aspect
    share nothing compatible: one box says red, the other blue."""
    out = []
    for scene in scenes:
        objects = {o["object_id"]: o for o in scene["objects"]}
        parent = {i: o.get("duplicate_of") for i, o in objects.items()}
        groups: dict[str, list[str]] = defaultdict(list)
        for i in objects:
            groups[_root(i, parent)].append(i)
        for root, ids in sorted(groups.items()):
            if len(ids) < 2:
                continue
            for aspect in registry().single_valued_aspects:
                by_box = {i: objects[i]["attributes"].get(aspect) or [] for i in sorted(ids)}
                labelled = {i: v for i, v in by_box.items() if v}
                pairs = [
                    [a, b]
                    for a, b in combinations(sorted(labelled), 2)
                    if all(values_conflict(aspect, x, y) for x in labelled[a] for y in labelled[b])
                ]
                if pairs:
                    out.append(
                        {
                            "scene_id": scene["scene_id"],
                            "object_ids": sorted(ids),
                            "name": objects[root]["name"],
                            "aspect": aspect,
                            "values_by_object": labelled,
                            "conflicting_pairs": pairs,
                        }
                    )
    return out


def iou(a: list[float] | None, b: list[float] | None) -> float:
    if not a or not b:
        return 0.0
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def normalize_question(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip(" ?.!")


def duplicate_questions(items: list[dict[str, Any]], min_iou: float) -> list[dict[str, Any]]:
    """Questions asked twice on one image in one form: the same text ("duplicate"), or the
    same text but for region coordinates of nearly the same box ("near_duplicate").
    A multiple-choice question is its text with its options; rotations of one circular
    question are one question; POPE asks a category once per setting, by design."""
    groups: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for item in items:
        masked = REGION.sub("[region]", normalize_question(item["question"]))
        key = (item["scene_id"], item["form"], item.get("pope_setting"), masked)
        if item["form"] == "mcq":
            key += tuple(sorted(item["options"]))
        groups[key].setdefault(item["group_id"], item)
    out = []
    for (scene_id, form, *_), by_group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        for a, b in combinations(sorted(by_group.values(), key=lambda i: i["id"]), 2):
            same = normalize_question(a["question"]) == normalize_question(b["question"])
            overlap = iou(a["referent_bbox"], b["referent_bbox"])
            if not same and overlap < min_iou:
                continue
            out.append(
                {
                    "scene_id": scene_id,
                    "form": form,
                    "kind": "duplicate" if same else "near_duplicate",
                    "ids": [a["id"], b["id"]],
                    "questions": [a["question"], b["question"]],
                    "answers": [a["answer"], b["answer"]],
                    "same_answer": a["answer"] == b["answer"],
                    "box_iou": round(overlap, 4),
                }
            )
    return out


def grammar_problems(text: str, names: set[str]) -> list[str]:
    """Articles and agreement for the object names an item uses: no "a" before a mass or
    plural noun ("a grass", "a scissors"; "a pair of scissors" is fine), and "the glasses
    are", "the bus is"."""
    found = []
    for name in sorted(names):
        kind = countability(name)
        quoted = re.escape(name)
        if kind != COUNT:
            for article in re.findall(rf"\b(a|an) {quoted}\b", text, re.IGNORECASE):
                found.append(f"{article!r} before {kind} noun {name!r}")
        for verb in re.findall(rf"\bthe {quoted} (is|are)\b", text, re.IGNORECASE):
            if verb.lower() != be(name):
                found.append(f"'the {name} {verb}' does not agree")
    return found


def grammar_violations(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items whose question or answer breaks article or agreement rules for the names they
    use (the referent, and for entity items the options and answer value)."""
    out = []
    for item in items:
        names = {item["referent_name"] or ""} | {item["answer_value"]}
        if item["aspect"] == "entity":
            names |= set(item["options"]) | {d["option"] for d in item["distractor_sources"]}
        names = {n for n in names if n and n not in ("yes", "no")}
        text = f"{item['question']} {item['answer']}"
        problems = grammar_problems(text, names)
        if problems:
            out.append({"id": item["id"], "text": text, "problems": problems})
    return out
