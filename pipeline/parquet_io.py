"""Atomic Parquet and JSON-lines writes: a file appears under its final name only when
complete, so an interrupted run never leaves a partial file that looks finished."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

# Fixed writer settings: the same rows give the same bytes.
WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True, "use_dictionary": True}


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_table(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    tmp = _tmp(path)
    pq.write_table(table, tmp, **WRITE_OPTIONS)
    tmp.replace(path)


def read_rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
    tmp.replace(path)


def read_jsonl(path: Path) -> list[Any]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)


def read_json_file(path: Path) -> Any:
    return orjson.loads(path.read_bytes())
