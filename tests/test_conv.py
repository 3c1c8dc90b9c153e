"""MSG-Conv on the demo sample (and the real sample when present): the three kinds, schema
validity, images disjoint from MSG-MCQ (twins included), and every assistant turn's facts
re-derived from the raw annotation files by the independent oracle."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import build_sample

from pipeline.audit.oracle import Oracle, RawIndex
from pipeline.build import run_build
from pipeline.config import BuildOptions
from pipeline.facts.slots import option_text
from pipeline.normalize import Vocabulary
from pipeline.progress import Progress
from pipeline.validation import problems

FRACTION = 0.5
# Claims the assistant turns of each sample's tuning side hold at least (sizes of the samples).
MIN_CLAIMS = {"demo": 50, "real": 100}


def rows(out: Path, config: str) -> list[dict]:
    return pq.read_table(out / "data" / config).to_pylist()


@pytest.fixture(scope="module")
def conv_build(sample_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conv") / "out"
    return build_sample(sample_inputs, out, tuning_fraction=FRACTION)


@pytest.fixture(scope="module")
def oracle(sample_inputs) -> Oracle:
    vg = sample_inputs["vg_dir"]
    vocab = Vocabulary.load(vg / "object_alias.txt", vg / "relationship_alias.txt")
    defaults = BuildOptions()
    index = RawIndex.load([sample_inputs["instances"]], vg, vocab)
    return Oracle(index, defaults.min_count_area, defaults.spatial_margin)


def test_all_three_kinds_are_made_and_valid(conv_build):
    samples = rows(conv_build, "conv")
    kinds = {"conversation", "region", "fact_check", "description"}
    assert Counter(s["kind"] for s in samples).keys() == kinds
    for s in samples:
        assert not problems("conv", s), (s["id"], problems("conv", s))
        turns = s["conversations"]
        assert turns[0]["value"].startswith("<image>\n")
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
    assert any(len(s["conversations"]) >= 6 for s in samples if s["kind"] == "conversation")


def _side_keys(out: Path, config: str) -> set[tuple[str, int]]:
    scenes = {s["scene_id"]: s for s in pq.read_table(out / "scenes").to_pylist()}
    keys = set()
    for item in rows(out, config):
        scene = scenes[item["scene_id"]]
        keys.add(("scene", item["scene_id"]))
        for source in ("coco_id", "vg_id"):
            if scene[source] is not None:
                keys.add((source, scene[source]))
    return keys


def test_no_image_is_on_both_sides(conv_build):
    assert rows(conv_build, "mcq") and rows(conv_build, "conv")
    assert not _side_keys(conv_build, "mcq") & _side_keys(conv_build, "conv")


def test_a_vg_image_and_its_coco_twin_land_on_one_side(tmp_path):
    seen = set()
    for fraction in (0.0, 0.3, 0.6, 1.0):
        out = tmp_path / f"demo-{fraction}"
        run_build(BuildOptions(out=out, tuning_fraction=fraction), Progress(quiet=True))
        twin = [s for s in pq.read_table(out / "scenes").to_pylist() if s["vg_id"] and s["coco_id"]]
        assert len(twin) == 1  # the demo's VG image with a coco_id is one scene
        mcq, conv = _side_keys(out, "mcq"), _side_keys(out, "conv")
        assert not mcq & conv
        twin_key = ("vg_id", twin[0]["vg_id"])
        seen.add("conv" if twin_key in conv else "mcq")
        if fraction == 0.0:
            assert not rows(out, "conv")
        if fraction == 1.0:
            assert not rows(out, "mcq")
    assert seen == {"mcq", "conv"}, "the twin should move sides as the fraction grows"


def _claims(samples):
    """(sample, turn text, evidence, claim) per assistant turn; a description's claims are
    per sentence (tests/test_conv_description.py re-checks them)."""
    for s in samples:
        if s["kind"] == "description":
            assert s["turn_facts"] == [None, None] and s["sentence_facts"]
            continue
        for turn, evidence, claim in zip(
            s["conversations"], s["evidence_ids"], s["turn_facts"], strict=True
        ):
            if turn["from"] == "human":
                assert claim is None and evidence == []
                continue
            yield s, turn["value"], evidence, claim


def _as_item(sample: dict, claim: dict) -> dict:
    return {
        "scene_id": sample["scene_id"],
        "aspect": claim["aspect"],
        "referent_name": claim["referent_name"],
        "referent_object_ids": claim["referent_object_ids"],
        "width": sample["width"],
        "height": sample["height"],
        "template_id": "",
    }


def test_every_assistant_turn_is_supported_by_the_raw_annotations(conv_build, oracle, sample_name):
    checked, bad = 0, []
    for sample, text, evidence, claim in _claims(rows(conv_build, "conv")):
        item = _as_item(sample, claim)
        family = "spatial" if claim["aspect"] == "spatial" else ""
        stated = option_text(family, claim["value"]) if family else claim["value"]
        if claim["aspect"] == "number":
            stated = None  # stated as a number word; the value is checked below
        if not set(claim["referent_object_ids"]) <= set(evidence):
            bad.append((sample["id"], "referent not in the turn's evidence"))
        if stated and not re.search(rf"\b{re.escape(stated)}\b", text, re.IGNORECASE):
            bad.append((sample["id"], f"{stated!r} not in {text!r}"))
        if not oracle.true_of(item, claim["value"]):
            bad.append((sample["id"], f"{claim['aspect']}={claim['value']} not supported"))
        if claim["false_value"] is not None and oracle.true_of(item, claim["false_value"]):
            bad.append((sample["id"], f"'false' value {claim['false_value']} is true"))
        checked += 1
    assert checked > MIN_CLAIMS[sample_name] and not bad, bad[:5]


def test_the_turn_check_catches_an_unsupported_claim(conv_build, oracle):
    sample, _, _, claim = next(
        (s, t, e, c) for s, t, e, c in _claims(rows(conv_build, "conv")) if c["aspect"] == "color"
    )
    item = _as_item(sample, claim)
    assert oracle.true_of(item, claim["value"])
    other = next(v for v in ("purple", "orange", "pink", "teal") if not oracle.true_of(item, v))
    assert not oracle.true_of(item, other)


def test_region_prompts_give_normalized_boxes(conv_build):
    regions = [s for s in rows(conv_build, "conv") if s["kind"] == "region"]
    assert regions
    for s in regions:
        match = re.search(r"\[(\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3})\]",
                          s["conversations"][0]["value"])  # fmt: skip
        assert match, s["conversations"][0]["value"]
        x1, y1, x2, y2 = map(float, match.groups())
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1


def test_conv_counts_per_kind_are_reported(conv_build):
    import json

    counts = json.loads((conv_build / "manifest.json").read_text())["counts"]["conv"]
    assert counts["by_kind"] == dict(Counter(s["kind"] for s in rows(conv_build, "conv")))
