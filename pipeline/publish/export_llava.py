"""LLaVA training JSON: a list of {"id", "image", "conversations"} samples.

MSG-Conv samples are already LLaVA conversations; MSG-MCQ items become single-turn samples
when asked (they are the evaluation set: training on them contaminates the benchmark).
When the shards embed images, they are written beside the JSON under `images/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.publish.images import resolve_image_path
from pipeline.publish.layout import CONFIGS, IMAGE_COLUMN, iter_rows
from pipeline.publish.prompts import item_prompt, item_target

LLAVA_FILE = "msg_llava.json"
IMAGES_FOLDER = "images"


def mcq_sample(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "conversations": [
            {"from": "human", "value": "<image>\n" + item_prompt(row)},
            {"from": "gpt", "value": item_target(row)},
        ],
    }


def conv_sample(row: dict[str, Any]) -> dict[str, Any]:
    turns = [{"from": t["from"], "value": t["value"]} for t in row["conversations"]]
    return {"id": row["id"], "conversations": turns}


class _ImageWriter:
    """Writes each embedded image once under dest/images/, refusing unsafe names."""

    def __init__(self, dest: Path) -> None:
        self.root = dest / IMAGES_FOLDER
        self.written: set[str] = set()

    def path_for(self, row: dict[str, Any], prefix: str) -> str:
        image = row.get(IMAGE_COLUMN)
        if not image or not image.get("bytes"):
            return prefix + row["file_name"]
        name = row["file_name"]
        if name not in self.written:
            self.root.mkdir(parents=True, exist_ok=True)
            target = resolve_image_path(self.root, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(image["bytes"])
            self.written.add(name)
        return f"{IMAGES_FOLDER}/{name}"


def _samples(
    out: Path, dest: Path, include_mcq: bool, image_prefix: str
) -> Iterator[dict[str, Any]]:
    images = _ImageWriter(dest)
    sources = [("conv", conv_sample)] + ([("mcq", mcq_sample)] if include_mcq else [])
    for config, make in sources:
        for row in iter_rows(out, CONFIGS[config]):
            sample = make(row)
            yield {"id": sample["id"], "image": images.path_for(row, image_prefix), **sample}


def export_llava(
    out: Path, dest: Path, include_mcq: bool = False, image_prefix: str = ""
) -> dict[str, Any]:
    """Write dest/msg_llava.json (streamed, one sample per line); `image_prefix` is put before
    file names of images that are not embedded (e.g. "coco/val2017/")."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / LLAVA_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("[")
        for sample in _samples(out, dest, include_mcq, image_prefix):
            handle.write(("\n" if n == 0 else ",\n") + json.dumps(sample, ensure_ascii=False))
            n += 1
        handle.write("\n]\n")
    tmp.replace(path)
    return {"files": [path], "samples": n}
