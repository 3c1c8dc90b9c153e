"""Record checks as data: each record kind lists its fields and the check each must pass.
A failed check raises RecordError, whose reason names the rule and whose detail names the
field and the value."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import repeat
from typing import Any

from pipeline.errors import RecordError

Check = Callable[[Any], bool]


# These checks run for every field of every record: a plain int or float (what JSON gives)
# is recognised by its exact type first, then subclasses get the general test.


def _is_number(v: Any) -> bool:
    kind = type(v)
    if kind is float or kind is int:
        return math.isfinite(v)
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v: Any) -> bool:
    return type(v) is int or (isinstance(v, int) and not isinstance(v, bool))


def is_positive(v: Any) -> bool:
    return _is_number(v) and v > 0


# Image sides are stored as 64-bit integers: a size that is not a whole pixel or beyond any
# real image (1e308 would overflow the column) is a bad value, not a crash.
MAX_IMAGE_SIDE = 2**31 - 1


def is_image_side(v: Any) -> bool:
    return _is_number(v) and 1 <= v <= MAX_IMAGE_SIDE


def is_non_negative(v: Any) -> bool:
    return _is_number(v) and v >= 0


def is_text(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


def is_optional_text(v: Any) -> bool:
    return v is None or isinstance(v, str)


def is_flag(v: Any) -> bool:
    return v in (0, 1) and not isinstance(v, float)


def is_box(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 4 and all(_is_number(x) for x in v)


def is_text_list(v: Any) -> bool:
    return isinstance(v, list) and all(map(isinstance, v, repeat(str)))


def is_int_list(v: Any) -> bool:
    return isinstance(v, list) and all(map(is_int, v))


def is_optional_int(v: Any) -> bool:
    return v is None or is_int(v)


# field -> (check, what it must be). A field missing from the record is its own reason.
COCO_IMAGE = {
    "id": (is_int, "an integer"),
    "width": (is_image_side, f"a number of pixels from 1 to {MAX_IMAGE_SIDE}"),
    "height": (is_image_side, f"a number of pixels from 1 to {MAX_IMAGE_SIDE}"),
    "file_name": (is_text, "a non-empty string"),
}
COCO_INSTANCE = {
    "id": (is_int, "an integer"),
    "image_id": (is_int, "an integer"),
    "category_id": (is_int, "an integer"),
    "bbox": (is_box, "a list of four finite numbers"),
    "iscrowd": (is_flag, "0 or 1"),
    "area": (is_non_negative, "a non-negative number"),
}
COCO_CATEGORY = {"id": (is_int, "an integer"), "name": (is_text, "a non-empty string")}
COCO_CAPTION = {
    "id": (is_int, "an integer"),
    "image_id": (is_int, "an integer"),
    "caption": (is_text, "a non-empty string"),
}
VG_IMAGE = {
    "image_id": (is_int, "an integer"),
    "width": (is_image_side, f"a number of pixels from 1 to {MAX_IMAGE_SIDE}"),
    "height": (is_image_side, f"a number of pixels from 1 to {MAX_IMAGE_SIDE}"),
    "url": (is_optional_text, "a string"),
    "coco_id": (is_optional_int, "an integer or null"),
}
VG_BOX = {
    "object_id": (is_int, "an integer"),
    "x": (_is_number, "a finite number"),
    "y": (_is_number, "a finite number"),
    "w": (is_positive, "a positive number"),
    "h": (is_positive, "a positive number"),
}
VG_RELATIONSHIP = {
    "relationship_id": (is_int, "an integer"),
    "predicate": (is_text, "a non-empty string"),
}
OPTIONAL = {"iscrowd", "area", "url", "coco_id"}


def check_fields(record: Any, spec: dict[str, tuple[Check, str]]) -> None:
    if not isinstance(record, dict):
        raise RecordError("not_an_object", f"record is {type(record).__name__}, expected object")
    for name, (check, expected) in spec.items():
        if name not in record:
            if name in OPTIONAL:
                continue
            raise RecordError("missing_field", f"'{name}' is missing")
        if not check(record[name]):
            raise RecordError("bad_value", f"'{name}' is {record[name]!r}, expected {expected}")


def vg_names(record: dict[str, Any]) -> list[str]:
    """VG 1.4 objects carry `names` (a list), 1.2 objects and relationship subjects `name`."""
    if "names" in record:
        names = record["names"]
        if not is_text_list(names) or not any(n.strip() for n in names):
            raise RecordError("bad_value", f"'names' is {names!r}, expected non-empty strings")
        return [n for n in names if n.strip()]
    if "name" in record:
        if not is_text(record["name"]):
            raise RecordError("bad_value", f"'name' is {record['name']!r}, expected a string")
        return [record["name"]]
    raise RecordError("missing_field", "neither 'names' nor 'name' is present")


# Boxes may overrun the image by annotation jitter; beyond this they are errors.
BOX_TOLERANCE_PX = 2.0


def clip_box(box: list[float], width: float, height: float) -> list[float]:
    """[x, y, w, h] clipped to the image; RecordError when it lies outside beyond jitter."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise RecordError("degenerate_box", f"box {box} has no area")
    overrun = max(-x, -y, x + w - width, y + h - height)
    if overrun > BOX_TOLERANCE_PX:
        raise RecordError("box_outside_image", f"box {box} lies outside the {width}x{height} image")
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(width), x + w), min(float(height), y + h)
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]
