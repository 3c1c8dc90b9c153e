"""Row counts read back from the shards (never from the build's own bookkeeping), for the
card and for checks: rows per config, MCQ items per aspect and form, Conv samples per kind."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.parquet_io import parquet_file
from pipeline.publish.layout import CONFIGS, shard_files
from pipeline.storage import FsPath, location


def _column_counts(
    files: list[Path | FsPath], columns: tuple[str, ...]
) -> Counter[tuple[str, ...]]:
    counter: Counter[tuple[str, ...]] = Counter()
    for path in files:
        pf = parquet_file(path)
        for batch in pf.iter_batches(columns=list(columns)):
            values = [batch.column(c).to_pylist() for c in columns]
            counter.update(zip(*values, strict=True))
    return counter


def footer_totals(files: list[Path | FsPath]) -> tuple[int, int]:
    """Rows and uncompressed row-group bytes over `files`, from their footers, one at a
    time: a parsed footer holds about 25 KB per row group (shards.py)."""
    rows = size = 0
    for path in files:
        meta = parquet_file(path).metadata
        rows += meta.num_rows
        size += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return rows, size


def shard_counts(out: Path | FsPath) -> dict[str, Any]:
    """{"mcq": {"rows", "bytes", "by_aspect_form": {aspect: {form: n}}}, "conv": {"rows",
    "bytes", "by_kind": {kind: n}}}; `bytes` is the uncompressed size of the row groups."""
    result: dict[str, Any] = {}
    for name, cfg in CONFIGS.items():
        files = shard_files(out, cfg)
        rows, size = footer_totals(files)
        entry: dict[str, Any] = {
            "rows": rows,
            "bytes": size,
            "files": len(files),
            "download_bytes": sum(location(p).size() for p in files),
        }
        if name == "mcq":
            table: dict[str, dict[str, int]] = {}
            for (aspect, form), n in sorted(_column_counts(files, ("aspect", "form")).items()):
                table.setdefault(aspect, {})[form] = n
            entry["by_aspect_form"] = table
        else:
            entry["by_kind"] = {
                k: n for (k,), n in sorted(_column_counts(files, ("kind",)).items())
            }
        result[name] = entry
    return result
