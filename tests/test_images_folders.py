"""Images from several folders (issue 18, point 2): `msg build --images-dir` repeated, files
found by name across the folders, a name in two folders with different bytes refused naming
both; image coverage per source in the summary, manifest and card; and each export's images
as its consumer reads them (LLaVA's image folder, VLMEvalKit's base64 / absolute paths,
lmms-eval's doc_to_visual)."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from huggingface_hub import DatasetCard
from PIL import Image
from test_publish_support import build_folder, conv_row, mcq_row, write_image

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.publish.image_folders import ImageFolders, ImageRejected
from pipeline.publish.layout import CONFIGS, iter_rows

COCO_IMAGES = "coco/val2017"


# --- the real sample's 15 images split over two folders ---------------------------------------


@pytest.fixture(scope="module")
def two_folders(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The real COCO images, alternately copied into two folders (like train2017/val2017)."""
    root = tmp_path_factory.mktemp("two_folders")
    folders = [root / "train2017", root / "val2017"]
    for folder in folders:
        folder.mkdir()
    files = sorted((sample_data / COCO_IMAGES).glob("*.jpg"))
    assert len(files) >= 2, f"{sample_data / COCO_IMAGES} lacks the real sample's images"
    for k, path in enumerate(files):
        shutil.copyfile(path, folders[k % 2] / path.name)
    return folders


def build_args(real_inputs: dict[str, Path], folders: list[Path]) -> list[str]:
    args = [
        "--coco-instances", str(real_inputs["instances"]),
        "--coco-captions", str(real_inputs["captions"]),
        "--vg-dir", str(real_inputs["vg_dir"]),
    ]  # fmt: skip
    for folder in folders:
        args += ["--images-dir", str(folder)]
    return args


@pytest.fixture(scope="module")
def built(
    real_inputs: dict[str, Path],
    two_folders: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, str]:
    """The real sample built with both folders; returns the folder and the summary."""
    out = tmp_path_factory.mktemp("built") / "out"
    argv = ["build", *build_args(real_inputs, two_folders), "--out", str(out)]
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(argv) == 0
    return out, buffer.getvalue()


@pytest.mark.slow
def test_every_item_whose_image_exists_is_embedded(
    built: tuple[Path, str], two_folders: list[Path]
) -> None:
    out, _ = built
    present = {p.name for folder in two_folders for p in folder.iterdir()}
    rows = [r for cfg in CONFIGS.values() for r in iter_rows(out, cfg)]
    assert any(r["file_name"] in present for r in rows), "no item uses a real image"
    for row in rows:
        embedded = row["image"] is not None
        assert embedded == (row["file_name"] in present), row["file_name"]
        if embedded:
            folder = next(f for f in two_folders if (f / row["file_name"]).is_file())
            assert row["image"]["bytes"] == (folder / row["file_name"]).read_bytes()
    # Both folders served images: the lookup is across folders, not the first one only.
    used = {r["file_name"] for r in rows if r["image"] is not None}
    assert all(used & {p.name for p in folder.iterdir()} for folder in two_folders)


@pytest.mark.slow
def test_coverage_in_manifest_summary_and_card_reconciles(built: tuple[Path, str]) -> None:
    out, summary = built
    manifest = json.loads((out / "manifest.json").read_text())
    rows = [r for cfg in CONFIGS.values() for r in iter_rows(out, cfg)]
    coverage = manifest["counts"]["image_coverage"]
    assert set(coverage) == {r["image_source"] for r in rows}
    quarantined = [json.loads(x) for x in (out / "quarantine" / "images.jsonl").open()]
    for source, c in coverage.items():
        mine = [r for r in rows if r["image_source"] == source]
        with_image = {r["file_name"] for r in mine if r["image"] is not None}
        without = {r["file_name"] for r in mine if r["image"] is None}
        assert (c["items"], c["items_embedded"]) == (
            len(mine),
            sum(r["image"] is not None for r in mine),
        )
        assert (c["embedded"], c["missing"] + c["rejected"]) == (len(with_image), len(without))
        assert c["images"] == len(with_image | without) and c["not_searched"] == 0
        line = f"  {source}: {c['embedded']} embedded, {c['missing']} missing"
        assert line in summary
    # Every item without its image is in the quarantine file, and the summary says so.
    assert len(quarantined) == sum(r["image"] is None for r in rows)
    assert manifest["counts"]["images_quarantined"] == len(quarantined)
    assert f"{len(quarantined)} items without their image" in summary
    assert manifest["options"]["images_dir"] == [str(p) for p in built_folders(manifest)]
    body = DatasetCard.load(out / "README.md").text
    coco = coverage["coco"]
    assert (
        f"| coco | {coco['images']} | {coco['embedded']} | {coco['missing']} | "
        f"{coco['rejected']} | 0 | {coco['items']} | {coco['items_embedded']} |"
    ) in body
    assert "## Images" in body and "## Exports" in body


def built_folders(manifest: dict) -> list[Path]:
    return [Path(p) for p in manifest["options"]["images_dir"]]


@pytest.mark.slow
def test_same_name_different_bytes_stops_the_build_naming_both(
    real_inputs: dict[str, Path],
    two_folders: list[Path],
    tmp_path: Path,
    cli,
) -> None:
    clash = [tmp_path / "a", tmp_path / "b"]
    for src, dst in zip(two_folders, clash, strict=True):
        shutil.copytree(src, dst)
    name = sorted(p.name for p in clash[0].iterdir())[0]
    with Image.open(clash[0] / name) as img:  # the same picture, other bytes
        img.save(clash[1] / name, quality=50)
    out = tmp_path / "out"
    code, _, err = cli("build", *build_args(real_inputs, clash), "--out", str(out), "--quiet")
    assert code == 2
    assert str(clash[0] / name) in err and str(clash[1] / name) in err
    assert "different bytes" in err and not out.exists()
    # The same bytes under one name in two folders are one image: no error.
    shutil.copyfile(clash[0] / name, clash[1] / name)
    assert ImageFolders(clash).check().find(name) == clash[0] / name


def test_lookup_across_folders_names_every_folder_searched(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_image(a, "sub/1.jpg", (8, 8), seed=1)
    write_image(b, "sub/1.jpg", (8, 8), seed=2)  # below the top level: checked on lookup
    write_image(b, "2.jpg", (8, 8))
    folders = ImageFolders([a, b]).check()
    assert folders.find("2.jpg") == b / "2.jpg"
    with pytest.raises(InputError, match="different bytes"):
        folders.find("sub/1.jpg")
    with pytest.raises(ImageRejected) as missing:
        folders.find("3.jpg")
    assert missing.value.reason == "image_missing"
    assert str(a) in missing.value.detail and str(b) in missing.value.detail
    with pytest.raises(InputError, match="images folder not found"):
        ImageFolders([a, tmp_path / "nowhere"]).check()


# --- exports --------------------------------------------------------------------------------

MCQ_ROWS = [mcq_row(i) for i in range(24)]
CONV_ROWS = [conv_row(i) for i in range(6)]


@pytest.fixture(scope="module")
def split_images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every image the rows use, spread over two folders."""
    root = tmp_path_factory.mktemp("split_images")
    names = sorted({r["file_name"] for r in MCQ_ROWS + CONV_ROWS})
    for k, name in enumerate(names):
        write_image(root / ("one", "two")[k % 2], name, (64, 48), seed=k)
    return [root / "one", root / "two"]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plain") / "out"
    build_folder(out, MCQ_ROWS, CONV_ROWS)
    return out


def export(out: Path, fmt: str, dest: Path, *extra: str) -> int:
    return main(["export", str(out), "--format", fmt, "--dest", str(dest), *extra])


def folder_flags(folders: list[Path]) -> list[str]:
    return [x for f in folders for x in ("--images-dir", str(f))]


def test_llava_link_images_makes_one_image_folder(
    plain: Path, split_images: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "llava_images"
    flags = ["--include-mcq", "--link-images", str(link), *folder_flags(split_images)]
    assert export(plain, "llava", tmp_path / "x", *flags) == 0
    samples = json.loads((tmp_path / "x" / "msg_llava.json").read_text())
    rows = {r["id"]: r for r in MCQ_ROWS + CONV_ROWS}
    assert len(samples) == len(rows)
    for sample in samples:
        row = rows[sample["id"]]
        assert sample["image"] == f"{row['image_source']}/{row['file_name']}"
        path = link / sample["image"]  # LLaVA: os.path.join(image_folder, image)
        assert path.is_symlink()
        assert path.resolve().parent in {f.resolve() for f in split_images}
        with Image.open(path) as img:
            assert img.size == (row["width"], row["height"])
    # Again into the same folder: links are replaced, never duplicated or followed.
    assert export(plain, "llava", tmp_path / "x", *flags) == 0
    # An image in no folder stops the export, naming it and the option.
    gone = split_images[1] / sorted(p.name for p in split_images[1].iterdir())[0]
    saved = gone.read_bytes()
    gone.unlink()
    try:
        capsys.readouterr()
        assert export(plain, "llava", tmp_path / "y", *flags) == 2
        err = capsys.readouterr().err
        assert gone.name in err and "--images-dir" in err
        assert not (tmp_path / "y" / "msg_llava.json").exists()
    finally:
        gone.write_bytes(saved)


def test_vlmevalkit_images_base64_or_absolute_paths_or_one_error(
    plain: Path, split_images: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    choice = [r for r in MCQ_ROWS if r["form"] in ("mcq", "yes_no")]
    # Not embedded: an absolute path that exists, in whichever folder holds the file.
    assert export(plain, "vlmevalkit", tmp_path / "p", *folder_flags(split_images)) == 0
    data = pd.read_csv(tmp_path / "p" / "MSG_MCQ.tsv", sep="\t")
    assert list(data["msg_id"]) == [r["id"] for r in choice]
    for path, row in zip(data["image_path"], choice, strict=True):
        assert Path(path).is_absolute() and Path(path).is_file()
        assert Path(path).name == row["file_name"]
    # Embedded for some items only (one folder at build time): the rest read from the other.
    out = tmp_path / "half"
    _, quarantine = build_folder(out, MCQ_ROWS, CONV_ROWS, images_dir=split_images[0])
    assert quarantine, "half of the images should be missing at build time"
    assert export(out, "vlmevalkit", tmp_path / "b", *folder_flags(split_images[1:])) == 0
    raw = pd.read_csv(tmp_path / "b" / "MSG_MCQ.tsv", sep="\t")
    cells = dict(zip(raw["index"].astype(str), raw["image"].astype(str), strict=True))
    for index, row in zip(raw["index"].astype(str), choice, strict=True):
        cell = cells[index]
        cell = cells[cell] if len(cell) <= 64 else cell  # VLMEvalKit's index references
        with Image.open(io.BytesIO(base64.b64decode(cell))) as img:
            assert img.size == (row["width"], row["height"])
    # Nowhere: one error naming the files and the options; nothing written.
    capsys.readouterr()
    assert export(out, "vlmevalkit", tmp_path / "c") == 2
    err = capsys.readouterr().err
    missing = sorted({q.file_name for q in quarantine})
    assert missing[0] in err and "--images-dir" in err and "--skip-missing-images" in err
    assert not (tmp_path / "c" / "MSG_MCQ.tsv").exists()
    assert export(out, "vlmevalkit", tmp_path / "c", "--skip-missing-images") == 0
    kept = pd.read_csv(tmp_path / "c" / "MSG_MCQ.tsv", sep="\t")
    assert len(kept) == sum(r["file_name"] not in missing for r in choice)


def load_utils(folder: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("msg_utils_images", folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    return utils


def test_lmms_eval_doc_to_visual_finds_images_or_names_file_and_variable(
    plain: Path,
    split_images: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The export says up front how many images a run would not find.
    assert export(plain, "lmms-eval", tmp_path / "one", *folder_flags(split_images[:1])) == 0
    assert "image(s) are not embedded and not in the image folders" in capsys.readouterr().out
    assert export(plain, "lmms-eval", tmp_path, *folder_flags(split_images)) == 0
    assert "not in the image folders" not in capsys.readouterr().out
    folder = tmp_path / "msg_mcq"
    monkeypatch.delenv("MSG_IMAGES_DIR", raising=False)
    utils = load_utils(folder, {}, monkeypatch)
    for row in MCQ_ROWS:  # the folders given at export time are searched
        [image] = utils.msg_doc_to_visual(row)
        assert image.size == (row["width"], row["height"])
    # MSG_IMAGES_DIR overrides them (os.pathsep-separated); a file in none: one clear error.
    utils = load_utils(folder, {"MSG_IMAGES_DIR": str(split_images[0])}, monkeypatch)
    found = Counter()
    for row in MCQ_ROWS:
        try:
            utils.msg_doc_to_visual(row)
            found["ok"] += 1
        except FileNotFoundError as exc:
            found["missing"] += 1
            message = str(exc)
            assert row["file_name"] in message and "MSG_IMAGES_DIR" in message
            assert row["id"] in message and exc.__cause__ is None
    assert found["ok"] and found["missing"]
    both = os.pathsep.join(str(f) for f in split_images)
    utils = load_utils(folder, {"MSG_IMAGES_DIR": both}, monkeypatch)
    assert all(utils.msg_doc_to_visual(row) for row in MCQ_ROWS)


@pytest.mark.slow
def test_relative_images_dir_is_recorded_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports, audits and reviews read the build's folders from its manifest, maybe from
    another working folder: a relative --images-dir must still name the same folder there."""
    from pipeline.publish.image_folders import folders_for

    work, out = tmp_path / "work", tmp_path / "out"
    (work / "imgs").mkdir(parents=True)
    monkeypatch.chdir(work)
    assert main(["build", "--images-dir", "imgs", "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["images_dir"] == [str(work / "imgs")]
    monkeypatch.chdir(tmp_path)
    assert [d.absolute() for d in folders_for(out, None).dirs] == [work / "imgs"]
