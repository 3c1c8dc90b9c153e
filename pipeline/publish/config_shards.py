"""The published shards, one task per config (mcq, conv) on the workers, side by side.

A Parquet writer keeps every row group's metadata until it closes its shard: about 28 KB
per 1,000-row group, so 60 MB for the mcq shard of 100K images (up to the shard cap).
Written in the driver, that made its peak grow with the input (issue 21: a flat driver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from pipeline.config import BuildOptions
from pipeline.parquet_io import parquet_file, read_table
from pipeline.stages import WorkLayout
from pipeline.storage import FsPath

SHARDS_STAGE = "shards"
# publish/layout.CONFIGS's names, in its order (that module imports `datasets`, which a
# build loads only for the card): task i writes SHARD_CONFIGS[i]; results merge in order.
SHARD_CONFIGS = ("mcq", "conv")


def partition_files(layout: WorkLayout, num_partitions: int, stage: str) -> Iterator[FsPath]:
    """A stage's Parquet files in partition order (a stage that did not run: none)."""
    for part in range(num_partitions):
        path = layout.part_file(stage, part, ".parquet")
        if path.exists():
            yield path


def partition_rows(
    layout: WorkLayout, num_partitions: int, stage: str
) -> Iterator[Iterator[dict[str, Any]]]:
    """One row stream per partition (read batch by batch)."""
    for path in partition_files(layout, num_partitions, stage):
        yield (row for batch in parquet_file(path).iter_batches() for row in batch.to_pylist())


def partition_tables(layout: WorkLayout, num_partitions: int, stage: str) -> Iterator[pa.Table]:
    """One Arrow table per partition."""
    return (read_table(path) for path in partition_files(layout, num_partitions, stage))


def config_shards_task(
    layout: WorkLayout,
    index: int,
    out: FsPath,
    options: BuildOptions,
    stages: list[str],
    num_partitions: int,
) -> dict[str, Any]:
    """data/<config>/<split>-NNNNN-of-NNNNN.parquet for SHARD_CONFIGS[index] from the files of
    stages[index] (an empty config still gets one valid shard); with --images-dir, the
    checked image as the `datasets` feature. Returns the items whose image was quarantined
    and what the image coverage counted (ImageCoverage.state)."""
    from pipeline.publish.image_folders import ImageFolders
    from pipeline.publish.images import ImageCoverage, image_feature_rows
    from pipeline.publish.shards import write_config_shards

    problems, coverage = [], ImageCoverage()
    folders = ImageFolders(options.images_dir)
    if not folders:  # the tables as they are: no Python row objects
        parts = counted_tables(partition_tables(layout, num_partitions, stages[index]), coverage)
    else:
        parts = (
            image_feature_rows(p, folders, problems, coverage)
            for p in partition_rows(layout, num_partitions, stages[index])
        )
    write_config_shards(
        out,
        SHARD_CONFIGS[index],
        parts,
        with_image=bool(folders),
        max_shard_bytes=options.max_shard_bytes,
    )
    return {"problems": [p.to_dict() for p in problems], "coverage": coverage.state()}


def counted_tables(tables: Iterator[pa.Table], coverage) -> Iterator[pa.Table]:
    """The tables unchanged; their images, never looked up, counted per source."""
    for table in tables:
        if table.num_rows:
            grouped = table.group_by("image_source").aggregate(
                [("file_name", "count_distinct"), ("file_name", "count")]
            )
            for row in grouped.to_pylist():
                coverage.add_counts(
                    row["image_source"], row["file_name_count_distinct"], row["file_name_count"]
                )
        yield table
