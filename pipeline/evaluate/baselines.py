"""Reference predictions for a build: random (chance), blind (text-only attacks, `blind.py`) and
the annotation oracle (answers re-derived from the raw files: a self-check of the labels)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
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
    from pipeline.audit.oracle import Oracle, RawIndex
    from pipeline.normalize import Vocabulary

    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "manifest not found (is this an output of `msg build`?)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs = manifest.get("inputs", [])
    coco = [Path(i["path"]) for i in inputs if i["kind"] == "coco_instances"]
    vg_dir = next((Path(i["path"]).parent for i in inputs if i["kind"] == "vg_images"), None)
    for path in [*coco, *([vg_dir / "image_data.json"] if vg_dir else [])]:
        if not path.is_file():
            raise InputError(path, "raw input of the build not found; the oracle reads it")
    vocab = Vocabulary.load(
        *(
            (vg_dir / name) if vg_dir and (vg_dir / name).is_file() else None
            for name in ("object_alias.txt", "relationship_alias.txt")
        )
    )
    options = manifest["options"]
    oracle = Oracle(
        RawIndex.load(coco, vg_dir, vocab), options["min_count_area"], options["spatial_margin"]
    )
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
