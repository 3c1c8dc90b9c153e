"""Audit building blocks on made-up data with known answers: the chi-square p-value, entropy
and head share, caption patterns, captions against labels, and the label checks."""

from __future__ import annotations

import math

import pytest

from pipeline.audit.captions import CaptionParser, check_captions
from pipeline.audit.labels import duplicate_box_conflicts, duplicate_questions, exclusive_values
from pipeline.audit.stats import chi_square_uniform, entropy_bits, group_metrics, head


@pytest.mark.parametrize(
    "counts, p",
    [
        ([25, 25, 25, 25], 1.0),
        ([40, 20, 20, 20], 0.007383),  # stat 12.0, df 3 (scipy.stats.chi2.sf(12, 3))
        ([30, 20], 0.157299),  # stat 2.0, df 1
        ([100, 0, 0, 0], 0.0),
    ],
)
def test_chi_square_p_matches_known_values(counts, p):
    _, got = chi_square_uniform(counts)
    assert got == pytest.approx(p, abs=1e-5)


def test_entropy_and_head_share():
    assert entropy_bits({"a": 1, "b": 1, "c": 1, "d": 1}) == pytest.approx(2.0)
    assert entropy_bits({"a": 5}) == 0.0
    assert head({"b": 2, "a": 2, "c": 1}) == ("a", 0.4)  # ties by name
    items = [
        {"form": "mcq", "answer_value": v, "answer_index": k, "answer": v}
        for v, k in (("red", 0), ("red", 1), ("blue", 2), ("green", 3))
    ]
    m = group_metrics(items, min_items=1)
    assert m["head_answer"] == "red" and m["head_share"] == 0.5
    assert m["positions"] == [1, 1, 1, 1] and m["position_p"] == 1.0
    assert m["entropy_bits"] == pytest.approx(1.5)
    assert math.isclose(m["normalized_entropy"], 1.5 / math.log2(3), rel_tol=1e-5)


NAMES = ["giraffe", "person", "bus", "cat", "dog", "dining table", "monitor", "bike", "plate"]


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Two giraffes standing in a field.", {("count", "giraffe", "2")}),
        ("Three people near a red bus.", {("count", "people", "3"), ("color", "bus", "red")}),
        (
            "A grey cat on 2 dining tables",
            {("color", "cat", "gray"), ("count", "dining table", "2")},
        ),
        ("Two large dogs and a brown dog", {("count", "dog", "2"), ("color", "dog", "brown")}),
        ("A desk with two computer monitors", {("count", "monitor", "2")}),
        # A multi-coloured phrase, a measure word, a fruit colour before a stop word: nothing.
        ("A black and white cat.", set()),
        ("The ten speed bike is parked.", set()),
        ("An orange on the plate.", set()),
        ("A cat sleeping.", set()),
    ],
)
def test_caption_patterns_on_made_up_captions(caption, expected):
    got = {(c.kind, c.name, c.value) for c in CaptionParser(NAMES).claims(caption)}
    assert got == expected


def test_captions_against_labels_lists_disagreements():
    scene = {
        "scene_id": "coco/1",
        "captions": [
            {"caption_id": "coco/cap/1", "text": "Two dogs next to a red bus."},
            {"caption_id": "coco/cap/2", "text": "Three dogs and a white bus."},
        ],
    }

    def item(i, aspect, name, value):
        return {
            "id": f"mcq-{i}",
            "scene_id": "coco/1",
            "aspect": aspect,
            "form": "mcq",
            "referent_name": name,
            "answer_value": value,
        }

    items = [item(1, "number", "dog", "2"), item(2, "color", "bus", "red")]
    result = check_captions([scene], items)
    assert (result["compared"], result["agree"], result["disagree"]) == (4, 2, 2)
    wrong = {(d["phrase"], tuple(d["item_values"])) for d in result["disagreements"]}
    assert wrong == {("three dogs", ("2",)), ("white bus", ("red",))}


def obj(i, name, dup=None, **attrs):
    return {
        "object_id": f"vg/obj/{i}",
        "name": name,
        "duplicate_of": dup,
        "bbox": [0, 0, 10, 10],
        "attributes": {a: attrs.get(a, []) for a in ("color", "material", "shape", "action")},
        "multi_valued": attrs.get("multi_valued", []),
        "raw_attributes": [],
    }


def test_exclusive_values_and_duplicate_boxes():
    scene = {
        "scene_id": "vg/1",
        "objects": [
            obj(1, "bench", material=["wood", "metal"]),  # clash
            obj(2, "bus", color=["red", "white"], multi_valued=["color"]),  # "red and white"
            obj(3, "car", color=["gray", "silver"]),  # confusable: no clash
            obj(4, "man", action=["sitting", "walking"]),  # exclusive actions
            obj(5, "man", action=["smiling", "walking"]),  # not exclusive
            obj(6, "vase", color=["black"]),
            obj(7, "vase", dup="vg/obj/6", color=["red"]),  # near-duplicate box disagrees
            obj(8, "cup", color=["white"]),
            obj(9, "cup", dup="vg/obj/8", color=["white"]),
        ],
    }
    clashes = {(r["object_id"], r["aspect"]) for r in exclusive_values([scene])}
    assert clashes == {("vg/obj/1", "material"), ("vg/obj/4", "action")}
    dups = duplicate_box_conflicts([scene])
    assert [(d["name"], d["aspect"]) for d in dups] == [("vase", "color")]


def test_duplicate_and_near_duplicate_questions():
    def q(i, text, bbox, answer, scene="coco/1", form="fill_blank"):
        return {
            "id": f"mcq-{i}",
            "group_id": f"mcq-{i}",
            "scene_id": scene,
            "form": form,
            "question": text,
            "referent_bbox": bbox,
            "answer": answer,
            "options": [],
            "pope_setting": None,
        }

    items = [
        q(1, "What is in the region [0.10, 0.10, 0.50, 0.50]?", [10, 10, 40, 40], "dog"),
        q(2, "What is in the region [0.11, 0.10, 0.50, 0.51]?", [11, 10, 39, 41], "cat"),
        q(3, "What is in the region [0.60, 0.60, 0.90, 0.90]?", [60, 60, 30, 30], "cup"),
        q(4, "How many dogs are there?", None, "2"),
        q(5, "How many dogs are there?", None, "3"),
        q(6, "How many dogs are there?", None, "2", scene="coco/2"),
    ]
    found = {
        (tuple(d["ids"]), d["kind"], d["same_answer"]) for d in duplicate_questions(items, 0.5)
    }
    assert found == {
        (("mcq-1", "mcq-2"), "near_duplicate", False),
        (("mcq-4", "mcq-5"), "duplicate", False),
    }
