"""`msg validate`: is an output folder exactly what its manifest says, and is every record
valid? Checks every listed file's size, sha256 and row count, files present but not listed,
the manifest against its schema, and every shard record and published scene against its
JSON schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import arrow_schemas
from pipeline.manifest import output_files, sha256_of
from pipeline.parquet_io import record_name
from pipeline.publish.layout import CONFIGS, IMAGE_COLUMN, SHARD_NAME, arrow_schema_for, shard_files
from pipeline.validation import record_errors

MAX_RECORD_ERRORS_PER_FILE = 20  # beyond this a file's errors are summarised as a count


def validate_folder(out: Path) -> list[str]:
    """Every problem found, each naming the file (relative to `out`) and what is wrong;
    an empty list means the folder is valid."""
    if not out.is_dir():
        return [f"{out}: not a folder"]
    problems: list[str] = []
    manifest = _load_manifest(out, problems)
    if manifest is not None:
        problems += _check_outputs(out, manifest)
    for cfg in CONFIGS.values():
        problems += _check_layout(out, cfg)
        for path in shard_files(out, cfg):
            if _not_a_plain_file(out, path) is None:  # else reported above, never read
                problems += check_shard(out, path, cfg.name)
    for path in sorted((out / "scenes").glob("*.parquet")):
        if _not_a_plain_file(out, path) is None:
            problems += check_scene_file(out, path)
    return problems


def _load_manifest(out: Path, problems: list[str]) -> dict[str, Any] | None:
    path = out / "manifest.json"
    unsafe = _not_a_plain_file(out, path)
    if unsafe:
        problems.append(f"manifest.json: {unsafe}")
        return None
    if not path.is_file():
        problems.append("manifest.json: missing")
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"manifest.json: not valid JSON ({exc})")
        return None
    errors = record_errors("manifest", manifest)
    problems += [f"manifest.json: {e}" for e in errors]
    return None if errors else manifest


def _check_outputs(out: Path, manifest: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    listed: set[str] = set()
    for entry in manifest["outputs"]:
        rel = entry["path"]
        listed.add(rel)
        path = out / rel
        unsafe = _not_a_plain_file(out, path)
        if unsafe:
            problems.append(f"{rel}: {unsafe}")
            continue
        if not path.is_file():
            problems.append(f"{rel}: listed in manifest.json but missing")
            continue
        size = path.stat().st_size
        if size != entry["bytes"]:
            problems.append(f"{rel}: size {size} bytes, manifest.json says {entry['bytes']}")
        digest = sha256_of(path)
        if digest != entry["sha256"]:
            problems.append(f"{rel}: sha256 {digest}, manifest.json says {entry['sha256']}")
        if "rows" in entry and path.suffix == ".parquet" and digest == entry["sha256"]:
            rows = pq.ParquetFile(path).metadata.num_rows
            if rows != entry["rows"]:
                problems.append(f"{rel}: {rows} rows, manifest.json says {entry['rows']}")
    for path in output_files(out):
        rel = path.relative_to(out).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: present but not listed in manifest.json")
    return problems


def _not_a_plain_file(out: Path, path: Path) -> str | None:
    """Why a published path cannot be trusted as itself, or None. A downloaded folder may
    hold symlinks (to files outside it, to /dev/zero) or FIFOs: hashing those would read
    outside the folder or never end."""
    if path.is_symlink():
        return "is a symbolic link, not a file of the folder"
    if not path.resolve().is_relative_to(out.resolve()):
        return "lies outside the folder"
    if path.exists() and not path.is_file():
        return "is not a regular file"
    return None


def _check_layout(out: Path, cfg: Any) -> list[str]:
    """Stray or inconsistent shard names would be picked up by the card's data_files glob."""
    files = shard_files(out, cfg)
    problems = []
    counts = {SHARD_NAME.match(p.name)["count"] for p in files}
    expected = [f"{cfg.split}-{i:05d}-of-{len(files):05d}.parquet" for i in range(len(files))]
    if files and (len(counts) != 1 or [p.name for p in files] != expected):
        names = ", ".join(p.name for p in files)
        problems.append(f"data/{cfg.name}: shard names are not one complete set ({names})")
    return problems


def check_shard(out: Path, path: Path, config: str) -> list[str]:
    """Schema of the file and every record against the config's JSON schema."""
    return _check_parquet(
        out, path, config, lambda with_image: arrow_schema_for(CONFIGS[config].schema, with_image)
    )


def check_scene_file(out: Path, path: Path) -> list[str]:
    """A published scene file (<out>/scenes/): its columns and every scene against
    schemas/scene.schema.json."""
    return _check_parquet(out, path, "scene", lambda with_image: arrow_schemas.SCENE)


def _check_parquet(
    out: Path, path: Path, kind: str, expected_schema: Callable[[bool], pa.Schema]
) -> list[str]:
    rel = path.relative_to(out).as_posix()
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (OSError, pa.ArrowException) as exc:
        return [f"{rel}: not a readable Parquet file ({exc})"]
    with_image = IMAGE_COLUMN in schema.names
    if not schema.remove_metadata().equals(expected_schema(with_image).remove_metadata()):
        return [f"{rel}: columns/types differ from the {kind} schema"]
    problems: list[str] = []
    bad = 0
    try:
        for index, record in _records(pf):
            image = record.pop(IMAGE_COLUMN, None)
            errors = record_errors(kind, record)
            if with_image and image is not None and not image.get("bytes"):
                errors.append("image: has no bytes")
            if errors:
                bad += 1
                if bad <= MAX_RECORD_ERRORS_PER_FILE:
                    name = record_name(record)
                    problems += [f"{rel}: row {index} (id {name!r}): {e}" for e in errors]
    except (OSError, pa.ArrowException) as exc:
        problems.append(f"{rel}: cannot be read ({exc})")
    if bad > MAX_RECORD_ERRORS_PER_FILE:
        problems.append(f"{rel}: {bad} invalid records in all ({MAX_RECORD_ERRORS_PER_FILE} shown)")
    return problems


def _records(pf: pq.ParquetFile) -> Iterator[tuple[int, dict[str, Any]]]:
    index = 0
    for batch in pf.iter_batches(batch_size=256):
        for record in batch.to_pylist():
            yield index, record
            index += 1
