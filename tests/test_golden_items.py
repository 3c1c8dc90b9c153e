"""The published items and labels of the real sample are those of the unoptimised code path
(issue 21): the speed work may change how records are made, never which records come out.

tests/golden/real_sample_items.json holds one short digest per published record (scenes,
MSG-MCQ, MSG-Conv) of a default build of the real sample, written by the code at 7f0b4bd,
before the issue 21 changes, and rewritten once since, for the label changes of rules 1.1.0
(docs/mcq.md, docs/performance.md). A documented change that alters ids, order or labels
(say, a new stable hash) rewrites it, and says so in docs/performance.md:

    MSG_SAMPLE_DATA=../shared/data .venv/bin/python tests/test_golden_items.py --write
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

GOLDEN = Path(__file__).parent / "golden" / "real_sample_items.json"
# config -> the column naming a record (the digest covers every column of the record)
KEYS = {"scenes": "scene_id", "data/mcq": "id", "data/conv": "id"}


def record_digest(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(out: Path) -> dict[str, dict[str, str]]:
    """config -> {record key: digest}, in published order (key order is part of it)."""
    found: dict[str, dict[str, str]] = {}
    for config, key in KEYS.items():
        rows: dict[str, str] = {}
        for path in sorted((out / config).glob("*.parquet")):
            for record in pq.read_table(path).to_pylist():
                rows[record[key]] = record_digest(record)
        found[config] = rows
    return found


def build_default(inputs: dict[str, Path], out: Path) -> Path:
    """The real sample with default options (both sides: MSG-MCQ and MSG-Conv)."""
    from conftest import build_sample

    return build_sample(inputs, out)


def difference(golden: dict[str, str], now: dict[str, str]) -> str:
    missing = [k for k in golden if k not in now]
    added = [k for k in now if k not in golden]
    changed = [k for k in golden if k in now and golden[k] != now[k]]
    moved = list(golden) != list(now) and not (missing or added)
    return (
        f"{len(missing)} missing (e.g. {missing[:3]}), {len(added)} new (e.g. {added[:3]}), "
        f"{len(changed)} changed (e.g. {changed[:3]}), order changed: {moved}"
    )


def test_real_sample_items_equal_the_unoptimised_build(
    real_inputs: dict[str, Path], tmp_path: Path
) -> None:
    golden = json.loads(GOLDEN.read_text())
    now = fingerprint(build_default(real_inputs, tmp_path / "out"))
    assert golden["counts"] == {c: len(rows) for c, rows in now.items()}
    for config in KEYS:
        rows = golden["records"][config]
        assert list(rows.items()) == list(now[config].items()), (
            f"{config}: {difference(rows, now[config])}"
        )


def test_the_digest_sees_a_label_change() -> None:
    record = {"id": "x", "answer": "red", "options": ["red", "blue"]}
    assert record_digest(record) != record_digest({**record, "answer": "blue"})
    assert record_digest(record) != record_digest({**record, "options": ["blue", "red"]})


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import COCO_CAPTIONS, COCO_INSTANCES, SAMPLE_ENV, VG_DIR

    data = Path(os.environ[SAMPLE_ENV])
    inputs = {"instances": data / COCO_INSTANCES, "captions": data / COCO_CAPTIONS}
    with tempfile.TemporaryDirectory() as folder:
        records = fingerprint(build_default({**inputs, "vg_dir": data / VG_DIR}, Path(folder)))
    GOLDEN.parent.mkdir(exist_ok=True)
    payload = {"counts": {c: len(r) for c, r in records.items()}, "records": records}
    GOLDEN.write_text(json.dumps(payload, indent=0, ensure_ascii=False) + "\n")
    print(f"wrote {GOLDEN}: {payload['counts']}")
