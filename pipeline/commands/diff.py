"""`msg diff OLD NEW [--json FILE]`: what changed between two output folders."""

from __future__ import annotations

import argparse
import json

from pipeline.storage import local_path

HELP = (
    "compare two output folders: MSG-MCQ and MSG-Conv items added, removed and changed, "
    "per aspect and form, with their images; differing versions, options and inputs"
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("diff", help=HELP, description=HELP + " (docs/release.md).")
    p.add_argument("old", type=local_path, metavar="OLD", help="the earlier output folder")
    p.add_argument("new", type=local_path, metavar="NEW", help="the later output folder")
    p.add_argument(
        "--json",
        type=local_path,
        metavar="FILE",
        help="also write the whole report (with the changed items' old and new labels)",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.audit.diff import diff_folders, summary

    report = diff_folders(args.old, args.new)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(summary(report))
    return 0
