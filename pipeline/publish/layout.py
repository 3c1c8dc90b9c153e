"""Where each config lives in the output folder, and its Arrow schema / `datasets` features.

The `datasets` features are derived from the lead's explicit Arrow schemas (never from
data); the optional `image` column is the `datasets` Image feature, whose Arrow type is
struct{bytes: binary, path: string}. The features are stored in the Parquet schema metadata
under the `huggingface` key, which is where `datasets` looks for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from datasets import Features, Image

from pipeline import arrow_schemas
from pipeline.parquet_io import parquet_file
from pipeline.storage import FsPath, location

IMAGE_COLUMN = "image"
SHARD_NAME = re.compile(r"^(?P<split>[a-z]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")


@dataclass(frozen=True)
class Config:
    name: str  # the `datasets` config name (and the JSON schema's name)
    split: str
    schema: pa.Schema  # without the image column

    def folder(self, out: Path | FsPath) -> Path | FsPath:
        return out / "data" / self.name

    def pattern(self) -> str:
        """The card's data_files glob, relative to the output folder."""
        return f"data/{self.name}/{self.split}-*.parquet"


CONFIGS: dict[str, Config] = {
    "mcq": Config("mcq", "test", arrow_schemas.MCQ),
    "conv": Config("conv", "train", arrow_schemas.CONV),
}


def features_for(schema: pa.Schema, with_image: bool) -> Features:
    features = Features.from_arrow_schema(schema.remove_metadata())
    if with_image:
        features[IMAGE_COLUMN] = Image()
    return features


def arrow_schema_for(schema: pa.Schema, with_image: bool) -> pa.Schema:
    """The schema the shards are written with: the explicit columns (plus `image`), with the
    `datasets` feature metadata so that `load_dataset` decodes images."""
    features = features_for(schema, with_image)
    arrow = features.arrow_schema
    # The derived schema must be the explicit one, column for column: nothing guessed.
    base = pa.schema(list(arrow)[: len(schema)])
    if not base.equals(schema.remove_metadata()):
        raise ValueError(f"datasets features do not round-trip the Arrow schema: {schema}")
    return arrow


def shard_files(out: Path | FsPath, config: Config) -> list[Path | FsPath]:
    """The config's shards in order (final names only, never temp files), of the same path
    type as `out` (a local folder, or a build's output on any filesystem)."""
    folder = config.folder(out)
    listing = location(folder)
    if not listing.is_dir():
        return []
    return sorted(
        folder / p.name
        for p in listing.iterdir()
        if (m := SHARD_NAME.match(p.name)) and m["split"] == config.split and p.is_file()
    )


def has_image_column(out: Path | FsPath, config: Config) -> bool:
    files = shard_files(out, config)
    return bool(files) and IMAGE_COLUMN in parquet_file(files[0]).schema_arrow.names


def iter_rows(
    out: Path | FsPath, config: Config, batch_size: int = 256
) -> Iterator[dict[str, Any]]:
    """The config's rows in shard order, a batch at a time (never the whole table)."""
    for path in shard_files(out, config):
        for batch in parquet_file(path).iter_batches(batch_size=batch_size):
            yield from batch.to_pylist()
