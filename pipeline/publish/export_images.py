"""Images for the exports: each item's image from the shard when embedded, else found by
name in image folders (`msg export --images-dir`, repeatable; by default the build's own).

- LLaVA opens `os.path.join(image_folder, sample["image"])`: samples name their image
  `<image_source>/<file_name>` (COCO and VG file names never mix), under one image folder
  that `--link-images DIR` fills with symlinks (embedded images are written there as files).
- VLMEvalKit's ImageBaseDataset decodes an `image` column of base64 for every row, or passes
  an `image_path` cell to the model as is: base64 when the image can be read, else an
  absolute path that exists, else one error naming the files and the option to pass.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.errors import InputError
from pipeline.publish.image_folders import IMAGES_FLAG, ImageFolders, ImageRejected
from pipeline.publish.images import load_checked_image
from pipeline.publish.layout import IMAGE_COLUMN

SHOWN = 5  # missing files named in an error; the rest are counted


class MissingImages(InputError):
    """Items whose image is neither embedded nor in any image folder."""

    def __init__(self, what: str, missing: list[str], folders: ImageFolders, hint: str) -> None:
        names = ", ".join(missing[:SHOWN]) + (
            f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        )
        where = f"searched {folders.describe()}" if folders else "no image folder given"
        super().__init__(
            what,
            f"{len(missing)} image(s) not embedded and not found ({where}): {names}; pass "
            f"{IMAGES_FLAG} DIR once per folder holding them (COCO train2017/val2017, VG "
            f"VG_100K/VG_100K_2){hint}",
        )


def embedded_bytes(row: dict[str, Any]) -> bytes | None:
    image = row.get(IMAGE_COLUMN)
    return image["bytes"] if image and image.get("bytes") else None


def source_path(row: dict[str, Any]) -> str:
    """`<image_source>/<file_name>`: where LLaVA's image folder holds the item's image."""
    name = row["file_name"]
    rel = PurePosixPath(name.replace("\\", "/"))
    if not name or rel.is_absolute() or ".." in rel.parts or "\x00" in name:
        raise InputError(row["id"], f"image file name {name!r} is not a safe relative path")
    return f"{row.get('image_source') or 'unknown'}/{rel.as_posix()}"


def find_file(row: dict[str, Any], folders: ImageFolders) -> Path | None:
    """The absolute path of the item's image in the folders, or None."""
    try:
        return folders.find(row["file_name"]).resolve()
    except ImageRejected:
        return None


def readable_bytes(row: dict[str, Any], folders: ImageFolders) -> bytes | None:
    """The embedded image, else the folders' file once it passes the build's checks."""
    data = embedded_bytes(row)
    if data is not None or not folders:
        return data
    try:
        return load_checked_image(folders, row["file_name"], row["width"], row["height"])
    except ImageRejected:
        return None


class ImageFolderWriter:
    """One LLaVA image folder: embedded images written as files, others linked to the
    folders' files (with `link`); each `<source>/<file_name>` once."""

    def __init__(self, root: Path, folders: ImageFolders, link: bool) -> None:
        self.root, self.folders, self.link = root, folders, link
        self.done: dict[str, bool] = {}  # relative path -> present in the folder
        self.written = self.linked = 0
        self.missing: list[str] = []

    def add(self, row: dict[str, Any]) -> str:
        rel = source_path(row)
        if rel not in self.done:
            self.done[rel] = self._place(row, rel)
        return rel

    def _place(self, row: dict[str, Any], rel: str) -> bool:
        data = embedded_bytes(row)
        target = self.root / rel
        if data is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_bytes(data)
            self.written += 1
            return True
        if not self.link:
            return False
        found = find_file(row, self.folders)
        if found is None:
            self.missing.append(row["file_name"])
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_symlink() and Path(os.readlink(target)) == found):
            tmp = target.with_name(f".{target.name}.link")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(found)
            tmp.replace(target)  # a link from an earlier export is replaced, never followed
        self.linked += 1
        return True

    @property
    def absent(self) -> int:
        """Images the JSON names that are not in the image folder."""
        return sum(not present for present in self.done.values())


def unresolved_images(out: Path, folders: ImageFolders) -> list[str]:
    """MSG-MCQ file names neither embedded nor in the folders (what lmms-eval's
    doc_to_visual would fail on), for the export to report before a run does."""
    from pipeline.publish.layout import CONFIGS, iter_rows

    missing: set[str] = set()
    for row in iter_rows(out, CONFIGS["mcq"]):
        if embedded_bytes(row) is None and row["file_name"] not in missing:
            if find_file(row, folders) is None:
                missing.add(row["file_name"])
    return sorted(missing)
