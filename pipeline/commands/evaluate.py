"""`msg evaluate OUT --predictions FILE`: score model predictions on MSG-MCQ."""

from __future__ import annotations

import argparse
import json

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = (
    "score a model's predictions (JSONL of id and prediction) on MSG-MCQ: accuracy per aspect "
    "and form, POPE metrics, CircularEval and the misgrounding breakdown"
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help=HELP, description=HELP + ".")
    p.add_argument(
        "out", type=local_path, metavar="OUT", help="local output folder of `msg build` (not a URL)"
    )
    p.add_argument(
        "--predictions",
        type=local_path,
        required=True,
        metavar="FILE",
        help='JSONL, one {"id": ..., "prediction": ...} per line',
    )
    p.add_argument(
        "--json", type=local_path, metavar="FILE", help="also write the full report as JSON"
    )
    p.add_argument(
        "--compare",
        type=local_path,
        metavar="FILE",
        help="a second predictions file, shown side by side per aspect",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.evaluate.score import load_items, load_predictions, score
    from pipeline.evaluate.table import render, render_compare

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    items = load_items(args.out)
    result = score(items, load_predictions(args.predictions))
    print(render(result, args.out))
    document = result
    if args.compare is not None:
        other = score(items, load_predictions(args.compare))
        print()
        print(render_compare(result, other))
        document = {"a": result, "b": other}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"report: {args.json}")
    return 0
