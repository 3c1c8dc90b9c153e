"""Attribute typing: table, WordNet fallback, conservative "other", compounds, modifiers,
synonyms and confusables, and the real VG attribute strings."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.normalize import (
    TypedAttribute,
    Vocabulary,
    are_confusable,
    attribute_values,
    canonical_value,
    typed_aspects,
)
from pipeline.normalize.attributes import surface_index


def typed(raw: str) -> list[tuple[str, str, bool]]:
    return [(t.aspect, t.value, t.compound) for t in Vocabulary.load().attribute(raw)]


@pytest.mark.parametrize(
    ("raw", "aspect", "value"),
    [
        (" White ", "color", "white"),
        ("grey", "color", "gray"),
        ("wooden", "material", "wood"),
        ("metallic", "material", "metal"),
        ("stainless steel", "material", "steel"),
        ("made of bricks", "material", "brick"),
        ("circular", "shape", "round"),
        ("rectangle", "shape", "rectangular"),
        ("big", "size", "large"),
        ("very large", "size", "large"),
        ("standing", "action", "standing"),
        ("laying", "action", "lying"),
        ("parked", "action", "parked"),
        ("turned off", "state", "off"),
        ("open", "state", "open"),
        ("empty", "state", "empty"),
    ],
)
def test_table_typing(raw: str, aspect: str, value: str) -> None:
    assert typed(raw) == [(aspect, value, False)]


@pytest.mark.parametrize(
    ("raw", "aspect"),
    [
        ("vermilion", "color"),  # vermilion.n.01 under chromatic_color.n.01
        ("cerulean", "color"),
        ("titanium", "material"),  # a metallic element, noun.substance
        ("polyester", "material"),  # under material.n.01
        ("crescent", "shape"),  # crescent.n.01 under curve.n.01 (noun.shape)
        ("cube", "shape"),
        ("trotting", "action"),  # trot.v.01 is verb.motion
        ("climbing", "action"),
    ],
)
def test_wordnet_typing_outside_table(raw: str, aspect: str) -> None:
    assert raw not in surface_index()
    assert typed(raw) == [(aspect, raw, False)]


@pytest.mark.parametrize(
    "raw",
    [
        "sidewalk",  # a noun typed as an attribute of a street
        "building",  # an "-ing" noun, not an action
        "clothing",
        "peach",  # first sense is the fruit, not the colour
        "salmon",
        "bronze",  # a substance and a colour: ambiguous
        "indigo",
        "not red",  # a negation never becomes the value
        "light colored",  # no hue
        "dark",
        "red stripes",  # a colour of a part, not of the object
        "gray haired",
        "zzqx",
    ],
)
def test_conservative_other(raw: str) -> None:
    assert [aspect for aspect, _, _ in typed(raw)] == ["other"]


@pytest.mark.parametrize("raw", ["", "   ", ".", "--"])
def test_junk_only_is_empty(raw: str) -> None:
    assert Vocabulary.load().attribute(raw) == []


@pytest.mark.parametrize(
    ("raw", "values"),
    [
        ("white with red", ["white", "red"]),
        ("black and white", ["black", "white"]),
        ("red and blue", ["red", "blue"]),
        ("blue/white", ["blue", "white"]),
        ("red, white", ["red", "white"]),
        ("white yellow", ["white", "yellow"]),
        ("red white and green", ["red", "white", "green"]),
    ],
)
def test_multi_valued_strings(raw: str, values: list[str]) -> None:
    assert typed(raw) == [("color", v, True) for v in values]


def test_multi_valued_mixed_aspects_all_compound() -> None:
    assert typed("wood and metal") == [("material", "wood", True), ("material", "metal", True)]


@pytest.mark.parametrize(
    ("raw", "value", "modifier"),
    [
        ("dark blue", "blue", "dark"),
        ("light brown", "brown", "light"),
        ("pale white", "white", "pale"),
    ],
)
def test_colour_modifiers(raw: str, value: str, modifier: str) -> None:
    (attr,) = Vocabulary.load().attribute(raw)
    assert (attr.aspect, attr.value, attr.compound, attr.modifier) == (
        "color",
        value,
        False,
        modifier,
    )
    assert attr == TypedAttribute("color", value, False)  # the modifier is not part of equality


@pytest.mark.parametrize("raw", ["multi colored", "multicolored", "multi-colored", "colorful"])
def test_multicolored(raw: str) -> None:
    assert typed(raw) == [("color", "multicolored", False)]


@pytest.mark.parametrize(
    ("aspect", "raw", "value"),
    [
        ("color", "grey", "gray"),
        ("color", "Gray", "gray"),
        ("size", "big", "large"),
        ("size", "large", "large"),
        ("material", "wooden", "wood"),
        ("material", "wood", "wood"),
        ("material", "bricks", "brick"),
        ("color", "vermilion", "vermilion"),
    ],
)
def test_canonical_value_synonyms(aspect: str, raw: str, value: str) -> None:
    assert canonical_value(aspect, raw) == value


@pytest.mark.parametrize(
    ("aspect", "a", "b", "confusable"),
    [
        ("color", "grey", "silver", True),
        ("color", "gray", "grey", True),
        ("color", "tan", "beige", True),
        ("color", "white", "cream", True),
        ("color", "gold", "yellow", True),
        ("color", "purple", "violet", True),
        ("color", "multicolored", "red", True),
        ("color", "red", "blue", False),
        ("color", "white", "black", False),
        ("material", "metal", "steel", True),
        ("material", "wooden", "wood", True),
        ("material", "wood", "glass", False),
        ("size", "large", "tall", True),
        ("size", "large", "small", False),
        ("action", "sitting", "resting", True),
        ("action", "sitting", "running", False),
    ],
)
def test_confusables_symmetric(aspect: str, a: str, b: str, confusable: bool) -> None:
    assert are_confusable(aspect, a, b) is confusable
    assert are_confusable(aspect, b, a) is confusable


def test_attribute_values_and_aspects() -> None:
    assert typed_aspects() == ("color", "material", "shape", "size", "action", "state", "other")
    colors = attribute_values("color")
    assert colors == sorted(colors)
    assert {"gray", "white", "multicolored"} <= set(colors) and "grey" not in colors
    assert "wood" in attribute_values("material") and "wooden" not in attribute_values("material")
    assert attribute_values("other") == []


def test_confusable_values_exist_in_table() -> None:
    from pipeline.tables import load_table

    for aspect, section in load_table("confusables").items():
        known = set(attribute_values(aspect))
        for group in [*section["groups"], section["universal"]]:
            assert set(group) <= known, (aspect, set(group) - known)


def _real_attribute_counts(sample_data: Path) -> Counter[str]:
    data = json.loads((sample_data / "vg" / "attributes.json").read_text())
    counts: Counter[str] = Counter()
    for image in data:
        for obj in image["attributes"]:
            counts.update(obj.get("attributes") or [])
    return counts


def test_real_frequent_colour_and_material_strings(sample_data: Path) -> None:
    counts = _real_attribute_counts(sample_data)
    expected = {
        "white": ("color", "white"),
        "black": ("color", "black"),
        "red": ("color", "red"),
        "blue": ("color", "blue"),
        "brown": ("color", "brown"),
        "green": ("color", "green"),
        "yellow": ("color", "yellow"),
        "grey": ("color", "gray"),
        "gray": ("color", "gray"),
        "silver": ("color", "silver"),
        "wooden": ("material", "wood"),
        "wood": ("material", "wood"),
        "metal": ("material", "metal"),
        "glass": ("material", "glass"),
        "plastic": ("material", "plastic"),
        "brick": ("material", "brick"),
    }
    for raw, (aspect, value) in expected.items():
        assert counts[raw] > 0, f"{raw!r} no longer in the sample"
        assert typed(raw) == [(aspect, value, False)], raw
    # Every string of the sample types without error, and the frequent ones are labelled.
    top = [s for s, _ in counts.most_common(40)]
    labelled = [s for s in top if typed(s)[0][0] != "other"]
    assert len(labelled) >= 30, sorted(set(top) - set(labelled))
    for raw in counts:
        for attr in Vocabulary.load().attribute(raw):
            assert attr.aspect in typed_aspects()
