"""The embedded demo sample: a small, made-up annotation set in the official COCO / VG formats.

`msg build` with no inputs runs on this sample, so a new user sees the whole pipeline work
without downloading anything. Every row here is written by the project (no real annotation is
copied); only the public COCO category list and license names are reproduced. The images are
illustrative: ids lie outside the real COCO 2017 / VG ranges, no pixels are shipped, and the
images carry the sample's own license entry.

The content is defined as compact tables (one entry per scene) and expanded into the official
file shapes by small functions:

- COCO 2017 instances (`instances_demo.json`, polygons, one crowd RLE) and captions
  (`captions_demo.json`, five per image);
- Visual Genome 1.2 `image_data.json` / `attributes.json` and 1.4 `objects.json` /
  `relationships.json`, plus `object_alias.txt` and `relationship_alias.txt`.

Real-world quirks are kept on purpose, since the pipeline must handle them: attribute strings
with stray spaces and capitals, compound colours, a junk attribute, a VG near-duplicate box, a
crowd instance, a tiny object, a VG image that is the twin of a COCO image, relationship ends
with `name` or `names`, upper-case predicates, and an object present only in attributes.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Box = tuple[float, float, float, float]
IntBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class DemoInputs:
    """Where `write_demo_sample` put the sample's files."""

    coco_instances: Path
    coco_captions: Path
    vg_dir: Path  # image_data.json, objects.json, attributes.json, relationships.json, aliases


# ---------------------------------------------------------------------------------------------
# COCO metadata (public): the 80 categories with their real ids, and the license list.

_COCO_CATEGORY_TABLE = """
person: 1 person
vehicle: 2 bicycle, 3 car, 4 motorcycle, 5 airplane, 6 bus, 7 train, 8 truck, 9 boat
outdoor: 10 traffic light, 11 fire hydrant, 13 stop sign, 14 parking meter, 15 bench
animal: 16 bird, 17 cat, 18 dog, 19 horse, 20 sheep, 21 cow, 22 elephant, 23 bear, 24 zebra
animal: 25 giraffe
accessory: 27 backpack, 28 umbrella, 31 handbag, 32 tie, 33 suitcase
sports: 34 frisbee, 35 skis, 36 snowboard, 37 sports ball, 38 kite, 39 baseball bat
sports: 40 baseball glove, 41 skateboard, 42 surfboard, 43 tennis racket
kitchen: 44 bottle, 46 wine glass, 47 cup, 48 fork, 49 knife, 50 spoon, 51 bowl
food: 52 banana, 53 apple, 54 sandwich, 55 orange, 56 broccoli, 57 carrot, 58 hot dog
food: 59 pizza, 60 donut, 61 cake
furniture: 62 chair, 63 couch, 64 potted plant, 65 bed, 67 dining table, 70 toilet
electronic: 72 tv, 73 laptop, 74 mouse, 75 remote, 76 keyboard, 77 cell phone
appliance: 78 microwave, 79 oven, 80 toaster, 81 sink, 82 refrigerator
indoor: 84 book, 85 clock, 86 vase, 87 scissors, 88 teddy bear, 89 hair drier, 90 toothbrush
"""

_CC2 = "http://creativecommons.org/licenses"
_COCO_LICENSES: tuple[tuple[int, str, str], ...] = (
    (1, "Attribution-NonCommercial-ShareAlike License", f"{_CC2}/by-nc-sa/2.0/"),
    (2, "Attribution-NonCommercial License", f"{_CC2}/by-nc/2.0/"),
    (3, "Attribution-NonCommercial-NoDerivs License", f"{_CC2}/by-nc-nd/2.0/"),
    (4, "Attribution License", f"{_CC2}/by/2.0/"),
    (5, "Attribution-ShareAlike License", f"{_CC2}/by-sa/2.0/"),
    (6, "Attribution-NoDerivs License", f"{_CC2}/by-nd/2.0/"),
    (7, "No known copyright restrictions", "http://flickr.com/commons/usage/"),
    (8, "United States Government Work", "http://www.usa.gov/copyright.shtml"),
    (
        9,
        "MSG demo sample: illustrative annotation, no image file is shipped",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
)
DEMO_LICENSE_ID = 9

_COCO_INFO = {
    "description": "MSG demo sample (illustrative COCO 2017-format annotations, no images)",
    "url": "http://cocodataset.org",
    "version": "1.0",
    "year": 2017,
    "contributor": "MSG pipeline",
    "date_created": "2017/09/01",
}
_COCO_URL = "http://images.cocodataset.org/val2017"
_VG_URL = "https://cs.stanford.edu/people/rak248/VG_100K"

# Id bases: COCO crowd ids follow COCO's own scheme (9 + 3-digit category + 8-digit image id).
_COCO_ANN_BASE = 2_180_000
_COCO_CROWD_BASE = 900_000_000_000
_COCO_CAPTION_BASE = 815_000
_VG_OBJECT_BASE = 3_950_000
_VG_RELATION_BASE = 4_870_000


# ---------------------------------------------------------------------------------------------
# COCO scenes: (category, bbox [x, y, w, h]) per instance, an optional crowd region (a union of
# integer rectangles x0, y0, x1, y1), and five captions consistent with the instances.


@dataclass(frozen=True)
class _CocoScene:
    image_id: int
    width: int
    height: int
    captured: str
    instances: tuple[tuple[str, Box], ...]
    captions: tuple[str, str, str, str, str]
    crowd: tuple[str, tuple[IntBox, ...]] | None = None


_COCO_SCENES: tuple[_CocoScene, ...] = (
    _CocoScene(
        900101,
        640,
        427,
        "2013-11-20 10:14:31",
        (
            ("zebra", (32.5, 180.2, 170.4, 140.8)),
            ("zebra", (228.1, 170.6, 160.3, 150.2)),
            ("zebra", (420.7, 190.4, 175.9, 135.1)),
            ("bird", (505.2, 40.3, 7.6, 5.4)),  # tiny: too small to count
        ),
        (
            "Three zebras grazing in a field next to a tree.",
            "A group of zebras standing together on dry grass.",
            "Three zebras eat grass in an open field on a sunny day.",
            "Zebras grazing side by side in the savanna.",
            "a herd of three zebras feeding on grass near a tree",
        ),
    ),
    _CocoScene(
        900214,
        640,
        480,
        "2013-11-22 08:41:02",
        (
            ("dining table", (0.0, 250.3, 640.0, 229.7)),
            ("cup", (60.2, 210.5, 70.4, 90.1)),
            ("cup", (190.8, 220.3, 65.2, 84.6)),
            ("laptop", (360.4, 120.7, 250.3, 170.9)),
            ("bowl", (240.1, 330.2, 110.5, 60.3)),
            ("cell phone", (420.2, 330.4, 40.1, 70.3)),
        ),
        (
            "Two cups of coffee next to an open laptop on a table.",
            "A laptop computer sitting on a table beside two cups.",
            "An open laptop, a bowl and a phone on a wooden table.",
            "Two coffee cups on the left side of a desk with a laptop.",
            "A work table with a laptop, two mugs and a cell phone.",
        ),
    ),
    _CocoScene(  # twin of the VG image 2501007
        900327,
        640,
        480,
        "2013-11-25 17:05:48",
        (
            ("bus", (150.4, 90.2, 330.6, 260.5)),
            ("person", (30.1, 220.4, 60.3, 190.2)),
            ("umbrella", (10.5, 170.3, 110.2, 70.4)),
            ("person", (520.3, 230.6, 55.2, 180.1)),
            ("traffic light", (600.2, 40.5, 20.3, 50.4)),
        ),
        (
            "A red double decker bus driving down a city street.",
            "A man holding an umbrella waits as a red bus passes by.",
            "Red bus on a street with pedestrians on the sidewalk. ",
            "A large red bus drives past two people on a rainy day.",
            "Two men stand on the sidewalk while a bus goes by.",
        ),
    ),
    _CocoScene(
        900438,
        640,
        427,
        "2013-12-01 14:22:10",
        (
            ("person", (80.3, 90.2, 90.4, 300.1)),
            ("dog", (200.1, 280.5, 90.3, 80.2)),
            ("bench", (330.5, 200.4, 260.2, 110.6)),
            ("frisbee", (170.2, 250.1, 30.5, 10.4)),
        ),
        (
            "A woman standing in a park next to her dog and a bench.",
            "A brown dog sits on the grass beside a woman with a frisbee.",
            "A woman and her dog in a park near a wooden bench.",
            "Dog sitting on the lawn while its owner holds a frisbee.",
            "A person playing frisbee with a dog in a grassy park.",
        ),
    ),
    _CocoScene(
        900542,
        640,
        480,
        "2013-12-03 09:58:44",
        (
            ("person", (250.3, 60.2, 110.5, 210.4)),
            ("horse", (180.2, 140.3, 260.5, 300.1)),
            ("dog", (480.2, 360.4, 100.3, 80.1)),
            ("person", (40.1, 200.3, 60.2, 170.4)),
        ),
        (
            "A woman riding a brown horse in a field.",
            "A person on horseback with a dog running nearby.",
            "A rider on a horse while another person watches.",
            "A woman rides a horse as a dog follows behind.",
            "Someone riding a horse near a dog and a standing man.",
        ),
    ),
    _CocoScene(
        900655,
        640,
        427,
        "2013-12-07 16:31:05",
        (
            ("kite", (120.4, 40.2, 60.3, 50.1)),
            ("kite", (450.2, 70.5, 70.1, 55.3)),
            ("person", (300.2, 250.6, 40.3, 110.2)),
            ("umbrella", (520.3, 260.1, 90.4, 60.2)),
        ),
        (
            "Two kites fly over a crowded beach.",
            "A crowd of people on the beach watching kites in the sky.",
            "Kites flying high above a busy beach with an umbrella.",
            "A man flying a kite on a crowded beach.",
            "Many people gather on the sand while two kites fly overhead.",
        ),
        crowd=("person", ((20, 335, 180, 405), (150, 320, 400, 410), (380, 340, 620, 400))),
    ),
    _CocoScene(
        900768,
        640,
        480,
        "2013-12-11 20:12:37",
        (
            ("couch", (150.3, 220.1, 330.6, 180.4)),
            ("tv", (20.2, 100.3, 130.5, 90.2)),
            ("cat", (260.4, 240.2, 90.3, 60.1)),
            ("potted plant", (520.1, 180.3, 80.2, 190.4)),
            ("potted plant", (570.4, 40.2, 60.1, 100.3)),
            ("remote", (200.3, 330.2, 40.1, 15.3)),
            ("clock", (300.2, 30.4, 50.1, 50.2)),
        ),
        (
            "A cat lying on a couch in a living room with a tv.",
            "A living room with a sofa, a television and two plants.",
            "A cat resting on the couch next to a remote control.",
            "A cozy living room with a clock on the wall.",
            "Two potted plants by a couch where a cat is sleeping.",
        ),
    ),
    _CocoScene(
        900871,
        480,
        640,
        "2013-12-14 19:47:29",
        (
            ("dining table", (0.0, 300.0, 480.0, 340.0)),
            ("pizza", (100.2, 380.4, 260.5, 180.3)),
            ("wine glass", (40.3, 250.1, 60.2, 130.4)),
            ("wine glass", (380.5, 245.3, 58.4, 135.2)),
            ("bottle", (220.1, 200.3, 40.2, 150.5)),
            ("knife", (380.2, 580.4, 80.1, 20.3)),
            ("fork", (20.3, 590.1, 70.4, 18.2)),
            ("person", (140.2, 0.0, 200.1, 310.5)),
        ),
        (
            "A large pizza on a table with two glasses of wine.",
            "A person sitting behind a pizza and a bottle of wine.",
            "A pizza dinner with wine glasses, a knife and a fork.",
            "Two wine glasses beside a pizza on a dining table.",
            "A man about to eat a whole pizza at a table.",
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# Visual Genome scenes: objects (a key for relations, name, synset ("" when unmapped), integer
# box, raw attribute strings as annotated), and relations (subject key, predicate, object key).


@dataclass(frozen=True)
class _VgObject:
    key: str
    name: str
    synset: str
    box: IntBox
    attributes: tuple[str, ...] = ()
    merged: tuple[int, ...] = ()
    only_in_attributes: bool = False  # present in attributes.json, missing from objects.json


@dataclass(frozen=True)
class _VgRelation:
    subject: str
    predicate: str
    object: str
    flipped_ends: bool = False  # subject written with `names`, object with `name` (both occur)


@dataclass(frozen=True)
class _VgScene:
    image_id: int
    width: int
    height: int
    coco_id: int | None
    objects: tuple[_VgObject, ...]
    relations: tuple[_VgRelation, ...]


_O = _VgObject
_R = _VgRelation

_PREDICATE_SYNSETS: dict[str, tuple[str, ...]] = {
    "ON": ("along.r.01",),
    "on": ("along.r.01",),
    "wears": ("wear.v.01",),
    "wearing": ("wear.v.01",),
    "holding": ("hold.v.02",),
    "riding": ("ride.v.02",),
    "sitting on": ("sit.v.01",),
    "standing on": ("stand.v.01",),
    "parked on": ("park.v.01",),
    "next to": ("next.r.01",),
    "near": ("near.r.01",),
    "behind": ("behind.r.01",),
    "has": ("have.v.01",),
    "in front of": (),
}

_VG_SCENES: tuple[_VgScene, ...] = (
    _VgScene(  # the twin of COCO image 900327: one scene
        2501007,
        640,
        480,
        900327,
        (
            _O("bus", "bus", "bus.n.01", (150, 90, 331, 261), ("red", "double decker", "large")),
            _O("man1", "man", "man.n.01", (30, 220, 60, 190), ("standing",)),
            _O("umbrella", "umbrella", "umbrella.n.01", (10, 170, 110, 70), ("black", "open")),
            _O("man2", "man", "man.n.01", (520, 230, 55, 180), ("walking",)),
            _O("hat", "hat", "hat.n.01", (530, 230, 30, 20), (" White",)),
            _O(
                "street",
                "street",
                "street.n.01",
                (0, 340, 640, 140),
                ("gray", "sidewalk"),  # "sidewalk" is no attribute of a street
                merged=(3_960_412,),
            ),
            _O("pole", "pole", "pole.n.01", (600, 90, 12, 290), ("metal", "tall")),
            _O("window", "window", "window.n.01", (200, 110, 90, 60), ("glass",)),
            _O("wheel", "wheel", "wheel.n.01", (190, 300, 50, 50)),
        ),
        (
            _R("man1", "holding", "umbrella"),
            _R("man2", "wears", "hat"),
            _R("bus", "ON", "street"),
            _R("window", "on", "bus"),
            _R("man2", "near", "pole"),
            _R("bus", "has", "wheel"),
        ),
    ),
    _VgScene(
        2501146,
        800,
        600,
        None,
        (
            _O("bench", "bench", "bench.n.01", (420, 310, 300, 140), ("wooden ", "brown")),
            _O("bench2", "bench", "bench.n.01", (423, 308, 298, 143), ("wooden",)),  # near-dup
            _O("dog", "dog", "dog.n.01", (250, 380, 110, 100), ("brown", "sitting", "small")),
            _O("woman", "woman", "woman.n.01", (100, 150, 110, 400), ("standing",)),
            _O("shirt", "tshirt", "", (115, 200, 80, 110), ("white with red",)),
            _O("tree", "tree", "tree.n.01", (600, 0, 200, 330), ("green", "tall")),
            _O("grass", "grass", "grass.n.01", (0, 450, 800, 150), ("green",)),
        ),
        (
            _R("dog", "sitting on", "grass"),
            _R("woman", "wearing", "shirt"),
            _R("dog", "near", "bench"),
            _R("tree", "behind", "bench"),
        ),
    ),
    _VgScene(
        2501283,
        800,
        533,
        None,
        (
            _O("woman", "woman", "woman.n.01", (330, 60, 120, 250), ("riding",)),
            _O("horse", "horse", "horse.n.01", (260, 170, 330, 320), ("brown", "large")),
            _O("helmet", "helmet", "helmet.n.01", (360, 60, 50, 40), ("black", "round")),
            _O("boots", "boots", "boot.n.01", (350, 250, 40, 60), ("black", "leather")),
            _O("fence", "fence", "fence.n.01", (0, 300, 800, 120), ("wooden", "white")),
            _O("sky", "sky", "sky.n.01", (0, 0, 800, 200), ("blue", "clear")),
            _O("mane", "mane", "mane.n.01", (470, 180, 60, 70)),
        ),
        (
            _R("woman", "riding", "horse"),
            _R("woman", "wears", "helmet"),
            _R("woman", "wearing", "boots"),
            _R("horse", "in front of", "fence"),
        ),
    ),
    _VgScene(
        2501395,
        500,
        375,
        None,
        (
            _O("plate", "plate", "plate.n.04", (160, 200, 150, 60), ("white", "round")),
            _O("cup1", "cup", "cup.n.01", (20, 140, 50, 60), ("red", "ceramic")),
            _O("cup2", "cups", "cup.n.01", (410, 150, 55, 65), ("white",)),
            _O("table", "table", "table.n.02", (0, 190, 500, 185), ("wooden", "brown")),
            _O("window", "window", "window.n.01", (150, 10, 200, 140), ("glass", "clear")),
            _O("fork", "fork", "fork.n.01", (320, 230, 60, 15), ("metal", "silver")),
            _O("sandwich", "sandwich", "sandwich.n.01", (185, 205, 100, 40), ("small",)),
        ),
        (
            _R("plate", "ON", "table"),
            _R("sandwich", "on", "plate"),
            _R("fork", "next to", "plate"),
            _R("cup1", "on", "table"),
        ),
    ),
    _VgScene(
        2501402,
        800,
        600,
        None,
        (
            _O("man", "man", "man.n.01", (360, 180, 100, 330), ("standing", "shirtless")),
            _O("board", "surfboard", "surfboard.n.01", (470, 200, 60, 300), ("white", "long")),
            _O("ocean", "ocean", "ocean.n.01", (0, 150, 800, 200), ("blue", "calm")),
            _O("sand", "sand", "sand.n.01", (0, 350, 800, 250), ("tan",)),
            _O("shorts", "shorts", "short_pants.n.01", (370, 330, 80, 60), ("black and white",)),
            _O("sky", "sky", "sky.n.01", (0, 0, 800, 150), ("cloudy",)),
            _O("wave", "wave", "wave.n.01", (100, 220, 200, 40)),
        ),
        (
            _R("man", "holding", "board", flipped_ends=True),
            _R("man", "wearing", "shorts"),
            _R("man", "standing on", "sand"),
        ),
    ),
    _VgScene(
        2501518,
        600,
        800,
        None,
        (
            _O("sign", "stop sign", "street_sign.n.01", (60, 120, 120, 120), ("red", "octagonal")),
            _O("pole", "pole", "pole.n.01", (110, 240, 14, 460), ("metal", "gray")),
            _O("car", "car", "car.n.01", (300, 520, 280, 200), ("yellow", "parked")),
            _O("building", "building", "building.n.01", (250, 0, 350, 500), ("tall", "brick")),
            _O("hydrant", "fire hydrant", "hydrant.n.01", (40, 640, 50, 90), ("Red", "short")),
            _O("window", "window", "window.n.01", (300, 60, 60, 90), ("glass",)),
            _O("street", "street", "street.n.01", (0, 700, 600, 100), ("gray",)),
            _O(
                "cloud", "cloud", "cloud.n.02", (0, 0, 200, 80), ("white",), only_in_attributes=True
            ),
        ),
        (
            _R("sign", "ON", "pole"),
            _R("car", "parked on", "street"),
            _R("window", "on", "building"),
            _R("car", "near", "hydrant"),
        ),
    ),
)

# Alias lists, VG style: `canonical,alias,alias,...` (made up for the sample's names).
_OBJECT_ALIASES = (
    "bike,bikes",
    "cup,cups,mug",
    "fire hydrant,hydrant,fire-hydrant",
    "plate,plates,dinner plate",
    "t-shirt,tshirt,tee shirt",
    "tv,television,tv screen",
    "umbrella,umbrellas,parasol",
    "zebra,zebras,the zebra",
)
_RELATIONSHIP_ALIASES = (
    "holding,holds,is holding,holding a",
    "next to,beside,near",
    "on,on top of,is on,sitting on top of",
    "riding,rides,riding on,is riding",
    "wearing,wears,is wearing,wearing a",
)


# ---------------------------------------------------------------------------------------------
# Expansion into the official formats.


def coco_categories() -> list[dict[str, Any]]:
    """The 80 COCO categories ({supercategory, id, name}) in id order."""
    categories = []
    for line in _COCO_CATEGORY_TABLE.strip().splitlines():
        supercategory, entries = line.split(": ")
        for entry in entries.split(", "):
            cat_id, name = entry.split(" ", 1)
            categories.append({"supercategory": supercategory, "id": int(cat_id), "name": name})
    return sorted(categories, key=lambda c: c["id"])


def _round2(value: float) -> float:
    return round(float(value), 2)


def _polygon(box: Box) -> list[float]:
    """An octagon inscribed in the box (corners cut by a fifth), as a flat COCO polygon."""
    x, y, w, h = box
    cx, cy = 0.2 * w, 0.2 * h
    points = [
        (x + cx, y),
        (x + w - cx, y),
        (x + w, y + cy),
        (x + w, y + h - cy),
        (x + w - cx, y + h),
        (x + cx, y + h),
        (x, y + h - cy),
        (x, y + cy),
    ]
    return [_round2(v) for point in points for v in point]


def _polygon_area(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    twice = sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))
    return round(abs(twice) / 2, 4)


def _crowd_rle(
    rects: tuple[IntBox, ...], width: int, height: int
) -> tuple[list[int], int, list[int]]:
    """Uncompressed column-major RLE of a union of rectangles: (counts, area, bbox)."""
    runs: list[list[int]] = []  # [start, stop) of ones in the flat column-major index
    for col in range(width):
        spans = sorted((y0, y1) for x0, y0, x1, y1 in rects if x0 <= col < x1)
        for y0, y1 in spans:
            start, stop = col * height + y0, col * height + y1
            if runs and start <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], stop)
            else:
                runs.append([start, stop])
    counts: list[int] = []
    position = 0
    for start, stop in runs:
        counts += [start - position, stop - start]
        position = stop
    if position < width * height:
        counts.append(width * height - position)
    area = sum(stop - start for start, stop in runs)
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[2] for r in rects)
    y1 = max(r[3] for r in rects)
    return counts, area, [x0, y0, x1 - x0, y1 - y0]


def _coco_image(scene: _CocoScene) -> dict[str, Any]:
    file_name = f"{scene.image_id:012d}.jpg"
    return {
        "license": DEMO_LICENSE_ID,
        "file_name": file_name,
        "coco_url": f"{_COCO_URL}/{file_name}",
        "height": scene.height,
        "width": scene.width,
        "date_captured": scene.captured,
        "flickr_url": "",
        "id": scene.image_id,
    }


def _coco_annotations(
    scene: _CocoScene, index: int, category_ids: dict[str, int]
) -> list[dict[str, Any]]:
    annotations = []
    for number, (category, box) in enumerate(scene.instances):
        polygon = _polygon(box)
        annotations.append(
            {
                "segmentation": [polygon],
                "area": _polygon_area(polygon),
                "iscrowd": 0,
                "image_id": scene.image_id,
                "bbox": [_round2(v) for v in box],
                "category_id": category_ids[category],
                "id": _COCO_ANN_BASE + 100 * index + number,
            }
        )
    if scene.crowd is not None:
        category, rects = scene.crowd
        counts, area, bbox = _crowd_rle(rects, scene.width, scene.height)
        category_id = category_ids[category]
        annotations.append(
            {
                "segmentation": {"counts": counts, "size": [scene.height, scene.width]},
                "area": area,
                "iscrowd": 1,
                "image_id": scene.image_id,
                "bbox": bbox,
                "category_id": category_id,
                "id": _COCO_CROWD_BASE + category_id * 100_000_000 + scene.image_id,
            }
        )
    return annotations


def coco_instances() -> dict[str, Any]:
    """The demo's COCO 2017 instances file as a JSON-ready dict."""
    categories = coco_categories()
    category_ids = {c["name"]: c["id"] for c in categories}
    annotations = [
        ann
        for index, scene in enumerate(_COCO_SCENES)
        for ann in _coco_annotations(scene, index, category_ids)
    ]
    return {
        "info": dict(_COCO_INFO),
        "licenses": _coco_licenses(),
        "images": [_coco_image(scene) for scene in _COCO_SCENES],
        "annotations": annotations,
        "categories": categories,
    }


def coco_captions() -> dict[str, Any]:
    """The demo's COCO 2017 captions file as a JSON-ready dict."""
    annotations = [
        {
            "image_id": scene.image_id,
            "id": _COCO_CAPTION_BASE + 10 * index + number,
            "caption": caption,
        }
        for index, scene in enumerate(_COCO_SCENES)
        for number, caption in enumerate(scene.captions)
    ]
    return {
        "info": dict(_COCO_INFO),
        "licenses": _coco_licenses(),
        "images": [_coco_image(scene) for scene in _COCO_SCENES],
        "annotations": annotations,
    }


def _coco_licenses() -> list[dict[str, Any]]:
    return [{"url": url, "id": lic_id, "name": name} for lic_id, name, url in _COCO_LICENSES]


def _vg_object_ids(scene: _VgScene, index: int) -> dict[str, int]:
    return {obj.key: _VG_OBJECT_BASE + 100 * index + n for n, obj in enumerate(scene.objects)}


def _vg_box(obj: _VgObject) -> dict[str, int]:
    x, y, w, h = obj.box
    return {"x": x, "y": y, "w": w, "h": h}


def _vg_synsets(obj: _VgObject) -> list[str]:
    return [obj.synset] if obj.synset else []


def _vg_end(obj: _VgObject, object_id: int, plural: bool) -> dict[str, Any]:
    """One end of a relationship: `name` form, or `names` + `merged_object_ids` form."""
    end: dict[str, Any] = {"object_id": object_id}
    end.update({"names": [obj.name]} if plural else {"name": obj.name})
    end.update(_vg_box(obj))
    end["synsets"] = _vg_synsets(obj)
    if plural:
        end["merged_object_ids"] = list(obj.merged)
    return end


def vg_image_data() -> list[dict[str, Any]]:
    return [
        {
            "width": s.width,
            "url": f"{_VG_URL}/{s.image_id}.jpg",
            "height": s.height,
            "image_id": s.image_id,
            "coco_id": s.coco_id,
            "flickr_id": None,
        }
        for s in _VG_SCENES
    ]


def vg_objects() -> list[dict[str, Any]]:
    entries = []
    for index, scene in enumerate(_VG_SCENES):
        ids = _vg_object_ids(scene, index)
        objects = [
            {
                "object_id": ids[obj.key],
                **_vg_box(obj),
                "names": [obj.name],
                "synsets": _vg_synsets(obj),
                "merged_object_ids": list(obj.merged),
            }
            for obj in scene.objects
            if not obj.only_in_attributes
        ]
        url = f"{_VG_URL}/{scene.image_id}.jpg"
        entries.append({"image_id": scene.image_id, "objects": objects, "image_url": url})
    return entries


def vg_attributes() -> list[dict[str, Any]]:
    entries = []
    for index, scene in enumerate(_VG_SCENES):
        ids = _vg_object_ids(scene, index)
        rows = []
        for obj in scene.objects:
            row: dict[str, Any] = {"object_id": ids[obj.key], **_vg_box(obj)}
            row["names"] = [obj.name]
            row["synsets"] = _vg_synsets(obj)
            if obj.attributes:
                row["attributes"] = list(obj.attributes)
            rows.append(row)
        entries.append({"image_id": scene.image_id, "attributes": rows})
    return entries


def vg_relationships() -> list[dict[str, Any]]:
    entries = []
    for index, scene in enumerate(_VG_SCENES):
        ids = _vg_object_ids(scene, index)
        by_key = {obj.key: obj for obj in scene.objects}
        relationships = [
            {
                "relationship_id": _VG_RELATION_BASE + 100 * index + number,
                "predicate": rel.predicate,
                "synsets": list(_PREDICATE_SYNSETS[rel.predicate]),
                "subject": _vg_end(by_key[rel.subject], ids[rel.subject], rel.flipped_ends),
                "object": _vg_end(by_key[rel.object], ids[rel.object], not rel.flipped_ends),
            }
            for number, rel in enumerate(scene.relations)
        ]
        entries.append({"image_id": scene.image_id, "relationships": relationships})
    return entries


def _dump_json(path: Path, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_bytes(text.encode("utf-8"))


def _dump_lines(path: Path, lines: tuple[str, ...]) -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def write_demo_sample(dest: Path) -> DemoInputs:
    """Write the sample under dest (dest/coco/annotations/..., dest/vg/...), byte-identical every
    time; returns the paths."""
    dest = Path(dest)
    annotations = dest / "coco" / "annotations"
    vg_dir = dest / "vg"
    annotations.mkdir(parents=True, exist_ok=True)
    vg_dir.mkdir(parents=True, exist_ok=True)
    inputs = DemoInputs(
        coco_instances=annotations / "instances_demo.json",
        coco_captions=annotations / "captions_demo.json",
        vg_dir=vg_dir,
    )
    _dump_json(inputs.coco_instances, coco_instances())
    _dump_json(inputs.coco_captions, coco_captions())
    _dump_json(vg_dir / "image_data.json", vg_image_data())
    _dump_json(vg_dir / "objects.json", vg_objects())
    _dump_json(vg_dir / "attributes.json", vg_attributes())
    _dump_json(vg_dir / "relationships.json", vg_relationships())
    _dump_lines(vg_dir / "object_alias.txt", _OBJECT_ALIASES)
    _dump_lines(vg_dir / "relationship_alias.txt", _RELATIONSHIP_ALIASES)
    return inputs
