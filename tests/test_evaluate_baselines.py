"""The baselines on a whole sample (the demo, and the real one when present): the annotation
oracle scores 100%, random scores at chance per form (inside the 99% binomial interval), and
the blind baseline never sees the answers of the image it predicts for, backs off from the
question text to its template to (aspect, form), and scores what the audit reports."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from pipeline.audit.leakage import blind_leakage
from pipeline.evaluate.baselines import random_predictions
from pipeline.evaluate.blind import ATTACKS, blind_attacks, blind_predictions
from pipeline.evaluate.score import Predictions, load_items, score


@pytest.fixture(scope="module")
def items(sample_build: Path) -> list[dict]:
    return load_items(sample_build)


def binomial_interval(n: int, p: float, level: float = 0.99) -> tuple[int, int]:
    """The central `level` interval of Binomial(n, p) counts (exact, in log space)."""
    log_pmf = [
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
        for k in range(n + 1)
    ]
    tail = (1 - level) / 2
    cdf, lo, hi = 0.0, None, n
    for k, lp in enumerate(log_pmf):
        cdf += math.exp(lp)
        if lo is None and cdf > tail:
            lo = k
        if cdf >= 1 - tail:
            hi = k
            break
    return lo or 0, hi


def test_binomial_interval_helper():
    assert binomial_interval(100, 0.5) == (37, 63)  # 50 +- 2.576 * 5, rounded outwards


def test_oracle_baseline_scores_100_percent(sample_build, items, tmp_path, cli):
    preds = tmp_path / "oracle.jsonl"
    code, out, err = cli("baseline", sample_build, "--kind", "oracle", "--out", preds)
    assert code == 0, err
    assert sum(1 for _ in preds.open()) == len(items)
    report = tmp_path / "oracle.json"
    code, out, err = cli("evaluate", sample_build, "--predictions", preds, "--json", report)
    assert code == 0, err
    result = json.loads(report.read_text())
    assert result["overall"]["n"] == len(items)
    assert result["overall"]["correct"] == len(items), {
        k: v["accuracy"] for k, v in result["by_aspect_form"].items() if v["accuracy"] != 1.0
    }
    assert set(result["by_form"]) == {"mcq", "yes_no", "fill_blank", "correction"}
    assert result["yes_no"]["overall"]["f1"] == 1.0


def test_random_baseline_is_at_chance_per_form(sample_build, items, tmp_path, cli):
    preds = tmp_path / "random.jsonl"
    code, _, err = cli("baseline", sample_build, "--kind", "random", "--out", preds, "--seed", 3)
    assert code == 0, err
    answers = {r["id"]: r["prediction"] for r in map(json.loads, preds.open())}
    result = score(items, Predictions(preds, answers=answers))
    for form, chance in (("mcq", 0.25), ("yes_no", 0.5)):
        m = result["by_form"][form]
        assert m["unparsed"] == 0
        lo, hi = binomial_interval(m["n"], chance)
        assert lo <= m["correct"] <= hi, f"{form}: {m['correct']}/{m['n']} outside [{lo}, {hi}]"
    for form in ("fill_blank", "correction"):  # one value of many: far below mcq chance
        assert result["by_form"][form]["accuracy"] < 0.25
    assert random_predictions(items, 3) == answers
    assert random_predictions(items, 4) != answers


def test_blind_predicts_every_item_from_its_options(items):
    preds = blind_predictions(items)
    assert set(preds) == {i["id"] for i in items}
    for i in items:
        if i["form"] in ("mcq", "yes_no"):
            assert preds[i["id"]] in i["options"]
    assert blind_predictions(list(reversed(items))) == preds  # order does not matter


def test_blind_never_sees_the_answers_of_the_image_it_predicts(items):
    """Each attack's prediction is unchanged when its own image's answers change."""
    preds = blind_attacks(items, folds=5, seed=0)
    scene = next(i["scene_id"] for i in items if i["form"] == "mcq")
    changed = []
    for i in items:
        if i["scene_id"] == scene and i["form"] in ("mcq", "yes_no"):
            other = next(o for o in i["options"] if o != i["answer"])
            i = dict(i, answer=other)
        elif i["scene_id"] == scene:
            i = dict(i, answer_value="zzz")
        changed.append(i)
    again = blind_attacks(changed, folds=5, seed=0)
    ids = [i["id"] for i in items if i["scene_id"] == scene]
    assert ids
    for name in ATTACKS:
        assert all(again[name][k] == preds[name][k] for k in ids), name


def test_blind_predictions_score_what_the_audit_reports(items, tmp_path, cli, sample_build):
    preds = tmp_path / "blind.jsonl"
    code, _, err = cli("baseline", sample_build, "--kind", "blind", "--out", preds)
    assert code == 0, err
    answers = {r["id"]: r["prediction"] for r in map(json.loads, preds.open())}
    assert answers == blind_predictions(items)
    result = score(items, Predictions(preds, answers=answers))
    leakage = blind_leakage(items, folds=5, seed=0)
    for aspect, forms in leakage["by_aspect_form"].items():
        for form, summary in forms.items():
            got = result["by_aspect_form"][f"{aspect}/{form}"]["accuracy"]
            assert got == pytest.approx(summary["blind_accuracy"], abs=1e-4), (aspect, form)


def test_blind_learns_a_prior_and_backs_off():
    """The same question text, then its template (object names as "_"), then (aspect, form)."""
    rng = random.Random(1)
    options = ["blue", "red", "green", "white"]

    def make(n: int, question: str, answer: str) -> dict:
        shuffled = options[:]
        rng.shuffle(shuffled)
        return {
            "id": f"mcq-{n:016x}",
            "scene_id": f"vg/{n}",
            "aspect": "color",
            "form": "mcq",
            "question": question,
            "options": shuffled,
            "answer": answer,
            "answer_value": answer,
        }

    sky = [make(n, "What color is the sky?", "blue") for n in range(40)]
    # Many objects, each seen once, all white: the template "what color is the _" says white.
    things = [make(50 + n, f"What color is the thing{n}?", "white") for n in range(20)]
    # An unseen question of a seen template; a question of an unseen template.
    bus = [make(100, "What color is the bus?", "red")]
    other = [make(200, "Which colour best fits the car?", "red")]
    preds = blind_predictions(sky + things + bus + other, folds=5)
    assert all(preds[i["id"]] == "blue" for i in sky)
    assert preds[bus[0]["id"]] == "white"
    assert preds[other[0]["id"]] == "blue"  # the (aspect, form) group: blue is most frequent
    with pytest.raises(ValueError):
        blind_predictions(sky, folds=1)
