"""Publishing a real `msg build`: the demo sample, and a sample built with its COCO images:
the demo sample with plain JPEGs standing in for all its COCO images but one, and the real
annotation sample with its 15 COCO images when present (MSG_SAMPLE_DATA, default
../shared/data; failed when the variable names a missing folder).

Until the build calls the publish step itself (README.md absent), `finish_publish` does what
the build's end should do: shards through `write_config_shards` (with the image column when
images are given), the card, then the manifest's output list.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import datasets
import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from test_publish_support import offline_hf

from pipeline.cli import main
from pipeline.manifest import describe_outputs
from pipeline.parquet_io import write_json
from pipeline.publish.counts import shard_counts
from pipeline.publish.images import image_feature_rows
from pipeline.publish.layout import CONFIGS, has_image_column, iter_rows, shard_files
from pipeline.publish.validate import validate_folder
from pipeline.schema_files import load_schema

pytestmark = pytest.mark.slow


def build(out: Path, *args: str) -> Path:
    assert main(["build", "--out", str(out), "--quiet", *args]) == 0
    return out


def finish_publish(out: Path, images_dir: Path | None) -> list[dict]:
    """The build's publish step, when the build does not run it yet; returns quarantine."""
    from pipeline.publish.card import write_dataset_card
    from pipeline.publish.shards import write_config_shards

    if (out / "README.md").exists():
        return []
    quarantine: list = []
    for name, cfg in CONFIGS.items():
        rows = list(iter_rows(out, cfg))
        parts = [rows]
        if images_dir is not None:
            parts = [image_feature_rows(rows, images_dir, quarantine)]
        write_config_shards(out, name, parts, with_image=images_dir is not None)
    manifest = json.loads((out / "manifest.json").read_text())
    write_dataset_card(out, manifest)
    manifest["outputs"] = describe_outputs(out)
    write_json(out / "manifest.json", manifest)
    return [q.to_dict() for q in quarantine]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build(tmp_path_factory.mktemp("demo") / "out")
    finish_publish(out, None)
    return out


def demo_images(folder: Path, raw: dict) -> Path:
    """Plain JPEGs of each demo COCO image's size, the last image left without one."""
    folder.mkdir(parents=True)
    for image in raw["instances"]["images"][:-1]:
        size = (image["width"], image["height"])
        Image.new("RGB", size, (90, 120, 150)).save(folder / image["file_name"], "JPEG")
    return folder


@pytest.fixture(scope="module")
def real(
    tmp_path_factory: pytest.TempPathFactory, sample_name: str, sample_folder: Path, sample_raw
) -> tuple[Path, Path, list[dict]]:
    data = sample_folder
    if sample_name == "real":
        images = data / "coco" / "val2017"
    else:
        images = demo_images(tmp_path_factory.mktemp("demo_images") / "val2017", sample_raw)
    out = build(
        tmp_path_factory.mktemp("real") / "out",
        "--coco-instances", str(data / "coco/annotations/instances_val2017.json"),
        "--coco-captions", str(data / "coco/annotations/captions_val2017.json"),
        "--vg-dir", str(data / "vg"),
        "--images-dir", str(images),
    )  # fmt: skip
    return out, images, finish_publish(out, images)


def test_demo_build_manifest_matches_its_schema_and_validates(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((demo / "manifest.json").read_text())
    jsonschema.validate(manifest, load_schema("manifest"))
    assert {"README.md", "data/mcq/test-00000-of-00001.parquet"} <= {
        o["path"] for o in manifest["outputs"]
    }
    assert main(["validate", str(demo)]) == 0
    copy = shutil.copytree(demo, tmp_path / "copy")
    shard = shard_files(copy, CONFIGS["mcq"])[0]
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["validate", str(copy)]) == 1
    assert f"{shard.relative_to(copy).as_posix()}: sha256" in capsys.readouterr().err


def test_validate_names_an_invalid_published_scene(demo: Path, tmp_path: Path) -> None:
    """<out>/scenes/ is published, so `msg validate` checks every scene against
    schemas/scene.schema.json, even where the manifest agrees with the file."""
    copy = shutil.copytree(demo, tmp_path / "copy")
    assert validate_folder(copy) == []
    path = sorted((copy / "scenes").glob("*.parquet"))[0]
    table = pq.read_table(path)
    rows = table.to_pylist()
    victim = next(i for i, r in enumerate(rows) if r["objects"])
    rows[victim]["objects"][0]["bbox"] = [1.0, 2.0, 3.0]  # fits the column, not the schema
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["outputs"] = describe_outputs(copy)
    write_json(copy / "manifest.json", manifest)
    rel = path.relative_to(copy).as_posix()
    scene_id = rows[victim]["scene_id"]
    assert validate_folder(copy) == [
        f"{rel}: row {victim} (id {scene_id!r}): $.objects[0].bbox: [1.0, 2.0, 3.0] is too short"
    ]


def test_demo_build_loads_with_datasets(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_hf(monkeypatch, tmp_path / "hf")
    shard = shard_files(demo, CONFIGS["mcq"])[0]
    mcq = datasets.load_dataset(str(demo), "mcq", split="test", cache_dir=str(tmp_path / "c"))
    assert mcq.num_rows > 0
    assert mcq.features == datasets.Features.from_arrow_schema(pq.read_schema(shard))
    assert mcq.to_list() == list(iter_rows(demo, CONFIGS["mcq"]))
    manifest = json.loads((demo / "manifest.json").read_text())
    # The card's counts (read from the shards) agree with the build's own counts.
    by_af = shard_counts(demo)["mcq"]["by_aspect_form"]
    flat = {f"{a}/{f}": n for a, per in by_af.items() for f, n in per.items()}
    if (
        isinstance(manifest["counts"].get("mcq"), dict)
        and "by_aspect_form" in manifest["counts"]["mcq"]
    ):
        assert flat == manifest["counts"]["mcq"]["by_aspect_form"]
    conv_rows = shard_counts(demo)["conv"]["rows"]
    conv = datasets.load_dataset(str(demo), "conv", split="train", streaming=conv_rows == 0)
    assert sum(1 for _ in conv) == conv_rows  # empty splits only load streaming (datasets#8401)


def test_real_sample_images_decode_and_missing_ones_are_quarantined(
    real: tuple[Path, Path, list[dict]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, images, quarantine = real
    offline_hf(monkeypatch, tmp_path / "hf")
    assert has_image_column(out, CONFIGS["mcq"])
    ds = datasets.load_dataset(str(out), "mcq", split="test", cache_dir=str(tmp_path / "c"))
    assert isinstance(ds.features["image"], datasets.Image)
    present = {p.name for p in images.iterdir()}
    raw = ds.cast_column("image", datasets.Image(decode=False))  # cheap: no decoding
    has_image = [r["image"] is not None for r in raw]
    assert has_image == [r["file_name"] in present for r in raw]
    first_of_file: dict[str, int] = {}
    for i, row in enumerate(raw):
        if has_image[i]:
            first_of_file.setdefault(row["file_name"], i)
    assert first_of_file
    for i in first_of_file.values():  # decode one item per real COCO image
        row = ds[i]
        assert isinstance(row["image"], Image.Image)
        assert row["image"].size == (row["width"], row["height"])
    if quarantine:  # the publish step ran here: every missing image is named with a reason
        missing = Counter(r["file_name"] for r in raw if r["file_name"] not in present)
        assert Counter(q["file_name"] for q in quarantine) == missing
        assert {q["reason"] for q in quarantine} == {"image_missing"}


def test_real_sample_exports(
    real: tuple[Path, Path, list[dict]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _, _ = real
    import pandas as pd

    # Items whose image is found nowhere stop the export, named, unless left out on request.
    vlm = ["export", str(out), "--format", "vlmevalkit", "--dest", str(tmp_path)]
    assert main(vlm) == 2
    err = capsys.readouterr().err
    assert "not embedded and not found" in err and "--images-dir" in err
    assert not (tmp_path / "MSG_MCQ.tsv").exists()
    assert main([*vlm, "--skip-missing-images"]) == 0
    data = pd.read_csv(tmp_path / "MSG_MCQ.tsv", sep="\t")
    rows = [r for r in iter_rows(out, CONFIGS["mcq"]) if r["form"] in ("mcq", "yes_no")]
    with_image = [r for r in rows if r["image"] is not None]
    assert list(data["msg_id"]) == [r["id"] for r in with_image]
    for (_, line), row in zip(data.iterrows(), with_image, strict=True):
        assert line[line["answer"]] == row["answer"]
    dest = tmp_path / "tasks"
    assert main(["export", str(out), "--format", "lmms-eval", "--dest", str(dest)]) == 0
    text = (dest / "msg_mcq" / "msg_mcq.yaml").read_text()
    assert "!function utils.msg_process_results" in text
