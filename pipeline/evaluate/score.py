"""Read a build's MSG-MCQ items and a predictions file, match them by id, judge each item
and compute the report. Missing items count as wrong: a harness cannot raise its score by
skipping questions."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.errors import InputError
from pipeline.evaluate.extract import judge
from pipeline.evaluate.metrics import Scored, report


def load_items(out: Path) -> list[dict[str, Any]]:
    """The MSG-MCQ items of an output folder, in shard order."""
    folder = out / "data" / "mcq"
    shards = sorted(folder.glob("*.parquet"))
    if not shards:
        raise InputError(folder, "no MSG-MCQ Parquet shards (is this an output of `msg build`?)")
    rows: list[dict[str, Any]] = []
    for shard in shards:
        rows.extend(pq.read_table(shard).to_pylist())
    return rows


@dataclass
class Predictions:
    """A predictions file as read: first answer per id, and what was odd about it."""

    path: Path
    answers: dict[str, Any] = field(default_factory=dict)
    duplicates: Counter = field(default_factory=Counter)  # id -> extra lines ignored
    lines: int = 0


def load_predictions(path: Path) -> Predictions:
    if not path.is_file():
        raise InputError(path, "predictions file not found")
    preds = Predictions(path)
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, f"not JSON: {err.msg}", f"line {number}") from None
            if not isinstance(record, dict) or "id" not in record or "prediction" not in record:
                raise InputError(path, 'expected {"id": ..., "prediction": ...}', f"line {number}")
            preds.lines += 1
            key = str(record["id"])
            if key in preds.answers:
                preds.duplicates[key] += 1  # the first answer wins, as a harness would log it
            else:
                preds.answers[key] = record["prediction"]
    return preds


def score(items: list[dict[str, Any]], preds: Predictions) -> dict[str, Any]:
    known = {i["id"] for i in items}
    rows = [
        Scored(i, judge(i, preds.answers[i["id"]]) if i["id"] in preds.answers else None)
        for i in items
    ]
    missing = sorted(i["id"] for i in items if i["id"] not in preds.answers)
    unknown = sorted(k for k in preds.answers if k not in known)
    result = {
        "predictions": {
            "file": str(preds.path),
            "lines": preds.lines,
            "items": len(items),
            "answered": len(items) - len(missing),
            "missing": len(missing),
            "unknown": len(unknown),
            "duplicates": sum(preds.duplicates.values()),
            "missing_ids": missing,
            "unknown_ids": unknown,
            "duplicate_ids": sorted(preds.duplicates),
        },
        **report(rows),
    }
    return result


def evaluate(out: Path, predictions: Path) -> dict[str, Any]:
    return score(load_items(out), load_predictions(predictions))
