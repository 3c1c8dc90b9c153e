"""<out>/manifest.json: what went in (with checksums), what rules made it, what every
input record became, and what came out (with checksums)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.config import BuildOptions, content_options
from pipeline.ingest.inputs import Inputs
from pipeline.ledger import Ledger

MANIFEST_VERSION = "1.0.0"
RULES_VERSION = "1.0.0"
SCHEMA_VERSION = "1.0.0"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: Path, root: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
    }
    if path.suffix == ".parquet":
        entry["rows"] = pq.ParquetFile(path).metadata.num_rows
    elif path.suffix == ".jsonl":
        with open(path, "rb") as handle:
            entry["rows"] = sum(1 for line in handle if line.strip())
    return entry


def output_files(out: Path) -> list[Path]:
    """Everything a user downloads: all files but the manifest and the work folder."""
    return sorted(
        p
        for p in out.rglob("*")
        if p.is_file()
        and p.name != "manifest.json"
        and not any(
            part.startswith("_") or part.startswith(".") for part in p.relative_to(out).parts
        )
    )


def command_line(options: BuildOptions) -> list[str]:
    """The build command with only the options that change content, so the manifest does
    not differ between worker counts or output folders."""
    argv = ["msg", "build"]
    for name, value in content_options(options).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, list):
            for v in value:
                argv += [flag, v]
        elif isinstance(value, bool):
            argv += [flag] if value else []
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def build_manifest(
    options: BuildOptions,
    inputs: Inputs,
    ledger: Ledger,
    counts: dict[str, Any],
) -> dict[str, Any]:
    out = options.out
    return {
        "manifest_version": MANIFEST_VERSION,
        "package_version": __version__,
        "rules_version": RULES_VERSION,
        "schema_version": SCHEMA_VERSION,
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
        ],
        "records": ledger.to_dict(),
        "reconciled": not ledger.unreconciled(),
        "counts": counts,
        "outputs": [describe_file(p, out) for p in output_files(out)],
    }
