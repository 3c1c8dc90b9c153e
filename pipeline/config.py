"""Every build option with its default, in one place. A TOML file (--config) sets options
by the same names; flags given on the command line override it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.storage import is_url


@dataclass(kw_only=True)
class BuildOptions:
    coco_instances: list[Path] = field(default_factory=list)
    coco_captions: list[Path] = field(default_factory=list)
    vg_dir: Path | None = None
    # Folders of image files, searched by file name (COCO train2017 + val2017, VG_100K + ...).
    images_dir: list[Path] = field(default_factory=list)
    out: Path | str = Path("outputs/demo")  # a local folder, or an fsspec URL (a str)
    seed: int = 0
    workers: int = 1
    scheduler: str | None = None
    partitions: int = 0  # 0: chosen from the input size (never from the worker count)
    tuning_fraction: float = 0.2
    count_cap: int = 10
    min_count_area: float = 32.0 * 32.0 / 4  # COCO instances below this are too small to count
    spatial_margin: float = 0.1
    # A referent too small to see is never asked about (DESIGN rule 7): its box's shorter
    # side in pixels and its share of the image area.
    min_side_px: float = 16.0
    min_area_share: float = 0.002
    head_share: float = 0.5
    # Balancing against text-only priors (docs/audit.md); off publishes the whole pool,
    # for studying the priors, never for evaluation.
    prior_balance: bool = True
    max_shard_bytes: int = 500 * 1024 * 1024
    circular: bool = False
    # A release of fixed size (docs/release.md): None publishes the whole balanced pool.
    mcq_size: int | None = None
    conv_size: int | None = None
    # Aspect -> share of --mcq-size (TOML only); empty: pipeline/tables/release.toml's.
    mcq_aspect_shares: dict[str, float] = field(default_factory=dict)
    mcq_per_image: int = 5
    strict_size: bool = False  # a quota the pool cannot fill is an error, not a shortfall
    # Item ids judged wrong by review (`msg review --write-exclusions`): never published.
    exclude_items: Path | None = None
    quiet: bool = False

    @property
    def uses_demo_sample(self) -> bool:
        return not (self.coco_instances or self.coco_captions or self.vg_dir)


PATH_LISTS = {"coco_instances", "coco_captions", "images_dir"}
PATHS = {"vg_dir", "out", "exclude_items"}
# Options that decide where and how fast a build runs, never what it writes.
EXECUTION_ONLY = {"workers", "scheduler", "quiet", "out"}


def _coerce(name: str, value: Any) -> Any:
    if name == "out" and is_url(value):  # Path() would fold "s3://b" into "s3:/b"
        return value
    if name in PATH_LISTS:
        paths = [_local(name, v) for v in (value if isinstance(value, list) else [value])]
        # Exports, audits and reviews read the image folders from the manifest, maybe from
        # another working folder: record them absolute.
        return [p.absolute() for p in paths] if name == "images_dir" else paths
    if name in PATHS:
        return _local(name, value) if value is not None else None
    return value


def _local(name: str, value: Any) -> Path:
    if is_url(value):
        flag = "--" + name.replace("_", "-")
        raise InputError(value, f"{flag} must be a local path (only --out may be a URL)")
    return Path(value)


def load_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML ({exc})") from None
    table = data.get("build", data)
    known = {f.name for f in fields(BuildOptions)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(path, f"unknown option(s): {', '.join(unknown)}")
    return {k.replace("-", "_"): v for k, v in table.items()}


def resolve(flags: dict[str, Any], config_file: Path | None) -> BuildOptions:
    """Defaults, then the config file, then the flags that were actually given."""
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(load_toml(config_file))
    values.update({k: v for k, v in flags.items() if v is not None and v != []})
    return BuildOptions(**{k: _coerce(k, v) for k, v in values.items()})


def content_options(options: BuildOptions) -> dict[str, Any]:
    """The options that change what a build writes (recorded in the manifest)."""
    out = {}
    for f in fields(BuildOptions):
        if f.name in EXECUTION_ONLY:
            continue
        value = getattr(options, f.name)
        if isinstance(value, list):
            value = [str(v) for v in value]
        elif isinstance(value, Path):
            value = str(value)
        out[f.name] = value
    return out
