"""The dataset card: Hub metadata read back with huggingface_hub, counts, citations, and
`datasets.load_dataset` of both configs with the declared features."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard, DatasetCardData
from test_publish_support import build_folder, conv_row, fake_manifest, mcq_row, offline_hf

from pipeline.publish.card import size_category, write_dataset_card
from pipeline.publish.layout import CONFIGS, shard_files

MCQ_ROWS = [mcq_row(i) for i in range(53)]
CONV_ROWS = [conv_row(i) for i in range(11)]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("card") / "out"
    build_folder(folder, MCQ_ROWS, CONV_ROWS, max_shard_bytes=8_000, row_group_rows=10)
    return folder


def test_card_metadata_reads_back_with_huggingface_hub(out: Path) -> None:
    card = DatasetCard.load(out / "README.md")
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert data.license == "cc-by-4.0"
    assert data.task_categories == ["visual-question-answering", "multiple-choice",
                                    "image-text-to-text"]  # fmt: skip
    assert data.size_categories == ["n<1K"]
    assert data.pretty_name
    assert data.configs == [
        {
            "config_name": name,
            "data_files": [{"split": split, "path": f"data/{name}/{split}-*.parquet"}],
        }
        | ({"default": True} if name == "mcq" else {})
        for name, split in (("mcq", "test"), ("conv", "train"))
    ]
    infos = {i["config_name"]: i for i in data.dataset_info}
    assert infos["mcq"]["splits"][0]["num_examples"] == len(MCQ_ROWS)
    assert infos["conv"]["splits"][0]["num_examples"] == len(CONV_ROWS)
    for name, cfg in CONFIGS.items():  # declared features are exactly the shards' features
        shard = shard_files(out, cfg)[0]
        features = datasets.Features.from_arrow_schema(pq.read_schema(shard))
        assert datasets.Features._from_yaml_list(infos[name]["features"]) == features


def test_card_body_counts_rules_licenses_citations(out: Path) -> None:
    text = (out / "README.md").read_text(encoding="utf-8")
    body = DatasetCard.load(out / "README.md").text
    per = Counter((r["aspect"], r["form"]) for r in MCQ_ROWS)
    for aspect in {a for a, _ in per}:
        forms = sorted({f for _, f in per})
        cells = " | ".join(str(per[(aspect, f)]) for f in forms)
        total = sum(n for (a, _), n in per.items() if a == aspect)
        assert f"| {aspect} | {cells} | {total} |" in body
    assert f"{len(MCQ_ROWS)} items" in body and f"{len(CONV_ROWS)} samples" in body
    for needle in ("Lin, Tsung-Yi", "ECCV", "Krishna, Ranjay", "2017", "Lu, Jiaying",
                   "Semantic Grounding", "follows the semantic-grounding study",
                   "CC BY 4.0", "images are not relicensed", "Label rules",
                   "Known limitations", "instances_val2017.json"):  # fmt: skip
        assert needle in text, needle
    assert "/abs/" not in text  # no machine paths


def test_card_has_no_timestamp_and_rebuilds_byte_identically(out: Path) -> None:
    first = (out / "README.md").read_bytes()
    write_dataset_card(out, fake_manifest(out, {"scenes": 7}))
    assert (out / "README.md").read_bytes() == first
    assert not re.search(rb"20\d\d-\d\d-\d\d|\d\d:\d\d:\d\d", first)


def test_size_category() -> None:
    assert [size_category(n) for n in (0, 999, 1000, 20_000, 3_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "1M<n<10M"
    ]  # fmt: skip


def test_load_dataset_both_configs(
    out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_hf(monkeypatch, tmp_path / "hf")
    assert len(shard_files(out, CONFIGS["mcq"])) > 1  # several shards, one split
    mcq = datasets.load_dataset(str(out), "mcq", cache_dir=str(tmp_path / "c"))
    assert list(mcq) == ["test"]
    assert mcq["test"].to_list() == MCQ_ROWS
    assert mcq["test"].features["options"] == datasets.List(datasets.Value("string"))
    conv = datasets.load_dataset(str(out), "conv", split="train", cache_dir=str(tmp_path / "c"))
    assert conv.to_list() == CONV_ROWS


def test_mcq_is_the_default_config(out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`load_dataset(OUT)` without a config name (as a Hub id is loaded) gives MSG-MCQ."""
    offline_hf(monkeypatch, tmp_path / "hf")
    default = datasets.load_dataset(str(out), split="test", cache_dir=str(tmp_path / "c"))
    assert default.to_list() == MCQ_ROWS


def test_empty_config_keeps_its_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `datasets` refuses to build an empty split (huggingface/datasets#8401); streaming reads
    # the empty shard with its features, and the card says so.
    offline_hf(monkeypatch, tmp_path / "hf")
    out = tmp_path / "out"
    build_folder(out, MCQ_ROWS[:3], [])
    conv = datasets.load_dataset(str(out), "conv", split="train", streaming=True)
    assert list(conv) == []
    assert conv.features == datasets.Features.from_arrow_schema(
        pq.read_schema(shard_files(out, CONFIGS["conv"])[0])
    )
    assert "Empty in this build: `conv`" in (out / "README.md").read_text(encoding="utf-8")
    assert DatasetCard.load(out / "README.md").data.configs[1]["config_name"] == "conv"
