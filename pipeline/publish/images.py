"""The `image` column: each item's image file, checked with Pillow, as the `datasets` Image
feature ({bytes, path}). A file that cannot be trusted leaves the item without an image and
is reported with a reason, for the build to write to its quarantine."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from pipeline.publish.layout import IMAGE_COLUMN


@dataclass(frozen=True)
class ImageProblem:
    """One item whose image was quarantined."""

    item_id: str
    file_name: str
    reason: str  # image_unsafe_path | image_missing | image_unreadable | image_too_large |
    # image_size_mismatch
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.item_id,
            "file_name": self.file_name,
            "reason": self.reason,
            "detail": self.detail,
        }


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def resolve_image_path(images_dir: Path, file_name: str) -> Path:
    """The file for `file_name` inside `images_dir`; refuses absolute paths, `..` and
    symlinks that lead outside the folder (a record must not read arbitrary files)."""
    rel = PurePosixPath(file_name.replace("\\", "/"))
    if not file_name or rel.is_absolute() or ".." in rel.parts or Path(file_name).is_absolute():
        raise _Rejected("image_unsafe_path", f"file name {file_name!r} is not a relative path")
    if "\x00" in file_name:  # the OS would cut the name there (and Python refuses it)
        raise _Rejected("image_unsafe_path", f"file name {file_name!r} holds a NUL byte")
    root = images_dir.resolve()
    try:
        path = (root / rel).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before 3.13)
        raise _Rejected("image_unreadable", f"{images_dir / rel}: {exc}") from None
    if not path.is_relative_to(root):
        raise _Rejected("image_unsafe_path", f"{file_name!r} leads outside {images_dir}")
    return path


def load_checked_image(images_dir: Path, file_name: str, width: int, height: int) -> bytes:
    """The file's bytes, once Pillow has decoded it and its size matches the annotation."""
    path = resolve_image_path(images_dir, file_name)
    if not path.is_file():
        raise _Rejected("image_missing", f"{images_dir / file_name} does not exist")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: treat it as a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                size = img.size
                limit = Image.MAX_IMAGE_PIXELS
                if limit is not None and size[0] * size[1] > limit:
                    raise _Rejected(
                        "image_too_large", f"{path}: {size[0]}x{size[1]} exceeds {limit} pixels"
                    )
                img.load()  # full decode: catches truncated or corrupt files
    except _Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _Rejected("image_too_large", f"{path}: {exc}") from None
    except Exception as exc:  # Pillow raises many types for a bad file
        raise _Rejected("image_unreadable", f"{path}: {type(exc).__name__}: {exc}") from None
    if size != (width, height):
        raise _Rejected(
            "image_size_mismatch",
            f"{path}: image is {size[0]}x{size[1]}, annotation says {width}x{height}",
        )
    # Read only once Pillow has accepted the file: a huge file that is no image is not
    # loaded into memory.
    return path.read_bytes()


def image_feature_rows(
    rows: Iterable[dict[str, Any]],
    images_dir: Path,
    quarantine: list[ImageProblem],
) -> Iterator[dict[str, Any]]:
    """Each row with an `image` column ({bytes, path}, or None when its image is rejected;
    the reason is appended to `quarantine`). Items of one image are usually adjacent, so
    the last image checked is kept to avoid reading it again."""
    last_key: tuple[str, int, int] | None = None
    last: bytes | _Rejected | None = None
    for row in rows:
        key = (row["file_name"], row["width"], row["height"])
        if key != last_key:
            try:
                last = load_checked_image(images_dir, *key)
            except _Rejected as rejected:
                last = rejected
            last_key = key
        if isinstance(last, _Rejected):
            quarantine.append(ImageProblem(row["id"], key[0], last.reason, last.detail))
            image = None
        else:
            image = {"bytes": last, "path": key[0]}
        yield {**row, IMAGE_COLUMN: image}
