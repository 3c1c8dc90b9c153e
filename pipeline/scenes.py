"""Stage 2: assemble one scene per image from a partition's routed records.

Each record is checked against its field table; a bad record is quarantined with its
reason and the rest of the scene is built. Every record ends used, skipped or quarantined.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import RecordError
from pipeline.hashing import scene_sort_key
from pipeline.ingest import fields as F
from pipeline.normalize import TypedAttribute, Vocabulary, clean_text, typed_aspects
from pipeline.normalize.countability import names_a_group
from pipeline.normalize.lexicon import first_noun_synset

# Two boxes of one name overlapping this much are one object annotated twice (VG).
DUPLICATE_IOU = 0.7


@dataclass
class Routed:
    kind: str
    label: str
    where: str
    record: Any


@dataclass
class SceneContext:
    """What every scene of a run shares: categories, vocabulary, VG synset maps."""

    categories: dict[int, dict[str, Any]]
    vocab: Vocabulary
    object_synsets: dict[str, str] = field(default_factory=dict)


class SceneBuilder:
    """Builds one scene; `take`/`drop` keep the ledger for every record it touches."""

    def __init__(
        self,
        scene_id: str,
        rows: list[Routed],
        ctx: SceneContext,
        ledger,
        aspects: tuple[str, ...] | None = None,
    ) -> None:
        self.scene_id = scene_id
        self.ctx = ctx
        self.ledger = ledger
        # The typed attribute keys, looked up once per partition rather than per object.
        self.aspects = aspects if aspects is not None else typed_aspects()
        self.by_kind: dict[str, list[Routed]] = defaultdict(list)
        for row in rows:
            self.by_kind[row.kind].append(row)
        self.objects: dict[str, dict[str, Any]] = {}
        self.vg_alias: dict[int, str] = {}  # VG merged / raw object id -> object_id
        self.relations: list[dict[str, Any]] = []
        self.captions: list[dict[str, Any]] = []

    # -- ledger helpers ---------------------------------------------------------------
    def drop(self, row: Routed, err: RecordError) -> None:
        self.ledger.quarantine(row.label, row.where, err.reason, err.detail, row.record)

    def drop_all(self, kinds: tuple[str, ...], reason: str, detail: str) -> None:
        for kind in kinds:
            for row in self.by_kind.pop(kind, []):
                self.drop(row, RecordError(reason, detail))

    # -- images -----------------------------------------------------------------------
    def _first_valid(self, kind: str, spec: dict) -> tuple[Routed | None, list[Routed]]:
        chosen, rest = None, []
        for row in self.by_kind.get(kind, []):
            try:
                F.check_fields(row.record, spec)
            except RecordError as err:
                self.drop(row, err)
                continue
            if chosen is None:
                chosen = row
            else:
                rest.append(row)
        return chosen, rest

    def images(self) -> dict[str, Any] | None:
        coco, dupes = self._first_valid("coco_image", F.COCO_IMAGE)
        for row in dupes:  # duplicates across instance files were caught at split time
            self.drop(row, RecordError("duplicate_id", "image listed twice"))
        cap_images, more = self._first_valid("coco_caption_image", F.COCO_IMAGE)
        for row in [r for r in [cap_images, *more] if r is not None]:
            if coco is None:
                coco = row  # captions-only COCO image
                self.ledger.used(row.label)
            elif _same_size(row.record, coco.record):
                self.ledger.used(row.label)
            else:
                self.drop(row, RecordError("conflicting_image", "size differs from instances"))
        vg, vg_dupes = self._first_valid("vg_image", F.VG_IMAGE)
        for row in vg_dupes:
            self.drop(row, RecordError("duplicate_id", "image listed twice"))
        if coco is None and vg is None:
            return None
        for row in (coco, vg):
            if row is not None and row.kind != "coco_caption_image":
                self.ledger.used(row.label)
        return _image_fields(coco.record if coco else None, vg.record if vg else None)

    # -- objects ----------------------------------------------------------------------
    def coco_objects(self, image: dict[str, Any]) -> None:
        for row in self.by_kind.pop("coco_instance", []):
            rec = row.record
            try:
                F.check_fields(rec, F.COCO_INSTANCE)
                category = self.ctx.categories.get(rec["category_id"])
                if category is None:
                    raise RecordError(
                        "unknown_category", f"category_id {rec['category_id']} is not defined"
                    )
                box = F.clip_box(rec["bbox"], image["width"], image["height"])
            except RecordError as err:
                self.drop(row, err)
                continue
            name = self.ctx.vocab.object_name(category["name"])
            object_id = f"coco/ann/{rec['id']}"
            self.objects[object_id] = _object(
                object_id,
                "coco",
                self.aspects,
                raw_name=category["name"],
                name=name,
                synset=first_noun_synset(name),
                bbox=box,
                area=float(rec.get("area", box[2] * box[3])),
                iscrowd=bool(rec.get("iscrowd", 0)),
                coco_category=category["name"],
                coco_category_id=category["id"],
                evidence=[object_id],
            )
            self.ledger.used(row.label)

    def _vg_object(self, rec: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
        F.check_fields(rec, F.VG_BOX)
        names = F.vg_names(rec)
        scale = image["vg_scale"]
        box = [rec["x"] * scale, rec["y"] * scale, rec["w"] * scale, rec["h"] * scale]
        box = F.clip_box(box, image["width"], image["height"])
        raw_name = clean_text(names[0])
        name = self.ctx.vocab.object_name(raw_name)
        if not name:  # "!!!" cleans to nothing: an object without a name is no fact
            raise RecordError("bad_value", f"name {names[0]!r} is empty once cleaned")
        synsets = rec.get("synsets") if F.is_text_list(rec.get("synsets")) else []
        synset = (
            synsets[0]
            if synsets
            else self.ctx.object_synsets.get(raw_name) or first_noun_synset(name)
        )
        object_id = f"vg/obj/{rec['object_id']}"
        return _object(
            object_id,
            "vg",
            self.aspects,
            raw_name=raw_name,
            name=name,
            synset=synset,
            bbox=box,
            area=round(box[2] * box[3], 2),
            # COCO's iscrowd marks a box over several objects; a VG box says so by a
            # plural name ("chairs"), which the canonical name makes singular.
            iscrowd=names_a_group(raw_name, name),
            coco_category=None,
            coco_category_id=None,
            evidence=[object_id],
        )

    def _resolve(self, raw_id: Any) -> dict[str, Any] | None:
        if not F.is_int(raw_id):
            return None
        object_id = self.vg_alias.get(raw_id)
        return self.objects.get(object_id) if object_id else None

    def _add_vg(self, obj: dict[str, Any], raw_id: int, merged: list[int]) -> None:
        self.objects[obj["object_id"]] = obj
        for alias in (raw_id, *merged):
            self.vg_alias.setdefault(alias, obj["object_id"])

    def vg_objects(self, image: dict[str, Any]) -> None:
        for row in self.by_kind.pop("vg_object", []):
            rec = row.record
            try:
                obj = self._vg_object(rec, image)
                merged = rec.get("merged_object_ids", [])
                if not F.is_int_list(merged):
                    raise RecordError("bad_value", f"'merged_object_ids' is {merged!r}")
            except RecordError as err:
                self.drop(row, err)
                continue
            self._add_vg(obj, rec["object_id"], merged)
            self.ledger.used(row.label)

    def vg_attributes(self, image: dict[str, Any]) -> None:
        for row in self.by_kind.pop("vg_attribute", []):
            rec = row.record
            raw_id = rec.get("object_id")
            attrs = rec.get("attributes", [])
            try:
                if not F.is_text_list(attrs):
                    raise RecordError("bad_value", f"'attributes' is {attrs!r}, expected strings")
                target = self._resolve(raw_id)
                if target is None:  # an object only attributes.json knows (VG 1.2 style)
                    target = self._vg_object(rec, image)
                    self._add_vg(target, rec["object_id"], [])
                elif not attrs:
                    self.ledger.skip(row.label, "no_attributes")
                    continue
            except RecordError as err:
                self.drop(row, err)
                continue
            if attrs:
                target["raw_attributes"].extend(attrs)
                target["evidence_ids"].append(f"vg/attr/{raw_id}")
            self.ledger.used(row.label)

    def vg_relationships(self, image: dict[str, Any]) -> None:
        for row in self.by_kind.pop("vg_relationship", []):
            rec = row.record
            try:
                F.check_fields(rec, F.VG_RELATIONSHIP)
                predicate = self.ctx.vocab.predicate(rec["predicate"])
                if not predicate:  # checked before the ends, which may add objects
                    problem = f"predicate {rec['predicate']!r} is empty once cleaned"
                    raise RecordError("bad_value", problem)
                ends = [self._endpoint(rec.get(side), image) for side in ("subject", "object")]
            except RecordError as err:
                self.drop(row, err)
                continue
            # Objects known only as ends join the scene once the whole relation is valid:
            # a quarantined relation must leave nothing behind.
            for end, (obj, new_obj) in zip((rec["subject"], rec["object"]), ends, strict=True):
                if new_obj:
                    merged = end.get("merged_object_ids", [])
                    self._add_vg(obj, end["object_id"], merged if F.is_int_list(merged) else [])
            ends = [obj for obj, _ in ends]
            synsets = rec.get("synsets") if F.is_text_list(rec.get("synsets")) else []
            self.relations.append(
                {
                    "relation_id": f"vg/rel/{rec['relationship_id']}",
                    "subject_id": ends[0]["object_id"],
                    "predicate": predicate,
                    "raw_predicate": rec["predicate"],
                    "object_id": ends[1]["object_id"],
                    "synset": synsets[0] if synsets else None,
                }
            )
            self.ledger.used(row.label)

    def _endpoint(self, end: Any, image: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """A relationship end: a known object, or a full object record of its own (then
        True: the caller adds it once the relation is valid)."""
        known = self._resolve(end.get("object_id")) if isinstance(end, dict) else None
        if known is not None:
            return known, False
        try:
            obj = self._vg_object(end if isinstance(end, dict) else {}, image)
        except RecordError as err:
            raise RecordError("relation_to_missing_object", err.detail) from None
        return obj, True

    def captions_of(self) -> None:
        for row in self.by_kind.pop("coco_caption", []):
            try:
                F.check_fields(row.record, F.COCO_CAPTION)
            except RecordError as err:
                self.drop(row, err)
                continue
            cid = f"coco/cap/{row.record['id']}"
            self.captions.append({"caption_id": cid, "text": row.record["caption"].strip()})
            self.ledger.used(row.label)

    # -- the whole scene -------------------------------------------------------------
    def build(self) -> dict[str, Any] | None:
        image = self.images()
        annotation_kinds = (
            "coco_instance",
            "coco_caption",
            "vg_object",
            "vg_attribute",
            "vg_relationship",
        )
        if image is None:
            self.drop_all(annotation_kinds, "missing_image", f"no valid image for {self.scene_id}")
            return None
        self.coco_objects(image)
        self.vg_objects(image)
        self.vg_attributes(image)
        self.vg_relationships(image)
        self.captions_of()
        objects = sorted(self.objects.values(), key=_object_order)
        for obj in objects:
            _type_attributes(obj, self.ctx.vocab)
        mark_duplicates(objects)
        self.relations.sort(key=lambda r: _id_order(r["relation_id"]))
        self.captions.sort(key=lambda c: _id_order(c["caption_id"]))
        return {
            "scene_id": self.scene_id,
            **{k: v for k, v in image.items() if k != "vg_scale"},
            "objects": objects,
            "relations": self.relations,
            "captions": self.captions,
        }


def _same_size(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["width"] == b["width"] and a["height"] == b["height"]


def _image_fields(coco: dict[str, Any] | None, vg: dict[str, Any] | None) -> dict[str, Any]:
    main = coco or vg
    width, height = main["width"], main["height"]
    # VG stores some COCO images at another resolution: scale VG boxes to the COCO size.
    vg_scale = width / vg["width"] if (coco and vg) else 1.0
    evidence = []
    if coco:
        evidence.append(f"coco/img/{coco['id']}")
    if vg:
        evidence.append(f"vg/img/{vg['image_id']}")
    coco_id = coco["id"] if coco else (vg.get("coco_id") if vg else None)
    return {
        "image_source": "coco" if coco else "vg",
        "image_id": coco["id"] if coco else vg["image_id"],
        "coco_id": coco_id,
        "vg_id": vg["image_id"] if vg else None,
        "width": int(width),
        "height": int(height),
        "file_name": coco["file_name"] if coco else f"{vg['image_id']}.jpg",
        "url": (coco.get("coco_url") if coco else vg.get("url")) or "",
        "license": coco.get("license") if coco and F.is_int(coco.get("license")) else None,
        "evidence_ids": evidence,
        "vg_scale": vg_scale,
    }


def _object(
    object_id: str,
    source: str,
    aspects: tuple[str, ...],
    *,
    evidence: list[str],
    **fields: Any,
) -> dict[str, Any]:
    return {
        "object_id": object_id,
        "source": source,
        **fields,
        "duplicate_of": None,
        "attributes": {a: [] for a in aspects},
        "raw_attributes": [],
        "multi_valued": [],
        "evidence_ids": evidence,
    }


def _type_attributes(obj: dict[str, Any], vocab: Vocabulary) -> None:
    typed: list[TypedAttribute] = []
    for raw in obj["raw_attributes"]:
        typed.extend(vocab.attribute(raw))
    for t in typed:
        if t.value not in obj["attributes"][t.aspect]:
            obj["attributes"][t.aspect].append(t.value)
        if t.compound and t.aspect not in obj["multi_valued"]:
            obj["multi_valued"].append(t.aspect)
    for values in obj["attributes"].values():
        values.sort()
    obj["multi_valued"].sort()


def _id_order(ident: str) -> tuple[str, int]:
    prefix, _, number = ident.rpartition("/")
    return (prefix, int(number))


def _object_order(obj: dict[str, Any]) -> tuple[int, str, int]:
    prefix, number = _id_order(obj["object_id"])
    return (0 if obj["source"] == "coco" else 1, prefix, number)


def iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two [x, y, w, h] boxes. Called ~500K times per 1K images
    (referents): min and max are written out (the same picks as the builtins, at a
    fraction of the cost) and boxes apart in x return before y is looked at."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ax2, bx2 = ax + aw, bx + bw
    w = (bx2 if bx2 < ax2 else ax2) - (bx if bx > ax else ax)
    if w <= 0:
        return 0.0
    ay2, by2 = ay + ah, by + bh
    h = (by2 if by2 < ay2 else ay2) - (by if by > ay else ay)
    if h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def mark_duplicates(objects: list[dict[str, Any]]) -> None:
    """VG holds near-duplicate boxes of one object (and a COCO twin repeats VG's objects):
    the later of two same-named boxes with IoU >= DUPLICATE_IOU points at the earlier."""
    kept: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        for other in kept[obj["name"]]:
            if iou(obj["bbox"], other["bbox"]) >= DUPLICATE_IOU:
                obj["duplicate_of"] = other["object_id"]
                break
        else:
            kept[obj["name"]].append(obj)


def build_scenes(rows: list[dict[str, Any]], ctx: SceneContext, ledger) -> list[dict[str, Any]]:
    """All scenes of one partition, sorted by (hash, scene_id)."""
    grouped: dict[str, list[Routed]] = defaultdict(list)
    for row in rows:
        grouped[row["s"]].append(Routed(row["k"], row["f"], row["w"], row["r"]))
    scenes = []
    aspects = typed_aspects()
    for scene_id in sorted(grouped, key=scene_sort_key):
        scene = SceneBuilder(scene_id, grouped[scene_id], ctx, ledger, aspects).build()
        if scene is not None:
            scenes.append(scene)
    return scenes
