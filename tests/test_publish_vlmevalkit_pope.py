"""VLMEvalKit and POPE read the exports of real builds as their own code reads them, and their
scores equal `msg evaluate`'s for the same answers.

The consumers' logic is replicated here, not imported (neither is a dependency):
- VLMEvalKit (open-compass/VLMEvalKit @ e8e78f05): `mcq_circular_eval` in
  vlmeval/dataset/utils/multiple_choice.py (groups by `g_index`, defaulting to
  `index % 1e6`; a group is a hit when every row's prediction is its answer; scored over the
  rows whose index is their g_index), `report_acc` there (mean hit overall and per category);
  `YOrN_Extraction` and `POPE_rating` in vlmeval/dataset/utils/yorn.py for the Y/N dataset;
  `build_dataset` in vlmeval/dataset/__init__.py and `evaluate_heuristic` in
  vlmeval/dataset/image_mcq.py (CircularEval when the dataset name holds "circular").
- POPE (RUCAIBox/POPE @ 3df3ba1b): evaluate.py reads one JSON object a line from the label
  file (`json.loads(q)['label']`) and the answer file, keeps an answer's first sentence and
  reads "no" when it holds the word "No", "not" or "no".
"""

from __future__ import annotations

import json
import re
import string
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.evaluate import load_items
from pipeline.evaluate.score import Predictions, score
from pipeline.hashing import seeded_rng
from pipeline.publish.export_pope import SETTINGS
from pipeline.publish.export_vlmevalkit import CIRCULAR_TSV_FILE, TSV_FILE, YN_TSV_FILE
from pipeline.publish.prompts import LETTERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def circular_build(sample_inputs: dict[str, Path], tmp_path_factory) -> Path:
    """The sample built with rotations (`msg build --circular`)."""
    from conftest import build_sample

    return build_sample(sample_inputs, tmp_path_factory.mktemp("circ") / "out", circular=True)


def model_answers(items: list[dict[str, Any]], seed: int) -> dict[str, str]:
    """A model right about 70% of the time: letters for mcq, "Yes, ..."/"No, ..." for
    yes/no, the answer value or a wrong one for open forms."""
    out = {}
    for item in items:
        rng = seeded_rng(seed, "test-model", item["id"])
        right = rng.random() < 0.7
        if item["form"] == "mcq":
            k = item["answer_index"] if right else (item["answer_index"] + 1) % 4
            out[item["id"]] = LETTERS[k]
        elif item["form"] == "yes_no":
            said = item["answer"] if right else {"yes": "no", "no": "yes"}[item["answer"]]
            out[item["id"]] = "Yes, there is." if said == "yes" else "No, there is not."
        else:
            out[item["id"]] = item["answer_value"] if right else "nothing"
    return out


def msg_score(items: list[dict[str, Any]], answers: dict[str, str]) -> dict[str, Any]:
    return score(items, Predictions(Path("answers.jsonl"), dict(answers), lines=len(answers)))


def export(out: Path, fmt: str, dest: Path) -> str:
    """The export as a user runs it. The sample builds embed no images, and VLMEvalKit needs
    a path that exists on every row: stand-in files for the items' images are given."""
    extra = []
    if fmt == "vlmevalkit":
        folder = dest.parent / f"{dest.name}-images"
        folder.mkdir(parents=True, exist_ok=True)
        for item in load_items(out):
            (folder / item["file_name"]).touch()
        extra = ["--images-dir", str(folder)]
    assert main(["export", str(out), "--format", fmt, "--dest", str(dest), *extra]) == 0
    return str(dest)


# --- VLMEvalKit --------------------------------------------------------------------------------


def vlmevalkit_circular(data: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """`mcq_circular_eval` under exact matching (predictions are letters, which `can_infer`
    returns as they are), then `report_acc`."""
    data = data.copy()
    data["index"] = [int(x) for x in data["index"]]
    answer_map = dict(zip(data["index"], data["answer"], strict=True))
    if "g_index" not in data:
        data["g_index"] = [int(x % 1e6) for x in data["index"]]
    data["GT"] = [answer_map[i] for i in data["index"]]
    main_rows = data[[x == y for x, y in zip(data["index"], data["g_index"], strict=True)]]
    hit = {}
    for idx in main_rows["index"]:
        sub = data[data["g_index"] == idx]
        hit[idx] = int(all(g == p for g, p in zip(sub["GT"], sub["prediction"], strict=True)))
    main_rows = main_rows.assign(hit=[hit[i] for i in main_rows["index"]])
    overall = float(np.mean(main_rows["hit"]))
    by_category = {c: float(np.mean(g["hit"])) for c, g in main_rows.groupby("category")}
    return overall, by_category


def test_circular_score_equals_msg_evaluate(circular_build: Path, tmp_path: Path) -> None:
    items = load_items(circular_build)
    answers = model_answers(items, seed=1)
    ours = msg_score(items, answers)["circular"]
    assert ours is not None and ours["overall"]["groups"] > 0

    export(circular_build, "vlmevalkit", tmp_path)
    data = pd.read_csv(tmp_path / CIRCULAR_TSV_FILE, sep="\t")
    assert "circular" in CIRCULAR_TSV_FILE.lower()  # VLMEvalKit's switch to CircularEval
    assert set(data["l2-category"]) == {"mcq"}
    assert len(data) == sum(i["form"] == "mcq" for i in items)
    data["prediction"] = [answers[i] for i in data["msg_id"]]
    overall, by_category = vlmevalkit_circular(data)
    assert round(overall, 6) == ours["overall"]["accuracy"]
    assert {c: round(v, 6) for c, v in by_category.items()} == {
        a: s["accuracy"] for a, s in ours["by_aspect"].items()
    }
    # MMBench's numbering alone (no g_index column) groups the rotations the same way.
    assert vlmevalkit_circular(data.drop(columns=["g_index"]))[0] == overall
    # Each copy on its own (the old export) would score the plain accuracy instead.
    alone = data.assign(g_index=data["index"])
    assert vlmevalkit_circular(alone)[0] != overall


def yorn_extraction(output: str) -> str:
    """VLMEvalKit's `YOrN_Extraction` (process_punctuation approximated by dropping
    punctuation, which is all it does to these answers)."""
    words = re.sub(rf"[{re.escape(string.punctuation)}]", " ", output.lower()).split()
    if "yes" in words and "no" not in words:
        return "Yes"
    if "yes" not in words and "no" in words:
        return "No"
    return "Unknown"


def pope_rating(sub: pd.DataFrame) -> dict[str, float]:
    """VLMEvalKit's `POPE_rating` for one category (acc, precision, recall, F1; 0 when
    undefined)."""
    y_true = np.array([1 if i == "Yes" else 0 for i in sub["answer"]])
    y_pred = np.array([1 if i == "Yes" else 0 for i in sub["extracted"]])
    tp = int(sum((y_true == 1) & (y_pred == 1)))
    fp = int(sum((y_true == 0) & (y_pred == 1)))
    fn = int(sum((y_true == 1) & (y_pred == 0)))
    precision = tp / (tp + fp) if tp + fp else 0
    recall = tp / (tp + fn) if tp + fn else 0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0
    return {"acc": float(np.mean(sub["score"])), "precision": precision, "recall": recall,
            "f1": f1}  # fmt: skip


def test_yes_no_dataset_and_pope_settings(sample_build: Path, tmp_path: Path) -> None:
    items = load_items(sample_build)
    by_id = {i["id"]: i for i in items}
    answers = model_answers(items, seed=2)
    ours = msg_score(items, answers)["yes_no"]["by_aspect"]

    export(sample_build, "vlmevalkit", tmp_path)
    yn = pd.read_csv(tmp_path / YN_TSV_FILE, sep="\t", keep_default_na=False)
    yes_no = [i for i in items if i["form"] == "yes_no"]
    assert list(yn["msg_id"]) == [i["id"] for i in yes_no]
    assert set(yn["answer"]) <= {"Yes", "No"}
    for _, line in yn.iterrows():
        item = by_id[line["msg_id"]]
        assert (line["answer"].lower(), line["category"]) == (item["answer"], item["aspect"])
        assert line["pope_setting"] == (item["pope_setting"] or "")
    yn["extracted"] = [yorn_extraction(answers[i]) for i in yn["msg_id"]]
    yn["score"] = yn["answer"] == yn["extracted"]
    for aspect, sub in yn.groupby("category"):
        theirs = pope_rating(sub)
        mine = ours[aspect]
        assert round(theirs["acc"], 6) == mine["accuracy"], aspect
        for key in ("precision", "recall", "f1"):
            # msg evaluate reports 6 decimals (its F1 from the rounded precision and recall)
            assert theirs[key] == pytest.approx(mine[key] or 0, abs=1e-5), (aspect, key)

    # The MCQ dataset keeps yes/no items (two options) with their POPE setting.
    mcq = pd.read_csv(tmp_path / TSV_FILE, sep="\t", keep_default_na=False)
    rows = mcq[mcq["l2-category"] == "yes_no"]
    assert list(rows["msg_id"]) == [i["id"] for i in yes_no]
    assert list(rows["pope_setting"]) == [i["pope_setting"] or "" for i in yes_no]
    assert any(i["pope_setting"] for i in yes_no)  # the samples have POPE items


def test_vlmevalkit_summary_accounts_for_every_item(
    circular_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = load_items(circular_build)
    export(circular_build, "vlmevalkit", tmp_path)
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "msg_vlmevalkit_summary.json").read_text())
    exported = set()
    for name, entry in summary["files"].items():
        data = pd.read_csv(tmp_path / name, sep="\t")
        assert len(data) == entry["rows"]
        exported |= set(data["msg_id"])
    gone = summary["not_exported"]
    open_forms = [i for i in items if i["form"] not in ("mcq", "yes_no")]
    assert gone["by_reason"]["open_form"] == {
        f: sum(i["form"] == f for i in open_forms) for f in sorted({i["form"] for i in open_forms})
    }
    assert len(exported) + gone["total"] == len(items)  # nothing dropped silently
    assert f"items in no file: {gone['total']}" in printed


# --- POPE ----------------------------------------------------------------------------------------


def pope_evaluate(label_file: Path, answers: list[str]) -> dict[str, float]:
    """POPE's evaluate.py on an answer list, its reading of both files kept as written."""
    label_list = [json.loads(q)["label"] for q in open(label_file)]  # noqa: SIM115
    parsed = []
    for text in answers:
        if text.find(".") != -1:  # only the first sentence
            text = text.split(".")[0]
        words = text.replace(",", "").split(" ")
        parsed.append("no" if "No" in words or "not" in words or "no" in words else "yes")
    labels = [0 if label == "no" else 1 for label in label_list]
    preds = [0 if a == "no" else 1 for a in parsed]
    tp = sum(p == 1 and t == 1 for p, t in zip(preds, labels, strict=True))
    fp = sum(p == 1 and t == 0 for p, t in zip(preds, labels, strict=True))
    tn = sum(p == 0 and t == 0 for p, t in zip(preds, labels, strict=True))
    fn = sum(p == 0 and t == 1 for p, t in zip(preds, labels, strict=True))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "yes_ratio": preds.count(1) / len(preds),
    }


def test_pope_files_read_by_pope_evaluate(sample_build: Path, tmp_path: Path) -> None:
    items = load_items(sample_build)
    by_id = {i["id"]: i for i in items}
    answers = model_answers(items, seed=3)
    ours = msg_score(items, answers)["yes_no"]["by_pope_setting"]
    export(sample_build, "pope", tmp_path)
    summary = json.loads((tmp_path / "msg_pope_summary.json").read_text())
    pope_items = [i for i in items if i["form"] == "yes_no" and i["pope_setting"]]
    assert sum(s["questions"] for s in summary["settings"].values()) == len(pope_items) > 0
    assert summary["not_pope"]["total"] == len(items) - len(pope_items)
    for setting in SETTINGS:
        path = tmp_path / f"msg_pope_{setting}.json"
        lines = [json.loads(q) for q in path.read_text(encoding="utf-8").splitlines()]
        ids = summary["settings"][setting]["msg_ids"]
        assert [i["id"] for i in pope_items if i["pope_setting"] == setting] == ids
        assert [x["question_id"] for x in lines] == list(range(1, len(lines) + 1))
        labels = defaultdict(int)
        for line, msg_id in zip(lines, ids, strict=True):
            assert list(line) == ["question_id", "image", "text", "label"]
            item = by_id[msg_id]
            assert (line["image"], line["text"], line["label"]) == (
                item["file_name"], item["question"], item["answer"]
            )  # fmt: skip
            labels[line["label"]] += 1
        assert labels["yes"] == labels["no"]  # POPE's balance, per setting
        if not lines:
            continue
        theirs = pope_evaluate(path, [answers[i] for i in ids])
        mine = ours[setting]
        for key, value in theirs.items():
            assert value == pytest.approx(mine[key], abs=1e-5), (setting, key)
