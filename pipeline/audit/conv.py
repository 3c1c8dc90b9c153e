"""The audit of MSG-Conv, read as a data user reads it: per kind, turns and families per
sample, samples that repeat a family, distinct question and answer texts (distinct-n), the
share of conversations that refer back, description coverage, grammar; and the sampled
samples for the sheet with their referents' boxes drawn."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.audit.labels import grammar_problems
from pipeline.audit.pictures import data_uri, draw_thumbnail, image_availability
from pipeline.facts.referents import mask_regions
from pipeline.hashing import stable_hash64
from pipeline.publish.layout import IMAGE_COLUMN
from pipeline.sides import TUNING, image_side

# A human turn that refers back to an earlier referent: a pronoun or "the same <name>".
FOLLOW_UP = re.compile(r"\b(it|its|they|them|their|the same)\b", re.IGNORECASE)
MIN_OBJECTS_FOR_DESCRIPTION = 3


def load_conv(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((out / "data" / "conv").glob("*.parquet")):
        columns = [c for c in pq.read_schema(path).names if c != IMAGE_COLUMN]
        rows.extend(pq.read_table(path, columns=columns).to_pylist())
    return rows


def human_turns(sample: dict[str, Any]) -> list[str]:
    return [
        t["value"].removeprefix("<image>\n")
        for t in sample["conversations"]
        if t["from"] == "human"
    ]


def answers(sample: dict[str, Any]) -> list[str]:
    return [t["value"] for t in sample["conversations"] if t["from"] == "gpt"]


def families(sample: dict[str, Any]) -> list[str]:
    """The family of each assistant turn (MSG-Conv talks about one family per aspect)."""
    return [c["aspect"] for c in sample["turn_facts"] if c is not None]


def is_follow_up(question: str) -> bool:
    return bool(FOLLOW_UP.search(question))


def has_follow_up(sample: dict[str, Any]) -> bool:
    return any(is_follow_up(q) for q in human_turns(sample)[1:])


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (Li et al. 2016)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = re.findall(r"[a-z0-9']+", text.lower())
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def kind_metrics(samples: list[dict[str, Any]]) -> dict[str, Any]:
    questions = [q for s in samples for q in human_turns(s)]
    replies = [a for s in samples for a in answers(s)]
    turns = [len(human_turns(s)) for s in samples]
    fams = [families(s) for s in samples]
    long = [s for s in samples if len(human_turns(s)) >= 3]
    return {
        "samples": len(samples),
        "human_turns": len(questions),
        "turns_per_sample": {
            "mean": round(sum(turns) / len(turns), 3) if turns else 0.0,
            "histogram": {str(k): v for k, v in sorted(Counter(turns).items())},
        },
        "families_per_sample": round(sum(len(set(f)) for f in fams) / len(fams), 3)
        if fams
        else 0.0,
        "repeated_family_samples": sum(len(set(f)) < len(f) for f in fams),
        "distinct_question_share": share(len(set(questions)), len(questions)),
        "distinct_question_share_regions_masked": share(
            len({mask_regions(q) for q in questions}), len(questions)
        ),
        "distinct_answer_share": share(len(set(replies)), len(replies)),
        "distinct_1": {"questions": distinct_n(questions, 1), "answers": distinct_n(replies, 1)},
        "distinct_2": {"questions": distinct_n(questions, 2), "answers": distinct_n(replies, 2)},
        "three_plus_turn_samples": len(long),
        "follow_up_share": share(sum(has_follow_up(s) for s in long), len(long)),
    }


def grammar_violations(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Article and agreement problems (labels.grammar_problems) in every turn, for the names
    and, for entity facts, the values its facts mention."""
    out = []
    for s in samples:
        claims = [c for c in s["turn_facts"] if c] + [c for cs in s["sentence_facts"] for c in cs]
        names = {c["referent_name"] for c in claims if c["referent_name"]}
        names |= {c["value"] for c in claims if c["aspect"] == "entity"}
        for turn in s["conversations"]:
            problems = grammar_problems(turn["value"], names)
            if problems:
                out.append({"id": s["id"], "text": turn["value"], "problems": problems})
    return out


def description_coverage(
    samples: list[dict[str, Any]], scenes: list[dict[str, Any]], tuning_fraction: float
) -> dict[str, Any]:
    """Tuning images with at least three live objects, and the share with a description."""
    described = {s["scene_id"] for s in samples if s["kind"] == "description"}
    eligible = [
        sc["scene_id"]
        for sc in scenes
        if image_side(sc["scene_id"], tuning_fraction) == TUNING
        and sum(o["duplicate_of"] is None for o in sc["objects"]) >= MIN_OBJECTS_FOR_DESCRIPTION
    ]
    hit = sum(sid in described for sid in eligible)
    return {"eligible_images": len(eligible), "described": hit, "share": share(hit, len(eligible))}


def conv_metrics(
    samples: list[dict[str, Any]], scenes: list[dict[str, Any]], tuning_fraction: float
) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_kind[s["kind"]].append(s)
    sentences = [len(s["sentences"]) for s in by_kind.get("description", [])]
    violations = grammar_violations(samples)
    return {
        "samples": len(samples),
        "by_kind": {kind: kind_metrics(rows) for kind, rows in sorted(by_kind.items())},
        "description": description_coverage(samples, scenes, tuning_fraction)
        | {"sentences_mean": round(sum(sentences) / len(sentences), 3) if sentences else 0.0},
        "grammar_violations": len(violations),
        "grammar_examples": violations[:20],
    }


def sheet_samples(samples: list[dict[str, Any]], per_kind: int, seed: int) -> list[dict[str, Any]]:
    """Up to per_kind samples of each kind, ranked by a stable hash of the id."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_kind[s["kind"]].append(s)
    out = []
    for _, rows in sorted(by_kind.items()):
        rows.sort(key=lambda s: stable_hash64(seed, "conv-sheet", s["id"]))
        out += rows[:per_kind]
    return out


def sample_boxes(sample: dict[str, Any], objects: dict[str, dict[str, Any]]) -> list[list[float]]:
    """The boxes of every object a sample's turns or sentences talk about."""
    claims = [c for c in sample["turn_facts"] if c] + [
        c for cs in sample["sentence_facts"] for c in cs
    ]
    ids = sorted({i for c in claims for i in c["referent_object_ids"]})
    return [objects[i]["bbox"] for i in ids if i in objects and objects[i].get("bbox")]


def conv_sheet(
    samples: list[dict[str, Any]],
    scenes: list[dict[str, Any]],
    load: Callable[[dict[str, Any]], bytes | None],
    per_kind: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Cards for the report: sampled samples of each kind whose image is available, the
    boxes of every object they talk about drawn, and their turns."""
    objects = {s["scene_id"]: {o["object_id"]: o for o in s["objects"]} for s in scenes}
    has_image = image_availability(load)
    available = [s for s in samples if has_image(s)]
    cards = []
    for s in sheet_samples(available, per_kind, seed):
        boxes = sample_boxes(s, objects.get(s["scene_id"], {}))
        try:
            jpeg = draw_thumbnail(load(s), boxes)  # type: ignore[arg-type]
        except Exception:  # an unreadable image: leave the card out, not the report
            continue
        cards.append(
            {
                "id": s["id"],
                "kind": s["kind"],
                "scene_id": s["scene_id"],
                "boxes": len(boxes),
                "turns": [(t["from"], t["value"]) for t in s["conversations"]],
                "image": data_uri(jpeg),
            }
        )
    return cards
