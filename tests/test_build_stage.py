"""A stage function works on a plain partition, without Dask."""

from __future__ import annotations

import dask
import pyarrow.parquet as pq

from pipeline.ledger import Ledger
from pipeline.progress import Progress
from pipeline.runner import prepare, run_split
from pipeline.stages import load_result, scene_stage


def refuse_dask(monkeypatch) -> None:
    """From here on (the split, which maps tasks of its own, has run): no Dask."""

    def refuse(*args, **kwargs):
        raise AssertionError("a stage function must not need Dask")

    monkeypatch.setattr(dask, "compute", refuse)
    monkeypatch.setattr(dask, "delayed", refuse)


def test_scene_stage_on_plain_partitions(small, tmp_path, monkeypatch):
    small.write()
    state = prepare(small.options(tmp_path / "out", partitions=3))
    run_split(state, Progress(quiet=True))
    refuse_dask(monkeypatch)
    ledger = Ledger()
    ledger.merge(state.ledger)
    scene_ids = []
    for part in range(state.num_partitions):
        result = scene_stage(state.layout, part, state.side)
        assert result["part"] == part
        ledger.merge_result(result["ledger"], result["quarantine"])
        table = pq.read_table(state.layout.part_file("scenes", part, ".parquet"))
        assert table.num_rows == result["scenes"]
        scene_ids += table.column("scene_id").to_pylist()
        assert load_result(state.layout, "scenes", part) is None  # the runner writes markers
    expected = {f"coco/{im['id']}" for im in small.instances["images"]} | {
        f"vg/{im['image_id']}" for im in small.vg_images
    }
    assert sorted(scene_ids) == sorted(expected)
    assert not ledger.unreconciled()
    assert ledger.to_dict()["vg_objects.json"]["used"] == sum(
        len(e["objects"]) for e in small.vg_objects
    )


def test_scene_stage_on_an_empty_partition(small, tmp_path, monkeypatch):
    # Only one image: with many partitions most of them hold nothing.
    small.instances["images"] = small.instances["images"][:1]
    keep = small.instances["images"][0]["id"]
    small.instances["annotations"] = [
        a for a in small.instances["annotations"] if a["image_id"] == keep
    ]
    small.captions["images"] = small.instances["images"]
    small.captions["annotations"] = [
        c for c in small.captions["annotations"] if c["image_id"] == keep
    ]
    small.vg_images = small.vg_objects = small.vg_attributes = small.vg_relationships = []
    small.write()
    state = prepare(small.options(tmp_path / "out", partitions=16))
    run_split(state, Progress(quiet=True))
    refuse_dask(monkeypatch)
    counts = [scene_stage(state.layout, p, state.side)["scenes"] for p in range(16)]
    assert sum(counts) == 1
    assert counts.count(0) == 15
