"""Visual Genome reader: the 1.4 shape (as shipped) and the 1.2 shape, objects known only to
attributes.json or to a relationship, the COCO twin merge, near-duplicate boxes."""

from __future__ import annotations

import pytest

from pipeline.scenes import DUPLICATE_IOU, iou

OBJECT_FIELDS = ("object_id", "source", "raw_name", "name", "synset", "bbox", "area")


def _objects(scenes: list[dict]) -> dict[str, dict]:
    return {o["object_id"]: o for s in scenes for o in s["objects"]}


def _scene(scenes: list[dict], scene_id: str) -> dict:
    return next(s for s in scenes if s["scene_id"] == scene_id)


def _as_vg12(small) -> None:
    """Rewrite the small sample's VG files into the 1.2 shape: objects carry `name` (not
    `names`), no `merged_object_ids`, per-image entries of objects / attributes /
    relationships say `id` (not `image_id`)."""

    def obj12(obj: dict) -> dict:
        obj = {k: v for k, v in obj.items() if k != "merged_object_ids"}
        if "names" in obj:
            obj["name"] = obj.pop("names")[0]
        return obj

    def entry12(entry: dict, key: str) -> dict:
        entry = dict(entry)
        entry["id"] = entry.pop("image_id")
        if key == "relationships":
            entry[key] = [
                dict(r, subject=obj12(r["subject"]), object=obj12(r["object"])) for r in entry[key]
            ]
        else:
            entry[key] = [obj12(o) for o in entry[key]]
        return entry

    small.vg_objects = [entry12(e, "objects") for e in small.vg_objects]
    small.vg_attributes = [entry12(e, "attributes") for e in small.vg_attributes]
    small.vg_relationships = [entry12(e, "relationships") for e in small.vg_relationships]
    # image_data.json keeps `image_id`: that is its 1.2 shape (the sample's file is 1.2).


def test_vg_14_merged_object_ids_take_attributes_of_the_merged_id(small, build, scenes_of):
    entry = small.vg_objects[0]
    image_id = entry["image_id"]
    target = next(o for o in entry["objects"] if o.get("merged_object_ids"))
    merged_id = target["merged_object_ids"][0]
    attrs = next(a for a in small.vg_attributes if a["image_id"] == image_id)
    attrs["attributes"] = [a for a in attrs["attributes"] if a["object_id"] != merged_id]
    record = {k: v for k, v in target.items() if k != "merged_object_ids"}
    attrs["attributes"].append(dict(record, object_id=merged_id, attributes=["shiny purple"]))
    out = build(small)
    objects = _objects(scenes_of(out))
    assert f"vg/obj/{merged_id}" not in objects
    obj = objects[f"vg/obj/{target['object_id']}"]
    assert "shiny purple" in obj["raw_attributes"]
    assert f"vg/attr/{merged_id}" in obj["evidence_ids"]


def test_vg_12_shape_reads_into_the_same_objects(small, build, scenes_of, manifest_of):
    out14 = build(small, "out14")
    _as_vg12(small)
    assert all("id" in e and "image_id" not in e for e in small.vg_objects)
    assert all("name" in o and "names" not in o for e in small.vg_objects for o in e["objects"])
    out12 = build(small, "out12")
    scenes14, scenes12 = scenes_of(out14), scenes_of(out12)
    assert [s["scene_id"] for s in scenes12] == [s["scene_id"] for s in scenes14]
    obj14, obj12 = _objects(scenes14), _objects(scenes12)
    for entry in small.vg_objects:
        for raw in entry["objects"]:
            key = f"vg/obj/{raw['object_id']}"
            assert {f: obj12[key][f] for f in OBJECT_FIELDS} == {
                f: obj14[key][f] for f in OBJECT_FIELDS
            }, key
    rel14 = [r for s in scenes14 for r in s["relations"]]
    rel12 = [r for s in scenes12 for r in s["relations"]]
    assert [r["relation_id"] for r in rel12] == [r["relation_id"] for r in rel14]
    assert [r["predicate"] for r in rel12] == [r["predicate"] for r in rel14]
    for label, counts in manifest_of(out12)["records"].items():
        assert not counts["quarantined"], label
    assert manifest_of(out12)["reconciled"]


def test_vg_10_image_data_with_id_instead_of_image_id(small, build, scenes_of, manifest_of):
    before = build(small, "with_image_id")
    for image in small.vg_images:
        image["id"] = image.pop("image_id")
    after = build(small, "with_id")
    assert [s["scene_id"] for s in scenes_of(after)] == [s["scene_id"] for s in scenes_of(before)]
    assert scenes_of(after) == scenes_of(before)
    assert manifest_of(after)["reconciled"]
    assert not any(c["quarantined"] for c in manifest_of(after)["records"].values())


def test_objects_known_only_to_attributes_or_relationships_become_objects(
    small, build, scenes_of, manifest_of
):
    image_id = small.vg_images[1]["image_id"]
    attrs = next(a for a in small.vg_attributes if a["image_id"] == image_id)
    rels = next(r for r in small.vg_relationships if r["image_id"] == image_id)
    attrs["attributes"].append(
        {"object_id": 91001, "names": ["kite"], "x": 10, "y": 20, "w": 30, "h": 40,
         "attributes": ["red"], "synsets": ["kite.n.03"]}
    )  # fmt: skip
    known = rels["relationships"][0]["subject"]
    rels["relationships"].append(
        {"relationship_id": 92001, "predicate": "next to", "synsets": [],
         "subject": {"object_id": 91002, "name": "balloon", "x": 50, "y": 60, "w": 70, "h": 80,
                     "synsets": ["balloon.n.01"]},
         "object": dict(known)}
    )  # fmt: skip
    out = build(small)
    scene = _scene(scenes_of(out), f"vg/{image_id}")
    objects = {o["object_id"]: o for o in scene["objects"]}
    kite = objects["vg/obj/91001"]
    assert kite["raw_name"] == "kite" and kite["bbox"] == [10, 20, 30, 40]
    assert kite["raw_attributes"] == ["red"] and kite["attributes"]["color"] == ["red"]
    assert "vg/attr/91001" in kite["evidence_ids"]
    balloon = objects["vg/obj/91002"]
    assert balloon["raw_name"] == "balloon" and balloon["bbox"] == [50, 60, 70, 80]
    rel = next(r for r in scene["relations"] if r["relation_id"] == "vg/rel/92001")
    assert rel["subject_id"] == "vg/obj/91002"
    assert rel["object_id"] == f"vg/obj/{known['object_id']}"
    assert manifest_of(out)["reconciled"]


@pytest.mark.parametrize("factor", [1, 2])
def test_vg_twin_of_a_coco_image_is_one_scene_with_scaled_boxes(
    small, build, scenes_of, manifest_of, factor
):
    coco = small.instances["images"][1]  # 640 x 426
    assert coco["width"] % factor == 0 and coco["height"] % factor == 0
    vg_image = small.vg_images[0]
    vg_id = vg_image["image_id"]
    vg_image.update(coco_id=coco["id"], width=coco["width"] // factor,
                    height=coco["height"] // factor)  # fmt: skip
    # Keep three VG objects, with boxes inside the (smaller) VG image.
    person = next(
        a for a in small.instances["annotations"]
        if a["image_id"] == coco["id"] and a["category_id"] == 1
    )  # fmt: skip
    entry = next(e for e in small.vg_objects if e["image_id"] == vg_id)
    first, second = entry["objects"][:2]
    entry["objects"] = [
        dict(first, names=["lamp"], merged_object_ids=[], x=10, y=12, w=20, h=24),
        # the COCO person again, at VG's resolution: a near-duplicate of the COCO object
        dict(second, names=["person"], merged_object_ids=[],
             **dict(zip("xywh", [v / factor for v in person["bbox"]], strict=True))),
    ]  # fmt: skip
    small.vg_attributes = [a for a in small.vg_attributes if a["image_id"] != vg_id]
    small.vg_relationships = [r for r in small.vg_relationships if r["image_id"] != vg_id]
    out = build(small)
    scenes = scenes_of(out)
    ids = [s["scene_id"] for s in scenes]
    assert f"vg/{vg_id}" not in ids
    assert ids.count(f"coco/{coco['id']}") == 1
    assert len(ids) == len(small.instances["images"]) + len(small.vg_images) - 1
    scene = _scene(scenes, f"coco/{coco['id']}")
    assert scene["image_source"] == "coco"
    assert (scene["coco_id"], scene["vg_id"]) == (coco["id"], vg_id)
    assert (scene["width"], scene["height"]) == (coco["width"], coco["height"])
    assert f"coco/img/{coco['id']}" in scene["evidence_ids"]
    assert f"vg/img/{vg_id}" in scene["evidence_ids"]
    objects = {o["object_id"]: o for o in scene["objects"]}
    assert any(k.startswith("coco/ann/") for k in objects)
    lamp = objects[f"vg/obj/{first['object_id']}"]
    assert lamp["bbox"] == pytest.approx([10 * factor, 12 * factor, 20 * factor, 24 * factor])
    vg_person = objects[f"vg/obj/{second['object_id']}"]
    assert vg_person["bbox"] == pytest.approx(person["bbox"], abs=0.05)
    assert vg_person["duplicate_of"] == f"coco/ann/{person['id']}"
    assert manifest_of(out)["reconciled"]


def test_near_duplicate_boxes_get_duplicate_of(small, build, scenes_of):
    image_id = small.vg_images[1]["image_id"]
    entry = next(e for e in small.vg_objects if e["image_id"] == image_id)

    def obj(object_id: int, name: str, box: list[int]) -> dict:
        return {"object_id": object_id, "names": [name], "merged_object_ids": [], "synsets": [],
                **dict(zip("xywh", box, strict=True))}  # fmt: skip

    entry["objects"] += [
        obj(93001, "dog", [100, 100, 100, 100]),
        obj(93002, "dog", [104, 102, 100, 100]),  # same dog, jittered box
        obj(93003, "dog", [300, 300, 100, 100]),  # another dog
        obj(93004, "cat", [100, 100, 100, 100]),  # same box, other name
    ]
    assert iou([104, 102, 100, 100], [100, 100, 100, 100]) >= DUPLICATE_IOU
    out = build(small)
    objects = _objects(scenes_of(out))
    assert objects["vg/obj/93001"]["duplicate_of"] is None
    assert objects["vg/obj/93002"]["duplicate_of"] == "vg/obj/93001"
    assert objects["vg/obj/93003"]["duplicate_of"] is None
    assert objects["vg/obj/93004"]["duplicate_of"] is None
