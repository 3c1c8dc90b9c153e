"""Referents: which objects a question's words could mean. Near-duplicate boxes (VG, and
a VG object repeating its COCO twin's) are one referent; a name is unique in an image when
exactly one referent answers to it or to a synonym, hypernym or hyponym of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from pipeline.normalize import lexicon, name_synonyms, names_related
from pipeline.normalize.names import PAIR_CACHE_SIZE
from pipeline.scenes import DUPLICATE_IOU, iou
from pipeline.tables import load_table


def related(a: str, b: str) -> bool:  # names_related caches the pairs
    return a == b or names_related(a, b)


@lru_cache(maxsize=1)
def _not_referring() -> tuple[frozenset[str], int]:
    rules = load_table("item_rules")["referents"]
    return frozenset(rules["not_referring"]), rules["max_words"]


@lru_cache(maxsize=200_000)
def can_refer(name: str) -> bool:
    """VG free text like "thing", "floor is wood", "powder on desk", "see grey desk", "two
    people", "there" cannot be the subject of a question: a referent is a short noun
    phrase whose head (last word) is a WordNet noun not on the stop list, with no verb,
    preposition, numeral or "see" in it."""
    stop, max_words = _not_referring()
    words = name.split()
    if not 0 < len(words) <= max_words or name in stop or words[-1] in stop:
        return False
    if set(words) & _NOT_IN_A_NAME or words[0] in NUMBER_WORDS or words[0].isdigit():
        return False
    return bool(lexicon.phrase_noun_senses(name))


# Words that make a name a clause or a phrase of several things, not one object's name.
_NOT_IN_A_NAME = frozenset(
    "is are was has have see on in of with near at by under behind above below and".split()
)
NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten many several".split())


def live_objects(scene: dict[str, Any]) -> list[dict[str, Any]]:
    """Objects that are not a recorded duplicate of another."""
    return [o for o in scene["objects"] if o["duplicate_of"] is None]


@dataclass
class Referent:
    """One real-world object: a main annotation and the boxes that repeat it."""

    main: dict[str, Any]
    members: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.main["name"]

    @property
    def ids(self) -> list[str]:
        return [m["object_id"] for m in self.members]

    @property
    def evidence(self) -> list[str]:
        return sorted({e for m in self.members for e in m["evidence_ids"]})

    @cached_property
    def same_object(self) -> list[dict[str, Any]]:
        """The members whose attributes are the referent's: the main box and boxes of the
        same name or a synonym. A box of a broader or narrower name ("food" over a
        "vegetable") is kept in the group, so neither is asked about alone, but does not
        lend its values: "green" of the vegetable is not said of "the food". Asked for
        every aspect: worked out once, after `referents` has grouped every box."""
        return [m for m in self.members if same_object_name(m["name"], self.name)]

    def values(self, aspect: str) -> set[str]:
        return {v for m in self.same_object for v in m["attributes"][aspect]}

    def any_values(self, aspect: str) -> set[str]:
        """Values of every box of the group, broader or narrower names included: none of
        them may be offered as false (a "clothing" box over the "shirt" is the shirt)."""
        return {v for m in self.members for v in m["attributes"][aspect]}

    def compound(self, aspect: str) -> bool:
        return any(aspect in m["multi_valued"] for m in self.same_object)


@lru_cache(maxsize=PAIR_CACHE_SIZE)
def same_object_name(name: str, main: str) -> bool:
    return name == main or name in name_synonyms(main) or main in name_synonyms(name)


def referents(scene: dict[str, Any]) -> list[Referent]:
    """Group each object with its duplicates: recorded ones, and boxes of a related name
    (man / person across COCO and VG) that overlap as much as a duplicate does."""
    groups: list[Referent] = []
    by_id: dict[str, Referent] = {}
    for obj in scene["objects"]:
        target = by_id.get(obj["duplicate_of"]) if obj["duplicate_of"] else None
        if target is None:
            target = next(
                (
                    g
                    for g in groups
                    # Boxes first: few overlap, while names are many distinct pairs.
                    if iou(g.main["bbox"], obj["bbox"]) >= DUPLICATE_IOU
                    and related(g.name, obj["name"])
                ),
                None,
            )
        if target is None:
            target = Referent(obj, [])
            groups.append(target)
        target.members.append(obj)
        by_id[obj["object_id"]] = target
    return groups


def one_object(group: Referent) -> bool:
    """No box of the referent covers several objects (a COCO crowd region, a VG box named
    in the plural): "the chair" cannot be asked of a box over four chairs."""
    return not any(m["iscrowd"] for m in group.members)


def is_askable(group: Referent) -> bool:
    """A question can name it: a referring name, and one object."""
    return can_refer(group.name) and one_object(group)


def askable(groups: list[Referent]) -> list[Referent]:
    return [g for g in groups if is_askable(g)]


def same_name(groups: list[Referent], name: str) -> list[Referent]:
    """Every referent the word `name` could refer to."""
    return [g for g in groups if related(g.name, name)]


def normalized_box(bbox: list[float], width: int, height: int) -> list[float]:
    """[x1, y1, x2, y2] in 0..1 with three decimals, as LLaVA-1.5 writes regions."""
    x, y, w, h = bbox
    return [
        round(x / width, 3),
        round(y / height, 3),
        round(min(1.0, (x + w) / width), 3),
        round(min(1.0, (y + h) / height), 3),
    ]


def region_text(box: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


REGION = re.compile(r"\[\s*-?\d*\.?\d+(?:\s*,\s*-?\d*\.?\d+){3}\s*\]")
REGION_MASK = "[region]"


def mask_regions(question: str) -> str:
    """The question as a model sees it without the image: region coordinates say nothing."""
    return REGION.sub(REGION_MASK, question)


def visible(bbox: list[float], width: int, height: int, min_side: float, min_share: float) -> bool:
    """Big enough to see: shorter side at least `min_side` pixels and area at least
    `min_share` of the image (both in the original image)."""
    return min(bbox[2], bbox[3]) >= min_side and bbox[2] * bbox[3] >= min_share * width * height


def spans_image(bbox: list[float], width: int, height: int, share: float) -> bool:
    """A box wider or taller than `share` of the image (sky, floor, road): no clear place
    to say what is left of or above it."""
    return bbox[2] > share * width or bbox[3] > share * height


def phrase_for(group: Referent, unique: bool, scene: dict[str, Any]) -> tuple[str, bool]:
    """'the bus' when the name is unique in the image (one referent answers to it), else
    'the bus in the region [...]'. Returns the phrase and whether it needed the region."""
    if unique:
        return f"the {group.name}", False
    box = normalized_box(group.main["bbox"], scene["width"], scene["height"])
    return f"the {group.name} in the region {region_text(box)}", True
