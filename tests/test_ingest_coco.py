"""COCO reader: instances and captions, any number of files (train and val together)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import VG_SIDE_FILES

from pipeline.build import run_build
from pipeline.config import BuildOptions
from pipeline.progress import Progress


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _alias_only_vg_dir(source: Path, dest: Path) -> Path:
    """A VG folder with no images but the sample's alias and synset lists, so COCO names are
    normalized as in a full build of the sample."""
    _write(dest / "image_data.json", [])
    _write(dest / "objects.json", [])
    for name in VG_SIDE_FILES:
        if (source / name).exists():
            shutil.copyfile(source / name, dest / name)
    return dest


def test_two_instance_files_build_the_same_scenes_as_one(
    demo_raw, demo_inputs, scenes_of, manifest_of, tmp_path
):
    inst, cap = demo_raw["instances"], demo_raw["captions"]
    vg_dir = _alias_only_vg_dir(demo_inputs["vg_dir"], tmp_path / "vg")
    halves = [inst["images"][0::2], inst["images"][1::2]]
    files = []
    for name, images in zip(("train", "val"), halves, strict=True):
        ids = {im["id"] for im in images}
        part = {
            "info": inst["info"],
            "licenses": inst["licenses"],
            "images": images,
            "annotations": [a for a in inst["annotations"] if a["image_id"] in ids],
            "categories": inst["categories"],
        }
        # Same file name in two folders: the build must still tell them apart.
        files.append(_write(tmp_path / name / "instances.json", part))
    caption_files = []
    for name, images in zip(("train", "val"), halves, strict=True):
        ids = {im["id"] for im in images}
        part = {
            "info": cap["info"],
            "licenses": cap["licenses"],
            "images": images,
            "annotations": [a for a in cap["annotations"] if a["image_id"] in ids],
        }
        caption_files.append(_write(tmp_path / name / "captions.json", part))
    out, whole = tmp_path / "out", tmp_path / "whole"
    for instances, captions, dest in (
        (files, caption_files, out),
        ([demo_inputs["instances"]], [demo_inputs["captions"]], whole),
    ):
        options = BuildOptions(
            coco_instances=instances, coco_captions=captions, vg_dir=vg_dir, out=dest
        )
        run_build(options, Progress(quiet=True))

    got = {s["scene_id"]: s for s in scenes_of(out)}
    expected = {s["scene_id"]: s for s in scenes_of(whole)}
    assert set(expected) == {f"coco/{im['id']}" for im in inst["images"]}
    assert set(got) == set(expected)
    for scene_id, scene in expected.items():
        assert got[scene_id] == scene, scene_id

    manifest = manifest_of(out)
    labels = [i["label"] for i in manifest["inputs"] if i["kind"] == "coco_instances"]
    assert len(labels) == len(set(labels)) == 2
    records = manifest["records"]
    n_cat = len(inst["categories"])
    for label, path, images in zip(labels, files, halves, strict=True):
        data = json.loads(path.read_text())
        assert records[label]["read"] == n_cat + len(images) + len(data["annotations"])
        assert records[label]["reconciled"]
        assert not records[label]["quarantined"]
    assert manifest["reconciled"]


def test_captions_only_image_still_makes_a_scene(small, build, scenes_of, manifest_of):
    # An image known only to the captions file (no instances entry) is still a COCO image.
    extra = dict(small.captions["images"][0], id=999001, file_name="000000999001.jpg")
    small.captions["images"].append(extra)
    small.captions["annotations"].append({"image_id": 999001, "id": 999002, "caption": " A cat. "})
    out = build(small)
    scenes = {s["scene_id"]: s for s in scenes_of(out)}
    scene = scenes["coco/999001"]
    assert scene["captions"] == [{"caption_id": "coco/cap/999002", "text": "A cat."}]
    assert scene["objects"] == []
    assert manifest_of(out)["reconciled"]


def test_crowd_flag_and_area_come_from_the_annotation(small, build, scenes_of):
    ann = small.instances["annotations"][0]
    ann["iscrowd"] = 1
    ann["area"] = 1234.5
    out = build(small)
    objects = {o["object_id"]: o for s in scenes_of(out) for o in s["objects"]}
    obj = objects[f"coco/ann/{ann['id']}"]
    assert obj["iscrowd"] is True
    assert obj["area"] == 1234.5
    others = [o for k, o in objects.items() if k.startswith("coco/ann/") and o is not obj]
    crowd_ids = {f"coco/ann/{a['id']}" for a in small.instances["annotations"] if a.get("iscrowd")}
    assert {o["object_id"] for o in others if o["iscrowd"]} == crowd_ids - {obj["object_id"]}


def test_categories_come_from_the_file(small, build, scenes_of):
    # Rename a category: the file's own table decides the raw name and the category.
    ann = small.instances["annotations"][0]
    for cat in small.instances["categories"]:
        if cat["id"] == ann["category_id"]:
            cat["name"] = "zebra"
    out = build(small)
    objects = {o["object_id"]: o for s in scenes_of(out) for o in s["objects"]}
    obj = objects[f"coco/ann/{ann['id']}"]
    assert obj["coco_category"] == obj["raw_name"] == "zebra"
    assert obj["coco_category_id"] == ann["category_id"]
    assert obj["name"] == "zebra"
