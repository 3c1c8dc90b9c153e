"""<out>/manifest.json: what went in (with checksums), what rules made it, what every
input record became, and what came out (with checksums)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, TypeVar

from pipeline import __version__
from pipeline.config import BuildOptions, content_options
from pipeline.ingest.inputs import Inputs
from pipeline.ledger import Ledger
from pipeline.parquet_io import parquet_file
from pipeline.storage import FsPath, location
from pipeline.tables import tables_digest

# A local folder (the commands that read a build) or the build's output on any filesystem.
AnyPath = TypeVar("AnyPath", Path, FsPath)

MANIFEST_VERSION = "1.0.0"
RULES_VERSION = "1.1.0"
SCHEMA_VERSION = "1.0.0"


def sha256_of(path: str | os.PathLike | FsPath) -> str:
    digest = hashlib.sha256()
    with location(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: Path | FsPath, root: Path | FsPath) -> dict[str, Any]:
    path, root = location(path), location(root)
    entry: dict[str, Any] = {
        "path": path.relative_to(root),
        "bytes": path.size(),
        "sha256": sha256_of(path),
    }
    if path.suffix == ".parquet":
        entry["rows"] = parquet_file(path).metadata.num_rows
    elif path.suffix == ".jsonl":
        with path.open("rb") as handle:
            entry["rows"] = sum(1 for line in handle if line.strip())
    return entry


def describe_outputs(out: Path | FsPath) -> list[dict[str, Any]]:
    """The manifest's "outputs": every file a user downloads, described, in path order."""
    return [describe_file(p, out) for p in output_files(out)]


def output_files(out: AnyPath) -> list[AnyPath]:
    """Everything a user downloads: all files but the manifest and the work folder, in
    path order (folder by folder), of the same path type as `out`."""
    if isinstance(out, Path):  # a local folder given to validate, audit or publish
        found = [p.relative_to(out).parts for p in out.rglob("*") if p.is_file()]
    else:
        found = [tuple(p.relative_to(out).split("/")) for p in out.files()]
    return [
        out.joinpath(*parts) if isinstance(out, Path) else out / "/".join(parts)
        for parts in sorted(found)
        if parts[-1] != "manifest.json"
        and not any(part.startswith("_") or part.startswith(".") for part in parts)
    ]


def command_line(options: BuildOptions) -> list[str]:
    """The build command with only the options that change content, so the manifest does
    not differ between worker counts or output folders."""
    argv = ["msg", "build"]
    for name, value in content_options(options).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, list):
            for v in value:
                argv += [flag, v]
        elif isinstance(value, dict):  # a TOML-only option: in the manifest's "options"
            continue
        elif isinstance(value, bool):  # a switch: named only when not its default
            if value != getattr(BuildOptions(), name):
                argv += [flag if value else "--no-" + flag[2:]]
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def build_manifest(
    options: BuildOptions,
    inputs: Inputs,
    ledger: Ledger,
    counts: dict[str, Any],
) -> dict[str, Any]:
    """Everything but "outputs": the caller adds `describe_outputs(out)` once the last
    output (the card) is written, so each file is hashed and its footer parsed once."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "package_version": __version__,
        "rules_version": RULES_VERSION,
        "schema_version": SCHEMA_VERSION,
        # The question families and rules are data: their bytes are part of the recipe.
        "tables_sha256": tables_digest(),
        "seed": options.seed,
        "command": command_line(options),
        "options": content_options(options),
        "inputs": [
            {
                "label": f.label,
                "kind": f.kind,
                "path": str(f.path),
                "bytes": f.path.stat().st_size,
                "sha256": sha256_of(f.path),
            }
            for f in inputs.files
        ]
        + [
            {
                "label": p.name,
                "kind": "side_file",
                "path": str(p),
                "bytes": p.stat().st_size,
                "sha256": sha256_of(p),
            }
            for p in inputs.side_files
        ]
        + [  # the review's exclusion list decides content too (msg build --exclude-items)
            {
                "label": p.name,
                "kind": "exclusions",
                "path": str(p),
                "bytes": p.stat().st_size,
                "sha256": sha256_of(p),
            }
            for p in ([Path(options.exclude_items)] if options.exclude_items else [])
        ],
        "records": ledger.to_dict(),
        "reconciled": not ledger.unreconciled(),
        "counts": counts,
    }
