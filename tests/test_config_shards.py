"""Shards written by one task per config: the coverage each task counted merges into what
one pass over both configs counts (an image used by both configs is one image)."""

from __future__ import annotations

import json

from pipeline.publish.images import ImageCoverage

MCQ_SEEN = [
    ("coco", "a.jpg", "embedded"),
    ("coco", "b.jpg", "missing"),
    ("vg", "1.jpg", "rejected"),
]
CONV_SEEN = [
    ("coco", "a.jpg", "embedded"),
    ("coco", "a.jpg", "embedded"),
    ("vg", "2.jpg", "embedded"),
]


def coverage_of(seen, unsearched=()) -> ImageCoverage:
    coverage = ImageCoverage()
    for source, name, status in seen:
        coverage.add(source, name, status)
    for source, images, items in unsearched:
        coverage.add_counts(source, images, items)
    return coverage


def test_merged_task_coverages_equal_one_pass_over_both_configs():
    one_pass = coverage_of(MCQ_SEEN + CONV_SEEN, [("coco", 3, 7), ("coco", 2, 2)])
    merged = ImageCoverage()
    for part in (
        coverage_of(MCQ_SEEN, [("coco", 3, 7)]),
        coverage_of(CONV_SEEN, [("coco", 2, 2)]),
    ):
        merged.absorb(json.loads(json.dumps(part.state())))  # as a task's marker holds it
    assert merged.to_dict() == one_pass.to_dict()
    assert merged.to_dict()["coco"]["embedded"] == 1  # a.jpg in both configs: one image
    assert merged.to_dict()["coco"]["items_embedded"] == 3


def test_a_source_without_images_survives_the_merge():
    merged = ImageCoverage()
    merged.absorb(coverage_of([], [("vg", 0, 0)]).state())
    assert merged.to_dict() == coverage_of([], [("vg", 0, 0)]).to_dict()


def test_the_shard_tasks_write_every_published_config_in_its_order():
    from pipeline.publish.config_shards import SHARD_CONFIGS
    from pipeline.publish.layout import CONFIGS

    assert SHARD_CONFIGS == tuple(CONFIGS)  # a config added to the layout gets its task
