"""Generation that removes language priors (issue 16): distractors matched to how often
each value is an answer, false predicates only from those seen between the same names,
count options weighted like count answers."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from test_mcq_rules import facts, obj, scene

from pipeline.facts.model import Distractor, weighted_sample
from pipeline.facts.stats import Stats, scene_stats


def test_weighted_sample_draws_in_proportion():
    pool = [Distractor(option=v, source="x", weight=w) for v, w in (("a", 6), ("b", 3), ("c", 1))]
    rng = random.Random(0)
    drawn = Counter(weighted_sample(pool, 1, rng)[0].option for _ in range(6000))
    assert 0.55 < drawn["a"] / 6000 < 0.65 and 0.05 < drawn["c"] / 6000 < 0.15
    two = weighted_sample(pool, 2, random.Random(1))
    assert len({d.option for d in two}) == 2  # without replacement


def test_attribute_distractors_follow_answer_frequency():
    """White is the answer of most cars elsewhere: it is offered about as often as it is
    right, so seeing it among the options says nothing."""
    cars = [
        scene([obj(f"vg/obj/{i}", "car", (0, 0, 300, 300), color={"white"})]) for i in range(30)
    ]
    cars += [scene([obj("vg/obj/99", "car", (0, 0, 300, 300), color={"teal"})])]
    stats = Stats(scene_stats(cars))
    red_car = scene([obj("vg/obj/1", "car", (0, 0, 300, 300), color={"red"})])
    (fact,), _ = facts("color", red_car, stats)
    weights = {d.option: d.weight for d in fact.distractors}
    assert weights["white"] > 5 * weights["teal"] > 5 * weights["khaki"]


def test_false_predicates_come_from_the_same_pair_of_names():
    def relation(i: int, predicate: str, subject="man", target="helmet") -> dict:
        man = obj(f"vg/obj/{i}", subject, (0, 0, 300, 600))
        thing = obj(f"vg/obj/{i + 1}", target, (50, 0, 100, 100))
        rel = {
            "relation_id": f"vg/rel/{i}",
            "subject_id": man["object_id"],
            "predicate": predicate,
            "raw_predicate": predicate,
            "object_id": thing["object_id"],
            "synset": None,
        }
        return scene([man, thing], relations=[rel])

    elsewhere = [
        relation(10, "pulling", "man", "horse"),
        relation(20, "pulling", "man", "horse"),
        relation(30, "flying", "man", "kite"),
    ]
    riding = relation(0, "riding", "man", "horse")
    found, _ = facts("relation", riding, Stats(scene_stats([*elsewhere, riding])))
    (fact,) = found
    # "Is the man flying the horse?" is never asked: flying was seen with a kite only.
    assert {d.option for d in fact.distractors} == {"pulling"}
    assert fact.distractors[0].weight == 2
    found, skipped = facts("relation", riding, Stats(scene_stats([riding])))
    assert not found and skipped["relation:no_plausible_false_predicate"] == 1


def test_count_options_are_weighted_like_count_answers():
    images = []
    for i in range(20):  # one zebra per image, mostly
        n = 1 if i < 16 else 3
        images.append(
            scene(
                [
                    obj(f"coco/ann/{i}{k}", "zebra", (k * 200, 0, 150, 150), coco="zebra")
                    for k in range(n)
                ],
                source="coco",
            )
        )
    stats = Stats(scene_stats(images))
    assert stats.count_weight("zebra", 1) > stats.count_weight("zebra", 3)
    assert stats.count_weight("zebra", 3) > stats.count_weight("zebra", 7)
    assert stats.count_weight("zebra", 0) > 0  # zero is asked once per image
    two = scene(
        [obj(f"coco/ann/9{k}", "zebra", (k * 200, 0, 150, 150), coco="zebra") for k in range(2)],
        source="coco",
    )
    found, _ = facts("number", two, stats)
    (fact,) = [f for f in found if f.referent_name == "zebra"]
    weights = {d.option: d.weight for d in fact.distractors}
    positive = {k: w for k, w in weights.items() if k != "0"}
    assert weights["1"] == max(positive.values()) > weights["3"] > weights["7"]
    # Zero is the answer of one count question per image: offered about that often too.
    # 20 images, one zero question each, among 40 count questions: odds (20+1)/(40+1) over
    # its complement, 21/20.
    assert weights["0"] == pytest.approx(21 / 20)
