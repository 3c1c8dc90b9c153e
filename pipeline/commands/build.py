"""`msg build`: regenerate MSG-MCQ and MSG-Conv from COCO / Visual Genome annotations."""

from __future__ import annotations

import argparse

from pipeline.config import BuildOptions, resolve
from pipeline.storage import local_path

HELP = "build scenes, MSG-MCQ and MSG-Conv from annotation files (the demo sample if none)"


def add_parser(subparsers) -> None:
    d = BuildOptions()
    p = subparsers.add_parser(
        "build",
        help=HELP,
        description=HELP + ". Options may also come from a TOML file (--config); flags win. "
        "Inputs are local paths; --out may also be an fsspec URL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        argument_default=None,
    )
    a = p.add_argument
    a(
        "--coco-instances",
        action="append",
        type=local_path,
        metavar="FILE",
        default=[],
        help="COCO instances JSON (repeat for train and val); inputs are local files",
    )
    a(
        "--coco-captions",
        action="append",
        type=local_path,
        metavar="FILE",
        default=[],
        help="COCO captions JSON (repeat for train and val)",
    )
    a(
        "--vg-dir",
        type=local_path,
        metavar="DIR",
        help="Visual Genome folder: image_data.json, objects.json, attributes.json, "
        "relationships.json, optional synset maps and alias lists",
    )
    a(
        "--images-dir",
        action="append",
        type=local_path,
        metavar="DIR",
        default=[],
        help="folder of image files, searched by file name; repeat for each folder "
        "(COCO train2017 and val2017, VG_100K and VG_100K_2); optional, local",
    )
    a(
        "--out",
        metavar="DIR_OR_URL",
        help="output folder: a local path or an fsspec URL (s3://bucket/x, gcs://..., "
        "file:///abs/path), so that workers on other machines write to shared storage; "
        f"its _work folder holds the intermediate files (default {d.out})",
    )
    a("--seed", type=int, help=f"seed for every per-item choice (default {d.seed})")
    a(
        "--workers",
        type=int,
        metavar="N",
        help=f"worker processes; more than 1 starts a local Dask cluster (default {d.workers})",
    )
    a("--scheduler", metavar="ADDRESS", help="address of an existing Dask scheduler")
    a(
        "--partitions",
        type=int,
        metavar="N",
        help="number of scene partitions (default: from the input size)",
    )
    a(
        "--tuning-fraction",
        type=float,
        metavar="F",
        help=f"share of images for MSG-Conv; the rest go to MSG-MCQ (default {d.tuning_fraction})",
    )
    a(
        "--count-cap",
        type=int,
        metavar="N",
        help=f"largest count asked about (default {d.count_cap})",
    )
    a(
        "--max-shard-bytes",
        type=int,
        metavar="BYTES",
        help=f"largest Parquet shard before the next one starts (default {d.max_shard_bytes})",
    )
    a(
        "--circular",
        action="store_const",
        const=True,
        help="add rotated copies of each mcq item for CircularEval",
    )
    a(
        "--min-side-px",
        type=float,
        metavar="PX",
        help=f"a referent's box must have its shorter side at least this long to be asked "
        f"about (default {d.min_side_px})",
    )
    a(
        "--min-area-share",
        type=float,
        metavar="F",
        help=f"... and cover at least this share of the image (default {d.min_area_share})",
    )
    a(
        "--no-prior-balance",
        dest="prior_balance",
        action="store_const",
        const=False,
        help="publish every item made, without the balancing against text-only priors "
        "(docs/audit.md): for studying the priors, never for evaluation",
    )
    a(
        "--mcq-size",
        type=int,
        metavar="N",
        help="publish exactly N MSG-MCQ items, a stratified selection from the balanced "
        "pool (docs/release.md; default: the whole pool)",
    )
    a(
        "--conv-size",
        type=int,
        metavar="M",
        help="publish exactly M MSG-Conv samples, stratified by kind (default: all)",
    )
    a(
        "--mcq-per-image",
        type=int,
        metavar="K",
        help=f"with --mcq-size: at most K items per image (default {d.mcq_per_image})",
    )
    a(
        "--strict-size",
        action="store_const",
        const=True,
        help="with --mcq-size/--conv-size: a quota the pool cannot fill is an error "
        "instead of a named shortfall",
    )
    a(
        "--exclude-items",
        type=local_path,
        metavar="FILE",
        help="item ids to leave out, one per line (msg review --write-exclusions); counted "
        "in the manifest as the skip reason <aspect>:excluded_by_review",
    )
    a("--config", type=local_path, metavar="FILE", help="TOML file of build options")
    a("--quiet", action="store_const", const=True, help="no progress output")


def run(args: argparse.Namespace) -> int:
    from pipeline.build import run_build
    from pipeline.progress import Progress
    from pipeline.report import print_build_report

    flags = {k: v for k, v in vars(args).items() if k not in ("command", "config", "func")}
    options = resolve(flags, args.config)
    progress = Progress(quiet=options.quiet)
    manifest = run_build(options, progress)
    print_build_report(manifest, options.out, quiet=options.quiet)
    return 0
