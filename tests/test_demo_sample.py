"""The embedded demo sample: official formats, consistency, determinism and the quirks it keeps.

Shape checks compare against the real annotation sample, read from the folder named by
MSG_SAMPLE_DATA (default: `../shared/data` beside the project). They skip when that default
folder is absent, and fail when the variable names a folder that does not exist.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from pipeline.demo_sample import DemoInputs, write_demo_sample

VG_FILES = ("image_data.json", "objects.json", "attributes.json", "relationships.json")
ALIAS_FILES = ("object_alias.txt", "relationship_alias.txt")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoInputs:
    return write_demo_sample(tmp_path_factory.mktemp("demo"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def instances(demo: DemoInputs) -> dict[str, Any]:
    return _load(demo.coco_instances)


@pytest.fixture(scope="module")
def captions(demo: DemoInputs) -> dict[str, Any]:
    return _load(demo.coco_captions)


@pytest.fixture(scope="module")
def vg(demo: DemoInputs) -> dict[str, Any]:
    return {name.removesuffix(".json"): _load(demo.vg_dir / name) for name in VG_FILES}


@pytest.fixture(scope="module")
def sample_dir(sample_data: Path) -> Path:
    return sample_data  # conftest: skips when absent, fails when MSG_SAMPLE_DATA is wrong


@pytest.fixture(scope="module")
def real_coco(sample_dir: Path) -> dict[str, Any]:
    folder = sample_dir / "coco" / "annotations"
    return {
        "instances": _load(folder / "instances_val2017.json"),
        "captions": _load(folder / "captions_val2017.json"),
    }


@pytest.fixture(scope="module")
def real_vg(sample_dir: Path) -> dict[str, Any]:
    return {name.removesuffix(".json"): _load(sample_dir / "vg" / name) for name in VG_FILES}


# --- helpers ---------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _shapes(data: Any) -> tuple[dict[str, set[frozenset[str]]], dict[str, set[str]]]:
    """Key sets of every dict and kinds of every value, by path (`[]` for a list element)."""
    key_sets: dict[str, set[frozenset[str]]] = defaultdict(set)
    kinds: dict[str, set[str]] = defaultdict(set)

    def walk(value: Any, path: str) -> None:
        kinds[path].add(_kind(value))
        if isinstance(value, dict):
            key_sets[path].add(frozenset(value))
            for key, child in value.items():
                walk(child, f"{path}.{key}")
        elif isinstance(value, list):
            for child in value:
                walk(child, f"{path}[]")

    walk(data, "$")
    return key_sets, kinds


def _assert_same_shape(ours: Any, real: Any, name: str, extra_kinds: dict[str, str]) -> None:
    our_keys, our_kinds = _shapes(ours)
    real_keys, real_kinds = _shapes(real)
    for path, key_sets in our_keys.items():
        for keys in key_sets:
            assert keys in real_keys.get(path, set()), (
                f"{name}: {path} has keys {sorted(keys)}, real files have "
                f"{[sorted(k) for k in real_keys.get(path, set())]}"
            )
    for path, kinds in our_kinds.items():
        allowed = set(real_kinds.get(path, set()))
        if path in extra_kinds:
            allowed.add(extra_kinds[path])
        assert kinds <= allowed, f"{name}: {path} is {sorted(kinds)}, real is {sorted(allowed)}"


def _coco_objects(instances: dict[str, Any]) -> list[dict[str, Any]]:
    return instances["annotations"]


def _vg_rows(vg: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(image_id, box-carrying row) for every VG object, attribute row and relationship end."""
    rows = []
    for entry in vg["objects"]:
        rows += [(entry["image_id"], obj) for obj in entry["objects"]]
    for entry in vg["attributes"]:
        rows += [(entry["image_id"], obj) for obj in entry["attributes"]]
    for entry in vg["relationships"]:
        for rel in entry["relationships"]:
            rows += [(entry["image_id"], rel["subject"]), (entry["image_id"], rel["object"])]
    return rows


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def _box(row: dict[str, Any]) -> tuple[float, ...]:
    return (row["x"], row["y"], row["w"], row["h"])


# --- COCO ------------------------------------------------------------------------------------


def test_paths_are_under_dest(tmp_path: Path) -> None:
    inputs = write_demo_sample(tmp_path)
    assert inputs.coco_instances == tmp_path / "coco" / "annotations" / "instances_demo.json"
    assert inputs.coco_captions == tmp_path / "coco" / "annotations" / "captions_demo.json"
    assert inputs.vg_dir == tmp_path / "vg"
    for name in VG_FILES + ALIAS_FILES:
        assert (inputs.vg_dir / name).is_file(), name


def test_coco_files_load_with_pycocotools(demo: DemoInputs) -> None:
    coco = COCO(str(demo.coco_instances))
    assert len(coco.imgs) == 8
    assert len(coco.cats) == 80
    assert all(coco.getAnnIds(imgIds=[img_id]) for img_id in coco.imgs)
    caps = COCO(str(demo.coco_captions))
    assert set(caps.imgs) == set(coco.imgs)
    for img_id in caps.imgs:
        texts = [a["caption"] for a in caps.loadAnns(caps.getAnnIds(imgIds=[img_id]))]
        assert len(texts) == 5 and all(t.strip() for t in texts), img_id


def test_coco_top_level_and_official_naming(instances: dict, captions: dict) -> None:
    assert list(instances) == ["info", "licenses", "images", "annotations", "categories"]
    assert list(captions) == ["info", "licenses", "images", "annotations"]
    license_ids = {lic["id"] for lic in instances["licenses"]}
    for img in instances["images"]:
        assert 100_000 <= img["id"] <= 999_999
        assert img["file_name"] == f"{img['id']:012d}.jpg"
        assert img["coco_url"] == f"http://images.cocodataset.org/val2017/{img['file_name']}"
        assert img["license"] in license_ids
    demo_license = {lic["id"]: lic for lic in instances["licenses"]}[
        instances["images"][0]["license"]
    ]
    assert "illustrative" in demo_license["name"]


def test_categories_are_the_80_coco_classes(instances: dict) -> None:
    cats = instances["categories"]
    assert len(cats) == 80
    assert len({c["id"] for c in cats}) == 80 and len({c["name"] for c in cats}) == 80
    assert max(c["id"] for c in cats) == 90
    by_name = {c["name"]: (c["id"], c["supercategory"]) for c in cats}
    assert by_name["person"] == (1, "person")
    assert by_name["zebra"] == (24, "animal")
    assert by_name["dining table"] == (67, "furniture")
    assert by_name["toothbrush"] == (90, "indoor")


def test_categories_match_real_file(instances: dict, real_coco: dict) -> None:
    def table(cats: list) -> set:
        return {(c["id"], c["name"], c["supercategory"]) for c in cats}

    assert table(instances["categories"]) == table(real_coco["instances"]["categories"])


def test_annotations_reference_existing_images_and_categories(instances: dict) -> None:
    images = {img["id"] for img in instances["images"]}
    cats = {c["id"] for c in instances["categories"]}
    for ann in _coco_objects(instances):
        assert ann["image_id"] in images, ann["id"]
        assert ann["category_id"] in cats, ann["id"]


def test_captions_reference_existing_images(captions: dict, instances: dict) -> None:
    images = {img["id"] for img in instances["images"]}
    assert {a["image_id"] for a in captions["annotations"]} == images
    assert Counter(a["image_id"] for a in captions["annotations"]) == dict.fromkeys(images, 5)


def test_ids_unique(instances: dict, captions: dict, vg: dict) -> None:
    def unique(ids: list) -> bool:
        return len(ids) == len(set(ids))

    assert unique([img["id"] for img in instances["images"]])
    assert unique([a["id"] for a in instances["annotations"]])
    assert unique([a["id"] for a in captions["annotations"]])
    assert unique([img["image_id"] for img in vg["image_data"]])
    assert unique([o["object_id"] for e in vg["objects"] for o in e["objects"]])
    assert unique([o["object_id"] for e in vg["attributes"] for o in e["attributes"]])
    assert unique([r["relationship_id"] for e in vg["relationships"] for r in e["relationships"]])


def test_coco_boxes_inside_images(instances: dict) -> None:
    sizes = {img["id"]: (img["width"], img["height"]) for img in instances["images"]}
    for ann in _coco_objects(instances):
        width, height = sizes[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0, ann["id"]
        assert x + w <= width and y + h <= height, ann["id"]


def test_polygons_are_valid_and_match_box_and_area(instances: dict) -> None:
    sizes = {img["id"]: (img["width"], img["height"]) for img in instances["images"]}
    for ann in _coco_objects(instances):
        if ann["iscrowd"]:
            continue
        polygons = ann["segmentation"]
        assert isinstance(polygons, list) and polygons
        assert all(len(p) >= 6 and len(p) % 2 == 0 for p in polygons)
        xs = [v for p in polygons for v in p[0::2]]
        ys = [v for p in polygons for v in p[1::2]]
        x, y, w, h = ann["bbox"]
        assert min(xs) == pytest.approx(x, abs=0.02) and max(xs) == pytest.approx(x + w, abs=0.02)
        assert min(ys) == pytest.approx(y, abs=0.02) and max(ys) == pytest.approx(y + h, abs=0.02)
        width, height = sizes[ann["image_id"]]
        rle = mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
        rasterized = float(mask_utils.area(rle))
        if ann["area"] > 400:  # rasterization is coarse for tiny shapes
            assert rasterized == pytest.approx(ann["area"], rel=0.05), ann["id"]
        assert 0 < ann["area"] <= w * h


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2 `copy=`
def test_crowd_rle_decodes(demo: DemoInputs, instances: dict) -> None:
    crowds = [a for a in instances["annotations"] if a["iscrowd"] == 1]
    assert len(crowds) == 1
    ann = crowds[0]
    image = next(img for img in instances["images"] if img["id"] == ann["image_id"])
    segmentation = ann["segmentation"]
    assert set(segmentation) == {"counts", "size"}
    assert isinstance(segmentation["counts"], list)
    assert segmentation["size"] == [image["height"], image["width"]]
    assert sum(segmentation["counts"]) == image["height"] * image["width"]
    rle = mask_utils.frPyObjects(segmentation, image["height"], image["width"])
    mask = mask_utils.decode(rle)
    assert mask.shape == (image["height"], image["width"])
    assert int(mask.sum()) == ann["area"]
    assert list(mask_utils.toBbox(rle)) == pytest.approx(ann["bbox"])
    coco = COCO(str(demo.coco_instances))
    assert int(coco.annToMask(coco.anns[ann["id"]]).sum()) == ann["area"]


# --- Visual Genome ---------------------------------------------------------------------------


def test_vg_images_official_naming(vg: dict) -> None:
    for img in vg["image_data"]:
        assert img["url"] == f"https://cs.stanford.edu/people/rak248/VG_100K/{img['image_id']}.jpg"
    image_ids = [img["image_id"] for img in vg["image_data"]]
    for name in ("objects", "attributes", "relationships"):
        assert [e["image_id"] for e in vg[name]] == image_ids, name
    assert len(image_ids) == 6


def test_vg_boxes_inside_images(vg: dict) -> None:
    sizes = {img["image_id"]: (img["width"], img["height"]) for img in vg["image_data"]}
    for image_id, row in _vg_rows(vg):
        width, height = sizes[image_id]
        x, y, w, h = _box(row)
        assert all(isinstance(v, int) for v in (x, y, w, h)), row
        assert w > 0 and h > 0 and x >= 0 and y >= 0, row
        assert x + w <= width and y + h <= height, (image_id, row)


def test_vg_relationship_ends_exist(vg: dict) -> None:
    known: dict[int, dict[int, tuple]] = defaultdict(dict)
    for name, key in (("objects", "objects"), ("attributes", "attributes")):
        for entry in vg[name]:
            for obj in entry[key]:
                known[entry["image_id"]][obj["object_id"]] = _box(obj)
    for entry in vg["relationships"]:
        for rel in entry["relationships"]:
            for end in (rel["subject"], rel["object"]):
                assert known[entry["image_id"]].get(end["object_id"]) == _box(end), rel


def test_vg_shapes_match_real_files(vg: dict, real_vg: dict) -> None:
    # The real sample has no COCO twin (every coco_id is null); ours has one.
    extra = {"$[].coco_id": "number"}
    for name in real_vg:
        _assert_same_shape(vg[name], real_vg[name], name, extra)


def test_coco_shapes_match_real_files(instances: dict, captions: dict, real_coco: dict) -> None:
    _assert_same_shape(instances, real_coco["instances"], "instances", {})
    _assert_same_shape(captions, real_coco["captions"], "captions", {})
    assert set(instances) == set(real_coco["instances"])
    assert set(captions) == set(real_coco["captions"])


def test_no_real_rows_copied(
    demo: DemoInputs,
    instances: dict,
    captions: dict,
    vg: dict,
    real_coco: dict,
    real_vg: dict,
    sample_dir: Path,
) -> None:
    real_images = {img["id"] for img in real_coco["instances"]["images"]}
    assert not real_images & {img["id"] for img in instances["images"]}
    real_texts = {a["caption"].strip().lower() for a in real_coco["captions"]["annotations"]}
    assert not real_texts & {a["caption"].strip().lower() for a in captions["annotations"]}
    real_ann = {a["id"] for a in real_coco["instances"]["annotations"]}
    assert not real_ann & {a["id"] for a in instances["annotations"]}
    real_objects = {o["object_id"] for e in real_vg["objects"] for o in e["objects"]}
    assert not real_objects & {o["object_id"] for e in vg["objects"] for o in e["objects"]}
    real_vg_images = {img["image_id"] for img in real_vg["image_data"]}
    assert not real_vg_images & {img["image_id"] for img in vg["image_data"]}
    for name in ALIAS_FILES:
        real_lines = set((sample_dir / "vg" / name).read_text(encoding="utf-8").splitlines())
        assert not real_lines & set(_alias_lines(demo.vg_dir, name)), name


def _alias_lines(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").splitlines()


def test_alias_files_format(demo: DemoInputs) -> None:
    for name in ALIAS_FILES:
        lines = _alias_lines(demo.vg_dir, name)
        assert lines, name
        for line in lines:
            parts = line.split(",")
            assert len(parts) >= 2 and all(parts), (name, line)
    relationship = {
        line.split(",")[0] for line in _alias_lines(demo.vg_dir, "relationship_alias.txt")
    }
    assert {"wearing", "holding", "on"} <= relationship


def test_twin_vg_image_points_to_a_demo_coco_image(instances: dict, vg: dict) -> None:
    coco_sizes = {img["id"]: (img["width"], img["height"]) for img in instances["images"]}
    twins = [img for img in vg["image_data"] if img["coco_id"] is not None]
    assert len(twins) == 1
    twin = twins[0]
    assert twin["coco_id"] in coco_sizes
    assert (twin["width"], twin["height"]) == coco_sizes[twin["coco_id"]]
    cats = {c["id"]: c["name"] for c in instances["categories"]}
    coco_names = {
        cats[a["category_id"]] for a in instances["annotations"] if a["image_id"] == twin["coco_id"]
    }
    vg_names = {
        n
        for e in vg["objects"]
        if e["image_id"] == twin["image_id"]
        for o in e["objects"]
        for n in o["names"]
    }
    assert {"bus", "umbrella"} <= coco_names & vg_names


# --- determinism -----------------------------------------------------------------------------


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_two_writes_are_byte_identical(tmp_path: Path) -> None:
    write_demo_sample(tmp_path / "a")
    write_demo_sample(tmp_path / "b")
    first, second = _tree_bytes(tmp_path / "a"), _tree_bytes(tmp_path / "b")
    assert len(first) == 2 + len(VG_FILES) + len(ALIAS_FILES)
    assert first == second
    write_demo_sample(tmp_path / "a")  # rewriting in place changes nothing
    assert _tree_bytes(tmp_path / "a") == first


def test_files_are_compact_utf8_json_with_final_newline(demo: DemoInputs) -> None:
    paths = [demo.coco_instances, demo.coco_captions] + [demo.vg_dir / n for n in VG_FILES]
    for path in paths:
        raw = path.read_bytes()
        assert raw.endswith(b"\n") and raw.count(b"\n") == 1, path
        text = raw.decode("utf-8")
        assert (
            json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) + "\n" == text
        )


# --- content and quirks ----------------------------------------------------------------------


def _attribute_rows(vg: dict) -> list[dict[str, Any]]:
    return [row for e in vg["attributes"] for row in e["attributes"]]


def _all_attributes(vg: dict) -> list[str]:
    return [a for row in _attribute_rows(vg) for a in row.get("attributes", [])]


def test_counting_material(instances: dict) -> None:
    per_image: Counter = Counter(
        (a["image_id"], a["category_id"]) for a in instances["annotations"] if not a["iscrowd"]
    )
    cats = {c["name"]: c["id"] for c in instances["categories"]}
    assert any(n == 3 and cat == cats["zebra"] for (_, cat), n in per_image.items())
    assert any(n == 2 and cat == cats["cup"] for (_, cat), n in per_image.items())


def test_tiny_object_and_crowd_present(instances: dict) -> None:
    tiny = [a for a in instances["annotations"] if a["bbox"][2] * a["bbox"][3] < 16 * 16]
    assert tiny, "expected an object too small to count"
    assert sum(a["iscrowd"] for a in instances["annotations"]) == 1


def test_attribute_quirks_present(vg: dict) -> None:
    attrs = _all_attributes(vg)
    assert any(a != a.strip() and a.strip().lower() == "white" and a[1].isupper() for a in attrs)
    assert any(a.endswith(" ") and a.strip() == "wooden" for a in attrs)
    assert any(a != a.lower() for a in attrs)
    assert {"white with red", "black and white"} <= set(attrs)
    streets = [row for row in _attribute_rows(vg) if row["names"] == ["street"]]
    assert any("sidewalk" in row.get("attributes", []) for row in streets)
    assert any("attributes" not in row for row in _attribute_rows(vg))


def test_aspects_have_material(vg: dict) -> None:
    attrs = {a.strip().lower() for a in _all_attributes(vg)}
    assert {"red", "white", "brown", "black", "blue"} <= attrs  # colour
    assert {"wooden", "metal", "glass"} <= attrs  # material
    assert {"standing", "sitting", "riding", "walking"} <= attrs  # action / pose
    assert {"round", "octagonal", "tall", "small", "large"} <= attrs  # shape / size


def test_near_duplicate_vg_box(vg: dict) -> None:
    found = []
    for entry in vg["objects"]:
        objs = entry["objects"]
        for i, a in enumerate(objs):
            for b in objs[i + 1 :]:
                if a["names"] == b["names"] and _iou(_box(a), _box(b)) > 0.9:
                    found.append((a["object_id"], b["object_id"]))
    assert found
    assert all(a != b for a, b in found)


def test_left_right_separation(vg: dict) -> None:
    kitchen = next(e for e in vg["objects"] if any(o["names"] == ["cups"] for o in e["objects"]))
    cups = [o for o in kitchen["objects"] if o["names"][0] in ("cup", "cups")]
    assert len(cups) == 2
    left, right = sorted(cups, key=lambda o: o["x"])
    assert left["x"] + left["w"] < right["x"]


def test_relationship_quirks_present(vg: dict) -> None:
    rels = [r for e in vg["relationships"] for r in e["relationships"]]
    predicates = {r["predicate"] for r in rels}
    assert {"ON", "wears", "holding", "riding", "wearing"} <= predicates
    assert any("name" in r["subject"] and "names" in r["object"] for r in rels)
    assert any("names" in r["subject"] and "name" in r["object"] for r in rels)
    for r in rels:
        for end in (r["subject"], r["object"]):
            assert ("name" in end) != ("names" in end), r
            assert ("merged_object_ids" in end) == ("names" in end), r


def test_object_only_in_attributes_file(vg: dict) -> None:
    in_objects = {o["object_id"] for e in vg["objects"] for o in e["objects"]}
    in_attributes = {row["object_id"] for row in _attribute_rows(vg)}
    assert in_objects < in_attributes
