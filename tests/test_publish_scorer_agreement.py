"""One scorer everywhere: the exported lmms-eval `utils.py`, run in a separate process where
the project cannot be imported (loaded from its file as lmms-eval loads it), gives every item
of the real-sample build the same verdict as `msg evaluate`'s judging, for the gold target,
paraphrases of it and wrong answers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipeline.evaluate import judge, load_items
from pipeline.evaluate.extract import false_values
from pipeline.facts.slots import NUMBER_WORDS
from pipeline.publish.export_lmms import export_lmms_eval
from pipeline.publish.prompts import LETTERS, item_target
from pipeline.registry import registry

pytestmark = pytest.mark.slow

# Runs the exported task the way lmms-eval does (`spec_from_file_location`, module not put in
# sys.modules), with `pipeline` made unimportable, from a folder outside the checkout.
RUNNER = textwrap.dedent(
    """
    import importlib.util, json, sys
    sys.modules["pipeline"] = None  # any import of the project now fails
    utils_path, cases_path, verdicts_path = sys.argv[1:4]
    spec = importlib.util.spec_from_file_location("utils", utils_path)
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    cases = json.load(open(cases_path, encoding="utf-8"))
    docs = cases["docs"]
    verdicts = [
        utils.msg_process_results(docs[i], [said])["overall"]["correct"]
        for i, said in cases["predictions"]
    ]
    json.dump(verdicts, open(verdicts_path, "w", encoding="utf-8"))
    """
)


def _number_word(value: str) -> str | None:
    n = int(value) if value.isdigit() else -1
    return NUMBER_WORDS[n] if 0 < n < len(NUMBER_WORDS) else None


def paraphrases(item: dict[str, Any]) -> list[str]:
    """The gold target, ways of saying it, and wrong answers, for one item."""
    said = [item_target(item), str(item["answer"]), "", "I am not sure."]
    form = item["form"]
    counted = registry().grounding(item["aspect"]) == "count"
    if form == "mcq":
        options, right = item["options"], item["answer_index"]
        letter = LETTERS[right]
        wrong = (right + 1) % len(options)
        said += [
            f"The answer is ({letter}).",
            f"{letter}. {options[right]}",
            f"{options[right].capitalize()}.",
            LETTERS[wrong],
            options[wrong],
            f"The answer is {LETTERS[wrong]}.",
            f"A {options[wrong]}.",  # "A bus." with option A "window" is the bus, not A
            f"{letter} or {LETTERS[wrong]}",
        ]
        if counted:
            said += [w for w in (_number_word(options[right]), _number_word(options[wrong])) if w]
    elif form == "yes_no":
        said += ["Yes, it is.", "No, it is not.", "The answer is no.", "The answer is yes.",
                 "yes", "no", "Yes and no."]  # fmt: skip
    else:
        value = item["answer_value"]
        said += [value, f"It is {value}.", *false_values(item), item["question"]]
        if counted and _number_word(value):
            said += [_number_word(value), f"There are {_number_word(value)}."]
    return said


def test_exported_utils_judges_every_real_item_like_msg_evaluate(
    real_build: Path, tmp_path: Path
) -> None:
    items = load_items(real_build)
    assert len(items) > 500  # the whole real build, not a handful
    export_lmms_eval(real_build, tmp_path / "tasks")
    utils_path = tmp_path / "tasks" / "msg_mcq" / "utils.py"
    assert "import pipeline" not in utils_path.read_text(encoding="utf-8")
    assert "from pipeline" not in utils_path.read_text(encoding="utf-8")

    docs = [{k: v for k, v in item.items() if k != "image"} for item in items]
    cases = [(i, p) for i, item in enumerate(items) for p in paraphrases(item)]
    (tmp_path / "cases.json").write_text(json.dumps({"docs": docs, "predictions": cases}))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-c", RUNNER, str(utils_path), str(tmp_path / "cases.json"),
         str(tmp_path / "verdicts.json")],
        cwd=outside, env=env, check=True, timeout=600,
    )  # fmt: skip
    exported = json.loads((tmp_path / "verdicts.json").read_text())
    ours = [judge(items[i], p).correct for i, p in cases]
    assert len(exported) == len(ours) == len(cases)
    differ = [(items[i]["id"], p, e, o) for (i, p), e, o in zip(cases, exported, ours, strict=True)
              if e != o]  # fmt: skip
    assert not differ, differ[:20]

    verdict = dict(zip(((items[i]["id"], p) for i, p in cases), ours, strict=False))
    forms = {item["form"] for item in items}
    assert {"mcq", "yes_no", "fill_blank", "correction"} <= forms
    for item in items:
        key = item["id"]
        # The gold target (as every export writes it) is right: the oracle scores 100%.
        assert verdict[(key, item_target(item))], key
        assert not verdict[(key, "")]
        if item["form"] == "mcq":
            right, wrong = item["answer_index"], (item["answer_index"] + 1) % len(item["options"])
            assert verdict[(key, f"The answer is ({LETTERS[right]}).")], key
            assert verdict[(key, item["options"][right])], key
            assert not verdict[(key, LETTERS[wrong])], key
            # "A bus." names the bus, a wrong option: never read as the letter A.
            assert not verdict[(key, f"A {item['options'][wrong]}.")], key
        elif item["form"] == "yes_no":
            yes = item["answer"] == "yes"
            assert verdict[(key, "Yes, it is.")] is yes, key
            assert verdict[(key, "The answer is no.")] is not yes, key
        elif registry().grounding(item["aspect"]) == "count":
            word = _number_word(item["answer_value"])
            if word:  # "one" for 1
                assert verdict[(key, word)], key


def test_lmms_eval_metrics_equal_msg_evaluate_on_a_circular_build(
    demo_inputs: dict[str, Path], tmp_path: Path
) -> None:
    """Aggregated as lmms-eval does (each metric over the entries items returned for it), the
    task's overall, circular and per-aspect scores are `msg evaluate`'s."""
    from conftest import build_sample
    from test_publish_vlmevalkit_pope import model_answers, msg_score

    out = build_sample(demo_inputs, tmp_path / "out", circular=True)
    items = load_items(out)
    answers = model_answers(items, seed=4)
    ours = msg_score(items, answers)
    export_lmms_eval(out, tmp_path / "tasks")
    spec = importlib.util.spec_from_file_location("utils", tmp_path / "tasks/msg_mcq/utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    assert utils.CIRCULAR
    entries: dict[str, list] = {}
    for item in items:
        for metric, entry in utils.msg_process_results(item, [answers[item["id"]]]).items():
            entries.setdefault(metric, []).append(entry)
    got = {m: round(getattr(utils, f"msg_aggregate_{m}")(e), 6) for m, e in entries.items()}
    assert got.pop("overall") == ours["overall"]["accuracy"]
    assert got.pop("circular") == ours["circular"]["overall"]["accuracy"]
    assert got == {a: s["accuracy"] for a, s in ours["by_aspect"].items()}
