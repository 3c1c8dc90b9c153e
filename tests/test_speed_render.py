"""Rendering shortcuts give what the plain code gives (speed work of issue 21)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pipeline.facts.model import Fact
from pipeline.mcq.render import Prepared, Renderer
from pipeline.registry import registry

SCENE = {
    "image_source": "coco",
    "image_id": "1",
    "scene_id": "coco/1",
    "file_name": "1.jpg",
    "url": None,
    "width": 640,
    "height": 480,
}
FORMS = sorted({form for f in registry().families.values() for form in f.phrasings})


def _prepared(family: str) -> Prepared:
    fact = Fact(
        family=family,
        key="k",
        value="red",
        slots={},
        referent_name=None,
        referent_ids=[],
        referent_bbox=None,
        evidence=[],
        distractors=[],
    )
    return Prepared(fact, registry().family(family), "red", {}, {})


@pytest.mark.parametrize("form", FORMS)
def test_only_template_is_the_first_draw_of_a_fresh_generator(form: str) -> None:
    renderer = Renderer(SCENE, 0, False, Counter())
    families = [f for f in registry().families.values() if form in f.phrasings]
    for family in families:
        p = _prepared(family.name)
        for seed in (0, 1, 7, 2**63 + 5, 123456789):
            expected = renderer.template(p, form, random.Random(seed))
            assert renderer.only_template(p, form, lambda s=seed: s) == expected


def test_only_template_seeds_nothing_for_a_single_phrasing() -> None:
    single = [
        (f.name, form)
        for f in registry().families.values()
        for form, choices in f.phrasings.items()
        if len(choices) == 1
    ]
    assert single  # the families table has such forms: the shortcut is used
    renderer = Renderer(SCENE, 0, False, Counter())

    def refuse() -> int:
        raise AssertionError("a single phrasing needs no seed")

    for family, form in single:
        template, template_id = renderer.only_template(_prepared(family), form, refuse)
        assert template_id == f"{family}.{form}.0"
