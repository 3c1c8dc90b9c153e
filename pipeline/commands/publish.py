"""`msg publish OUT --repo-id ID`: validate, then upload the folder to a Hub dataset repo."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = "upload a validated output folder to a Hugging Face Hub dataset repository"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "publish",
        help=HELP,
        description=HELP + ". The token comes from HF_TOKEN or a saved `hf auth login`; "
        "it is never printed or written.",
    )
    p.add_argument(
        "out", type=local_path, metavar="OUT", help="local output folder of `msg build` (not a URL)"
    )
    p.add_argument("--repo-id", required=True, metavar="ID", help="e.g. user/msg-grounding")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--revision", metavar="REV", help="branch to upload to (created if needed)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print which files would go where, with sizes; no network, no token",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.publish.upload import PublishError, describe_plan, upload, upload_plan
    from pipeline.publish.validate import validate_folder

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    problems = validate_folder(args.out)
    if problems:
        for problem in problems:
            print(f"{args.out}/{problem}", file=sys.stderr)
        print(
            f"msg publish: error: {args.out} is not valid ({len(problems)} problem(s)); "
            "nothing uploaded",
            file=sys.stderr,
        )
        return 1
    plan = upload_plan(args.out)
    description = describe_plan(plan, args.repo_id, args.revision, args.private)
    if args.dry_run:
        print("msg publish: dry run, nothing uploaded")
        print(description)
        return 0
    print(description)
    try:
        url = upload(args.out, plan, args.repo_id, args.private, args.revision)
    except PublishError as err:
        print(f"msg publish: error: {err}", file=sys.stderr)
        return 1
    print(f"msg publish: uploaded to {url}")
    return 0
