"""`msg diff OLD NEW` (issue 19): a build against itself reports nothing; after one colour is
edited in the input, the items of that image are reported, and the counts are the real
differences of the two folders' item sets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import build_sample

COLUMNS = ["id", "scene_id", "aspect", "form", "question", "options", "answer", "answer_value"]


def items_by_id(out: Path, config: str = "mcq") -> dict[str, dict]:
    columns = COLUMNS if config == "mcq" else ["id", "scene_id", "kind", "conversations"]
    rows = [
        r
        for f in sorted((out / "data" / config).glob("*.parquet"))
        for r in pq.read_table(f, columns=columns).to_pylist()
    ]
    return {r["id"]: r for r in rows}


def run_diff(cli, old: Path, new: Path, tmp_path: Path) -> tuple[dict, str]:
    report_file = tmp_path / "diff.json"
    code, out, err = cli("diff", old, new, "--json", report_file)
    assert code == 0, err
    return json.loads(report_file.read_text(encoding="utf-8")), out


def test_a_build_against_itself_reports_nothing(cli, real_build, tmp_path):
    report, out = run_diff(cli, real_build, real_build, tmp_path)
    assert report["identical"] is True
    for config in ("mcq", "conv"):
        assert (report[config]["added"], report[config]["removed"], report[config]["changed"]) == (
            0,
            0,
            0,
        )
        assert report[config]["images"] == []
    assert report["versions"] == report["options"] == report["inputs"] == {}
    assert "same items" in out


@pytest.fixture(scope="module")
def edited(real_build, real_inputs, tmp_path_factory) -> tuple[Path, str, dict]:
    """The real sample with one colour of one VG referent changed, built like real_build;
    returns (output folder, the edited scene, the old colour item)."""
    old = items_by_id(real_build)
    item = next(
        r
        for r in sorted(old.values(), key=lambda r: r["id"])
        if r["aspect"] == "color" and r["form"] == "mcq" and r["scene_id"].startswith("vg/")
    )
    new_colour = next(o for o in ("purple", "orange", "pink", "yellow") if o not in item["options"])
    rows = pq.read_table(
        sorted((real_build / "data" / "mcq").glob("*.parquet")),
        columns=["id", "referent_object_ids"],
    ).to_pylist()
    ids = {
        int(i.split("/")[-1])
        for r in rows
        if r["id"] == item["id"]
        for i in r["referent_object_ids"]
    }
    root = tmp_path_factory.mktemp("edited")
    vg = root / "vg"
    shutil.copytree(real_inputs["vg_dir"], vg)
    attributes = json.loads((vg / "attributes.json").read_text(encoding="utf-8"))
    edits = 0
    for image in attributes:
        for obj in image["attributes"]:
            if obj["object_id"] in ids:
                values = obj.get("attributes") or []
                changed = [new_colour if v.strip().lower() == item["answer"] else v for v in values]
                edits += changed != values
                obj["attributes"] = changed
    assert edits, "the colour to edit was not found in attributes.json"
    (vg / "attributes.json").write_text(json.dumps(attributes), encoding="utf-8")
    inputs = dict(real_inputs, vg_dir=vg)
    out = build_sample(inputs, root / "out", tuning_fraction=0.0)
    return out, item["scene_id"], item


def test_an_edited_colour_reports_the_items_of_its_image(cli, real_build, edited, tmp_path):
    new_out, scene, item = edited
    report, out = run_diff(cli, real_build, new_out, tmp_path)
    assert not report["identical"]
    assert list(report["inputs"]) == ["vg_attributes.json"]  # only the edited file
    old, new = items_by_id(real_build), items_by_id(new_out)
    mcq = report["mcq"]

    # the counts are the real differences of the two item sets
    def label(row: dict, ordered: bool) -> list:
        options = row["options"] if ordered else sorted(row["options"])
        return [row["question"], options, row["answer"]]

    both = set(old) & set(new)
    changed = {i for i in both if label(old[i], False) != label(new[i], False)}
    moved = {i for i in both if label(old[i], True) != label(new[i], True)} - changed
    assert mcq["added"] == len(set(new) - set(old))
    assert mcq["removed"] == len(set(old) - set(new))
    assert mcq["changed"] == len(changed)
    assert mcq["moved"] == len(moved)
    assert {c["id"] for c in mcq["changed_items"]} == changed
    for c in mcq["changed_items"]:
        assert c["old"]["answer"] == old[c["id"]]["answer"]
        assert c["new"]["answer"] == new[c["id"]]["answer"]
    # the edited image is reported, and the old colour item is gone or changed
    assert scene in mcq["images"]
    assert item["id"] not in new or item["id"] in changed
    per_group = mcq["by_group"]
    assert sum(sum(c.values()) for c in per_group.values()) == (
        mcq["added"] + mcq["removed"] + mcq["changed"]
    )
    assert "color/mcq" in per_group
    assert f"{mcq['added']} added, {mcq['removed']} removed" in out
