"""LLaVA training JSON: a list of {"id", "image", "conversations"} samples.

MSG-Conv samples are already LLaVA conversations; MSG-MCQ items become single-turn samples
when asked (they are the evaluation set: training on them contaminates the benchmark).
Image paths are `<image_source>/<file_name>` relative to one image folder (LLaVA's
`--image_folder`): dest/images/ for embedded images, or the `--link-images` folder, which
also gets symlinks to the files of the image folders (see export_images).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.publish.export_images import ImageFolderWriter, MissingImages
from pipeline.publish.image_folders import folders_for
from pipeline.publish.layout import CONFIGS, iter_rows
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


def _samples(
    out: Path, include_mcq: bool, image_prefix: str, images: ImageFolderWriter
) -> Iterator[dict[str, Any]]:
    sources = [("conv", conv_sample)] + ([("mcq", mcq_sample)] if include_mcq else [])
    for config, make in sources:
        for row in iter_rows(out, CONFIGS[config]):
            sample = make(row)
            yield {"id": sample["id"], "image": image_prefix + images.add(row), **sample}


def export_llava(
    out: Path,
    dest: Path,
    include_mcq: bool = False,
    image_prefix: str = "",
    link_images: Path | None = None,
    images_dirs: list[Path] | None = None,
) -> dict[str, Any]:
    """Write dest/msg_llava.json (streamed, one sample per line). Each sample's image is
    `<image_source>/<file_name>` under one image folder: `link_images` when given (embedded
    images written, the others symlinked from `images_dirs`, by default the build's own
    folders; a missing one stops the export), else dest/images/ (embedded images only).
    `image_prefix` goes before every image path."""
    folders = folders_for(out, images_dirs)
    root = link_images if link_images is not None else dest / IMAGES_FOLDER
    images = ImageFolderWriter(root, folders, link=link_images is not None)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / LLAVA_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("[")
            for sample in _samples(out, include_mcq, image_prefix, images):
                handle.write(("\n" if n == 0 else ",\n") + json.dumps(sample, ensure_ascii=False))
                n += 1
            handle.write("\n]\n")
        if images.missing:
            raise MissingImages(str(root), images.missing, folders, "")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "files": [path],
        "samples": n,
        "image_folder": root,
        "images_written": images.written,
        "images_linked": images.linked,
        "images_absent": images.absent,
    }
