"""Atomic Parquet and JSON-lines writes: a file appears under its final name only when
complete, so an interrupted run never leaves a partial file that looks finished."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

# Fixed writer settings: the same rows give the same bytes.
WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True, "use_dictionary": True}


# Test hook (tests/test_resume.py): with MSG_KILL_AFTER="<point>:<n>" the process kills
# itself (SIGKILL, as a crash or an OOM killer would) the n-th time it passes <point>, so
# that resumption is tested at exact places. Points: "split" (an input file routed), a
# stage name (one partition done; single-process runs), "quarantine" (a file written),
# "rename:<file name>" (a file complete under its temp name, not yet renamed). Unset, as
# always outside tests, it does nothing.
KILL_ENV = "MSG_KILL_AFTER"
_passed: Counter[str] = Counter()


def kill_point(point: str) -> None:
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    _passed[point] += 1
    if spec == f"{point}:{_passed[point]}":
        os.kill(os.getpid(), signal.SIGKILL)


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _rename(tmp: Path, path: Path) -> None:
    kill_point(f"rename:{path.name}")
    tmp.replace(path)


def write_table(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    tmp = _tmp(path)
    pq.write_table(table, tmp, **WRITE_OPTIONS)
    _rename(tmp, path)


def read_rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
    _rename(tmp, path)


def read_jsonl(path: Path) -> list[Any]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    _rename(tmp, path)


def read_json_file(path: Path) -> Any:
    return orjson.loads(path.read_bytes())
