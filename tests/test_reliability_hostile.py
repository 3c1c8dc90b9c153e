"""Issue 9, point 2: hostile files. Image names and folders built to read outside
`--images-dir`, decompression bombs and broken images are refused or quarantined (and no
file outside the folder is ever opened); a published folder whose files do not match its
manifest is rejected by `msg validate`.

test_publish_images.py has the basic reasons (`..`, absolute path, symlink out, garbage,
half a JPEG, a bomb by lowering the pixel limit); these add the rest, end to end too."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import shutil
import signal
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_publish_support import build_folder, conv_row, mcq_row, write_image

from pipeline.cli import main
from pipeline.publish.images import image_feature_rows

OUTSIDE_SECRET = b"SECRET-OUTSIDE-THE-IMAGES-FOLDER"


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (SIGALRM: the main thread of a POSIX process)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` in a few dozen bytes (a decompression bomb's
    header: Pillow reads the size before any pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_bytes(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# name -> (how the file / name is made, expected reason). `images` is the images folder,
# `outside` a folder beside it holding a readable secret image and a secret text file.
def _setup(case: str, images: Path, outside: Path) -> str:
    """Make the hostile file for `case`; return the record's file_name."""
    name = "000000001000.jpg"
    if case == "dotdot_inside_path":
        return f"sub/../../outside/{name}"
    if case == "backslash_dotdot":
        return f"..\\outside\\{name}"
    if case == "double_slash_absolute":
        return f"/{outside}/{name}"
    if case == "nul_byte":
        return f"{name}\x00.png"
    if case == "symlinked_folder_out":
        os.symlink(outside, images / "sub")
        return f"sub/{name}"
    if case == "symlink_to_secret_text":
        os.symlink(outside / "secret.txt", images / name)
        return name
    if case == "symlink_chain_out":
        os.symlink(outside / name, images / "hop2.jpg")
        os.symlink("hop2.jpg", images / name)
        return name
    if case == "symlink_loop":
        os.symlink("loop-b.jpg", images / "loop-a.jpg")
        os.symlink("loop-a.jpg", images / "loop-b.jpg")
        return "loop-a.jpg"
    if case == "folder_named_like_an_image":
        (images / name).mkdir()
        return name
    if case == "fifo_named_like_an_image":
        os.mkfifo(images / name)  # opening it would block the build forever
        return name
    if case == "bomb_far_above_limit":
        (images / name).write_bytes(png_header(50_000, 50_000))
        return name
    if case == "bomb_just_above_limit":  # Pillow only warns here; it is still refused
        side = int((Image.MAX_IMAGE_PIXELS or 0) ** 0.5) + 100
        (images / name).write_bytes(png_header(side, side))
        return name
    if case == "truncated_png":
        data = png_bytes((64, 48))
        (images / name).write_bytes(data[: len(data) - 30])
        return name
    if case == "empty_file":
        (images / name).write_bytes(b"")
        return name
    if case == "jpeg_header_only":
        data = write_image(outside / "tmp", name, (64, 48)).read_bytes()
        (images / name).write_bytes(data[:200])
        return name
    raise AssertionError(case)


HOSTILE = {
    "dotdot_inside_path": "image_unsafe_path",
    "backslash_dotdot": "image_unsafe_path",
    "double_slash_absolute": "image_unsafe_path",
    "nul_byte": "image_unsafe_path",
    "symlinked_folder_out": "image_unsafe_path",
    "symlink_to_secret_text": "image_unsafe_path",
    "symlink_chain_out": "image_unsafe_path",
    "symlink_loop": "image_unreadable",
    "folder_named_like_an_image": "image_missing",
    "fifo_named_like_an_image": "image_missing",
    "bomb_far_above_limit": "image_too_large",
    "bomb_just_above_limit": "image_too_large",
    "truncated_png": "image_unreadable",
    "empty_file": "image_unreadable",
    "jpeg_header_only": "image_unreadable",
}


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    images, outside = tmp_path / "images", tmp_path / "outside"
    images.mkdir()
    write_image(outside, "000000001000.jpg", (64, 48))  # a valid image, but outside
    (outside / "secret.txt").write_bytes(OUTSIDE_SECRET)
    return images, outside


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path opened for reading (open(), Path.read_bytes, Pillow), resolved."""
    paths: list[Path] = []
    real_open, real_image_open = builtins.open, Image.open

    def spy_open(file: Any, *args: Any, **kwargs: Any):
        if isinstance(file, str | os.PathLike):
            paths.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    def spy_image_open(fp: Any, *args: Any, **kwargs: Any):
        if isinstance(fp, str | os.PathLike):
            paths.append(Path(fp).resolve())
        return real_image_open(fp, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)  # Path.read_bytes opens through io.open
    monkeypatch.setattr(Image, "open", spy_image_open)
    return paths


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_image_is_quarantined_and_nothing_outside_is_read(
    folders: tuple[Path, Path], opened: list[Path], case: str
) -> None:
    images, outside = folders
    row = mcq_row(0, image_id=1000)
    row["file_name"] = _setup(case, images, outside)
    opened.clear()  # only what the image check opens counts
    quarantine: list = []
    with deadline(60):  # opening the FIFO would hang, not fail
        rows = list(image_feature_rows([row], images, quarantine))
    assert rows[0]["image"] is None
    assert [(q.item_id, q.reason) for q in quarantine] == [(row["id"], HOSTILE[case])]
    root = images.resolve()
    assert all(p.is_relative_to(root) for p in opened), opened


# -- end to end: hostile names in the annotations, through `msg build --images-dir` ------


def test_build_with_hostile_image_names_quarantines_them_and_validates(
    small, cli, tmp_path: Path, scenes_of
) -> None:
    """COCO file names pointing outside the folder, at a bomb or at a broken file: the
    build succeeds, each is in quarantine/images.jsonl with its reason, no published byte
    comes from outside the folder, and the folder validates."""
    images, outside = tmp_path / "images", tmp_path / "outside"
    images.mkdir()
    coco = small.instances["images"]
    secret = write_image(outside, "secret.jpg", (coco[0]["width"], coco[0]["height"]), seed=7)
    hostile = {
        coco[0]["id"]: (f"../outside/{secret.name}", "image_unsafe_path"),
        coco[1]["id"]: (str(secret), "image_unsafe_path"),
        coco[2]["id"]: ("bomb.png", "image_too_large"),
        coco[3]["id"]: ("cut.jpg", "image_unreadable"),
    }
    (images / "bomb.png").write_bytes(png_header(40_000, 40_000))
    data = write_image(tmp_path / "tmp", "cut.jpg", (coco[3]["width"], coco[3]["height"]))
    (images / "cut.jpg").write_bytes(data.read_bytes()[:300])
    for record in [*coco, *small.captions["images"]]:
        record["file_name"] = hostile[record["id"]][0]
    for vg in small.vg_images:  # VG images are named <image_id>.jpg: give them good files
        write_image(images, f"{vg['image_id']}.jpg", (vg["width"], vg["height"]))
    small.write()
    out = tmp_path / "out"
    code, _, err = cli("build", *small.args(), "--images-dir", images, "--out", out, "--quiet")
    assert code == 0, err
    problems = [json.loads(line) for line in (out / "quarantine" / "images.jsonl").open()]
    by_name = {p["file_name"]: p["reason"] for p in problems}
    published = {name for name, _ in hostile.values()} & set(by_name)
    assert published, "no item of a hostile image was published at all"
    for name, reason in hostile.values():
        if name in by_name:
            assert by_name[name] == reason, name
    import pyarrow.parquet as pq

    secret_bytes = secret.read_bytes()
    embedded = 0
    for shard in sorted((out / "data").rglob("*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            image = row["image"]
            if row["file_name"] in by_name:
                assert image is None
            if image is not None:
                embedded += 1
                assert image["bytes"] != secret_bytes
    assert embedded, "the good VG images should be embedded"
    assert cli("validate", out)[0] == 0


# -- a published folder that does not match its manifest --------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile_validate") / "out"
    build_folder(out, [mcq_row(i) for i in range(12)], [conv_row(i) for i in range(4)])
    return out


def _swap_shards(out: Path) -> str:
    """Two shards swapped: each file is fine, neither is where the manifest says."""
    mcq = next((out / "data" / "mcq").glob("*.parquet"))
    conv = next((out / "data" / "conv").glob("*.parquet"))
    tmp = mcq.with_suffix(".swap")
    mcq.rename(tmp)
    conv.rename(mcq)
    tmp.rename(conv)
    return mcq.relative_to(out).as_posix()


def _manifest_lists_a_path_outside(out: Path) -> str:
    manifest = json.loads((out / "manifest.json").read_text())
    entry = dict(manifest["outputs"][0], path="../../etc/passwd")
    manifest["outputs"].append(entry)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return "manifest.json"


def _extra_shard_copy(out: Path) -> str:
    # Not a shard name, but a Parquet file the card's data_files glob would pick up.
    shard = next((out / "data" / "mcq").glob("*.parquet"))
    copy = out / "data" / "mcq" / "copy.parquet"
    shutil.copy(shard, copy)
    return copy.relative_to(out).as_posix()


def _symlink_to_an_identical_file_outside(out: Path) -> str:
    # Same bytes, so the sha256 matches: but the folder now depends on a file outside it.
    card = out / "README.md"
    outside = out.parent / "README-outside.md"
    shutil.move(card, outside)
    os.symlink(outside, card)
    return "README.md"


def _symlink_to_dev_zero(out: Path) -> str:
    # Hashing it would never end.
    shard = next((out / "data" / "conv").glob("*.parquet"))
    shard.unlink()
    os.symlink("/dev/zero", shard)
    return shard.relative_to(out).as_posix()


def _fifo_in_place_of_the_card(out: Path) -> str:
    (out / "README.md").unlink()
    os.mkfifo(out / "README.md")  # opening it would block forever
    return "README.md"


def _manifest_is_a_symlink(out: Path) -> str:
    target = out.parent / "manifest-elsewhere.json"
    shutil.move(out / "manifest.json", target)
    os.symlink(target, out / "manifest.json")
    return "manifest.json"


def _data_folder_is_a_symlink_out(out: Path) -> str:
    elsewhere = out.parent / "data-elsewhere"
    shutil.move(out / "data", elsewhere)
    os.symlink(elsewhere, out / "data")
    return next(p for p in sorted((out / "data").rglob("*.parquet"))).relative_to(out).as_posix()


def _manifest_truncated(out: Path) -> str:
    data = (out / "manifest.json").read_bytes()
    (out / "manifest.json").write_bytes(data[: len(data) // 2])
    return "manifest.json"


def _shard_replaced_by_garbage(out: Path) -> str:
    shard = next((out / "data" / "conv").glob("*.parquet"))
    shard.write_bytes(b"PAR1 not really a parquet file PAR1")
    return shard.relative_to(out).as_posix()


MISMATCHES = {
    "shards_swapped": _swap_shards,
    "manifest_lists_a_path_outside": _manifest_lists_a_path_outside,
    "extra_shard_copy": _extra_shard_copy,
    "manifest_truncated": _manifest_truncated,
    "shard_replaced_by_garbage": _shard_replaced_by_garbage,
    "symlink_to_an_identical_file_outside": _symlink_to_an_identical_file_outside,
    "symlink_to_dev_zero": _symlink_to_dev_zero,
    "fifo_in_place_of_the_card": _fifo_in_place_of_the_card,
    "manifest_is_a_symlink": _manifest_is_a_symlink,
    "data_folder_is_a_symlink_out": _data_folder_is_a_symlink_out,
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_validate_rejects_a_folder_that_does_not_match_its_manifest(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    out = tmp_path / "out"
    shutil.copytree(published, out)
    blamed = MISMATCHES[case](out)
    with deadline(60):  # a FIFO or /dev/zero read would hang, not fail
        code = main(["validate", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert f"{out}/{blamed}" in err, err


def test_the_spy_sees_what_the_image_check_reads(folders: tuple[Path, Path], opened: list[Path]):
    # Guards the test above against a spy that sees nothing.
    images, _ = folders
    write_image(images, "000000001000.jpg", (64, 48))
    opened.clear()
    rows = list(image_feature_rows([mcq_row(0, image_id=1000)], images, []))
    assert rows[0]["image"] is not None
    assert (images / "000000001000.jpg").resolve() in opened
