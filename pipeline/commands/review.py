"""`msg review OUT`: a review page for people, and their verdicts back into the audit."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = "human label review: write a review page of sampled items, or import verdicts"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("review", help=HELP, description=HELP + ".")
    p.add_argument("out", type=local_path, metavar="OUT", help="local output folder of `msg build`")
    p.add_argument("--sample", type=int, metavar="N", help="items on the page (flagged ones first)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument(
        "--aspect", action="append", default=[], metavar="A", help="only this aspect (repeat)"
    )
    p.add_argument("--dest", type=local_path, metavar="DIR", help="folder for review.html")
    p.add_argument(
        "--images-dir",
        action="append",
        type=local_path,
        default=None,
        help="folder of the images; repeat once per folder (default: the build's own, else "
        "the shards' image column)",
    )
    p.add_argument(
        "--import",
        dest="imports",
        nargs="+",
        type=local_path,
        metavar="FILE",
        help="verdict files exported by the page (several reviewers)",
    )
    p.add_argument(
        "--selection",
        type=local_path,
        metavar="FILE",
        help="with --import: the page's selection.json, for the error rate of the sampled "
        "items alone (flagged ones overstate it)",
    )
    p.add_argument(
        "--write-exclusions",
        type=local_path,
        metavar="FILE",
        help="with --import: write the ids judged wrong or ambiguous (for build --exclude-items)",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.review.run import import_verdicts, write_review_page

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    if args.imports:
        return _import(args, import_verdicts)
    if args.sample is None or args.dest is None:
        raise InputError(args.out, "give --sample N and --dest DIR (or --import FILE...)")
    if args.sample < 1:
        raise InputError(args.out, f"--sample must be at least 1, not {args.sample}")
    from pipeline.registry import registry

    unknown = sorted(set(args.aspect) - set(registry().asked_aspects))
    if unknown:
        known = ", ".join(registry().asked_aspects)
        raise InputError(args.out, f"unknown --aspect {', '.join(unknown)} (one of {known})")
    result = write_review_page(
        args.out, args.dest, args.sample, args.seed, args.aspect or None, args.images_dir
    )
    for note in result["notes"]:
        print(f"msg review: {note}", file=sys.stderr)
    if result["flagged_without_image"]:
        print(
            f"msg review: {len(result['flagged_without_image'])} flagged item(s) have no image "
            "and are not on the page",
            file=sys.stderr,
        )
    print(
        f"msg review: wrote {args.dest / 'review.html'}: {len(result['items'])} items "
        f"({len(result['sampled'])} sampled, {len(result['flagged'])} flagged)"
    )
    return 0


def _import(args: argparse.Namespace, import_verdicts) -> int:
    from pipeline.review.exclusions import EXCLUDED, write_exclusions

    figures, problems = import_verdicts(args.out, args.imports, args.selection)
    for problem in problems:
        print(f"msg review: {problem}", file=sys.stderr)
    o = figures["overall"]
    rate = "-" if o["error_rate"] is None else f"{o['error_rate']:.3f}"
    print(
        f"msg review: {o['reviewed']} items reviewed, {o['wrong']} wrong (error rate {rate}), "
        f"{o['ambiguous']} ambiguous, {o['unanswerable']} unanswerable; "
        f"written to {args.out / 'audit' / 'metrics.json'} (human_review)"
    )
    if args.write_exclusions:
        ids = [r["id"] for r in figures["judged_not_correct"] if r["verdict"] in EXCLUDED]
        write_exclusions(args.write_exclusions, ids)
        print(f"msg review: wrote {len(ids)} id(s) to {args.write_exclusions}")
    return 0
