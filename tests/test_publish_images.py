"""The image column: Pillow checks, quarantine reasons, path safety, and decoding by `datasets`."""

from __future__ import annotations

import os
from pathlib import Path

import datasets
import pytest
from PIL import Image
from test_publish_support import build_folder, conv_row, mcq_row, offline_hf, write_image

from pipeline.publish.images import image_feature_rows


def check(rows: list[dict], images_dir: Path) -> tuple[list[dict], list[dict]]:
    quarantine: list = []
    out = list(image_feature_rows(rows, images_dir, quarantine))
    return out, [q.to_dict() for q in quarantine]


def test_good_image_is_embedded_with_its_bytes(tmp_path: Path) -> None:
    path = write_image(tmp_path, "000000001000.jpg", (64, 48))
    rows, quarantine = check([mcq_row(0, image_id=1000), mcq_row(1, image_id=1000)], tmp_path)
    assert quarantine == []
    assert [r["image"] for r in rows] == [{"bytes": path.read_bytes(), "path": path.name}] * 2
    assert {k: v for k, v in rows[0].items() if k != "image"} == mcq_row(0, image_id=1000)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("missing", "image_missing"),
        ("wrong_size", "image_size_mismatch"),
        ("garbage", "image_unreadable"),
        ("truncated", "image_unreadable"),
        ("dotdot", "image_unsafe_path"),
        ("absolute", "image_unsafe_path"),
        ("symlink_out", "image_unsafe_path"),
    ],
)
def test_bad_image_is_quarantined_with_a_reason(tmp_path: Path, setup: str, reason: str) -> None:
    images = tmp_path / "images"
    images.mkdir()
    row = mcq_row(0, image_id=1000)
    name = row["file_name"]
    if setup == "wrong_size":
        write_image(images, name, (65, 48))
    elif setup == "garbage":
        (images / name).write_bytes(b"this is not an image")
    elif setup == "truncated":
        data = write_image(images, name, (64, 48)).read_bytes()
        (images / name).write_bytes(data[: len(data) // 2])
    elif setup == "dotdot":
        write_image(tmp_path, name, (64, 48))  # exists, but outside the images folder
        row["file_name"] = f"../{name}"
    elif setup == "absolute":
        row["file_name"] = str(write_image(tmp_path, name, (64, 48)))
    elif setup == "symlink_out":
        outside = write_image(tmp_path / "elsewhere", name, (64, 48))
        os.symlink(outside, images / name)
    rows, quarantine = check([row], images)
    assert rows[0]["image"] is None
    assert [(q["id"], q["reason"]) for q in quarantine] == [(row["id"], reason)]
    assert row["file_name"] in quarantine[0]["detail"] or name in quarantine[0]["detail"]


def test_symlink_inside_the_folder_is_allowed(tmp_path: Path) -> None:
    real = write_image(tmp_path / "sub", "real.jpg", (64, 48))
    os.symlink(real, tmp_path / "000000001000.jpg")
    rows, quarantine = check([mcq_row(0, image_id=1000)], tmp_path)
    assert quarantine == [] and rows[0]["image"]["bytes"] == real.read_bytes()


def test_decompression_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path, "000000001000.jpg", (64, 48))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64 x 48 is "too large" now
    rows, quarantine = check([mcq_row(0, image_id=1000)], tmp_path)
    assert rows[0]["image"] is None and quarantine[0]["reason"] == "image_too_large"


def test_each_item_of_a_bad_image_is_reported(tmp_path: Path) -> None:
    write_image(tmp_path, "000000001001.jpg", (64, 48))
    rows = [mcq_row(0, image_id=1000), mcq_row(1, image_id=1000), mcq_row(2, image_id=1001)]
    out, quarantine = check(rows, tmp_path)
    assert [q["id"] for q in quarantine] == [rows[0]["id"], rows[1]["id"]]
    assert [r["image"] is not None for r in out] == [False, False, True]


def test_load_dataset_decodes_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline_hf(monkeypatch, tmp_path / "hf")
    images = tmp_path / "images"
    for k, image_id in enumerate((1000, 1001, 1002, 1003, 1004, 2000, 2001, 2002)):
        write_image(images, f"{image_id:012d}.jpg", (64, 48), seed=k)
    mcq = [mcq_row(i) for i in range(12)]
    mcq[3] = mcq_row(3, image_id=1000, width=99)  # size mismatch: kept, without image
    out = tmp_path / "out"
    _, quarantine = build_folder(out, mcq, [conv_row(i) for i in range(4)], images_dir=images)
    assert [q.item_id for q in quarantine] == [mcq[3]["id"]]
    ds = datasets.load_dataset(str(out), "mcq", split="test", cache_dir=str(tmp_path / "c"))
    assert isinstance(ds.features["image"], datasets.Image)
    assert ds.num_rows == 12
    for i, row in enumerate(ds):
        if i == 3:
            assert row["image"] is None
        else:
            assert isinstance(row["image"], Image.Image)
            assert row["image"].size == (row["width"], row["height"]) == (64, 48)
    conv = datasets.load_dataset(str(out), "conv", split="train", cache_dir=str(tmp_path / "c"))
    assert conv[0]["image"].size == (64, 48)
