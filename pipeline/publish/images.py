"""The `image` column: each item's image file, checked with Pillow, as the `datasets` Image
feature ({bytes, path}). A file that cannot be trusted leaves the item without an image and
is reported with a reason, for the build to write to its quarantine."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline.publish.image_folders import (
    ImageFolders,
    as_folders,
    resolve_image_path,
)
from pipeline.publish.image_folders import ImageRejected as _Rejected
from pipeline.publish.layout import IMAGE_COLUMN

__all__ = ["ImageCoverage", "ImageProblem", "image_feature_rows", "resolve_image_path"]


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


def load_checked_image(
    images: Path | Sequence[Path] | ImageFolders, file_name: str, width: int, height: int
) -> bytes:
    """The file's bytes, once Pillow has decoded it and its size matches the annotation.
    `images` is one folder or several, searched by name (see image_folders)."""
    path = as_folders(images).find(file_name)
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


@dataclass
class ImageCoverage:
    """Per image source (coco, vg): the distinct images the items use and how many of them
    are embedded, missing from every folder, or rejected for another reason; and the items
    with and without their image. "not_searched" counts images of a build without
    --images-dir. Reported in the build summary, the manifest and the card."""

    images: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    items: Counter = field(default_factory=Counter)
    unsearched: Counter = field(default_factory=Counter)  # source -> images

    def add(self, source: str, file_name: str, status: str) -> None:
        self.images.setdefault(source, {}).setdefault(status, set()).add(file_name)
        self.items[(source, status)] += 1

    def add_counts(self, source: str, images: int, items: int) -> None:
        """Images never looked up (no --images-dir): counted, not named."""
        self.images.setdefault(source, {})
        self.unsearched[source] += images
        self.items[(source, "not_searched")] += items

    def state(self) -> dict[str, Any]:
        """What it counted, JSON-able: another process's coverage `absorb`s it."""
        return {
            "images": {
                source: {status: sorted(names) for status, names in per.items()}
                for source, per in self.images.items()
            },
            "items": [[source, status, n] for (source, status), n in self.items.items()],
            "unsearched": dict(self.unsearched),
        }

    def absorb(self, state: dict[str, Any]) -> None:
        """Adds a `state()` in: the same images once, items and unsearched images summed."""
        for source, per in state["images"].items():
            mine = self.images.setdefault(source, {})
            for status, names in per.items():
                mine.setdefault(status, set()).update(names)
        for source, status, n in state["items"]:
            self.items[(source, status)] += n
        self.unsearched.update(state["unsearched"])

    def to_dict(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for source in sorted(self.images):
            per = self.images[source]
            row = {
                status: len(per.get(status, ())) for status in ("embedded", "missing", "rejected")
            }
            row["not_searched"] = self.unsearched[source]
            row["images"] = sum(row.values())
            row["items"] = sum(n for (s, _), n in self.items.items() if s == source)
            row["items_embedded"] = self.items[(source, "embedded")]
            out[source] = row
        return out


def _status(reason: str) -> str:
    return "missing" if reason == "image_missing" else "rejected"


def image_feature_rows(
    rows: Iterable[dict[str, Any]],
    images: Path | Sequence[Path] | ImageFolders,
    quarantine: list[ImageProblem],
    coverage: ImageCoverage | None = None,
) -> Iterator[dict[str, Any]]:
    """Each row with an `image` column ({bytes, path}, or None when its image is rejected;
    the reason is appended to `quarantine`). `images` is one folder or several, searched
    by file name. Items of one image are usually adjacent, so the last image checked is
    kept to avoid reading it again."""
    folders = as_folders(images)
    coverage = coverage if coverage is not None else ImageCoverage()
    last_key: tuple[str, int, int] | None = None
    last: bytes | _Rejected | None = None
    for row in rows:
        key = (row["file_name"], row["width"], row["height"])
        if key != last_key:
            try:
                last = load_checked_image(folders, *key)
            except _Rejected as rejected:
                last = rejected
            last_key = key
        source = row.get("image_source") or "unknown"
        if isinstance(last, _Rejected):
            quarantine.append(ImageProblem(row["id"], key[0], last.reason, last.detail))
            coverage.add(source, key[0], _status(last.reason))
            image = None
        else:
            coverage.add(source, key[0], "embedded")
            image = {"bytes": last, "path": key[0]}
        yield {**row, IMAGE_COLUMN: image}
