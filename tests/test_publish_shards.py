"""Parquet shards: names, explicit schema, determinism, size limits, atomic writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_publish_support import conv_row, mcq_row, partitions

from pipeline import arrow_schemas
from pipeline.publish.layout import CONFIGS, arrow_schema_for, shard_files
from pipeline.publish.shards import ShardError, write_config_shards, write_shards

MCQ = arrow_schema_for(arrow_schemas.MCQ, with_image=False)


def digests(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_names_schema_and_rows_round_trip(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(25)]
    paths = write_shards(tmp_path, "test", partitions(rows, 4), MCQ, max_shard_bytes=1 << 30)
    assert [p.name for p in paths] == ["test-00000-of-00001.parquet"]
    table = pq.read_table(paths[0])
    assert table.schema.remove_metadata().equals(arrow_schemas.MCQ)  # explicit, not guessed
    assert table.to_pylist() == rows
    assert b"huggingface" in pq.read_schema(paths[0]).metadata


def test_same_rows_same_bytes_whatever_the_partitioning(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(300)]
    runs = []
    for n in (1, 3, 7):
        dest = tmp_path / f"p{n}"
        paths = write_shards(dest, "test", partitions(rows, n), MCQ, 40_000, row_group_rows=50)
        runs.append(([p.name for p in paths], digests(paths)))
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0][0]) > 1  # the limit really split the data


def test_arrow_table_partitions_give_the_same_bytes_as_rows(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(300)]
    by_rows = write_shards(tmp_path / "rows", "test", partitions(rows, 3), MCQ, 40_000, 50)
    for n in (1, 4):
        tables = [pa.Table.from_pylist(p, schema=arrow_schemas.MCQ) for p in partitions(rows, n)]
        by_tables = write_shards(tmp_path / f"t{n}", "test", tables, MCQ, 40_000, 50)
        assert [p.name for p in by_tables] == [p.name for p in by_rows]
        assert digests(by_tables) == digests(by_rows)
    assert len(by_rows) > 1


def test_an_arrow_partition_with_other_columns_is_named(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([mcq_row(1)], schema=arrow_schemas.MCQ).drop_columns(["answer"])
    with pytest.raises(ShardError, match=r"missing \['answer'\]"):
        write_shards(tmp_path, "test", [table], MCQ)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_max_shard_bytes_splits_and_names_count_shards(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(400)]
    paths = write_shards(tmp_path, "test", [rows], MCQ, max_shard_bytes=30_000, row_group_rows=40)
    n = len(paths)
    assert n >= 3
    assert [p.name for p in paths] == [f"test-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    back = [r for p in paths for r in pq.read_table(p).to_pylist()]
    assert back == rows  # order kept across shards
    for p in paths:
        meta = pq.ParquetFile(p).metadata
        assert all(meta.row_group(i).num_rows <= 40 for i in range(meta.num_row_groups))
        # each shard stays under the limit unless a single row group is larger than it
        assert pq.read_table(p).nbytes <= 30_000 or meta.num_row_groups == 1


def test_max_shard_row_groups_bounds_every_footer(tmp_path: Path) -> None:
    """A shard holds at most max_shard_row_groups row groups however few bytes they are:
    its footer, which every reader parses whole, stays bounded as the input grows."""
    rows = [mcq_row(i) for i in range(230)]
    paths = write_shards(
        tmp_path, "test", partitions(rows, 3), MCQ, 1 << 30, 20, max_shard_row_groups=4
    )
    groups = [pq.ParquetFile(p).metadata.num_row_groups for p in paths]
    assert groups == [4, 4, 4]  # 12 groups of 20 rows, the last one 10
    assert [p.name for p in paths] == [f"test-{i:05d}-of-00003.parquet" for i in range(3)]
    assert [r for p in paths for r in pq.read_table(p).to_pylist()] == rows
    with pytest.raises(ValueError, match="max_shard_row_groups"):
        write_shards(tmp_path, "test", [rows], MCQ, max_shard_row_groups=0)


def test_row_groups_are_split_below_the_byte_cap(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(64)]
    paths = write_shards(
        tmp_path, "test", [rows], MCQ, 1 << 30, row_group_rows=64, row_group_bytes=4_000
    )
    meta = pq.ParquetFile(paths[0]).metadata
    assert meta.num_row_groups > 1
    assert sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) == 64


def test_empty_dataset_writes_one_valid_empty_shard(tmp_path: Path) -> None:
    paths = write_config_shards(tmp_path, "conv", [[], []])
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "data/conv/train-00000-of-00001.parquet"
    ]
    table = pq.read_table(paths[0])
    assert table.num_rows == 0
    assert table.schema.remove_metadata().equals(arrow_schemas.CONV)


def test_rewrite_removes_stale_shards_and_leaves_no_temp_files(tmp_path: Path) -> None:
    rows = [conv_row(i) for i in range(200)]
    schema = arrow_schema_for(arrow_schemas.CONV, False)
    first = write_shards(tmp_path, "train", [rows], schema, 20_000, row_group_rows=20)
    assert len(first) > 1
    (tmp_path / "test-00000-of-00001.parquet").write_bytes(b"other split: kept")
    second = write_shards(tmp_path, "train", [rows[:5]], schema, 20_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["test-00000-of-00001.parquet", "train-00000-of-00001.parquet"]
    )
    assert pq.read_table(second[0]).num_rows == 5


def test_a_bad_row_names_the_record_and_leaves_no_partial_shard(tmp_path: Path) -> None:
    rows = [mcq_row(i) for i in range(30)]
    bad = dict(rows[20], width="wide")
    with pytest.raises(ShardError, match=rf"{bad['id']}.*"):
        write_shards(tmp_path, "test", [rows[:20], [bad]], MCQ, 1 << 30, row_group_rows=10)
    assert list(tmp_path.iterdir()) == []  # neither final nor temp files


def test_a_missing_column_is_refused_not_nulled(tmp_path: Path) -> None:
    row = mcq_row(0)
    del row["answer"]
    with pytest.raises(ShardError, match=r"missing \['answer'\]"):
        write_shards(tmp_path, "test", [[row]], MCQ)


def test_partial_shards_never_appear_under_final_names(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def rows():
        for i in range(120):
            if i % 30 == 0:  # look at the folder while the writer is mid-way
                seen.append(sorted(p.name for p in tmp_path.iterdir()))
            yield mcq_row(i)

    paths = write_shards(tmp_path, "test", [rows()], MCQ, 15_000, row_group_rows=10)
    assert len(paths) > 1
    assert all(not name.endswith(".parquet") for names in seen for name in names)


def test_config_layout(tmp_path: Path) -> None:
    write_config_shards(tmp_path, "mcq", [[mcq_row(0)]])
    assert [p.relative_to(tmp_path).as_posix() for p in shard_files(tmp_path, CONFIGS["mcq"])] == [
        "data/mcq/test-00000-of-00001.parquet"
    ]
    with pytest.raises(ValueError):
        write_shards(tmp_path, "test", [[]], MCQ, max_shard_bytes=0)


def test_image_column_is_the_datasets_image_feature(tmp_path: Path) -> None:
    schema = arrow_schema_for(arrow_schemas.MCQ, with_image=True)
    assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    row = dict(mcq_row(0), image={"bytes": b"\xff\xd8 not decoded here", "path": "a.jpg"})
    paths = write_shards(tmp_path, "test", [[row]], schema)
    meta = pq.ParquetFile(paths[0]).metadata.row_group(0)
    image_bytes = next(
        meta.column(i)
        for i in range(meta.num_columns)
        if meta.column(i).path_in_schema == "image.bytes"
    )
    assert image_bytes.statistics is None  # no min/max copies of image bytes
    assert pq.read_table(paths[0]).to_pylist() == [row]


@settings(max_examples=15, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 90), max_size=6),
    group_rows=st.integers(1, 40),
)
def test_any_partitioning_gives_the_same_shards(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[int], group_rows: int
) -> None:
    rows = [mcq_row(i) for i in range(90)]
    bounds = [0, *sorted(cuts), 90]
    parts = [rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    one = tmp_path_factory.mktemp("one")
    many = tmp_path_factory.mktemp("many")
    expected = write_shards(one, "test", [rows], MCQ, 12_000, row_group_rows=group_rows)
    got = write_shards(many, "test", parts, MCQ, 12_000, row_group_rows=group_rows)
    assert [p.name for p in got] == [p.name for p in expected]
    assert digests(got) == digests(expected)
