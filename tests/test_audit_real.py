"""`msg audit` on a whole sample: a self-contained report with sheets and charts, every figure
in metrics.json, balanced positions, gates that fail. It runs on the demo sample (no pixels
are shipped: plain JPEGs of each COCO image's size stand in) and, when present, on the real
sample with its 15 COCO images."""

from __future__ import annotations

import base64
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.audit.gates import check_gates, load_settings
from pipeline.audit.pictures import BOX_COLOUR

SIX_ASPECTS = ("entity", "number", "color", "material", "action", "spatial")
# Aspects with at least 20 MCQ items after balancing, counted on each sample's build.
# (Balancing against text-only priors leaves the small demo with none.)
MIN_WELL_FILLED_ASPECTS = {"demo": 0, "real": 5}
# Whether the sample has objects labelled with two exclusive values (the real rows do; the
# demo's two-colour labels are compounds or declared multi-valued).
HAS_EXCLUSIVE_VALUES = {"demo": False, "real": True}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.svgs = 0
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "svg":
            self.svgs += 1
        for key in ("href", "src"):  # nothing may be fetched: offline
            if a.get(key, "data:").split(":")[0] in ("http", "https") or tag in ("link", "script"):
                self.external.append(f"{tag} {a}")


@pytest.fixture(scope="module")
def images_dir(sample_name: str, sample_folder: Path, sample_raw: dict, tmp_path_factory) -> Path:
    """The sample's COCO image files: the real ones, or plain grey JPEGs for the demo."""
    if sample_name == "real":
        return sample_folder / "coco" / "val2017"
    folder = tmp_path_factory.mktemp("demo_images")
    for image in sample_raw["instances"]["images"]:
        size = (image["width"], image["height"])
        Image.new("RGB", size, (128, 128, 128)).save(folder / image["file_name"], "JPEG")
    return folder


@pytest.fixture(scope="module")
def audited(sample_build: Path, images_dir: Path, tmp_path_factory) -> tuple[Path, int, str]:
    out = tmp_path_factory.mktemp("audit") / "out"
    shutil.copytree(sample_build, out)  # the session's build stays untouched
    from pipeline.cli import main

    code = main(["audit", str(out), "--images-dir", str(images_dir)])
    return out, code, (out / "audit" / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def metrics(audited) -> dict:
    return json.loads((audited[0] / "audit" / "metrics.json").read_text())


def test_report_opens_offline_with_sheets_and_charts(audited, metrics):
    _, code, html = audited
    assert code == 0
    page = Page()
    page.feed(html)
    assert page.images and all(s.startswith("data:image/jpeg;base64,") for s in page.images)
    assert not page.external
    with_mcq = [a for a, forms in metrics["balance"].items() if "mcq" in forms]
    assert with_mcq and page.svgs >= 2 * len(with_mcq)  # answers and positions per aspect
    assert any(c.startswith("answers:") for c in metrics["charts"])
    assert any(c.startswith("positions:") for c in metrics["charts"])
    sheets = metrics["pictures"]["by_aspect"]
    assert metrics["pictures"]["images_available"] and len(sheets) >= 3
    assert all(f'id="sheet-{a}"' in html for a in sheets)


def test_a_sheet_image_has_its_box_drawn(audited):
    _, _, html = audited
    page = Page()
    page.feed(html)
    boxed = 0
    for src in page.images[:6]:
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
        near = (np.abs(np.asarray(img, dtype=int) - BOX_COLOUR) < 60).all(axis=2).sum()
        boxed += near > 40  # a rectangle outline, not stray pixels
    assert boxed >= 3


def test_metrics_hold_every_figure(metrics, sample_name):
    for aspect in SIX_ASPECTS:
        forms = metrics["balance"][aspect]
        assert forms, aspect
        # Balancing may leave an aspect without mcq items on a small sample.
        for key in ("entropy_bits", "head_answer", "head_share", "positions", "position_p"):
            assert "mcq" not in forms or key in forms["mcq"], (aspect, key)
        assert "yes_no" not in forms or "yes_share" in forms["yes_no"]
        leak = metrics["leakage"]["by_aspect"][aspect]
        assert {"blind_accuracy", "chance", "leakage", "answer_prior_accuracy"} <= set(leak)
        before_after = metrics["balancing"]["by_aspect"][aspect]
        assert set(before_after) == {"before", "after"}
    assert metrics["balancing"]["report"]["dropped"]  # the sample has heads to cut
    for key in ("exclusive_values", "duplicate_box_conflicts", "duplicate_questions"):
        assert key in metrics["labels"]
    found = metrics["labels"]["counts"]["exclusive_values"]
    assert (found > 0) is HAS_EXCLUSIVE_VALUES[sample_name], found
    assert {"captions", "compared", "agree", "disagree", "disagreements"} <= set(
        metrics["captions"]
    )
    assert metrics["captions"]["compared"] > 0
    assert {g["gate"] for g in metrics["gates"]} >= {
        "max_head_share",
        "min_position_p",
        "max_mcq_leakage",
        "max_open_leakage",
        "max_overall_leakage",
    }


def test_leakage_is_reported_per_group_with_both_attacks(metrics, audited):
    leakage = metrics["leakage"]
    assert leakage["unit"].startswith("fraction")
    groups = [s for forms in leakage["by_aspect_form"].values() for s in forms.values()]
    for s in groups:
        accuracies = [s["answer_prior_accuracy"], s["option_prior_accuracy"]]
        best = max(v for v in accuracies if v is not None)  # attack a always answers
        assert s["blind_accuracy"] == pytest.approx(best, abs=1e-6)
        assert s["leakage"] == pytest.approx(s["blind_accuracy"] - s["chance"], abs=1e-6)
    assert leakage["overall"]["items"] == metrics["items"]
    assert "Language-prior leakage" in audited[2] and "option prior %" in audited[2]


def test_positions_are_uniform_and_heads_bounded_after_balancing(metrics, sample_name):
    min_items = 20
    tested = 0
    for aspect, forms in metrics["balance"].items():
        mcq = forms.get("mcq")
        if mcq and mcq["items"] >= min_items:
            assert mcq["position_p"] > 0.05, (aspect, mcq["positions"])
            assert mcq["head_share"] <= 0.5, aspect
            tested += 1
        yes_no = forms.get("yes_no")
        if yes_no:
            assert yes_no["yes"] == yes_no["no"], aspect
    assert tested >= MIN_WELL_FILLED_ASPECTS[sample_name]
    gates = {g["gate"]: g for g in metrics["gates"]}
    assert gates["min_position_p"]["passed"] and gates["max_head_share"]["passed"]


def test_build_reports_what_balancing_dropped(sample_build: Path):
    counts = json.loads((sample_build / "manifest.json").read_text())["counts"]["mcq"]
    balance = counts["balance"]
    for af, n in balance["before"]["items"].items():
        after = balance["after"]["items"].get(af, 0)
        assert n - after == balance["dropped"].get(af, 0), af
    assert balance["after"]["items"] == counts["by_aspect_form"]


def test_audited_folder_still_validates(audited, cli):
    code, _, err = cli("validate", audited[0])
    assert code == 0, err


def test_gates_break_on_tight_thresholds(metrics):
    gates = load_settings()["gates"] | {"max_head_share": 0.05, "max_mcq_leakage": 1.0}
    result = {g["gate"]: g for g in check_gates(metrics, gates)}
    assert not result["max_head_share"]["passed"] and result["max_head_share"]["broken"]
    assert result["max_mcq_leakage"]["passed"]


def test_fail_on_threshold_names_the_broken_gate(audited, cli, tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text("[gates]\nmax_head_share = 0.05\nmax_mcq_leakage = 1.0\n")
    code, _, err = cli("audit", audited[0], "--thresholds", strict, "--fail-on-threshold")
    assert code == 1
    assert "max_head_share" in err and "max_mcq_leakage" not in err
