"""The blind (text-only) attacks and the leakage gates on hand-made items with known priors:
an always-"yes" template is caught by the answer prior, an option that is right whenever
offered by the option prior, random answers show no leakage, and nothing of the record but
the masked question and the options reaches the attacks (`referent_name` least of all)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from pipeline.audit.gates import leakage_breaks, load_settings
from pipeline.audit.leakage import blind_leakage, markdown_table
from pipeline.evaluate.blind import (
    BlindView,
    attack_correct,
    blind_attacks,
    blind_predictions,
    view_of,
)
from pipeline.facts.referents import REGION_MASK, mask_regions

COLORS = ["red", "blue", "green", "white", "black", "yellow", "brown", "gray"]
YES_NO = ["yes", "no"]


def make(n: int, question: str, options: list[str], answer: str, **extra) -> dict:
    """An item of image `n`; closed forms are labelled by the option text."""
    return {
        "id": f"item-{n:05d}-{extra.get('form', 'mcq')}",
        "scene_id": f"vg/{n}",
        "group_id": None,
        "aspect": "color",
        "form": "mcq",
        "question": question,
        "options": options,
        "answer": answer,
        "answer_value": answer,
        "template_id": "color.mcq.0",
        "referent_name": f"thing{n}",
        "distractor_sources": [],
    } | extra


def region(rng: random.Random) -> str:
    return "[" + ", ".join(f"{rng.random():.3f}" for _ in range(4)) + "]"


def group_of(leakage: dict, aspect: str, form: str) -> dict:
    return leakage["by_aspect_form"][aspect][form]


def test_regions_are_masked_and_the_view_holds_only_question_and_options():
    question = "What color is the bus in the region [0.123, 0.456, 0.789, 0.999]?"
    assert mask_regions(question) == f"What color is the bus in the region {REGION_MASK}?"
    assert {f.name for f in dataclasses.fields(BlindView)} == {"question", "options"}
    view = view_of(make(1, question, COLORS[:4], "red"))
    assert view == BlindView(mask_regions(question), ("red", "blue", "green", "white"))


def test_an_always_yes_template_is_caught_by_the_answer_prior():
    rng = random.Random(0)
    items = [
        make(n, f"Is the thing{n} in the region {region(rng)} shiny?", YES_NO, "yes", form="yes_no")
        for n in range(200)
    ]
    leak = group_of(blind_leakage(items, folds=5, seed=0), "color", "yes_no")
    assert leak["answer_prior_accuracy"] == 1.0
    assert leak["chance"] == 0.5 and leak["leakage"] == 0.5
    broken = leakage_breaks(blind_leakage(items, 5, 0), load_settings()["gates"])
    assert broken["max_mcq_leakage"] and broken["max_mcq_leakage"][0].startswith("color/yes_no")
    assert broken["max_overall_leakage"]


def test_an_option_right_whenever_offered_is_caught_by_the_option_prior():
    """ "white" is offered everywhere and right 60% of the time; "gold" is offered on the
    other 40% and always right. The most frequent answer (white) misses every gold item;
    the rate of being right when offered does not."""
    rng = random.Random(1)
    items = []
    for n in range(300):
        fillers = rng.sample(["pink", "teal", "navy", "olive", "beige", "maroon"], 2)
        right = "gold" if n % 5 < 2 else "white"
        others = ["white", *fillers] if right == "gold" else ["black", *fillers]
        options = [right, *others]
        rng.shuffle(options)
        items.append(make(n, f"What color is the thing{n}?", options, right))
    leak = group_of(blind_leakage(items, folds=5, seed=0), "color", "mcq")
    assert leak["option_prior_accuracy"] == 1.0
    assert leak["answer_prior_accuracy"] < 0.7
    assert leak["best_attack"] == "option_prior"
    assert leak["leakage"] == pytest.approx(0.75)


def test_random_answers_show_no_leakage():
    rng = random.Random(2)
    items = []
    for n in range(800):
        options = rng.sample(COLORS, 4)
        question = f"What color is the thing{n % 40} in the region {region(rng)}?"
        items.append(make(n, question, options, rng.choice(options)))
        asked = rng.choice(COLORS)
        items.append(
            make(n, f"Is the thing{n % 40} {asked}?", YES_NO, rng.choice(YES_NO), form="yes_no")
        )
    leakage = blind_leakage(items, folds=5, seed=0)
    for form in ("mcq", "yes_no"):
        assert abs(group_of(leakage, "color", form)["leakage"]) < 0.04, form
    assert not any(leakage_breaks(leakage, load_settings()["gates"]).values())


def test_open_forms_learn_the_usual_value_and_corrections_are_judged_like_the_scorer():
    rng = random.Random(3)
    items = []
    for n in range(150):
        size = "large" if n % 10 else "small"  # 90% large
        false = "small" if size == "large" else "large"
        items.append(
            make(n, f"Fill in the blank: The thing{n} is ___.", [], size, form="fill_blank")
        )
        stated = f"The thing{n} in the region {region(rng)} is {false}."
        items.append(
            make(
                n,
                f'This statement is false: "{stated}" Rewrite it so that it is true.',
                [],
                stated.replace(false, size),
                answer_value=size,
                form="correction",
                distractor_sources=[{"option": false, "source": "scale"}],
            )
        )
    leakage = blind_leakage(items, folds=5, seed=0)
    fill, correction = (
        group_of(leakage, "color", "fill_blank"),
        group_of(leakage, "color", "correction"),
    )
    assert fill["answer_prior_accuracy"] == pytest.approx(0.9)
    assert fill["option_prior_accuracy"] is None  # no options to rate
    assert correction["answer_prior_accuracy"] == 1.0  # the stated value tells the other
    assert fill["chance"] == 0.5 and correction["leakage"] == 0.5
    corr = next(i for i in items if i["form"] == "correction")
    assert attack_correct(corr, corr["answer_value"])
    assert not attack_correct(
        corr, f"{corr['answer_value']} or {corr['distractor_sources'][0]['option']}"
    )
    broken = leakage_breaks(leakage, load_settings()["gates"])
    assert any(b.startswith("color/correction") for b in broken["max_open_leakage"])


def test_the_attacks_never_see_hidden_fields():
    """Entity items whose referent name is their answer: giving the attacks the name, or any
    other hidden field, changes nothing; the old referent-keyed prior would score 100%."""
    rng = random.Random(4)
    names = ["dog", "cat", "bus", "car", "tree", "cup", "chair", "kite"]
    items = []
    for n in range(300):
        options = rng.sample(names, 4)
        answer = rng.choice(options)
        question = f"Which object is shown in the region {region(rng)}?"
        items.append(make(n, question, options, answer, aspect="entity", referent_name=answer))
    hidden = {
        "referent_name": "zzz",
        "template_id": "x",
        "answer_value": "zzz",
        "distractor_sources": [{"option": "dog"}],
        "pope_setting": "adversarial",
        "evidence_ids": ["vg:1"],
        "group_id": "g",
    }
    blanked = [dict(i, **hidden) for i in items]
    assert blind_attacks(blanked, 5, 0) == blind_attacks(items, 5, 0)
    assert blind_predictions(blanked, 5, 0) == blind_predictions(items, 5, 0)
    leak = group_of(blind_leakage(items, 5, 0), "entity", "mcq")
    assert leak["blind_accuracy"] < 0.35


def test_items_of_one_image_are_never_both_trained_and_predicted():
    """Fifty items of one image say "white", twenty other images "red": held out, the big
    image can only have learnt "red"."""
    big = [
        dict(make(0, "What color is the sky?", COLORS[:4], "white"), id=f"big-{k}")
        for k in range(50)
    ]
    others = [make(n, "What color is the sky?", COLORS[:4], "red") for n in range(1, 21)]
    preds = blind_predictions(big + others, folds=5, seed=0)
    assert {preds[i["id"]] for i in big} == {"red"}


def test_gates_check_every_big_enough_group_and_the_overall():
    def group(items: int, leakage: float) -> dict:
        return {
            "items": items,
            "chance": 0.25,
            "answer_prior_accuracy": 0.25 + leakage,
            "option_prior_accuracy": None,
            "leakage": leakage,
        }

    leakage = {
        "by_aspect_form": {
            "number": {"mcq": group(100, 0.06), "yes_no": group(29, 0.5)},
            "size": {"fill_blank": group(100, 0.09), "correction": group(100, 0.11)},
        },
        "overall": group(329, 0.02),
    }
    gates = load_settings()["gates"]
    broken = leakage_breaks(leakage, gates)
    assert [b.split(":")[0] for b in broken["max_mcq_leakage"]] == ["number/mcq"]
    assert [b.split(":")[0] for b in broken["max_open_leakage"]] == ["size/correction"]
    assert broken["max_overall_leakage"] == []
    loose = gates | {"max_mcq_leakage": 0.1, "max_open_leakage": 0.2, "max_overall_leakage": 0.01}
    broken = leakage_breaks(leakage, loose)
    assert not broken["max_mcq_leakage"] and not broken["max_open_leakage"]
    assert broken["max_overall_leakage"][0].startswith("overall: +0.020")


def test_markdown_table_has_a_row_per_group_and_the_overall():
    rng = random.Random(5)
    items = [
        make(n, f"Is the thing{n} {region(rng)} shiny?", YES_NO, "yes", form="yes_no")
        for n in range(50)
    ]
    table = markdown_table(blind_leakage(items, 5, 0))
    lines = table.splitlines()
    assert lines[0].startswith("| aspect | form | items | chance |")
    assert lines[2] == "| color | yes_no | 50 | 50.0 | 100.0 | 100.0 | +50.0 |"
    assert lines[3].startswith("| **overall** |  | 50 |")
