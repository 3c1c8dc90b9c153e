"""The benchmark generator: deterministic for a seed, and its output builds with every
input record accounted for and one scene per image (COCO / VG twins merged)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
IMAGES = 50
FILES = (
    "coco/annotations/instances_bench.json",
    "coco/annotations/captions_bench.json",
    "vg/image_data.json",
    "vg/objects.json",
    "vg/attributes.json",
    "vg/relationships.json",
)

pytestmark = pytest.mark.slow


def generate(sample: Path, out: Path, seed: int) -> dict[str, Any]:
    # As a user runs it: `python -m benchmarks.generate` from the project root.
    cmd = [sys.executable, "-m", "benchmarks.generate", "--images", str(IMAGES)]
    cmd += ["--out", str(out), "--seed", str(seed), "--sample", str(sample)]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return json.loads((out / "generated.json").read_text())


@pytest.fixture(scope="module")
def generated(sample_folder: Path, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench_gen") / "a"
    return out, generate(sample_folder, out, seed=7)


def test_same_seed_same_bytes_other_seed_other_bytes(
    generated: tuple[Path, dict[str, Any]], sample_folder: Path, tmp_path: Path
) -> None:
    first, info = generated
    again = generate(sample_folder, tmp_path / "b", seed=7)
    for name in FILES:
        assert (first / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in info.items() if k != "seconds"
    }
    other = generate(sample_folder, tmp_path / "c", seed=8)
    assert (tmp_path / "c" / FILES[3]).read_bytes() != (first / FILES[3]).read_bytes()
    assert other["images"] == IMAGES


def test_ids_are_fresh_and_vg_object_ids_dense(generated: tuple[Path, dict[str, Any]]) -> None:
    out, _ = generated
    objects = json.loads((out / "vg/objects.json").read_text())
    attributes = json.loads((out / "vg/attributes.json").read_text())
    ids = [o["object_id"] for e in objects for o in e["objects"]]
    ids += [m for e in objects for o in e["objects"] for m in o["merged_object_ids"]]
    known = set(ids)
    ids += [
        a["object_id"] for e in attributes for a in e["attributes"] if a["object_id"] not in known
    ]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == list(range(1, len(ids) + 1))
    instances = json.loads((out / FILES[0]).read_text())
    ann_ids = [a["id"] for a in instances["annotations"]]
    assert len(ann_ids) == len(set(ann_ids))


def test_output_builds_reconciled_one_scene_per_image(
    generated: tuple[Path, dict[str, Any]],
    cli: Callable[..., tuple[int, str, str]],
    manifest_of: Callable[[Path], dict[str, Any]],
    scenes_of: Callable[[Path], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    src, info = generated
    out = tmp_path / "out"
    code, _, err = cli(
        "build",
        "--quiet",
        "--coco-instances",
        src / FILES[0],
        "--coco-captions",
        src / FILES[1],
        "--vg-dir",
        src / "vg",
        "--out",
        out,
    )
    assert code == 0, err
    manifest = manifest_of(out)
    assert manifest["reconciled"] is True
    records, written = manifest["records"], info["records"]
    # Every record the generator wrote was read (and, reconciled, ended somewhere).
    categories = len(json.loads((src / FILES[0]).read_text())["categories"])
    assert records["instances_bench.json"]["read"] == (
        written["coco_images"] + written["coco_instances"] + categories
    )
    assert records["captions_bench.json"]["read"] == (
        written["coco_images"] + written["coco_captions"]
    )
    for label, kind in (
        ("vg_image_data.json", "vg_images"),
        ("vg_objects.json", "vg_objects"),
        ("vg_attributes.json", "vg_attributes"),
        ("vg_relationships.json", "vg_relationships"),
    ):
        assert records[label]["read"] == written[kind], label
    scenes = scenes_of(out)
    assert len(scenes) == len({s["scene_id"] for s in scenes}) == IMAGES
    twins = [s for s in scenes if s["coco_id"] is not None and s["vg_id"] is not None]
    assert len(twins) == info["image_kinds"]["twin"] > 0
