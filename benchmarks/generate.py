"""Write COCO- and Visual Genome-format inputs of N images by resampling the real sample.

    python -m benchmarks.generate --images 10000 --out benchmarks/data/n10000 [--seed 0]

Every distribution is drawn from the real sample (../shared/data or $MSG_SAMPLE_DATA):
per-image record counts (objects, attribute-only objects, relationships, instances,
captions) are resampled jointly from one real image, so their correlation survives; names,
boxes (relative to the image size), attribute lists (given the object name), predicates,
captions and crowd instances are drawn from the real pools. Ids are fresh and unique (VG
object ids are one dense integer range, as in VG), and a share of VG images are COCO twins.

Output (official formats, compact JSON):
    DIR/coco/annotations/instances_bench.json, captions_bench.json
    DIR/vg/image_data.json, objects.json, attributes.json, relationships.json (+ side files)
    DIR/generated.json   what was asked for and what was written

Files are written as a stream, one image at a time: memory holds the real pools, never the
generated images (at 100K images the VG files are hundreds of MB).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

GENERATOR_VERSION = 1  # bump when the output for a given (images, seed) changes
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = REPO.parent / "shared" / "data"
SAMPLE_ENV = "MSG_SAMPLE_DATA"
COCO_INSTANCES = "coco/annotations/instances_val2017.json"
COCO_CAPTIONS = "coco/annotations/captions_val2017.json"
VG_SIDE_FILES = (
    "object_alias.txt",
    "relationship_alias.txt",
    "object_synsets.json",
    "attribute_synsets.json",
    "relationship_synsets.json",
)

# Image mix of the full datasets: COCO 2017 train+val 123,287 images, VG 108,077 images of
# which 51,208 carry a coco_id, so 180,156 distinct images. The sample has no twins, so the
# shares come from the full releases.
COCO_ONLY_SHARE = 72_079 / 180_156
TWIN_SHARE = 51_208 / 180_156
# VG stores some COCO images at another resolution (the scene stage rescales the boxes).
TWIN_RESCALED_SHARE = 0.5
VG_LONG_SIDE = 800
# COCO gives crowd annotations 12-digit ids beyond the ordinary range.
CROWD_ID_BASE = 900_100_000_000


def sample_folder() -> Path:
    value = os.environ.get(SAMPLE_ENV)
    return Path(value) if value else DEFAULT_SAMPLE


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def _rel_box(x: float, y: float, w: float, h: float, width: float, height: float) -> tuple:
    return (x / width, y / height, w / width, h / height)


@dataclass
class Pools:
    """The real sample reduced to what the generator draws from (all small)."""

    coco_info: dict[str, Any]
    coco_licenses: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    # One per real COCO image: (width, height, license, date, instance rows, caption count)
    coco_images: list[tuple[int, int, int, str, int, int]]
    # One per real instance: (category_id, iscrowd, relative box, relative polygons, area
    # as a share of the box area)
    instances: list[tuple[int, int, tuple, list[list[float]] | None, float]]
    captions: list[str]
    # One per real VG image: (width, height, objects, attribute-only objects, relationships)
    vg_images: list[tuple[int, int, int, int, int]]
    # One per real VG object: (names, synsets, relative box, merged id count)
    vg_objects: list[tuple[list[str], list[str], tuple, int]]
    # attribute lists (None: an entry without attributes) by object name, and overall
    attributes_by_name: dict[str, list[list[str] | None]] = field(default_factory=dict)
    attributes_any: list[list[str] | None] = field(default_factory=list)
    # Objects only attributes.json knows: (names, synsets, relative box, attributes)
    attribute_only: list[tuple[list[str], list[str], tuple, list[str] | None]] = field(
        default_factory=list
    )
    predicates: list[tuple[str, list[str]]] = field(default_factory=list)
    end_to_attribute_only: float = 0.0  # share of relationship ends on attribute-only objects
    end_name_form: float = 1.0  # share of relationship ends written with `name`, not `names`


def load_pools(folder: Path) -> Pools:
    inst = _load(folder / COCO_INSTANCES)
    caps = _load(folder / COCO_CAPTIONS)
    size = {im["id"]: (im["width"], im["height"]) for im in inst["images"]}
    per_image: dict[int, int] = defaultdict(int)
    instances = []
    for a in inst["annotations"]:
        per_image[a["image_id"]] += 1
        w, h = size[a["image_id"]]
        box = _rel_box(*a["bbox"], w, h)
        seg = a.get("segmentation")
        polys = None
        if isinstance(seg, list):  # polygons scale with the image; crowd RLE is rebuilt
            polys = [[v / (w if k % 2 == 0 else h) for k, v in enumerate(p)] for p in seg]
        box_area = a["bbox"][2] * a["bbox"][3]
        instances.append(
            (a["category_id"], a["iscrowd"], box, polys, a["area"] / box_area if box_area else 1)
        )
    cap_count: dict[int, int] = defaultdict(int)
    for c in caps["annotations"]:
        cap_count[c["image_id"]] += 1
    coco_images = [
        (
            im["width"],
            im["height"],
            im.get("license", 1),
            im.get("date_captured", ""),
            per_image[im["id"]],
            cap_count[im["id"]],
        )
        for im in inst["images"]
    ]

    vg = folder / "vg"
    images = _load(vg / "image_data.json")
    objects = _load(vg / "objects.json")
    attributes = _load(vg / "attributes.json")
    relationships = _load(vg / "relationships.json")
    vg_size = {im.get("image_id", im.get("id")): (im["width"], im["height"]) for im in images}
    by_image = {e["image_id"]: e for e in objects}
    attrs_by_image = {e["image_id"]: e for e in attributes}
    rels_by_image = {e["image_id"]: e for e in relationships}
    pools = Pools(
        coco_info=inst.get("info", {}),
        coco_licenses=inst.get("licenses", []),
        categories=inst["categories"],
        coco_images=coco_images,
        instances=instances,
        captions=[c["caption"] for c in caps["annotations"]],
        vg_images=[],
        vg_objects=[],
    )
    ends = attr_only_ends = name_form = 0
    for image_id, (w, h) in vg_size.items():
        objs = by_image.get(image_id, {}).get("objects", [])
        known = {o["object_id"] for o in objs}
        merged = {m for o in objs for m in o.get("merged_object_ids", [])}
        for o in objs:
            box = _rel_box(o["x"], o["y"], o["w"], o["h"], w, h)
            n_merged = len(o.get("merged_object_ids", []))
            pools.vg_objects.append((o["names"], o.get("synsets", []), box, n_merged))
        attr_only = set()
        for a in attrs_by_image.get(image_id, {}).get("attributes", []):
            values = a.get("attributes") or None
            if a["object_id"] in known or a["object_id"] in merged:
                pools.attributes_by_name.setdefault(a["names"][0], []).append(values)
                pools.attributes_any.append(values)
            else:
                attr_only.add(a["object_id"])
                box = _rel_box(a["x"], a["y"], a["w"], a["h"], w, h)
                pools.attribute_only.append((a["names"], a.get("synsets", []), box, values))
        rels = rels_by_image.get(image_id, {}).get("relationships", [])
        for r in rels:
            pools.predicates.append((r["predicate"], r.get("synsets", [])))
            for side in ("subject", "object"):
                ends += 1
                attr_only_ends += r[side]["object_id"] in attr_only
                name_form += "name" in r[side]
        pools.vg_images.append((w, h, len(objs), len(attr_only), len(rels)))
    pools.end_to_attribute_only = attr_only_ends / max(ends, 1)
    pools.end_name_form = name_form / max(ends, 1)
    return pools


class JsonList:
    """A JSON array written one element at a time."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.count = 0
        handle.write(b"[")

    def add(self, value: Any) -> None:
        self.handle.write(b"," + orjson.dumps(value) if self.count else orjson.dumps(value))
        self.count += 1

    def close(self) -> None:
        self.handle.write(b"]")


@dataclass
class Counters:
    """Fresh ids (dense ranges, as the real files use) and what was written."""

    coco_image: int = 0
    coco_annotation: int = 0
    coco_crowd: int = 0
    coco_caption: int = 0
    vg_image: int = 0
    vg_object: int = 0
    vg_relationship: int = 0
    written: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


def _scaled_box(rel: tuple, width: int, height: int, as_int: bool) -> list[float]:
    x, y, w, h = rel[0] * width, rel[1] * height, rel[2] * width, rel[3] * height
    if as_int:  # VG boxes are integers and never empty
        return [round(x), round(y), max(1, round(w)), max(1, round(h))]
    return [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]


def _rectangle_rle(box: list[float], width: int, height: int) -> tuple[dict[str, Any], int]:
    """Uncompressed column-major RLE of the box (crowd segmentations are RLE in COCO)."""
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = (
        min(width, max(x0 + 1, round(box[0] + box[2]))),
        min(height, max(y0 + 1, round(box[1] + box[3]))),
    )
    ones, gap = y1 - y0, height - (y1 - y0)
    counts = [x0 * height + y0]
    for _ in range(x0, x1 - 1):
        counts += [ones, gap]
    counts += [ones, (width - x1) * height + (height - y1)]
    return {"counts": counts, "size": [height, width]}, ones * (x1 - x0)


class Generator:
    def __init__(self, pools: Pools, seed: int) -> None:
        self.p = pools
        self.rng = random.Random(seed)
        self.ids = Counters()

    # -- COCO ------------------------------------------------------------------------
    def coco_image(self, out: dict[str, JsonList]) -> tuple[int, int, int]:
        rng, p = self.rng, self.p
        width, height, license_id, date, n_inst, n_caps = rng.choice(p.coco_images)
        image_id = self.ids.next("coco_image")
        name = f"{image_id:012d}.jpg"
        image = {
            "license": license_id,
            "file_name": name,
            "coco_url": f"http://images.cocodataset.org/bench/{name}",
            "height": height,
            "width": width,
            "date_captured": date,
            "flickr_url": f"http://farm1.staticflickr.com/bench/{name}",
            "id": image_id,
        }
        out["instances_images"].add(image)
        out["captions_images"].add(image)
        for _ in range(n_inst):
            out["instances_annotations"].add(self._instance(image_id, width, height))
        for _ in range(n_caps):
            caption = rng.choice(p.captions)
            row = {"image_id": image_id, "id": self.ids.next("coco_caption"), "caption": caption}
            out["captions_annotations"].add(row)
        self.ids.written["coco_instances"] += n_inst
        self.ids.written["coco_captions"] += n_caps
        return image_id, width, height

    def _instance(self, image_id: int, width: int, height: int) -> dict[str, Any]:
        category_id, crowd, rel, polys, area_share = self.rng.choice(self.p.instances)
        bbox = _scaled_box(rel, width, height, as_int=False)
        if crowd:
            segmentation, area = _rectangle_rle(bbox, width, height)
            ann_id = CROWD_ID_BASE + self.ids.next("coco_crowd")
        else:
            segmentation = [
                [round(v * (width if k % 2 == 0 else height), 2) for k, v in enumerate(poly)]
                for poly in polys or []
            ]
            area = round(area_share * bbox[2] * bbox[3], 4)
            ann_id = self.ids.next("coco_annotation")
        return {
            "segmentation": segmentation,
            "area": area,
            "iscrowd": crowd,
            "image_id": image_id,
            "bbox": bbox,
            "category_id": category_id,
            "id": ann_id,
        }

    # -- Visual Genome ----------------------------------------------------------------
    def vg_image(self, out: dict[str, JsonList], twin: tuple[int, int, int] | None) -> None:
        rng, p = self.rng, self.p
        width, height, n_obj, n_attr_only, n_rel = rng.choice(p.vg_images)
        coco_id = None
        if twin is not None:
            coco_id, width, height = twin
            if rng.random() < TWIN_RESCALED_SHARE:
                scale = VG_LONG_SIDE / max(width, height)
                width, height = round(width * scale), round(height * scale)
        image_id = self.ids.next("vg_image")
        out["image_data"].add(
            {
                "width": width,
                "url": f"https://cs.stanford.edu/people/rak248/VG_100K/{image_id}.jpg",
                "height": height,
                "image_id": image_id,
                "coco_id": coco_id,
                "flickr_id": None,
            }
        )
        objects, attr_entries, attr_only = [], [], []
        for _ in range(n_obj):
            names, synsets, rel, n_merged = rng.choice(p.vg_objects)
            obj = {"synsets": synsets, **self._box(rel, width, height), "names": names}
            obj["object_id"] = self.ids.next("vg_object")
            obj["merged_object_ids"] = [self.ids.next("vg_object") for _ in range(n_merged)]
            objects.append(obj)
            # Every object has an attributes.json entry, and so has every merged id.
            for raw_id in (obj["object_id"], *obj["merged_object_ids"]):
                pool = p.attributes_by_name.get(names[0]) or p.attributes_any
                attr_entries.append(self._attr_entry(obj, raw_id, rng.choice(pool)))
        for _ in range(n_attr_only):
            names, synsets, rel, values = rng.choice(p.attribute_only)
            obj = {"synsets": synsets, **self._box(rel, width, height), "names": names}
            obj["object_id"] = self.ids.next("vg_object")
            attr_only.append(obj)
            attr_entries.append(self._attr_entry(obj, obj["object_id"], values))
        relationships = []
        for _ in range(n_rel if objects or attr_only else 0):
            predicate, synsets = rng.choice(p.predicates)
            relationships.append(
                {
                    "predicate": predicate,
                    "object": self._end(objects, attr_only),
                    "relationship_id": self.ids.next("vg_relationship"),
                    "synsets": synsets,
                    "subject": self._end(objects, attr_only),
                }
            )
        out["objects"].add({"image_id": image_id, "objects": objects})
        out["attributes"].add({"image_id": image_id, "attributes": attr_entries})
        out["relationships"].add({"relationships": relationships, "image_id": image_id})
        self.ids.written["vg_objects"] += len(objects)
        self.ids.written["vg_attributes"] += len(attr_entries)
        self.ids.written["vg_relationships"] += len(relationships)

    @staticmethod
    def _box(rel: tuple, width: int, height: int) -> dict[str, int]:
        x, y, w, h = _scaled_box(rel, width, height, as_int=True)
        return {"h": h, "w": w, "y": y, "x": x}

    @staticmethod
    def _attr_entry(obj: dict[str, Any], raw_id: int, values: list[str] | None) -> dict:
        entry = {
            "synsets": obj["synsets"],
            "h": obj["h"],
            "object_id": raw_id,
            "names": obj["names"],
            "w": obj["w"],
            "y": obj["y"],
            "x": obj["x"],
        }
        if values:  # real entries without attributes lack the key
            entry["attributes"] = values
        return entry

    def _end(self, objects: list[dict], attr_only: list[dict]) -> dict[str, Any]:
        """A relationship end: a full copy of one of the image's objects, in VG's two
        shapes (`name` as relationship subjects mostly carry, or `names` + merged ids)."""
        rng = self.rng
        use_attr_only = attr_only and (not objects or rng.random() < self.p.end_to_attribute_only)
        obj = rng.choice(attr_only if use_attr_only else objects)
        end = {k: obj[k] for k in ("h", "object_id", "synsets", "w", "y", "x")}
        if rng.random() < self.p.end_name_form:
            end["name"] = obj["names"][0]
        else:
            end["names"] = obj["names"]
            end["merged_object_ids"] = obj.get("merged_object_ids", [])
        return end


@dataclass
class Generated:
    out: Path
    coco_instances: Path
    coco_captions: Path
    vg_dir: Path
    info: dict[str, Any]

    def build_args(self) -> list[str]:
        """The `msg build` input flags for these files."""
        return [
            "--coco-instances",
            str(self.coco_instances),
            "--coco-captions",
            str(self.coco_captions),
            "--vg-dir",
            str(self.vg_dir),
        ]


def _image_kinds(rng: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        r = rng.random()
        if r < COCO_ONLY_SHARE:
            yield "coco"
        else:
            yield "twin" if r < COCO_ONLY_SHARE + TWIN_SHARE else "vg"


def _assemble(path: Path, parts: list[bytes | Path]) -> None:
    """Concatenate literal bytes and part files into `path` (streamed, never in memory)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as handle:
        for part in parts:
            if isinstance(part, bytes):
                handle.write(part)
            else:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, handle, 1 << 20)
                part.unlink()
    tmp.replace(path)


def generate(images: int, out: Path, seed: int = 0, sample: Path | None = None) -> Generated:
    """Write N images' worth of inputs under `out`; deterministic for (images, seed, sample)."""
    started = time.monotonic()
    sample = sample or sample_folder()
    pools = load_pools(sample)
    gen = Generator(pools, seed)
    coco_dir, vg_dir = out / "coco" / "annotations", out / "vg"
    coco_dir.mkdir(parents=True, exist_ok=True)
    vg_dir.mkdir(parents=True, exist_ok=True)
    # COCO files hold `images` before `annotations`: write each list to a part file in the
    # one pass over the images, then concatenate.
    coco_parts = {
        name: coco_dir / f".{name}.part"
        for name in (
            "instances_images",
            "instances_annotations",
            "captions_images",
            "captions_annotations",
        )
    }
    vg_files = {
        name: vg_dir / f"{name}.json.tmp"
        for name in ("image_data", "objects", "attributes", "relationships")
    }
    handles = {name: open(path, "wb", buffering=1 << 20) for name, path in coco_parts.items()}
    handles.update({n: open(p, "wb", buffering=1 << 20) for n, p in vg_files.items()})
    lists = {name: JsonList(h) for name, h in handles.items()}
    kinds: dict[str, int] = defaultdict(int)
    try:
        for kind in _image_kinds(random.Random(f"{seed}/kinds"), images):
            kinds[kind] += 1
            twin = gen.coco_image(lists) if kind in ("coco", "twin") else None
            if kind in ("twin", "vg"):
                gen.vg_image(lists, twin if kind == "twin" else None)
    finally:
        for name, lst in lists.items():
            lst.close()
            handles[name].close()
    for path in vg_files.values():
        path.replace(path.with_suffix(""))

    def header(extra: bytes = b"") -> bytes:
        info = orjson.dumps(pools.coco_info)
        return b'{"info":' + info + b',"licenses":' + orjson.dumps(pools.coco_licenses) + extra

    instances = coco_dir / "instances_bench.json"
    captions = coco_dir / "captions_bench.json"
    _assemble(
        instances,
        [
            header(b',"images":'),
            coco_parts["instances_images"],
            b',"annotations":',
            coco_parts["instances_annotations"],
            b',"categories":' + orjson.dumps(pools.categories) + b"}",
        ],
    )
    _assemble(
        captions,
        [
            header(b',"images":'),
            coco_parts["captions_images"],
            b',"annotations":',
            coco_parts["captions_annotations"],
            b"}",
        ],
    )
    for name in VG_SIDE_FILES:  # alias lists and synset maps travel with the VG files
        if (sample / "vg" / name).exists():
            shutil.copyfile(sample / "vg" / name, vg_dir / name)
    files = [instances, captions, *(vg_dir / f"{n}.json" for n in vg_files)]
    info = {
        "generator_version": GENERATOR_VERSION,
        "images": images,
        "seed": seed,
        "sample": str(sample),
        "image_kinds": dict(sorted(kinds.items())),
        "records": {
            "coco_images": gen.ids.coco_image,
            "coco_instances": gen.ids.written["coco_instances"],
            "coco_captions": gen.ids.written["coco_captions"],
            "vg_images": gen.ids.vg_image,
            "vg_objects": gen.ids.written["vg_objects"],
            "vg_attributes": gen.ids.written["vg_attributes"],
            "vg_relationships": gen.ids.written["vg_relationships"],
        },
        "bytes": {str(p.relative_to(out)): p.stat().st_size for p in files},
        "seconds": round(time.monotonic() - started, 2),
    }
    (out / "generated.json").write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
    return Generated(out, instances, captions, vg_dir, info)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    ap.add_argument("--images", type=int, required=True, help="number of distinct images")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=Path, help=f"real sample folder (default ${SAMPLE_ENV})")
    args = ap.parse_args(argv)
    if args.images < 1:
        ap.error("--images must be at least 1")
    sample = args.sample or sample_folder()
    if not (sample / COCO_INSTANCES).exists():
        print(f"generate: real sample not found at {sample} (set ${SAMPLE_ENV})", file=sys.stderr)
        return 2
    result = generate(args.images, args.out, args.seed, sample)
    total = sum(result.info["bytes"].values())
    print(
        f"generated {args.images} images ({result.info['image_kinds']}) in "
        f"{result.info['seconds']}s: {total / 1e6:.1f} MB under {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
