"""`msg validate OUT`: check an output folder against its manifest and JSON schemas."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = (
    "check every file of an output folder against manifest.json and every record against its schema"
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("validate", help=HELP, description=HELP + ".")
    p.add_argument(
        "out", type=local_path, metavar="OUT", help="local output folder of `msg build` (not a URL)"
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.publish.validate import validate_folder

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    problems = validate_folder(args.out)
    for problem in problems:
        print(f"{args.out}/{problem}", file=sys.stderr)
    if problems:
        print(f"msg validate: {len(problems)} problem(s) in {args.out}", file=sys.stderr)
        return 1
    print(f"msg validate: {args.out} is valid")
    return 0
