"""The item stage holds a bounded chunk of scenes' records at a time, and writes what a
one-shot write of the whole partition would hold; the split's scan for bare NaN reads the
input in blocks."""

from __future__ import annotations

import mmap
from collections import Counter

import pyarrow as pa
import pytest
from conftest import build_sample

from pipeline import items_stage, jsonstream
from pipeline.config import BuildOptions
from pipeline.mcq.balance import UnitColumns
from pipeline.parquet_io import parquet_file, read_table, write_jsonl
from pipeline.sides import EVALUATION
from pipeline.stages import WorkLayout, read_scenes, scene_rows_file
from pipeline.storage import location

SCHEMA = pa.schema([("id", pa.string()), ("scene_id", pa.string()), ("n", pa.int64())])
SCENES, PER_SCENE, CHUNK = 10, 3, 4


def make_records(scene, stats, options, skipped: Counter) -> list[dict]:
    skipped["seen"] += 1
    sid = scene["scene_id"]
    return [{"id": f"{sid}#{i}", "scene_id": sid, "n": i} for i in range(PER_SCENE)]


@pytest.fixture
def partition(tmp_path, monkeypatch):
    layout = WorkLayout(location(tmp_path))
    scenes = [{"scene_id": f"coco/{i}"} for i in range(SCENES)]
    write_jsonl(scene_rows_file(layout, 0), scenes)
    checked: list[int] = []

    def checked_table(config, rows, schema):  # the real checks want real MCQ records
        checked.append(len(rows))
        return pa.Table.from_pylist(rows, schema=schema)

    monkeypatch.setattr(items_stage, "checked_table", checked_table)
    monkeypatch.setattr(items_stage, "CHUNK_SCENES", CHUNK)
    return layout, scenes, checked


def run(layout: WorkLayout, tuning_fraction: float = 0.0) -> dict:
    """The item stage over partition 0 (by default every scene on the evaluation side)."""
    return items_stage.run_items_stage(
        layout,
        0,
        None,
        BuildOptions(tuning_fraction=tuning_fraction),
        config="mcq",
        side=EVALUATION,
        make_records=make_records,
        schema=SCHEMA,
        count_by=lambda r: str(r["n"]),
    )


def test_item_stage_checks_and_writes_one_chunk_at_a_time(partition):
    layout, scenes, checked = partition
    result = run(layout)
    # At most CHUNK scenes' records are ever held: one check and one row group per chunk.
    assert checked == [CHUNK * PER_SCENE, CHUNK * PER_SCENE, 2 * PER_SCENE]
    written = layout.part_file("mcq", 0, ".parquet")
    assert parquet_file(written).metadata.num_row_groups == 3
    one_shot = pa.Table.from_pylist(
        [r for s in scenes for r in make_records(s, None, None, Counter())], schema=SCHEMA
    )
    assert read_table(written).equals(one_shot)
    assert result["items"] == SCENES * PER_SCENE
    assert result["counts"] == {str(i): SCENES for i in range(PER_SCENE)}
    assert result["skipped"] == {"seen": SCENES}


def test_item_stage_writes_an_empty_partition_with_its_schema(partition):
    layout, _, _ = partition
    result = run(layout, tuning_fraction=1.0)  # every scene on the other side
    table = read_table(layout.part_file("mcq", 0, ".parquet"))
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)
    assert result["items"] == 0


def test_a_failed_chunk_leaves_no_part_file(partition, monkeypatch):
    layout, _, _ = partition

    def failing(config, rows, schema):
        raise ValueError("bad record")

    monkeypatch.setattr(items_stage, "checked_table", failing)
    with pytest.raises(ValueError, match="bad record"):
        run(layout)
    assert not list(layout.stage_dir("mcq").iterdir())


def test_bare_nan_scan_never_maps_a_clean_file(tmp_path, monkeypatch):
    """Mapping the whole file made every input page resident in the driver."""
    path = tmp_path / "clean.json"
    path.write_bytes(b'[{"id": 1, "x": 2.5}, {"id": 2, "x": 3}]')

    def no_mmap(*args, **kwargs):
        raise AssertionError("a clean file must not be mapped whole")

    monkeypatch.setattr(mmap, "mmap", no_mmap)
    assert [item["id"] for item in jsonstream.iter_items(path, "item")] == [1, 2]


@pytest.mark.parametrize("offset", range(0, 12))
def test_bare_word_across_a_block_boundary_is_found(tmp_path, monkeypatch, offset):
    monkeypatch.setattr(jsonstream, "_SCAN_BLOCK_BYTES", 8)
    path = tmp_path / "nan.json"
    path.write_bytes(b"[" + b" " * offset + b'{"x": Infinity}]')
    with path.open("rb") as handle:
        assert jsonstream._mentions_bare_word(handle)
        assert handle.seek(0) == 0
    assert [item["x"] for item in jsonstream.iter_items(path, "item")] == ["Infinity"]


def test_small_chunks_publish_what_the_default_chunks_do(demo_build, demo_inputs, tmp_path):
    """Chunk boundaries (records and unit columns) never change a published byte."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(items_stage, "CHUNK_SCENES", 2)
        patch.setattr(UnitColumns, "ROWS_PER_TABLE", 5)
        small = build_sample(demo_inputs, tmp_path / "out", tuning_fraction=0.0)
    for config in ("mcq", "conv"):
        made = sorted((small / "data" / config).glob("*.parquet"))
        expected = sorted((demo_build / "data" / config).glob("*.parquet"))
        assert [p.name for p in made] == [p.name for p in expected]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(made, expected, strict=True))


def test_read_scenes_of_one_side_parses_only_the_rows_it_keeps(tmp_path):
    """The ids read off the rows' starts pick the same scenes as parsing every row: plain
    ids, ids with an escaped quote, comma or backslash, a row whose id is not its first key.
    A row not kept is never parsed (a broken one after its id does not stop the read)."""
    layout = WorkLayout(location(tmp_path))
    ids = ["coco/1", 'vg/2",x', "vg/3\\", "coco/4,5", "vg/6"]
    scenes = [
        {"scene_id": sid, "n": i, "nested": {"scene_id": "other"}} for i, sid in enumerate(ids)
    ]
    write_jsonl(scene_rows_file(layout, 0), scenes, sort_keys=False)
    with scene_rows_file(layout, 0).open("ab") as handle:
        handle.write(b'{"n": 7, "scene_id": "coco/7"}\n')  # id not first: parsed, then kept
        handle.write(b'{"scene_id":"vg/8", broken\n')  # not kept: never parsed
    everything = [*scenes, {"n": 7, "scene_id": "coco/7"}]

    def keep(scene_id: str) -> bool:
        return not scene_id.startswith("vg/")

    assert read_scenes(layout, 0, keep) == [s for s in everything if keep(s["scene_id"])]
    assert [s["scene_id"] for s in read_scenes(layout, 0, lambda sid: sid != "vg/8")] == [
        *ids,
        "coco/7",
    ]
    with pytest.raises(ValueError):  # the broken row, once kept, is parsed
        read_scenes(layout, 0, lambda sid: True)
