"""Determinism of scenes: the same inputs give byte-identical data files and manifest,
whatever the output folder or the number of partitions."""

from __future__ import annotations

from pathlib import Path


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _inject_a_bad_record(small) -> None:
    # Quarantine files are part of the output: include one so they are compared too.
    small.instances["annotations"].append({"id": 1, "image_id": 123456789})


def test_two_builds_give_identical_bytes(small, build):
    _inject_a_bad_record(small)
    first = build(small, "first")
    second = build(small, "second")
    assert (first / "manifest.json").read_bytes() == (second / "manifest.json").read_bytes()
    for folder in ("data", "scenes", "quarantine"):
        a, b = _files(first / folder), _files(second / folder)
        assert a, folder
        assert a == b, folder


def test_rebuilding_into_the_same_folder_gives_identical_bytes(small, build):
    out = build(small, "same")
    before = _files(out)
    build(small, "same")
    assert _files(out) == before


def test_scene_order_does_not_depend_on_the_partition_count(small, build, scenes_of):
    one = build(small, "one", partitions=1)
    five = build(small, "five", partitions=5)
    assert len(list((five / "scenes").glob("*.parquet"))) == 5
    assert scenes_of(one) == scenes_of(five)
    assert _files(one / "data") == _files(five / "data")
