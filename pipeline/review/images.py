"""The pictures of a review page: from an images folder (given, or the build's own), else
from the `image` column of the shards; shrunk and embedded as JPEG data URIs, so the page
fetches nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from PIL import Image

from pipeline.audit.pictures import data_uri, folder_loader
from pipeline.publish.layout import IMAGE_COLUMN

LONG_SIDE = 800  # px: enough to judge colour and small objects, small enough for 100s of items

Loader = Callable[[dict[str, Any]], bytes | None]


def shard_images(out: Path) -> dict[str, bytes]:
    """file name -> image bytes, from shards written with --images-dir (else empty)."""
    found: dict[str, bytes] = {}
    for path in sorted((out / "data" / "mcq").glob("*.parquet")):
        if IMAGE_COLUMN not in pq.read_schema(path).names:
            continue
        table = pq.read_table(path, columns=["file_name", IMAGE_COLUMN])
        for name, image in zip(
            table.column("file_name").to_pylist(),
            table.column(IMAGE_COLUMN).to_pylist(),
            strict=True,
        ):
            if image and image.get("bytes") and name not in found:
                found[name] = image["bytes"]
    return found


def image_loader(out: Path, images_dir: Path | list[Path] | None) -> Loader:
    """Images by an item's file name: the folders first, then the shards' own bytes."""
    from_folder = folder_loader(images_dir) if images_dir is not None else None
    embedded: dict[str, bytes] | None = None

    def load(item: dict[str, Any]) -> bytes | None:
        nonlocal embedded
        data = from_folder(item) if from_folder else None
        if data is None:
            if embedded is None:  # read once, only when the folder lacks something
                embedded = shard_images(out)
            data = embedded.get(item["file_name"])
        return data

    return load


def embed(data: bytes) -> str | None:
    """A data URI of the image shrunk to LONG_SIDE, or None when it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            scale = min(1.0, LONG_SIDE / max(img.width, img.height))
            if scale < 1.0:
                img = img.resize((round(img.width * scale), round(img.height * scale)))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=85)
    except Exception:  # an unreadable file: the item is left off the page, and counted
        return None
    return data_uri(buf.getvalue())
