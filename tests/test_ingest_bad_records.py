"""Bad records: each is written to <out>/quarantine/<file>.jsonl with its reason and place,
the run goes on, the other records are untouched and the manifest still reconciles."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

import pytest

from pipeline.build import run_build
from pipeline.progress import Progress

INSTANCES = "instances_val2017.json"
CAPTIONS = "captions_val2017.json"
VG_IMAGES = "vg_image_data.json"
VG_OBJECTS = "vg_objects.json"
VG_ATTRIBUTES = "vg_attributes.json"
VG_RELATIONSHIPS = "vg_relationships.json"


@dataclass(frozen=True)
class Bad:
    name: str
    label: str
    where: str
    reason: str


def inject(small) -> list[Bad]:
    """Add one bad record per case to the small sample; return where each must end up."""
    bad: list[Bad] = []
    inst, cap = small.instances, small.captions
    image = inst["images"][0]
    good_ann = next(a for a in inst["annotations"] if a["image_id"] == image["id"])

    def ann(name: str, reason: str, **change) -> None:
        record = {k: v for k, v in good_ann.items() if k != "segmentation"}
        record.update(id=880000 + len(bad))
        for key, value in change.items():
            if value is _DROP:
                record.pop(key)
            else:
                record[key] = value
        inst["annotations"].append(record)
        bad.append(Bad(name, INSTANCES, f"annotations[{len(inst['annotations']) - 1}]", reason))

    ann("annotation missing bbox", "missing_field", bbox=_DROP)
    ann("category_id of the wrong type", "bad_value", category_id="1")
    ann("NaN in a box", "bad_value", bbox=[10.0, math.nan, 20.0, 20.0])
    ann("negative box size", "degenerate_box", bbox=[10.0, 10.0, -20.0, 20.0])
    ann("negative area", "bad_value", area=-5.0)
    ann("box outside the image", "box_outside_image",
        bbox=[image["width"] + 50.0, 10.0, 20.0, 20.0])  # fmt: skip
    ann("unknown category id", "unknown_category", category_id=9999)
    ann("annotation of a missing image", "missing_image", image_id=123456789)
    ann("iscrowd of the wrong type", "bad_value", iscrowd="yes")
    # A repeated annotation id (the original stays).
    inst["annotations"].append(copy.deepcopy(good_ann))
    n = len(inst["annotations"]) - 1
    bad.append(Bad("duplicate annotation id", INSTANCES, f"annotations[{n}]", "duplicate_id"))

    def img(name: str, reason: str, **change) -> dict:
        record = dict(image, id=990000 + len(bad), **change)
        inst["images"].append(record)
        bad.append(Bad(name, INSTANCES, f"images[{len(inst['images']) - 1}]", reason))
        return record

    negative = img("negative image width", "bad_value", width=-640)
    img("NaN image height", "bad_value", height=math.nan)
    no_name = img("image without file_name", "missing_field")
    no_name.pop("file_name")
    inst["images"].append(copy.deepcopy(image))
    n = len(inst["images"]) - 1
    bad.append(Bad("duplicate image id", INSTANCES, f"images[{n}]", "duplicate_id"))
    # An annotation of the image whose record was bad has no image to belong to.
    ann("annotation of a quarantined image", "missing_image", image_id=negative["id"])
    inst["categories"].append(dict(inst["categories"][0], name="not a person"))
    n = len(inst["categories"]) - 1
    bad.append(Bad("category id twice, other name", INSTANCES, f"categories[{n}]", "duplicate_id"))
    inst["annotations"].append("not a record")
    n = len(inst["annotations"]) - 1
    bad.append(Bad("annotation that is not an object", INSTANCES, f"annotations[{n}]",
                   "not_an_object"))  # fmt: skip

    good_cap = next(c for c in cap["annotations"] if c["image_id"] == image["id"])

    def caption(name: str, reason: str, record) -> None:
        cap["annotations"].append(record)
        bad.append(Bad(name, CAPTIONS, f"annotations[{len(cap['annotations']) - 1}]", reason))

    caption("caption text missing", "missing_field", {"id": 770001, "image_id": image["id"]})
    caption("caption of the wrong type", "bad_value",
            {"id": 770002, "image_id": image["id"], "caption": 5})  # fmt: skip
    caption("caption of a missing image", "missing_image",
            {"id": 770003, "image_id": 123456789, "caption": "A dog."})  # fmt: skip
    caption("duplicate caption id", "duplicate_id", dict(good_cap))
    caption("caption without image_id", "missing_field", {"id": 770004, "caption": "A cat."})

    vg_image = small.vg_images[0]
    vg_id = vg_image["image_id"]
    objects = next(e for e in small.vg_objects if e["image_id"] == vg_id)["objects"]
    good_obj = objects[0]

    def vg_obj(name: str, reason: str, **change) -> None:
        record = dict(good_obj, object_id=660000 + len(bad), merged_object_ids=[])
        for key, value in change.items():
            if value is _DROP:
                record.pop(key)
            else:
                record[key] = value
        objects.append(record)
        bad.append(Bad(name, VG_OBJECTS, f"[0].objects[{len(objects) - 1}]", reason))

    vg_obj("VG object with negative width", "bad_value", w=-10)
    vg_obj("VG object missing x", "missing_field", x=_DROP)
    vg_obj("VG object with NaN height", "bad_value", h=math.nan)
    vg_obj("VG object outside the image", "box_outside_image", x=vg_image["width"] + 100)
    vg_obj("VG object without a name", "missing_field", names=_DROP)
    vg_obj("VG object id of the wrong type", "bad_value", object_id="x1")
    objects.append(copy.deepcopy(good_obj))
    n = len(objects) - 1
    bad.append(Bad("duplicate VG object id", VG_OBJECTS, f"[0].objects[{n}]", "duplicate_id"))
    small.vg_objects.append({"image_id": 424242, "objects": [dict(good_obj, object_id=660999)]})
    n = len(small.vg_objects) - 1
    bad.append(Bad("objects of an image not in image_data", VG_OBJECTS, f"[{n}].objects[0]",
                   "unknown_image"))  # fmt: skip

    small.vg_images.append(dict(vg_image, image_id=vg_id + 5000, width="wide"))
    n = len(small.vg_images) - 1
    bad.append(Bad("VG image width of the wrong type", VG_IMAGES, f"[{n}]", "bad_value"))
    small.vg_images.append(dict(vg_image))
    n = len(small.vg_images) - 1
    bad.append(Bad("duplicate VG image id", VG_IMAGES, f"[{n}]", "duplicate_id"))
    small.vg_objects.append(
        {"image_id": vg_id + 5000, "objects": [dict(good_obj, object_id=661000)]}
    )
    n = len(small.vg_objects) - 1
    bad.append(Bad("object of a quarantined VG image", VG_OBJECTS, f"[{n}].objects[0]",
                   "missing_image"))  # fmt: skip

    rel_entry_index = next(
        i for i, e in enumerate(small.vg_relationships) if e["image_id"] == vg_id
    )
    rels = small.vg_relationships[rel_entry_index]["relationships"]
    good_rel = rels[0]

    def rel(name: str, reason: str, **change) -> None:
        record = dict(copy.deepcopy(good_rel), relationship_id=550000 + len(bad))
        for key, value in change.items():
            if value is _DROP:
                record.pop(key)
            else:
                record[key] = value
        rels.append(record)
        where = f"[{rel_entry_index}].relationships[{len(rels) - 1}]"
        bad.append(Bad(name, VG_RELATIONSHIPS, where, reason))

    rel("relation to a missing object", "relation_to_missing_object",
        object={"object_id": 123456789})  # fmt: skip
    rel("relation without predicate", "missing_field", predicate=_DROP)
    rel("relation predicate of the wrong type", "bad_value", predicate=["on"])

    attr_entry_index = next(i for i, e in enumerate(small.vg_attributes) if e["image_id"] == vg_id)
    attrs = small.vg_attributes[attr_entry_index]["attributes"]
    attrs.append(dict(attrs[0], attributes="red"))
    where = f"[{attr_entry_index}].attributes[{len(attrs) - 1}]"
    bad.append(Bad("attributes as a string, not a list", VG_ATTRIBUTES, where, "bad_value"))
    return bad


class _Drop:
    pass


_DROP = _Drop()


@pytest.fixture(scope="module")
def builds(small_factory, tmp_path_factory):
    """(clean output, bad-record output, the injected cases, the bad sample)."""
    root = tmp_path_factory.mktemp("bad_records")
    clean = small_factory(root / "clean")
    clean.write()
    run_build(clean.options(root / "clean_out"), Progress(quiet=True))
    dirty = small_factory(root / "dirty")
    cases = inject(dirty)
    dirty.write()
    # Python's json.dump writes NaN as a bare token: the file must still be read.
    assert "NaN" in dirty.instances_path.read_text()
    run_build(dirty.options(root / "dirty_out"), Progress(quiet=True))
    return root / "clean_out", root / "dirty_out", cases, dirty


def test_every_bad_record_is_quarantined_with_reason_and_place(builds, quarantine_of):
    _, out, cases, _ = builds
    assert len({c.name for c in cases}) == len(cases)
    missing = []
    for case in cases:
        rows = [r for r in quarantine_of(out, case.label) if r["where"] == case.where]
        if len(rows) != 1 or rows[0]["reason"] != case.reason:
            got = [(r["reason"], r["detail"]) for r in rows]
            missing.append(f"{case.name}: {case.label} {case.where} expected {case.reason}, {got}")
            continue
        row = rows[0]
        assert row["file"] == case.label
        assert row["detail"]
        assert "record" in row
    assert not missing, "\n".join(missing)


def test_quarantine_holds_only_the_injected_records(builds, quarantine_of):
    clean, out, cases, _ = builds
    expected = sorted((c.label, c.where) for c in cases)
    labels = {c.label for c in cases}
    got = sorted((label, r["where"]) for label in labels for r in quarantine_of(out, label))
    assert got == expected
    assert not (clean / "quarantine").exists() or not any((clean / "quarantine").iterdir())


def test_quarantine_files_are_json_lines_named_after_the_input(builds):
    _, out, cases, _ = builds
    files = sorted(p.name for p in (out / "quarantine").iterdir())
    assert files == sorted({f"{c.label}.jsonl" for c in cases})
    for path in (out / "quarantine").iterdir():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert {"file", "where", "reason", "detail", "record"} <= set(row)


def test_a_nan_record_is_kept_as_written(builds, quarantine_of):
    _, out, cases, _ = builds
    case = next(c for c in cases if c.name == "NaN in a box")
    row = next(r for r in quarantine_of(out, case.label) if r["where"] == case.where)
    assert "NaN" in json.dumps(row["record"]["bbox"])


def test_other_records_are_unaffected(builds, scenes_of):
    clean, out, _, _ = builds
    clean_scenes = {s["scene_id"]: s for s in scenes_of(clean)}
    dirty_scenes = {s["scene_id"]: s for s in scenes_of(out)}
    assert set(dirty_scenes) == set(clean_scenes)
    for scene_id, scene in clean_scenes.items():
        assert dirty_scenes[scene_id] == scene, scene_id


def test_manifest_reconciles_and_counts_each_bad_record(builds, manifest_of):
    clean, out, cases, _ = builds
    before, after = manifest_of(clean)["records"], manifest_of(out)
    assert after["reconciled"] is True
    for label, counts in after["records"].items():
        n_bad = sum(1 for c in cases if c.label == label)
        assert counts["reconciled"] is True, label
        assert counts["read"] == before[label]["read"] + n_bad, label
        assert counts["used"] == before[label]["used"], label
        assert counts["skipped"] == before[label]["skipped"], label
        by_reason: dict[str, int] = {}
        for c in cases:
            if c.label == label:
                by_reason[c.reason] = by_reason.get(c.reason, 0) + 1
        assert counts["quarantined"] == dict(sorted(by_reason.items())), label


def test_cli_run_with_bad_records_succeeds(small, cli, tmp_path, quarantine_of):
    inject(small)
    small.write()
    out = tmp_path / "out"
    code, stdout, err = cli("build", *small.args(), "--out", out, "--quiet")
    assert code == 0, err
    assert "Traceback" not in err
    assert stdout.strip() == f"output: {out.resolve()}"
    assert quarantine_of(out, INSTANCES)


def test_duplicate_annotation_id_on_another_image_is_quarantined(
    small, build, quarantine_of, scenes_of
):
    first, second = small.instances["images"][:2]
    ann = next(a for a in small.instances["annotations"] if a["image_id"] == first["id"])
    small.instances["annotations"].append(dict(ann, image_id=second["id"], bbox=[1, 1, 5, 5]))
    out = build(small)
    ids = [o["object_id"] for s in scenes_of(out) for o in s["objects"]]
    assert ids.count(f"coco/ann/{ann['id']}") == 1
    reasons = [r["reason"] for r in quarantine_of(out, INSTANCES)]
    assert reasons == ["duplicate_id"]


def test_duplicate_vg_object_id_in_another_image_is_quarantined(
    small, build, quarantine_of, scenes_of
):
    first, second = small.vg_objects[:2]
    obj = dict(first["objects"][0], merged_object_ids=[], x=1, y=1, w=5, h=5)
    second["objects"].append(obj)
    out = build(small)
    ids = [o["object_id"] for s in scenes_of(out) for o in s["objects"]]
    assert ids.count(f"vg/obj/{obj['object_id']}") == 1
    assert [r["reason"] for r in quarantine_of(out, VG_OBJECTS)] == ["duplicate_id"]


def test_id_set_remembers_dense_sparse_and_negative_ids():
    from pipeline.ingest.split import IdSet

    ids = IdSet()
    for value in (0, 7, 8, 5_000_000, 900100581904, -3):
        assert ids.add(value), value
        assert not ids.add(value), value
    assert ids.add(9) and ids.add(4_999_999)
    assert len(ids.bits) < 2_000_000  # about one bit per id, not a Python object each
