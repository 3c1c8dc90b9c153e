"""Atomic Parquet and JSON-lines writes: a file appears under its final name only when
complete, so an interrupted run never leaves a partial file that looks finished.

Every function takes a local path, a URL string or a `storage.FsPath` (see storage.py), so
the same calls write to a local folder or to an fsspec filesystem."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.storage import FsPath, location

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

PathArg = str | os.PathLike | FsPath


def kill_point(point: str) -> None:
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    _passed[point] += 1
    if spec == f"{point}:{_passed[point]}":
        os.kill(os.getpid(), signal.SIGKILL)


def _tmp(path: FsPath) -> FsPath:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _rename(tmp: FsPath, path: FsPath) -> None:
    kill_point(f"rename:{path.name}")
    tmp.replace(path)


class UnknownKeyError(ValueError):
    """A record has a key its Arrow schema lacks, which `from_pylist` would drop silently:
    a bug, so the build stops."""


@dataclass(frozen=True)
class _Keys:
    """The keys a record (or a struct inside it) may have, and its struct-valued fields:
    (name, whether it holds a list of structs, that struct's keys)."""

    names: frozenset[str]
    structs: tuple[tuple[str, bool, _Keys], ...]


def _keys_of(fields: pa.Schema | pa.StructType) -> _Keys:
    structs = []
    for field in fields:
        is_list = pa.types.is_list(field.type) or pa.types.is_large_list(field.type)
        inner = field.type.value_type if is_list else field.type
        if pa.types.is_struct(inner):
            structs.append((field.name, is_list, _keys_of(inner)))
    return _Keys(frozenset(field.name for field in fields), tuple(structs))


def _unknown_key(value: dict[str, Any], keys: _Keys) -> str | None:
    """The first key of `value` (a dotted path when nested) that `keys` does not allow."""
    if not value.keys() <= keys.names:
        return min(value.keys() - keys.names)
    for name, is_list, inner in keys.structs:
        held = value.get(name)
        for item in (held or ()) if is_list else (held,):
            found = _unknown_key(item, inner) if isinstance(item, dict) else None
            if found:
                return f"{name}.{found}"
    return None


def record_name(record: dict[str, Any], default: Any = None) -> Any:
    """What names a record in a message: an item's `id`, a scene's `scene_id`."""
    return record.get("id", record.get("scene_id", default))


def check_keys(rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    """Raise UnknownKeyError, naming the key and the record, if a row (or a struct or list
    of structs inside it) has a key the schema lacks. Missing keys become nulls, as usual."""
    keys = _keys_of(schema)
    for index, row in enumerate(rows):
        found = _unknown_key(row, keys)
        if found:
            record = record_name(row, f"#{index}")
            raise UnknownKeyError(f"record {record}: key {found!r} is not in the Arrow schema")


def write_table(path: PathArg, rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Returns the table written (the rows as the schema holds them). A key the schema
    lacks is an error (see check_keys), never dropped."""
    check_keys(rows, schema)
    table = pa.Table.from_pylist(rows, schema=schema)
    write_arrow(path, table)
    return table


def write_arrow(path: PathArg, table: pa.Table) -> None:
    path = location(path)
    path.parent.mkdir()
    tmp = _tmp(path)
    pq.write_table(table, tmp.path, filesystem=tmp.fs, **WRITE_OPTIONS)
    _rename(tmp, path)


def write_row_groups(path: PathArg, groups: Iterable[pa.Table], schema: pa.Schema) -> None:
    """One Parquet row group per table given, in order, so that a reader can read each
    alone (`ParquetFile.read_row_group`). `groups` may be a generator: only the table being
    written is held, so a caller can stream a partition chunk by chunk."""
    path = location(path)
    path.parent.mkdir()
    tmp = _tmp(path)
    try:
        with pq.ParquetWriter(tmp.path, schema, filesystem=tmp.fs, **WRITE_OPTIONS) as writer:
            for group in groups:
                writer.write_table(group, row_group_size=max(1, group.num_rows))
    except BaseException:
        tmp.unlink(missing_ok=True)  # never a half-written file left behind
        raise
    _rename(tmp, path)


def read_table(path: PathArg, columns: list[str] | None = None) -> pa.Table:
    path = location(path)
    return pq.read_table(path.path, columns=columns, filesystem=path.fs)


def parquet_file(path: PathArg) -> pq.ParquetFile:
    path = location(path)
    return pq.ParquetFile(path.path, filesystem=path.fs)


def read_rows(path: PathArg, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return read_table(path, columns).to_pylist()


def write_jsonl(path: PathArg, rows: Iterable[Any], sort_keys: bool = True) -> None:
    path = location(path)
    path.parent.mkdir()
    tmp = _tmp(path)
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    with tmp.open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row, option=option) + b"\n")
    _rename(tmp, path)


def read_jsonl(path: PathArg) -> list[Any]:
    with location(path).open("rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def write_json(path: PathArg, data: Any) -> None:
    path = location(path)
    path.parent.mkdir()
    tmp = _tmp(path)
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    _rename(tmp, path)


def read_json_file(path: PathArg) -> Any:
    return orjson.loads(location(path).read_bytes())
