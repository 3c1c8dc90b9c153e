"""Reference predictions for a build: random (chance), blind (text-only attacks, `blind.py`) and
the annotation oracle (answers re-derived from the raw files: a self-check of the labels)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.evaluate.blind import OPEN_FORMS, blind_predictions
from pipeline.evaluate.extract import false_values
from pipeline.hashing import seeded_rng

KINDS = ("random", "blind", "oracle")


def random_predictions(items: list[dict[str, Any]], seed: int = 0) -> dict[str, str]:
    """Uniform over the options (yes/no too); for open forms a uniform value among the
    values the build uses for that aspect. Seeded per item, so order does not matter."""
    pool: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item["form"] in OPEN_FORMS:
            pool[item["aspect"]].add(item["answer_value"])
            pool[item["aspect"]].update(false_values(item))
    values = {aspect: sorted(v) for aspect, v in pool.items()}
    out: dict[str, str] = {}
    for item in items:
        rng = seeded_rng(seed, "random-baseline", item["id"])
        choices = values[item["aspect"]] if item["form"] in OPEN_FORMS else item["options"]
        out[item["id"]] = rng.choice(choices)
    return out


def oracle_predictions(out: Path, items: list[dict[str, Any]]) -> dict[str, str]:
    """`Oracle.answer` for every item, from the raw files named in the build's manifest."""
    from pipeline.audit.oracle import oracle_for_build

    oracle = oracle_for_build(out)
    return {item["id"]: oracle.answer(item) for item in items}


def baseline_predictions(
    kind: str, out: Path, items: list[dict[str, Any]], seed: int = 0
) -> dict[str, str]:
    if kind == "random":
        return random_predictions(items, seed)
    if kind == "blind":
        return blind_predictions(items, seed=seed)
    if kind == "oracle":
        return oracle_predictions(out, items)
    raise ValueError(f"unknown baseline {kind!r}; expected one of {KINDS}")


def write_predictions(path: Path, predictions: dict[str, str]) -> None:
    """JSONL in the items' order, one {"id", "prediction"} per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for key, value in predictions.items():
            f.write(json.dumps({"id": key, "prediction": value}) + "\n")
