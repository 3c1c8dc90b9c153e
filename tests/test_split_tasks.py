"""Issue 21: the split reads image_data.json in a task on a worker (the driver parses no
record), then each other kind of file in a task of its own, side by side on the workers.
Its buckets, categories, counts and quarantined rows must be what one pass over every file
in order gives (the code before the change, kept here as the reference), on a real
2-worker cluster, with bad records in several kinds and two files of one kind that repeat
an id across them."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.ingest.split import KIND_ORDER, SplitState, split_file, write_categories
from pipeline.ledger import Ledger
from pipeline.progress import Progress
from pipeline.runner import prepare, run_split, stage_runner

PARTITIONS = 5


def one_pass(state) -> Ledger:
    """The reference: every file in kind order, one SplitState shared by all of them."""
    split_dir = state.layout.split
    split_dir.mkdir()
    ledger, split_state = Ledger(), SplitState()
    for kind in KIND_ORDER:
        for f in state.inputs.of_kind(kind):
            split_file(f, split_dir, state.num_partitions, split_state, ledger)
    write_categories(split_dir, list(split_state.categories.values()))
    return ledger


def bucket_files(split_dir) -> dict[str, bytes]:
    root = Path(str(split_dir))
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in ("_SUCCESS.json", "vg_scenes.json")
    }


@pytest.fixture
def bad_inputs(small, tmp_path):
    """The small sample, a second instances file that repeats an annotation id of the first
    and brings an image of its own, and bad records in image_data.json (an id twice, no id),
    VG objects and relationships."""
    anns = small.instances["annotations"]
    anns.append(dict(copy.deepcopy(anns[0]), id=9_000_001, bbox=[1.0, 1.0, -5.0, 5.0]))
    objects = small.vg_objects[0]["objects"]
    objects.append(copy.deepcopy(objects[0]))  # the same object_id twice
    small.vg_relationships.append({"image_id": 77_777_777, "relationships": [{"x": 1}]})
    small.vg_images += [copy.deepcopy(small.vg_images[0]), {"url": "no id"}]
    small.write()
    second = tmp_path / "in" / "coco" / "instances_more.json"
    image = dict(small.instances["images"][0], id=5_555_555)
    repeated = dict(copy.deepcopy(anns[1]), image_id=5_555_555)  # its id is in the first file
    fresh = dict(copy.deepcopy(anns[1]), image_id=5_555_555, id=9_000_002)
    more = dict(small.instances, images=[image], annotations=[repeated, fresh])
    second.write_text(json.dumps(more))
    options = small.options(tmp_path / "out", partitions=PARTITIONS)
    return replace(options, coco_instances=[*options.coco_instances, second])


@pytest.mark.slow
def test_split_in_tasks_on_two_workers_matches_one_pass(bad_inputs, tmp_path):
    reference = prepare(replace(bad_inputs, out=tmp_path / "reference"))
    want_ledger = one_pass(reference)

    options = replace(bad_inputs, out=tmp_path / "two", workers=2)
    state = prepare(options)
    with stage_runner(options) as runner:
        state.runner = runner
        run_split(state, Progress(quiet=True))

    assert bucket_files(state.layout.split) == bucket_files(reference.layout.split)
    assert state.ledger.to_dict() == want_ledger.to_dict()
    assert state.ledger.quarantine_rows == want_ledger.quarantine_rows
    reasons = {(r["file"], r["reason"]) for r in want_ledger.quarantine_rows}
    assert ("instances_more.json", "duplicate_id") in reasons  # across two files of a kind
    assert {
        ("vg_image_data.json", "duplicate_id"),
        ("vg_image_data.json", "missing_field"),
    } <= reasons
    assert ("vg_objects.json", "duplicate_id") in reasons
    assert ("vg_relationships.json", "unknown_image") in reasons


def test_split_without_a_cluster_matches_one_pass(bad_inputs, tmp_path):
    reference = prepare(replace(bad_inputs, out=tmp_path / "reference"))
    want_ledger = one_pass(reference)
    state = prepare(bad_inputs)
    run_split(state, Progress(quiet=True))
    assert bucket_files(state.layout.split) == bucket_files(reference.layout.split)
    assert state.ledger.quarantine_rows == want_ledger.quarantine_rows
    assert state.ledger.to_dict() == want_ledger.to_dict()
