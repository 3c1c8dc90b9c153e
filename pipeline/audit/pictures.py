"""Pictures for the report: sampled items per aspect, their image with the referent's box
drawn (Pillow), as JPEG data URIs; items are sampled by a stable hash, not at random."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from pipeline.hashing import stable_hash64

BOX_COLOUR = (255, 0, 255)  # magenta: rare in photos, so a drawn box is easy to find
THUMB_SIZE = (360, 360)
PER_IMAGE = 2  # at most this many items of one image on a sheet: variety

ImageLoader = Callable[[dict[str, Any]], bytes | None]


def folder_loader(images_dir: Path | list[Path]) -> ImageLoader:
    """Images by file name inside one folder or several (refusing paths that lead outside)."""
    from pipeline.publish.image_folders import ImageFolders

    folders = ImageFolders(images_dir)

    def load(item: dict[str, Any]) -> bytes | None:
        try:
            return folders.find(item["file_name"]).read_bytes()
        except Exception:  # missing, unsafe or clashing: the build's problem, not the report's
            return None

    return load


def item_boxes(item: dict[str, Any], objects: dict[str, dict]) -> list[list[float]]:
    """The referent's box; without one (counts, present objects) the boxes of the
    referent's annotated objects."""
    if item.get("referent_bbox"):
        return [item["referent_bbox"]]
    ids = item.get("referent_object_ids") or []
    return [objects[i]["bbox"] for i in ids if i in objects and objects[i].get("bbox")]


def draw_thumbnail(data: bytes, boxes: list[list[float]]) -> bytes:
    """JPEG bytes of the image, shrunk, with every box drawn after shrinking (so the line
    keeps its width and colour)."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        scale = min(1.0, THUMB_SIZE[0] / img.width, THUMB_SIZE[1] / img.height)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    draw = ImageDraw.Draw(img)
    for x, y, w, h in boxes:
        x0, y0 = x * scale, y * scale
        x1 = max(x0 + 1, min(img.width - 1, (x + w) * scale))
        y1 = max(y0 + 1, min(img.height - 1, (y + h) * scale))
        draw.rectangle([x0, y0, x1, y1], outline=BOX_COLOUR, width=3)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88, subsampling=0)  # 4:4:4 keeps the box colour
    return buf.getvalue()


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def image_availability(load: ImageLoader) -> Callable[[dict[str, Any]], bool]:
    """Whether an item's image loads, asked once per file. The bytes are not kept: a sheet
    draws a few images of the many it checks, and those are loaded again."""
    known: dict[str, bool] = {}

    def available(item: dict[str, Any]) -> bool:
        name = item["file_name"]
        if name not in known:
            known[name] = load(item) is not None
        return known[name]

    return available


def sample_items(
    items: list[dict[str, Any]], available: Callable[[dict], bool], per_aspect: int, seed: int
) -> dict[str, list[dict[str, Any]]]:
    """Per aspect, up to `per_aspect` items whose image is available, multiple choice
    first, ranked by a stable hash of the id."""
    by_aspect: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        if item.get("rotation", 0) == 0 and available(item):
            by_aspect[item["aspect"]].append(item)
    out = {}
    for aspect, rows in sorted(by_aspect.items()):
        rows.sort(key=lambda i: (i["form"] != "mcq", stable_hash64(seed, "audit-sheet", i["id"])))
        chosen: list[dict] = []
        per_image: dict[str, int] = defaultdict(int)
        for item in rows:
            if per_image[item["scene_id"]] < PER_IMAGE:
                chosen.append(item)
                per_image[item["scene_id"]] += 1
            if len(chosen) == per_aspect:
                break
        out[aspect] = chosen
    return out


def build_sheets(
    items: list[dict[str, Any]],
    scenes: list[dict[str, Any]],
    load: ImageLoader,
    per_aspect: int,
    seed: int,
) -> dict[str, list[dict[str, Any]]]:
    """{aspect: [{item fields for the page, "image": data URI, "boxes": n}]}."""
    objects = {s["scene_id"]: {o["object_id"]: o for o in s["objects"]} for s in scenes}
    sheets: dict[str, list[dict[str, Any]]] = {}
    chosen = sample_items(items, image_availability(load), per_aspect, seed)
    for aspect, rows in chosen.items():
        cards = []
        for item in rows:
            boxes = item_boxes(item, objects.get(item["scene_id"], {}))
            try:
                jpeg = draw_thumbnail(load(item), boxes)  # type: ignore[arg-type]
            except Exception:  # an unreadable image: leave the card out, not the report
                continue
            cards.append(
                {
                    "id": item["id"],
                    "scene_id": item["scene_id"],
                    "form": item["form"],
                    "question": item["question"],
                    "options": list(item["options"] or []),
                    "answer": item["answer"],
                    "boxes": len(boxes),
                    "image": data_uri(jpeg),
                }
            )
        sheets[aspect] = cards
    return sheets
