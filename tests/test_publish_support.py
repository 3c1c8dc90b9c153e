"""Shared helpers for the publish tests (no tests here): schema-valid MSG-MCQ / MSG-Conv rows,
image files, and a complete output folder (shards, card, manifest) built from them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pipeline.manifest import describe_outputs
from pipeline.parquet_io import write_json
from pipeline.publish.card import write_dataset_card
from pipeline.publish.images import ImageProblem, image_feature_rows
from pipeline.publish.shards import write_config_shards

REPO_ROOT = Path(__file__).resolve().parents[1]
ASPECTS = ("entity", "number", "color", "material", "action", "spatial")
VALUES = {
    "entity": ["dog", "cat", "bus", "cup", "horse"],
    "number": ["1", "2", "3", "4", "5"],
    "color": ["red", "blue", "green", "white", "black"],
    "material": ["wood", "metal", "glass", "plastic", "stone"],
    "action": ["running", "sitting", "standing", "eating", "sleeping"],
    "spatial": ["left", "right", "above", "below", "behind"],
}
FORMS = ("mcq", "yes_no", "fill_blank", "correction")


def hex16(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:16]


def image_name(image_id: int) -> str:
    return f"{image_id:012d}.jpg"


def mcq_row(i: int, image_id: int | None = None, width: int = 64, height: int = 48) -> dict:
    """A schema-valid MSG-MCQ item; aspect, form and answer position vary with `i`."""
    image_id = 1000 + i % 5 if image_id is None else image_id
    aspect = ASPECTS[i % len(ASPECTS)]
    form = FORMS[(i // len(ASPECTS)) % len(FORMS)]
    values = VALUES[aspect]
    answer_value = values[i % len(values)]
    distractors = [v for v in values if v != answer_value][:3]
    question = f"What is the {aspect} of the object in image {image_id} (item {i})?"
    options: list[str] = []
    answer_index: int | None = None
    answer = answer_value
    if form == "mcq":
        answer_index = i % 4
        options = distractors[:answer_index] + [answer_value] + distractors[answer_index:]
    elif form == "yes_no":
        answer_index = i % 2
        options = ["yes", "no"]
        answer = options[answer_index]
        question = f"Is the {aspect} of the object {answer_value}? (item {i})"
    elif form == "correction":
        question = f"The object is {distractors[0]}. (item {i})"
        answer = f"The object is {answer_value}."
    return {
        "id": f"mcq-{hex16('mcq', i)}",
        "schema_version": "1.0.0",
        "image_source": "coco",
        "image_id": image_id,
        "scene_id": f"coco/{image_id}",
        "file_name": image_name(image_id),
        "url": f"http://images.cocodataset.org/val2017/{image_name(image_id)}",
        "width": width,
        "height": height,
        "aspect": aspect,
        "form": form,
        "question": question,
        "options": options,
        "answer": answer,
        "answer_index": answer_index,
        "answer_value": answer_value,
        "referent_name": "object",
        "referent_object_ids": [f"coco/ann/{i}"],
        "referent_bbox": [1.0, 2.0, 10.5, 20.25],
        "evidence_ids": [f"coco/ann/{i}", f"coco/img/{image_id}"],
        "distractor_sources": [
            {"option": d, "source": "aspect_value", "object_ids": []} for d in distractors
        ]
        if form == "mcq"
        else [],
        "template_id": f"{aspect}_{form}_v1",
        "split": "test",
        "pope_setting": None,
        "group_id": f"g-{hex16('group', i)}",
        "rotation": 0,
    }


def conv_row(i: int, image_id: int | None = None, width: int = 64, height: int = 48) -> dict:
    """A conversation, region or fact-check sample; every fourth a description."""
    row = _dialogue_row(i, image_id, width, height)
    if i % 4 != 3:
        return row
    claim = dict(row["turn_facts"][1])
    sentences = ["The image shows a bus.", "The bus is red."]
    entity = dict(claim, aspect="entity", value="bus")
    return row | {
        "kind": "description",
        "conversations": [
            {"from": "human", "value": f"<image>\nDescribe the image in detail. ({i})"},
            {"from": "gpt", "value": " ".join(sentences)},
        ],
        "evidence_ids": [[], [f"vg/obj/{i}"]],
        "turn_facts": [None, None],
        "sentences": sentences,
        "sentence_evidence": [[f"vg/obj/{i}"], [f"vg/obj/{i}"]],
        "sentence_facts": [[entity], [claim]],
    }


def _dialogue_row(i: int, image_id: int | None = None, width: int = 64, height: int = 48) -> dict:
    image_id = 2000 + i % 3 if image_id is None else image_id
    return {
        "id": f"conv-{hex16('conv', i)}",
        "schema_version": "1.0.0",
        "image_source": "vg" if i % 2 else "coco",
        "image_id": image_id,
        "scene_id": f"{'vg' if i % 2 else 'coco'}/{image_id}",
        "file_name": image_name(image_id),
        "url": "",
        "width": width,
        "height": height,
        "kind": ("conversation", "region", "fact_check")[i % 3],
        "conversations": [
            {"from": "human", "value": f"<image>\nWhat color is the bus? ({i})"},
            {"from": "gpt", "value": "It is red."},
            {"from": "human", "value": "And the car?"},
            {"from": "gpt", "value": "Blue."},
        ],
        "evidence_ids": [[], [f"vg/attr/{i}"], [], [f"vg/obj/{i}"]],
        "turn_facts": [
            None,
            {
                "aspect": "color",
                "value": "red",
                "referent_name": "bus",
                "referent_object_ids": [f"vg/obj/{i}"],
                "false_value": None,
            },
            None,
            {
                "aspect": "color",
                "value": "blue",
                "referent_name": "car",
                "referent_object_ids": [f"vg/obj/{i}"],
                "false_value": None,
            },
        ],  # fmt: skip
        "sentences": [],
        "sentence_evidence": [],
        "sentence_facts": [],
        "split": "train",
    }


def write_image(folder: Path, name: str, size: tuple[int, int], seed: int = 0) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, ((seed * 40) % 256, (seed * 90) % 256, 128))
    img.save(path, format="JPEG" if name.endswith(".jpg") else "PNG")
    return path


def partitions(rows: list[dict], n: int) -> Iterator[list[dict]]:
    """Rows cut into n partitions of uneven size (order kept)."""
    cuts = sorted({0, len(rows), *((k * k * len(rows)) // (n * n) for k in range(1, n))})
    for a, b in zip(cuts, cuts[1:], strict=False):
        yield rows[a:b]


def build_folder(
    out: Path,
    mcq: list[dict],
    conv: list[dict],
    images_dir: Path | None = None,
    max_shard_bytes: int = 500 * 1024 * 1024,
    row_group_rows: int | None = None,
) -> tuple[dict[str, Any], list[ImageProblem]]:
    """What the build does at its end: shards, card, then the manifest last."""
    quarantine: list[ImageProblem] = []
    for config, rows in (("mcq", mcq), ("conv", conv)):
        parts: Any = partitions(rows, 3)
        if images_dir is not None:
            parts = [image_feature_rows(p, images_dir, quarantine) for p in parts]
        write_config_shards(
            out, config, parts, images_dir is not None, max_shard_bytes, row_group_rows
        )
    manifest = fake_manifest(out, {"scenes": 7})
    write_dataset_card(out, manifest)
    manifest = fake_manifest(out, {"scenes": 7})
    write_json(out / "manifest.json", manifest)
    return manifest, quarantine


def fake_manifest(out: Path, counts: dict[str, Any]) -> dict[str, Any]:
    """A manifest shaped like pipeline.manifest.build_manifest's (which needs a real build)."""
    return {
        "manifest_version": "1.0.0",
        "package_version": "0.1.0",
        "rules_version": "1.0.0",
        "schema_version": "1.0.0",
        "tables_sha256": "0" * 64,
        "seed": 0,
        "command": ["msg", "build", "--coco-instances", "/abs/instances_val2017.json"],
        "options": {"seed": 0},
        "inputs": [
            {
                "label": "instances_val2017.json",
                "kind": "coco_instances",
                "path": "/abs/instances_val2017.json",
                "bytes": 10,
                "sha256": "0" * 64,
            }
        ],
        "records": {
            "instances_val2017.json": {
                "read": 3,
                "used": 2,
                "skipped": {"crowd": 1},
                "quarantined": {},
                "reconciled": True,
            }
        },
        "reconciled": True,
        "counts": counts,
        "outputs": describe_outputs(out),
    }


def offline_hf(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """`datasets` / `huggingface_hub` with no network and a private cache."""
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
