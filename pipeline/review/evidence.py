"""What a reviewer sees beside an item: the boxes to draw (every referent, the region asked
about, the objects a distractor was taken from) and the annotations the item cites, each
with the values it carries."""

from __future__ import annotations

from typing import Any

Box = dict[str, Any]  # {"x", "y", "w", "h"} as fractions of the image, "label", "kind"


def _fraction(bbox: list[float], width: int, height: int) -> dict[str, float]:
    x, y, w, h = bbox
    return {
        "x": round(x / width, 5),
        "y": round(y / height, 5),
        "w": round(w / width, 5),
        "h": round(h / height, 5),
    }


def item_boxes(item: dict[str, Any], scene: dict[str, Any]) -> list[Box]:
    """Referent objects (labelled with name and id), the asked region when it is not one of
    them, and the objects distractors came from (kind "distractor")."""
    objects = {o["object_id"]: o for o in scene.get("objects") or []}
    size = (item["width"], item["height"])
    boxes: list[Box] = []
    drawn: list[list[float]] = []
    for n, object_id in enumerate(item["referent_object_ids"], 1):
        obj = objects.get(object_id)
        if obj and obj.get("bbox"):
            label = f"{n}: {obj['name']} ({object_id})"
            boxes.append(_fraction(obj["bbox"], *size) | {"label": label, "kind": "referent"})
            drawn.append(list(obj["bbox"]))
    region = item.get("referent_bbox")
    if region and list(region) not in drawn:
        name = item.get("referent_name") or "region"
        boxes.append(_fraction(region, *size) | {"label": f"asked: {name}", "kind": "region"})
    for source in item.get("distractor_sources") or []:
        for object_id in source["object_ids"]:
            obj = objects.get(object_id)
            if obj and obj.get("bbox") and object_id not in item["referent_object_ids"]:
                label = f"distractor {source['option']!r}: {obj['name']} ({object_id})"
                boxes.append(_fraction(obj["bbox"], *size) | {"label": label, "kind": "distractor"})
    return boxes


def _object_text(obj: dict[str, Any]) -> str:
    box = ", ".join(f"{v:g}" for v in obj.get("bbox") or [])
    name = (
        obj["name"]
        if obj.get("raw_name") in (None, obj["name"])
        else (f"{obj['name']} (annotated {obj['raw_name']!r})")
    )
    parts = [f"object {obj['object_id']}: {name}, box [{box}]"]
    if obj.get("coco_category"):
        parts.append(f"COCO category {obj['coco_category']}")
    if obj.get("iscrowd"):
        parts.append("crowd region")
    if obj.get("duplicate_of"):
        parts.append(f"near-duplicate of {obj['duplicate_of']}")
    return "; ".join(parts)


def _attribute_text(obj: dict[str, Any]) -> str:
    typed = [f"{a}: {', '.join(v)}" for a, v in sorted((obj.get("attributes") or {}).items()) if v]
    raw = ", ".join(repr(a) for a in obj.get("raw_attributes") or [])
    return (
        f"attributes of {obj['name']} ({obj['object_id']}): "
        + ("; ".join(typed) or "none typed")
        + (f"; as annotated: {raw}" if raw else "")
    )


def evidence_lines(item: dict[str, Any], scene: dict[str, Any]) -> list[list[str]]:
    """[[annotation id, what it says]] for every id the item cites."""
    objects = {o["object_id"]: o for o in scene.get("objects") or []}
    by_evidence: dict[str, dict[str, Any]] = {}
    for obj in objects.values():
        for evidence_id in obj.get("evidence_ids") or []:
            by_evidence.setdefault(evidence_id, obj)
    relations = {r["relation_id"]: r for r in scene.get("relations") or []}
    captions = {c["caption_id"]: c["text"] for c in scene.get("captions") or []}
    lines = []
    for evidence_id in item["evidence_ids"]:
        kind = evidence_id.split("/")[1]
        obj = by_evidence.get(evidence_id)
        if kind == "img":
            text = f"image {scene.get('file_name')}, {scene.get('width')} x {scene.get('height')}"
        elif kind == "attr" and obj:
            text = _attribute_text(obj)
        elif kind in ("ann", "obj") and obj:
            text = _object_text(obj)
        elif kind == "rel" and evidence_id in relations:
            rel = relations[evidence_id]
            names = {i: o["name"] for i, o in objects.items()}
            subject = names.get(rel["subject_id"], rel["subject_id"])
            target = names.get(rel["object_id"], rel["object_id"])
            raw = rel["raw_predicate"]
            text = f"relation: {subject} {rel['predicate']} {target} (annotated {raw!r})"
        elif kind == "cap" and evidence_id in captions:
            text = f"caption: {captions[evidence_id]!r}"
        else:
            text = "not in the scene record"
        lines.append([evidence_id, text])
    for source in item.get("distractor_sources") or []:
        ids = ", ".join(source["object_ids"]) or "no object"
        lines.append([f"distractor {source['option']!r}", f"from {source['source']} ({ids})"])
    return lines
