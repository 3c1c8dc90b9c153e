"""Hub-ready Parquet shards: `<dest>/<split>-NNNNN-of-NNNNN.parquet`, streamed.

Rows are consumed partition by partition and regrouped into fixed-size row groups, so the
bytes depend only on the row stream (not on how it was partitioned). Shards are written
under hidden temp names and renamed only when all are complete and their count is known:
a partial file never appears under a final name.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.publish.layout import CONFIGS, SHARD_NAME, arrow_schema_for
from pipeline.storage import FsPath, location

# In line with `datasets.Dataset.push_to_hub` (in-memory Arrow bytes per shard).
DEFAULT_MAX_SHARD_BYTES = 500 * 1024 * 1024
# `datasets` writes 100-row groups for image data and 1000 otherwise; the Hub viewer rejects
# row groups above ~286 MiB in memory, so a group is also split until it is under this cap.
IMAGE_ROW_GROUP_ROWS = 100
TEXT_ROW_GROUP_ROWS = 1000
DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024
# A reader parses a shard's whole footer to open it, and the writer holds it until the
# shard closes: about 25 KB of memory per row group of the mcq schema. A cap on row groups
# keeps that bounded whatever the input size (issue 21: a flat driver): 256 groups, 6 MB.
DEFAULT_MAX_SHARD_ROW_GROUPS = 256


# A partition's rows: dicts (checked and converted here) or an Arrow table.
Partition = pa.Table | Iterable[dict[str, Any]]


class ShardError(ValueError):
    """A row does not fit the explicit schema; names the shard folder, split and record."""


def default_row_group_rows(schema: pa.Schema) -> int:
    return IMAGE_ROW_GROUP_ROWS if _binary_leaves(schema) else TEXT_ROW_GROUP_ROWS


def write_shards(
    dest: Path | FsPath,
    split: str,
    partitions: Iterable[Partition],
    schema: pa.Schema,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
    row_group_rows: int | None = None,
    row_group_bytes: int = DEFAULT_ROW_GROUP_BYTES,
    max_shard_row_groups: int = DEFAULT_MAX_SHARD_ROW_GROUPS,
) -> list[Path | FsPath]:
    """Write the rows of `partitions` (in order) as shards of `split` in `dest` (a local
    folder or a folder on any fsspec filesystem); return the final paths, of the same type
    as `dest`. A partition is rows (dicts) or an Arrow table (no Python objects: faster);
    either way the bytes depend only on the rows. A new shard starts when the next row
    group would pass `max_shard_bytes` or `max_shard_row_groups`. Shards of `split` left in
    `dest` by an earlier run are removed. With no rows at all, one valid empty shard is
    written so that the config still loads."""
    if min(max_shard_bytes, row_group_bytes, max_shard_row_groups) <= 0:
        raise ValueError(
            "max_shard_bytes, row_group_bytes and max_shard_row_groups must be positive"
        )
    group_rows = row_group_rows or default_row_group_rows(schema)
    folder = location(dest)
    folder.mkdir()
    temps: list[FsPath] = []
    writer: pq.ParquetWriter | None = None
    shard_bytes = shard_groups = 0
    try:
        where = f"{dest}/{split}"
        for group in _row_groups(partitions, schema, group_rows, where):
            for table in _under_bytes(group, row_group_bytes):
                if writer is not None and (
                    (shard_bytes and shard_bytes + table.nbytes > max_shard_bytes)
                    or shard_groups == max_shard_row_groups
                ):
                    writer.close()
                    writer = None
                if writer is None:
                    temps.append(_temp_name(folder, split, len(temps)))
                    writer = _open(temps[-1], schema)
                    shard_bytes = shard_groups = 0
                writer.write_table(table, row_group_size=table.num_rows)
                shard_bytes += table.nbytes
                shard_groups += 1
        if writer is None:  # no rows: an empty shard still carries the schema and features
            temps.append(_temp_name(folder, split, 0))
            writer = _open(temps[-1], schema)
        writer.close()
        writer = None
    except BaseException:
        if writer is not None:
            writer.close()
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    names = [f"{split}-{i:05d}-of-{len(temps):05d}.parquet" for i in range(len(temps))]
    for stale in folder.iterdir():
        m = SHARD_NAME.match(stale.name)
        if m and m["split"] == split and stale.name not in names:
            stale.unlink()
    for temp, name in zip(temps, names, strict=True):
        temp.replace(folder / name)
    return [dest / name for name in names]


def write_config_shards(
    out: Path | FsPath,
    config: str,
    partitions: Iterable[Partition],
    with_image: bool = False,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
    row_group_rows: int | None = None,
) -> list[Path | FsPath]:
    """Write `out/data/<config>/<split>-*.parquet` with the config's explicit schema (plus the
    `image` column as the `datasets` Image feature when `with_image`)."""
    cfg = CONFIGS[config]
    schema = arrow_schema_for(cfg.schema, with_image)
    return write_shards(
        cfg.folder(out), cfg.split, partitions, schema, max_shard_bytes, row_group_rows
    )


def _row_groups(
    partitions: Iterable[Partition], schema: pa.Schema, size: int, where: str
) -> Iterator[pa.Table]:
    """Tables of exactly `size` rows (the last one shorter), across partition boundaries."""
    pending: list[pa.Table] = []
    count = 0
    for partition in partitions:
        for table in _partition_tables(partition, schema, size, where):
            pending.append(table)
            count += table.num_rows
            while count >= size:
                joined = pa.concat_tables(pending)
                yield joined.slice(0, size).combine_chunks()
                pending, count = [joined.slice(size)], count - size
    if count:
        yield pa.concat_tables(pending).combine_chunks()


def _partition_tables(
    partition: Partition, schema: pa.Schema, size: int, where: str
) -> Iterator[pa.Table]:
    if isinstance(partition, pa.Table):
        yield _conform(partition, schema, where)
    else:
        for rows in _groups(iter(partition), size):
            yield _to_table(rows, schema, where)


def _conform(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """A partition table with exactly the schema's columns, types and metadata."""
    if set(table.column_names) != set(schema.names):
        missing = sorted(set(schema.names) - set(table.column_names))
        extra = sorted(set(table.column_names) - set(schema.names))
        raise ShardError(
            f"{where}: columns differ from the schema (missing {missing}, unexpected {extra})"
        )
    try:
        return table.select(schema.names).cast(schema).replace_schema_metadata(schema.metadata)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ShardError(f"{where}: a partition does not fit the schema: {exc}") from None


def _groups(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    group: list[dict[str, Any]] = []
    for row in rows:
        group.append(row)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _under_bytes(table: pa.Table, max_bytes: int) -> Iterator[pa.Table]:
    """The group, halved (deterministically) until each part is under max_bytes."""
    if table.nbytes <= max_bytes or table.num_rows == 1:
        yield table
        return
    half = table.num_rows // 2
    yield from _under_bytes(table.slice(0, half).combine_chunks(), max_bytes)
    yield from _under_bytes(table.slice(half).combine_chunks(), max_bytes)


def _to_table(rows: list[dict[str, Any]], schema: pa.Schema, where: str) -> pa.Table:
    names = set(schema.names)
    for row in rows:
        if row.keys() != names:  # from_pylist would silently null a missing column
            missing = sorted(names - row.keys())
            extra = sorted(row.keys() - names)
            raise ShardError(
                f"{where}: record {row.get('id')!r}: columns differ from the schema "
                f"(missing {missing}, unexpected {extra})"
            )
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowException, TypeError, ValueError):
        for row in rows:  # find and name the offending record
            try:
                pa.Table.from_pylist([row], schema=schema)
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise ShardError(f"{where}: record {row.get('id')!r}: {exc}") from None
        raise


def _temp_name(dest: FsPath, split: str, index: int) -> FsPath:
    return dest / f".{split}-{index:05d}.parquet.tmp-{os.getpid()}"


def _open(path: FsPath, schema: pa.Schema) -> pq.ParquetWriter:
    # Fixed options (the same rows give the same bytes); no dictionary or min/max statistics
    # on image bytes, where they only cost space.
    binary = set(_binary_leaves(schema))
    plain = [p for p in _parquet_leaves(schema) if p not in binary]
    return pq.ParquetWriter(
        path.path,
        schema,
        filesystem=path.fs,
        compression="zstd",
        compression_level=3,
        use_dictionary=plain,
        write_statistics=plain,
        version="2.6",
        data_page_version="1.0",
        store_schema=True,
    )


@cache
def _parquet_leaves(schema: pa.Schema) -> tuple[str, ...]:
    # The Parquet column paths (e.g. "image.bytes", "options.list.element") as the writer
    # names them: read back from an empty file written with this schema.
    sink = io.BytesIO()
    pq.ParquetWriter(sink, schema).close()
    parquet_schema = pq.ParquetFile(io.BytesIO(sink.getvalue())).schema
    return tuple(parquet_schema.column(i).path for i in range(len(parquet_schema)))


def _binary_leaves(schema: pa.Schema) -> list[str]:
    binary_fields = _binary_field_paths(schema)
    return [p for p in _parquet_leaves(schema) if p in binary_fields]


def _binary_field_paths(schema: pa.Schema) -> set[str]:
    found: set[str] = set()

    def walk(prefix: str, dtype: pa.DataType) -> None:
        if pa.types.is_struct(dtype):
            for i in range(dtype.num_fields):
                child = dtype.field(i)
                walk(f"{prefix}.{child.name}", child.type)
        elif pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
            found.add(prefix)

    for field in schema:
        walk(field.name, field.type)
    return found
