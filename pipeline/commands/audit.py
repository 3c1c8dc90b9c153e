"""`msg audit OUT`: label-quality metrics, label checks and a report with pictures."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = "audit an output folder: balance, blind-baseline leakage, label checks, report with pictures"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("audit", help=HELP, description=HELP + ".")
    p.add_argument(
        "out", type=local_path, metavar="OUT", help="local output folder of `msg build` (not a URL)"
    )
    p.add_argument(
        "--images-dir",
        action="append",
        type=local_path,
        default=None,
        metavar="DIR",
        help="folder of the images, repeat for each (default: the build's own --images-dir)",
    )
    p.add_argument(
        "--thresholds",
        type=local_path,
        default=None,
        help="TOML file overriding pipeline/tables/audit.toml",
    )
    p.add_argument(
        "--fail-on-threshold",
        action="store_true",
        help="exit with status 1 when a gate is broken, naming it",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.audit.run import run_audit

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    for folder in args.images_dir or ():
        if not folder.is_dir():
            raise InputError(folder, "images folder not found")
    metrics = run_audit(args.out, args.images_dir, args.thresholds)
    broken = [g for g in metrics["gates"] if not g["passed"]]
    for g in broken:
        where = "; ".join(g["broken"][:5])
        print(
            f"msg audit: gate {g['gate']} (threshold {g['threshold']}) broken: {where}",
            file=sys.stderr,
        )
    print(f"msg audit: wrote {args.out / 'audit' / 'report.html'} and metrics.json")
    if broken and args.fail_on_threshold:
        names = ", ".join(g["gate"] for g in broken)
        print(f"msg audit: failing on broken gate(s): {names}", file=sys.stderr)
        return 1
    return 0
