"""`msg evaluate` on a tiny `--circular` build of the embedded demo sample, with crafted
predictions whose scores are known: every answer style, CircularEval, POPE metrics, the
misgrounding breakdown, and the reporting of unknown, duplicate and missing ids."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.evaluate.score import Predictions, load_items, score
from pipeline.facts.slots import NUMBER_WORDS

LETTERS = "ABCD"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from pipeline.build import run_build
    from pipeline.config import BuildOptions
    from pipeline.progress import Progress

    out = tmp_path_factory.mktemp("evaluate_demo") / "out"
    # Every item the generators make (no balancing): these tests need the variety of
    # aspects and distractor sources that balancing leaves few of in the small demo.
    options = BuildOptions(out=out, circular=True, tuning_fraction=0.0, prior_balance=False)
    run_build(options, Progress(quiet=True))
    return out


@pytest.fixture(scope="module")
def items(demo: Path) -> list[dict]:
    return load_items(demo)


def right(items: list[dict]) -> dict[str, str]:
    """A perfect predictions file: each item's own answer (a full sentence for corrections)."""
    return {i["id"]: i["answer"] for i in items}


def scored(items: list[dict], answers: dict[str, str]) -> dict:
    return score(items, Predictions(Path("crafted.jsonl"), answers=answers))


def pick(items: list[dict], n: int, **where) -> list[dict]:
    found = [i for i in items if all(i[k] == v for k, v in where.items())]
    assert len(found) >= n, f"demo build lacks {n} items with {where}"
    return found[:n]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_perfect_predictions_score_everything(items):
    result = scored(items, right(items))
    assert result["overall"]["accuracy"] == 1.0
    assert result["circular"]["overall"]["accuracy"] == 1.0
    assert result["misgrounding"]["overall"]["wrong"] == 0


def test_handwritten_file_with_every_answer_style(demo, items, tmp_path, cli):
    mcq = [i for i in items if i["form"] == "mcq"]
    lines: list[dict] = []
    expect_right: list[str] = []

    def add(it: dict, prediction, correct: bool) -> None:
        lines.append({"id": it["id"], "prediction": prediction})
        if correct:
            expect_right.append(it["id"])

    styles = [
        lambda i: LETTERS[i["answer_index"]],
        lambda i: f"({LETTERS[i['answer_index']].lower()})",
        lambda i: f"Answer: {LETTERS[i['answer_index']]}",
        lambda i: f"{LETTERS[i['answer_index']]}. {i['answer']}",
        lambda i: i["answer"],
        lambda i: f"I think it is {i['answer']}.",
    ]
    non_number = [i for i in mcq if i["aspect"] not in ("number", "spatial")]
    for it, style in zip(non_number, styles, strict=False):
        add(it, style(it), True)
    wrong_letter = non_number[len(styles)]
    add(wrong_letter, LETTERS[(wrong_letter["answer_index"] + 1) % 4], False)
    gibberish = non_number[len(styles) + 1]
    add(gibberish, "I am not sure about this one", False)
    count = next(i for i in mcq if i["aspect"] == "number" and i["answer_value"] not in "01")
    add(count, f"There are {NUMBER_WORDS[int(count['answer_value'])]}.", True)
    spatial = next(i for i in mcq if i["aspect"] == "spatial")
    add(spatial, spatial["answer"].replace("to the ", "").replace(" of", ""), True)

    yes = pick(items, 2, form="yes_no", answer="yes")
    no = pick(items, 1, form="yes_no", answer="no")
    add(yes[0], "Yes, it is.", True)
    add(yes[1], "no", False)
    add(no[0], "No.", True)
    fill = pick(items, 2, form="fill_blank")
    add(fill[0], f"It is {fill[0]['answer_value']}.", True)
    add(fill[1], "something else entirely", False)
    corr = pick(items, 2, form="correction")
    add(corr[0], corr[0]["answer"], True)
    false_statement = re.search(r'"(.+)"', corr[1]["question"]).group(1)
    add(corr[1], false_statement, False)  # repeating the false statement is no correction
    # An unknown id, and a duplicate line whose second (wrong) answer is ignored.
    lines.append({"id": "mcq-ffffffffffffffff", "prediction": "A"})
    lines.append({"id": yes[0]["id"], "prediction": "no"})

    preds = write_jsonl(tmp_path / "preds.jsonl", lines)
    report_path = tmp_path / "report.json"
    code, out, err = cli("evaluate", demo, "--predictions", preds, "--json", report_path)
    assert code == 0, err
    result = json.loads(report_path.read_text())
    p = result["predictions"]
    answered = len({line["id"] for line in lines}) - 1
    assert p["answered"] == answered
    assert p["missing"] == len(items) - answered
    assert p["unknown_ids"] == ["mcq-ffffffffffffffff"]
    assert p["duplicate_ids"] == [yes[0]["id"]]
    assert result["overall"]["n"] == len(items)
    assert result["overall"]["correct"] == len(expect_right)
    assert result["overall"]["unparsed"] == 1
    assert result["by_form"]["mcq"]["correct"] == len(styles) + 2
    assert result["by_form"]["yes_no"]["correct"] == 2
    assert result["by_form"]["fill_blank"]["correct"] == 1
    assert result["by_form"]["correction"]["correct"] == 1
    assert "unknown ids 1" in out and "duplicate lines 1" in out
    assert "mcq-ffffffffffffffff" in out
    assert re.search(rf"^overall\s+{len(items)}\s+{len(expect_right)}\s", out, re.M)


def test_circular_eval_counts_a_group_only_if_every_rotation_is_right(items):
    groups: dict[str, list[dict]] = defaultdict(list)
    for i in items:
        if i["form"] == "mcq":
            groups[i["group_id"]].append(i)
    assert groups and all(len(g) == 4 for g in groups.values())
    color = sorted(g for g, members in groups.items() if members[0]["aspect"] == "color")
    answers = right(items)
    one_wrong = sorted(groups[color[0]], key=lambda i: i["rotation"])[1]
    answers[one_wrong["id"]] = next(o for o in one_wrong["options"] if o != one_wrong["answer"])
    one_missing = sorted(groups[color[1]], key=lambda i: i["rotation"])[3]
    del answers[one_missing["id"]]
    result = scored(items, answers)
    circ = result["circular"]
    assert circ["overall"] == {
        "groups": len(groups),
        "correct": len(groups) - 2,
        "accuracy": round((len(groups) - 2) / len(groups), 6),
        "ci95": circ["overall"]["ci95"],
    }
    assert circ["by_aspect"]["color"]["groups"] == len(color)
    assert circ["by_aspect"]["color"]["correct"] == len(color) - 2
    assert circ["by_aspect"]["entity"]["correct"] == circ["by_aspect"]["entity"]["groups"]
    # The plain accuracy loses only the two items, not eight.
    assert result["by_form"]["mcq"]["correct"] == sum(map(len, groups.values())) - 2


def test_no_circular_block_without_rotations(items):
    plain = [dict(i, id=i["group_id"]) for i in items if i["rotation"] == 0]
    assert scored(plain, right(plain))["circular"] is None


def test_pope_metrics_per_setting(items):
    existence = [i for i in items if i["aspect"] == "existence"]
    by_setting: dict[str, list[dict]] = defaultdict(list)
    for i in existence:
        by_setting[i["pope_setting"]].append(i)
    assert set(by_setting) == {"random", "popular", "adversarial"}
    answers = right(items)
    for i in by_setting["random"]:
        answers[i["id"]] = "Yes"  # always yes
    for i in by_setting["adversarial"]:
        answers[i["id"]] = "No, there is not."  # always no
    unsure = next(i for i in by_setting["popular"] if i["answer"] == "yes")
    answers[unsure["id"]] = "maybe"  # unparsed: wrong, and a missed yes
    pope = scored(items, answers)["yes_no"]["by_pope_setting"]

    def yes_count(setting: str) -> int:
        return sum(i["answer"] == "yes" for i in by_setting[setting])

    n, y = len(by_setting["random"]), yes_count("random")
    assert pope["random"]["accuracy"] == round(y / n, 6)
    assert pope["random"]["precision"] == round(y / n, 6)
    assert pope["random"]["recall"] == 1.0
    assert pope["random"]["f1"] == round(2 * (y / n) / (y / n + 1), 6)
    assert pope["random"]["yes_ratio"] == 1.0

    n, y = len(by_setting["popular"]), yes_count("popular")
    assert pope["popular"]["accuracy"] == round((n - 1) / n, 6)
    assert pope["popular"]["unparsed"] == 1
    assert pope["popular"]["precision"] == 1.0
    assert pope["popular"]["recall"] == round((y - 1) / y, 6)
    assert pope["popular"]["yes_ratio"] == round((y - 1) / n, 6)

    n, y = len(by_setting["adversarial"]), yes_count("adversarial")
    assert pope["adversarial"]["accuracy"] == round((n - y) / n, 6)
    assert pope["adversarial"]["precision"] is None  # never said yes
    assert pope["adversarial"]["recall"] == 0.0
    assert pope["adversarial"]["f1"] is None
    assert pope["adversarial"]["yes_ratio"] == 0.0


def test_misgrounding_breakdown(items):
    mcq = [i for i in items if i["form"] == "mcq" and i["rotation"] == 0]

    def with_source(source: str, n: int) -> list[dict]:
        found = [i for i in mcq if any(d["source"] == source for d in i["distractor_sources"])]
        assert len(found) >= n, f"demo build has no {n} mcq items with a {source} distractor"
        return found[:n]

    def option_of(item: dict, source: str) -> str:
        return next(d["option"] for d in item["distractor_sources"] if d["source"] == source)

    answers = right(items)
    # Class-prior distractors are rare (balancing may leave none in the demo): one is made
    # by relabelling a real item's distractor.
    prior = with_source("absent", 2)[1]
    prior = dict(
        prior,
        id="mcq-dddddddddddddddd",
        group_id="mcq-dddddddddddddddd",
        distractor_sources=[
            dict(d, source="class_prior") if d["source"] == "absent" else d
            for d in prior["distractor_sources"]
        ],
    )
    chosen = {
        "other_object_value": with_source("other_object_value", 2),
        "class_prior": [prior],
        "absent": with_source("absent", 1),
        "other_number": with_source("other_number", 1),
    }
    for source, its in chosen.items():
        for it in its:
            answers[it["id"]] = option_of(it, source)
    used = {it["id"] for its in chosen.values() for it in its}
    rest = [i for i in mcq if i["id"] not in used]
    answers[rest[0]["id"]] = "no idea"
    del answers[rest[1]["id"]]
    # A confusable pick: an item whose distractor "silver" sits next to the answer "gray"
    # (the generators never make one, so it is crafted from a real item).
    base = chosen["other_object_value"][0]
    crafted = dict(
        base,
        id="mcq-eeeeeeeeeeeeeeee",
        group_id="mcq-eeeeeeeeeeeeeeee",
        aspect="color",
        options=["gray", "silver", "red", "blue"],
        answer="gray",
        answer_index=0,
        answer_value="gray",
        distractor_sources=[
            {"option": "silver", "source": "other_object_value", "object_ids": []},
            {"option": "red", "source": "class_prior", "object_ids": []},
            {"option": "blue", "source": "aspect_value", "object_ids": []},
        ],
    )
    answers[crafted["id"]] = "B"
    result = scored([*items, prior, crafted], answers)
    mg = result["misgrounding"]["overall"]
    assert mg == {
        "wrong": 8,
        "wrong_object": 2,
        "prior": 1,
        "confusable": 1,
        "unrelated": 2,
        "unparsed": 1,
        "missing": 1,
    }
    prior_aspect = chosen["class_prior"][0]["aspect"]
    assert result["misgrounding"]["by_aspect"][prior_aspect]["prior"] == 1
    assert result["misgrounding"]["by_aspect"]["color"]["confusable"] == 1
    assert result["by_form"]["mcq"]["n"] - result["by_form"]["mcq"]["correct"] == 8


def test_compare_two_files_side_by_side(demo, items, tmp_path, cli):
    perfect = write_jsonl(
        tmp_path / "perfect.jsonl", [{"id": k, "prediction": v} for k, v in right(items).items()]
    )
    half = write_jsonl(
        tmp_path / "half.jsonl",
        [{"id": i["id"], "prediction": i["answer"]} for i in items if i["aspect"] != "color"],
    )
    report_path = tmp_path / "both.json"
    code, out, err = cli(
        "evaluate", demo, "--predictions", perfect, "--compare", half, "--json", report_path
    )
    assert code == 0, err
    both = json.loads(report_path.read_text())
    assert both["a"]["by_aspect"]["color"]["accuracy"] == 1.0
    assert both["b"]["by_aspect"]["color"]["accuracy"] == 0.0
    assert re.search(r"^color\s+\d+\s+100\.0%\s+0\.0%\s+-100\.0", out, re.M)
    assert re.search(r"^entity\s+\d+\s+100\.0%\s+100\.0%\s+\+0\.0", out, re.M)


@pytest.mark.parametrize(
    "content, problem",
    [
        ('{"id": "x", "prediction": "A"}\nnot json\n', "line 2"),
        ('{"id": "x"}\n', "line 1"),
    ],
)
def test_malformed_predictions_file_is_one_error_line(demo, tmp_path, cli, content, problem):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    code, _, err = cli("evaluate", demo, "--predictions", bad)
    assert code == 2
    assert problem in err and str(bad) in err
    assert len(err.strip().splitlines()) == 1


def test_missing_inputs_are_one_error_line(demo, tmp_path, cli):
    code, _, err = cli("evaluate", demo, "--predictions", tmp_path / "none.jsonl")
    assert code == 2 and "predictions file not found" in err
    code, _, err = cli("evaluate", tmp_path, "--predictions", tmp_path / "none.jsonl")
    assert code == 2 and "no MSG-MCQ Parquet shards" in err
