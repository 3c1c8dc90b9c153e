"""The annotation oracle: re-derives each MSG-MCQ item's answer and checks its distractors
from the raw annotation files alone, by the item's evidence and referent ids. It shares no
code with the scene builder or the generators; it does use the normalization layer (names,
synonyms, confusable values), the registry and the rule tables, so a wrong table entry is
not something it can catch. A test runs it over a whole build and expects no violation.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import BuildOptions
from pipeline.normalize import (
    Vocabulary,
    are_confusable,
    clean_text,
    name_synonyms,
    names_related,
)
from pipeline.normalize.countability import names_a_group
from pipeline.registry import direction_of_phrase, registry
from pipeline.tables import load_table

# Two boxes overlapping this much show the same thing (the scene builder's duplicate IoU).
SAME_REGION_IOU = 0.7


def _related(a: str, b: str) -> bool:
    return a == b or names_related(a, b)


@dataclass
class RawObject:
    name: str
    box: list[float]  # x, y, w, h as annotated
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    category: str | None = None
    iscrowd: bool = False
    area: float = 0.0


@dataclass
class RawIndex:
    """Raw annotations by the ids items cite (COCO: coco/ann/N; VG: vg/obj/N)."""

    objects: dict[str, RawObject] = field(default_factory=dict)
    image_objects: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    relations: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    image_relations: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def load(cls, coco_instances: list[Path], vg_dir: Path | None, vocab: Vocabulary) -> RawIndex:
        index = cls()
        for path in coco_instances:
            data = json.loads(path.read_text())
            cats = {c["id"]: c["name"] for c in data["categories"]}
            for ann in data["annotations"]:
                oid = f"coco/ann/{ann['id']}"
                name = vocab.object_name(cats[ann["category_id"]])
                index.objects[oid] = RawObject(
                    name,
                    ann["bbox"],
                    category=cats[ann["category_id"]],
                    iscrowd=bool(ann["iscrowd"]),
                    area=ann["area"],
                )
                index.image_objects[f"coco/{ann['image_id']}"].add(oid)
        if vg_dir is not None:
            index._load_vg(vg_dir, vocab)
        return index

    def _load_vg(self, vg_dir: Path, vocab: Vocabulary) -> None:
        images = json.loads((vg_dir / "image_data.json").read_text())
        scene_of = {
            i["image_id"]: f"coco/{i['coco_id']}" if i.get("coco_id") else f"vg/{i['image_id']}"
            for i in images
        }
        alias: dict[int, str] = {}

        def add(raw: dict[str, Any], image_id: int) -> str:
            oid = f"vg/obj/{raw['object_id']}"
            if raw["object_id"] in alias:
                return alias[raw["object_id"]]
            names = raw.get("names") or [raw.get("name")]
            raw_name = clean_text(names[0])
            name = vocab.object_name(raw_name)
            box = [raw[k] for k in "xywh"]
            obj = RawObject(name, box, iscrowd=names_a_group(raw_name, name))
            self.objects[oid] = obj
            self.image_objects[scene_of[image_id]].add(oid)
            for other in (raw["object_id"], *raw.get("merged_object_ids", [])):
                alias.setdefault(other, oid)
            return oid

        for entry in json.loads((vg_dir / "objects.json").read_text()):
            for raw in entry["objects"]:
                add(raw, entry["image_id"])
        if (vg_dir / "attributes.json").exists():
            for entry in json.loads((vg_dir / "attributes.json").read_text()):
                for raw in entry["attributes"]:
                    oid = add(raw, entry["image_id"])
                    for text in raw.get("attributes", []):
                        for typed in vocab.attribute(text):
                            self.objects[oid].values[typed.aspect].add(typed.value)
                            if typed.compound:
                                self.objects[oid].values[typed.aspect].add("*compound*")
        if (vg_dir / "relationships.json").exists():
            for entry in json.loads((vg_dir / "relationships.json").read_text()):
                for rel in entry["relationships"]:
                    s = add(rel["subject"], entry["image_id"])
                    o = add(rel["object"], entry["image_id"])
                    triple = (s, vocab.predicate(rel["predicate"]), o)
                    self.relations[f"vg/rel/{rel['relationship_id']}"] = triple
                    self.image_relations[scene_of[entry["image_id"]]].append(triple)


class Oracle:
    """Answers and checks items from a RawIndex. `violations(item)` lists what is wrong."""

    def __init__(
        self,
        index: RawIndex,
        min_count_area: float,
        margin: float,
        *,
        min_side_px: float = BuildOptions.min_side_px,
        min_area_share: float = BuildOptions.min_area_share,
    ) -> None:
        self.index = index
        self.min_count_area = min_count_area
        self.margin = margin
        self.min_side_px = min_side_px
        self.min_area_share = min_area_share
        clarity = load_table("item_rules")["spatial"]["clarity"]
        self.axis_ratio, self.max_span = clarity["axis_ratio"], clarity["max_span"]

    def _names_in(self, scene_id: str) -> set[str]:
        return {self.index.objects[o].name for o in self.index.image_objects[scene_id]}

    def _absent(self, scene_id: str, name: str) -> bool:
        return not any(_related(name, n) for n in self._names_in(scene_id))

    def _values_of_name(self, scene_id: str, name: str, aspect: str) -> set[str]:
        out: set[str] = set()
        for oid in self.index.image_objects[scene_id]:
            obj = self.index.objects[oid]
            if _related(obj.name, name):
                out |= obj.values.get(aspect, set())
        return out

    def _count(self, scene_id: str, category: str) -> list[RawObject]:
        return [
            self.index.objects[o]
            for o in self.index.image_objects[scene_id]
            if self.index.objects[o].category == category
        ]

    # -- the truth of one value, by how the item's aspect is grounded -----------------
    def true_of(self, item: dict[str, Any], value: str) -> bool:
        # A claim of MSG-Conv has no template: its grounding alone says how to check it.
        family = registry().families.get(item["template_id"].split(".", 1)[0])
        if family is not None and family.generator == "entity_present":
            return self._in_image(item, value)
        return getattr(self, f"_true_{registry().grounding(item['aspect'])}")(item, value)

    def _in_image(self, item: dict[str, Any], value: str) -> bool:
        scene = item["scene_id"]
        return bool(self._count(scene, value)) or not self._absent(scene, value)

    _true_existence = _in_image

    def _true_entity(self, item: dict[str, Any], value: str) -> bool:
        return _related(self.index.objects[item["referent_object_ids"][0]].name, value)

    def _true_count(self, item: dict[str, Any], value: str) -> bool:
        return len(self._count(item["scene_id"], item["referent_name"])) == int(value)

    def _true_geometry(self, item: dict[str, Any], value: str) -> bool:
        return value in self._directions(item)

    def _true_relation(self, item: dict[str, Any], value: str) -> bool:
        names = self._pair_names(item)
        return any(
            p == value
            and _related(self.index.objects[s].name, names[0])
            and _related(self.index.objects[o].name, names[1])
            for s, p, o in self.index.image_relations[item["scene_id"]]
        )

    def _true_attribute(self, item: dict[str, Any], value: str) -> bool:
        return value in self._values_of_name(
            item["scene_id"], item["referent_name"], item["aspect"]
        )

    def _pair_names(self, item: dict[str, Any]) -> tuple[str, str]:
        first = item["referent_name"]
        second = next(
            self.index.objects[o].name
            for o in item["referent_object_ids"]
            if not _related(self.index.objects[o].name, first)
        )
        return first, second

    def _pair_boxes(self, item: dict[str, Any]) -> tuple[list[float], list[float]]:
        ids = item["referent_object_ids"]
        first = item["referent_name"]
        a = next(self.index.objects[o] for o in ids if self.index.objects[o].name == first)
        b = next(
            self.index.objects[o] for o in ids if not _related(self.index.objects[o].name, first)
        )
        return a.box, b.box

    def _directions(self, item: dict[str, Any]) -> set[str]:
        a, b = self._pair_boxes(item)
        return _directions(a, b, item["width"], item["height"], self.margin)

    @staticmethod
    def value_of_option(item: dict[str, Any], option: str) -> str:
        if registry().grounding(item["aspect"]) == "geometry":
            return direction_of_phrase().get(option, option)
        return option

    # -- checks ------------------------------------------------------------------------
    def violations(self, item: dict[str, Any]) -> list[str]:
        found: list[str] = []
        missing = [
            e
            for e in item["evidence_ids"]
            if ("/ann/" in e or "/obj/" in e) and e not in self.index.objects
        ] + [e for e in item["evidence_ids"] if "/rel/" in e and e not in self.index.relations]
        if missing:
            found.append(f"evidence not in the raw files: {missing}")
        value = item["answer_value"]
        grounding = registry().grounding(item["aspect"])
        if grounding == "existence":
            if self.true_of(item, item["referent_name"]) != (value == "yes"):
                found.append(f"existence of {item['referent_name']} is not {value}")
            return found
        if not self.true_of(item, value):
            found.append(f"answer {value!r} is not entailed")
        found += self._aspect_rules(item)
        for d in item["distractor_sources"]:
            wrong = self.value_of_option(item, d["option"])
            if self.true_of(item, wrong):
                found.append(f"distractor {wrong!r} is true")
            if grounding == "attribute" and are_confusable(item["aspect"], wrong, value):
                found.append(f"distractor {wrong!r} is confusable with {value!r}")
            if grounding == "entity" and _related(wrong, value):
                found.append(f"distractor {wrong!r} is related to {value!r}")
        if item["form"] == "yes_no":
            not_stated = load_table("item_rules")["yes_no_not_stated"].get(item["aspect"], [])
            stated = {value, *(d["option"] for d in item["distractor_sources"])}
            if stated_anyway := sorted(stated.intersection(not_stated)):
                found.append(f"a yes/no question states {stated_anyway}")
        # A statement (a conversation's claim, read as an item) says its value outright.
        if item["form"] not in ("yes_no", "statement") and re.search(
            rf"\b{re.escape(item['answer'] if item['form'] == 'mcq' else value)}\b",
            item["question"],
            re.IGNORECASE,
        ):
            found.append("the question contains the answer")
        return found

    def _aspect_rules(self, item: dict[str, Any]) -> list[str]:
        scene, aspect = item["scene_id"], item["aspect"]
        grounding = registry().grounding(aspect)
        found = self._too_small(item, grounding) + self._group_referent(item, grounding)
        if grounding == "count":
            objs = self._count(scene, item["referent_name"])
            if any(o.iscrowd for o in objs):
                return found + ["count of a category with a crowd region"]
            if any(o.area < self.min_count_area for o in objs):
                return found + ["count includes an instance too small to see"]
        if grounding == "attribute":
            # Only boxes of the referent's own name (or a synonym) carry its values: a
            # "vegetable" box's colour is not the colour of "the food" around it.
            referent_values: set[str] = set()
            for oid in self._own_ids(item):
                referent_values |= self.index.objects[oid].values.get(aspect, set())
            if "*compound*" in referent_values:
                return found + ["referent has a compound value"]
            if len(referent_values - {"*compound*"}) != 1:
                return found + [f"referent has values {sorted(referent_values)}, not exactly one"]
            if "region" not in item["question"] and len(self._same_name_objects(item)) > 1:
                return found + ["referent named without a region but its name is not unique"]
        if grounding == "geometry":
            found += self._spatial_clarity(item)
        if grounding == "entity" and item["referent_bbox"] is not None:
            found += self._region_shows_another(item)
        return found

    def _region_shows_another(self, item: dict[str, Any]) -> list[str]:
        """A region item's box is not also, as much as a duplicate, the box of an object of
        an unrelated name ("cement" and "bridge"): the region would show both. Boxes are
        compared within one source (VG boxes are in VG's own pixel scale here)."""
        ids = item["referent_object_ids"]
        own = [self.index.objects[o].box for o in ids]
        source = ids[0].split("/", 1)[0]
        others = [
            self.index.objects[o]
            for o in self.index.image_objects[item["scene_id"]]
            if o not in ids and o.startswith(source)
        ]
        shown = sorted(
            obj.name
            for obj in others
            if not _related(obj.name, item["answer_value"])
            and any(_iou(obj.box, b) >= SAME_REGION_IOU for b in own)
        )
        return [f"the region also shows {shown}"] if shown else []

    def _own_ids(self, item: dict[str, Any]) -> list[str]:
        name = item["referent_name"]

        def own(other: str) -> bool:
            return other == name or other in name_synonyms(name) or name in name_synonyms(other)

        return [o for o in item["referent_object_ids"] if own(self.index.objects[o].name)]

    def _visible(self, box: list[float], item: dict[str, Any]) -> bool:
        area = item["width"] * item["height"]
        return min(box[2], box[3]) >= self.min_side_px and box[2] * box[3] >= (
            self.min_area_share * area
        )

    def _too_small(self, item: dict[str, Any], grounding: str) -> list[str]:
        """Every referent of an attribute, entity-region, spatial, relation or count item is
        big enough to see (its largest box, for a referent annotated twice)."""
        ids = item["referent_object_ids"]
        if grounding in ("existence", "") or not ids:
            return []
        if grounding == "entity" and item["referent_bbox"] is None:  # entity_present
            return []
        if grounding == "count":
            boxes = [self.index.objects[o].box for o in ids]
        elif grounding in ("geometry", "relation"):
            first = [o for o in ids if _related(self.index.objects[o].name, item["referent_name"])]
            second = [o for o in ids if o not in first]
            boxes = [self._largest(first), self._largest(second)]
        else:
            boxes = [self._largest(ids)]
        if all(self._visible(box, item) for box in boxes):
            return []
        return ["a referent is too small to see"]

    def _group_referent(self, item: dict[str, Any], grounding: str) -> list[str]:
        """No attribute, entity-region, spatial or relation item is asked of a box over
        several objects: a COCO crowd region, or a VG box named in the plural ("chairs")."""
        if grounding not in ("attribute", "entity", "geometry", "relation"):
            return []
        if grounding == "entity" and item["referent_bbox"] is None:  # entity_present
            return []
        if any(self.index.objects[o].iscrowd for o in item["referent_object_ids"]):
            return ["a referent's box covers several objects (a crowd or a plural name)"]
        return []

    def _largest(self, ids: list[str]) -> list[float]:
        boxes = [self.index.objects[o].box for o in ids] or [[0.0, 0.0, 0.0, 0.0]]
        return max(boxes, key=lambda b: b[2] * b[3])

    def _spatial_clarity(self, item: dict[str, Any]) -> list[str]:
        """The same clarity rule as the generator's, re-derived from the raw boxes."""
        directions = self._directions(item)
        if len(directions) != 1:
            return ["spatial answer not a single clear direction"]
        a, b = self._pair_boxes(item)
        (held,) = directions
        dx = a[0] + a[2] / 2 - b[0] - b[2] / 2
        dy = a[1] + a[3] / 2 - b[1] - b[3] / 2
        along, across = (dx, dy) if held in ("left", "right") else (dy, dx)
        found = []
        if abs(along) < self.axis_ratio * abs(across):
            found.append(f"direction {held} is not clear by the centres ({dx:.0f}, {dy:.0f} px)")
        w, h = item["width"], item["height"]
        if any(box[2] > self.max_span * w or box[3] > self.max_span * h for box in (a, b)):
            found.append("a spatial referent spans most of the image")
        return found

    def _same_name_objects(self, item: dict[str, Any]) -> list[str]:
        """Objects of a related name that are not the referent's own duplicate boxes."""
        ids = set(item["referent_object_ids"])
        ref = [self.index.objects[i] for i in ids]
        out = []
        for oid in self.index.image_objects[item["scene_id"]]:
            obj = self.index.objects[oid]
            if oid in ids or not _related(obj.name, item["referent_name"]):
                continue
            if any(_iou(obj.box, r.box) >= SAME_REGION_IOU for r in ref):
                continue  # a near-duplicate box of the referent
            out.append(oid)
        return out

    def answer(self, item: dict[str, Any]) -> str:
        """The oracle's prediction: the option (or yes/no, or value) the raw files support."""
        if item["form"] == "yes_no":
            return item["answer"] if not self.violations(item) else "unknown"
        if item["form"] == "mcq":
            true = [o for o in item["options"] if self.true_of(item, self.value_of_option(item, o))]
            return true[0] if len(true) == 1 else "unknown"
        return item["answer"] if self.true_of(item, item["answer_value"]) else "unknown"


def _iou(a: list[float], b: list[float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _directions(a: list[float], b: list[float], w: int, h: int, m: float) -> set[str]:
    """Directions of box a from box b: centres apart by m x size and both edges beyond."""

    def before(p: list[float], q: list[float], axis: int, size: int) -> bool:
        pc, qc = p[axis] + p[axis + 2] / 2, q[axis] + q[axis + 2] / 2
        return (
            pc + m * size < qc
            and p[axis] < q[axis]
            and p[axis] + p[axis + 2] < q[axis] + q[axis + 2]
        )

    pairs = {
        "left": (a, b, 0, w),
        "right": (b, a, 0, w),
        "above": (a, b, 1, h),
        "below": (b, a, 1, h),
    }
    return {d for d, args in pairs.items() if before(*args)}


def oracle_for_build(out: Path) -> Oracle:
    """The oracle of a build: the raw files and options named in its manifest (a missing
    file is an InputError naming it)."""
    from pipeline.errors import InputError

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
    return Oracle(
        RawIndex.load(coco, vg_dir, vocab), options["min_count_area"], options["spatial_margin"]
    )
