"""`msg baseline OUT --kind random|blind|oracle --out FILE`: reference predictions."""

from __future__ import annotations

import argparse

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = (
    "write a baseline's predictions for MSG-MCQ: random (chance), blind (text-only: sees "
    "only the question with regions masked and the options, k-fold over images) or oracle "
    "(answers re-derived from the raw annotations)"
)


def add_parser(subparsers) -> None:
    from pipeline.evaluate.baselines import KINDS

    p = subparsers.add_parser("baseline", help=HELP, description=HELP + ".")
    p.add_argument(
        "build_out",
        type=local_path,
        metavar="OUT",
        help="local output folder of `msg build` (not a URL)",
    )
    p.add_argument("--kind", required=True, choices=KINDS, help="which baseline")
    p.add_argument(
        "--out",
        type=local_path,
        required=True,
        metavar="FILE",
        help="predictions file to write (JSONL)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of random choices (default 0)")


def run(args: argparse.Namespace) -> int:
    from pipeline.evaluate.baselines import baseline_predictions, write_predictions
    from pipeline.evaluate.score import load_items

    if not args.build_out.is_dir():
        raise InputError(args.build_out, "output folder not found")
    items = load_items(args.build_out)
    predictions = baseline_predictions(args.kind, args.build_out, items, args.seed)
    write_predictions(args.out, predictions)
    print(f"msg baseline: {len(predictions)} {args.kind} predictions written to {args.out}")
    return 0
