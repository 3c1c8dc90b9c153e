"""Exports read back the way their consumers read them: LLaVA's JSON, lmms-eval's task YAML
(with its `!function` tag) and utils.py on real rows, VLMEvalKit's TSV with pandas."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import datasets
import pandas as pd
import pytest
import yaml
from PIL import Image
from test_publish_support import build_folder, conv_row, mcq_row, offline_hf, write_image

from pipeline.cli import main

MCQ_ROWS = [mcq_row(i) for i in range(48)]
CONV_ROWS = [conv_row(i) for i in range(6)]
IMAGE_IDS = (1000, 1001, 1002, 1003, 1004, 2000, 2001, 2002)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    for k, image_id in enumerate(IMAGE_IDS):
        write_image(folder, f"{image_id:012d}.jpg", (64, 48), seed=k)
    return folder


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plain") / "out"
    build_folder(out, MCQ_ROWS, CONV_ROWS)
    return out


@pytest.fixture(scope="module")
def with_images(tmp_path_factory: pytest.TempPathFactory, images: Path) -> Path:
    out = tmp_path_factory.mktemp("imgs") / "out"
    build_folder(out, MCQ_ROWS, CONV_ROWS, images_dir=images)
    return out


def export(out: Path, fmt: str, dest: Path, *extra: str) -> None:
    assert main(["export", str(out), "--format", fmt, "--dest", str(dest), *extra]) == 0


# --- LLaVA -----------------------------------------------------------------------------------


def test_llava_conv_round_trip(plain: Path, tmp_path: Path) -> None:
    export(plain, "llava", tmp_path, "--image-prefix", "msg/")
    samples = json.loads((tmp_path / "msg_llava.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in samples] == [r["id"] for r in CONV_ROWS]
    for sample, row in zip(samples, CONV_ROWS, strict=True):
        assert list(sample) == ["id", "image", "conversations"]
        assert sample["image"] == f"msg/{row['image_source']}/{row['file_name']}"
        assert sample["conversations"] == row["conversations"]
        assert sample["conversations"][0]["value"].startswith("<image>\n")
    # A description (issue 22) is a two-turn LLaVA sample whose answer is its paragraph.
    described = [r for r in CONV_ROWS if r["kind"] == "description"]
    assert described
    by_id = {s["id"]: s for s in samples}
    for row in described:
        assert by_id[row["id"]]["conversations"][1]["value"] == " ".join(row["sentences"])


def test_llava_with_mcq_and_embedded_images(with_images: Path, tmp_path: Path) -> None:
    export(with_images, "llava", tmp_path, "--include-mcq")
    samples = json.loads((tmp_path / "msg_llava.json").read_text(encoding="utf-8"))
    assert len(samples) == len(CONV_ROWS) + len(MCQ_ROWS)
    by_id = {s["id"]: s for s in samples}
    for row in MCQ_ROWS:
        turns = by_id[row["id"]]["conversations"]
        assert [t["from"] for t in turns] == ["human", "gpt"]
        assert turns[0]["value"].startswith("<image>\n" + row["question"])
        expected = "ABCD"[row["answer_index"]] if row["form"] == "mcq" else row["answer"]
        assert turns[1]["value"] == expected
    for sample in samples:  # LLaVA opens image_folder / image
        with Image.open(tmp_path / "images" / sample["image"]) as img:
            assert img.size == (64, 48)


# --- lmms-eval -------------------------------------------------------------------------------


def load_task(folder: Path) -> tuple[dict, ModuleType]:
    """As lmms-eval does: YAML with a `!function utils.name` tag resolved in the task folder."""
    spec = importlib.util.spec_from_file_location("msg_task_utils", folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)

    class Loader(yaml.SafeLoader):
        pass

    def function(loader: yaml.SafeLoader, node: yaml.Node):
        module, name = loader.construct_scalar(node).split(".")
        assert module == "utils"
        return getattr(utils, name)

    Loader.add_constructor("!function", function)
    text = (folder / "msg_mcq.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=Loader), utils


@pytest.mark.parametrize("embedded", [False, True])
def test_lmms_eval_task_on_real_rows(
    plain: Path, with_images: Path, images: Path, embedded: bool, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    offline_hf(monkeypatch, tmp_path / "hf")
    monkeypatch.delenv("MSG_IMAGES_DIR", raising=False)
    out = with_images if embedded else plain
    extra = () if embedded else ("--images-dir", str(images))
    export(out, "lmms-eval", tmp_path / "tasks", *extra)
    config, utils = load_task(tmp_path / "tasks" / "msg_mcq")
    assert config["task"] == "msg_mcq" and config["output_type"] == "generate_until"
    assert config["dataset_path"] == str(out.resolve()) and config["dataset_name"] == "mcq"
    ds = datasets.load_dataset(
        config["dataset_path"], config["dataset_name"], split=config["test_split"],
        cache_dir=str(tmp_path / "c"),
    )  # fmt: skip
    aspects = sorted({r["aspect"] for r in MCQ_ROWS})
    metrics = [m["metric"] for m in config["metric_list"]]
    assert metrics == ["overall", *aspects]  # no rotations in these rows: no circular metric

    kwargs = config["lmms_eval_specific_kwargs"]["default"]
    perfect, always_a = [], []
    for doc in ds:
        [visual] = config["doc_to_visual"](doc)
        assert visual.mode == "RGB" and visual.size == (doc["width"], doc["height"])
        text = config["doc_to_text"](doc, kwargs)
        assert doc["question"] in text
        target = config["doc_to_target"](doc)
        if doc["form"] == "mcq":
            assert [f"{'ABCD'[i]}. {o}" in text for i, o in enumerate(doc["options"])] == [True] * 4
            assert config["doc_to_choice"](doc) == doc["options"]
            assert doc["options"]["ABCD".index(target)] == doc["answer"]
        result = config["process_results"](doc, [target])
        assert set(result) == {"overall", doc["aspect"]}  # only the metrics it counts in
        perfect.append(result)
        always_a.append(config["process_results"](doc, ["A"]))
    for m in config["metric_list"]:
        entries = [r[m["metric"]] for r in perfect if m["metric"] in r]
        assert entries and m["aggregation"](entries) == 1.0
    # Answering "A" is right exactly for mcq items whose answer is the first option.
    agg = {m["metric"]: m["aggregation"] for m in config["metric_list"]}
    got = agg["overall"]([r["overall"] for r in always_a])
    assert got == sum(r["form"] == "mcq" and r["answer_index"] == 0 for r in MCQ_ROWS) / len(
        MCQ_ROWS
    )
    color = [r for r in MCQ_ROWS if r["aspect"] == "color"]
    expected = sum(r["form"] == "mcq" and r["answer_index"] == 0 for r in color) / len(color)
    assert agg["color"]([r["color"] for r in always_a if "color" in r]) == expected


def test_lmms_eval_hub_id_and_prompt_parsing(plain: Path, tmp_path: Path) -> None:
    export(plain, "lmms-eval", tmp_path, "--dataset-path", "someone/msg")
    config, utils = load_task(tmp_path / "msg_mcq")
    assert config["dataset_path"] == "someone/msg"
    doc = next(r for r in MCQ_ROWS if r["form"] == "mcq" and r["answer_index"] == 2)
    for said in ("C", "(C)", "C. " + doc["answer"], "The answer is C", doc["answer"]):
        assert utils.judge(doc, said).correct, said
    for said in ("A", "B or C", "", "D"):
        assert not utils.judge(doc, said).correct, said


# --- VLMEvalKit ------------------------------------------------------------------------------


def read_vlmevalkit(path: Path) -> pd.DataFrame:
    """VLMEvalKit's loading: read the TSV, then resolve image cells that are row indexes."""
    data = pd.read_csv(path, sep="\t")
    if "image" in data:
        data["index"] = [str(x) for x in data["index"]]
        image_map = {x: y for x, y in zip(data["index"], data["image"], strict=True)}
        for k in image_map:
            if len(image_map[k]) <= 64:
                image_map[k] = image_map[image_map[k]]
        data["image"] = [image_map[k] for k in data["index"]]
    return data


@pytest.mark.parametrize("embedded", [False, True])
def test_vlmevalkit_tsv_round_trip(
    plain: Path, with_images: Path, images: Path, embedded: bool, tmp_path: Path
) -> None:
    if embedded:
        export(with_images, "vlmevalkit", tmp_path)
    else:  # VLMEvalKit hands image_path to the model as is: an absolute path that exists
        export(plain, "vlmevalkit", tmp_path, "--images-dir", str(images))
    data = read_vlmevalkit(tmp_path / "MSG_MCQ.tsv")
    choice_rows = [r for r in MCQ_ROWS if r["form"] in ("mcq", "yes_no")]
    assert list(data["msg_id"]) == [r["id"] for r in choice_rows]
    assert {"index", "question", "A", "B", "C", "D", "answer", "category", "l2-category",
            "split"} <= set(data.columns)  # fmt: skip
    for (_, line), row in zip(data.iterrows(), choice_rows, strict=True):
        options = {c: line[c] for c in "ABCD" if not pd.isna(line[c])}  # as VLMEvalKit builds them
        assert list(options.values()) == row["options"]
        assert options[line["answer"]] == row["answer"]
        assert (line["category"], line["l2-category"], line["split"]) == (
            row["aspect"], row["form"], "test"
        )  # fmt: skip
        assert line["question"] == row["question"]
        if embedded:
            img = Image.open(io.BytesIO(base64.b64decode(line["image"])))
            assert img.size == (row["width"], row["height"])
        else:
            assert line["image_path"] == str((images / row["file_name"]).resolve())
            assert Path(line["image_path"]).is_file()
    if embedded:  # each image is stored once
        raw = pd.read_csv(tmp_path / "MSG_MCQ.tsv", sep="\t")
        assert sum(len(str(x)) > 64 for x in raw["image"]) == len(
            {r["file_name"] for r in choice_rows}
        )


def test_export_of_missing_config_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    build_folder(out, MCQ_ROWS[:2], [])
    (out / "data" / "conv" / "train-00000-of-00001.parquet").unlink()
    assert main(["export", str(out), "--format", "llava", "--dest", str(tmp_path / "d")]) == 2
    assert "no shards to export" in capsys.readouterr().err
