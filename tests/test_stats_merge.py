"""Issue 21: the global statistics travel in files, not through the driver. Each partition's
counts go to a file of their own (the stage's result stays small), one task sums them file
by file, and the sum is the counts of all the scenes at once, however they are split."""

from __future__ import annotations

from pipeline.facts.stats import Stats, scene_stats
from pipeline.facts.stats_stage import (
    global_stats_file,
    merge_stats_task,
    partition_stats_file,
    stats_stage,
)
from pipeline.parquet_io import read_json_file, write_jsonl
from pipeline.stages import WorkLayout, scene_rows_file
from pipeline.storage import location
from pipeline.tables import load_table


def test_partition_counts_in_files_sum_to_the_whole(tmp_path, real_scenes) -> None:
    scenes = [real_scenes[k] for k in sorted(real_scenes)]
    layout = WorkLayout(location(tmp_path))
    # Uneven partitions, one of them empty: a scene's counts land in the sum exactly once.
    bounds = [0, 1, 1, len(scenes) // 2, len(scenes)]
    for part, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        write_jsonl(scene_rows_file(layout, part), scenes[lo:hi])
        result = stats_stage(layout, part)
        assert result == {"part": part, "scenes": hi - lo}  # no counts in the marker
        assert read_json_file(partition_stats_file(layout, part))["scenes"] == hi - lo
    parts = len(bounds) - 1

    assert merge_stats_task(layout, 0, parts) == {"scenes": len(scenes)}
    merged = read_json_file(global_stats_file(layout))
    whole = scene_stats(scenes)
    assert merged == whole
    for key, counts in merged.items():  # sorted: the file does not depend on the split
        if isinstance(counts, dict):
            assert list(counts) == sorted(counts), key
    assert merged["pair_predicates"], "the sample has relations between named objects"


def test_pair_counts_keep_only_asked_predicates(real_scenes) -> None:
    """Relation distractors look up asked predicates only; the rest is not counted."""
    asked = set(load_table("item_rules")["relation"]["asked"])
    scenes = list(real_scenes.values())
    pairs = scene_stats(scenes)["pair_predicates"]
    annotated = {r["predicate"] for s in scenes for r in s["relations"]}
    assert annotated - asked, "the sample annotates predicates that are never asked"
    kept = {key.rsplit("|", 1)[1] for key in pairs}
    assert kept and kept <= asked


def test_pair_predicates_per_name_pair_from_the_compact_index():
    """Stats keeps the pair counts as one flat tuple per name pair (it lives in every
    worker for the whole build): the look-up gives each pair's own predicates and counts,
    whichever order the file lists them in, and nothing for a pair never annotated."""
    counts = {
        "man|horse|riding": 7,
        "man|hat|wearing": 3,
        "man|horse|feeding": 2,
        "horse|man|carrying": 1,
        "woman|horse|riding": 4,
    }
    stats = Stats({"pair_predicates": counts})
    assert stats.pair_predicates("man", "horse") == {"riding": 7, "feeding": 2}
    assert stats.pair_predicates("horse", "man") == {"carrying": 1}
    assert stats.pair_predicates("woman", "horse") == {"riding": 4}
    assert stats.pair_predicates("man", "dog") == {} == stats.pair_predicates("hat", "man")
    assert "pair_predicates" not in stats.data  # parsed once, not held twice
