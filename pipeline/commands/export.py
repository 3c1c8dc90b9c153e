"""`msg export OUT --format FORMAT --dest DIR`: files for LLaVA, lmms-eval, VLMEvalKit and
POPE."""

from __future__ import annotations

import argparse

from pipeline.errors import InputError
from pipeline.storage import local_path

HELP = "write LLaVA training JSON, an lmms-eval task folder, VLMEvalKit TSVs or POPE files"
FORMATS = ("llava", "lmms-eval", "vlmevalkit", "pope")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help=HELP, description=HELP + " from an output folder.")
    p.add_argument(
        "out", type=local_path, metavar="OUT", help="local output folder of `msg build` (not a URL)"
    )
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--dest", required=True, type=local_path, metavar="DIR", help="folder to write")
    p.add_argument(
        "--include-mcq",
        action="store_true",
        help="llava: also add MSG-MCQ items as single-turn samples (they are the test set)",
    )
    p.add_argument(
        "--dataset-path",
        metavar="ID_OR_DIR",
        help="lmms-eval: Hub id or local folder the task loads (default: OUT)",
    )
    p.add_argument(
        "--images-dir",
        action="append",
        type=local_path,
        metavar="DIR",
        help="folder of images the dataset does not embed, searched by file name; repeat "
        "for each folder (default: the build's own --images-dir folders)",
    )
    p.add_argument(
        "--link-images",
        type=local_path,
        metavar="DIR",
        help="llava: make DIR the image folder: <image_source>/<file_name> symlinks to the "
        "image folders' files (embedded images written as files); a missing image stops",
    )
    p.add_argument(
        "--image-prefix",
        default="",
        metavar="PREFIX",
        help="llava: put before every image path (<image_source>/<file_name>)",
    )
    p.add_argument(
        "--skip-missing-images",
        action="store_true",
        help="vlmevalkit: leave out (and count) items whose image is found nowhere, "
        "instead of stopping",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.publish.layout import CONFIGS, shard_files

    if not args.out.is_dir():
        raise InputError(args.out, "output folder not found")
    needed = ["conv"] if args.format == "llava" else ["mcq"]
    if args.format == "llava" and args.include_mcq:
        needed.append("mcq")
    for name in needed:
        if not shard_files(args.out, CONFIGS[name]):
            raise InputError(args.out / "data" / name, "no shards to export")
    if args.format == "llava":
        from pipeline.publish.export_llava import export_llava

        result = export_llava(
            args.out,
            args.dest,
            args.include_mcq,
            args.image_prefix,
            args.link_images,
            args.images_dir,
        )
        detail = (
            f"{result['samples']} samples; image folder {result['image_folder']}: "
            f"{result['images_written']} images written, {result['images_linked']} linked, "
            f"{result['images_absent']} not in it"
        )
        if result["images_absent"]:
            print("msg export: note: pass --link-images DIR (with --images-dir) to put every "
                  "image in one folder for LLaVA's --image_folder")  # fmt: skip
        if args.include_mcq:
            print("msg export: note: MSG-MCQ is the evaluation set; do not train on it for "
                  "models you evaluate with it")  # fmt: skip
    elif args.format == "lmms-eval":
        from pipeline.publish.export_lmms import export_lmms_eval

        result = export_lmms_eval(args.out, args.dest, args.dataset_path, args.images_dir)
        detail = f"aspects {', '.join(result['aspects']) or '(none)'}"
        from pipeline.publish.export_images import unresolved_images
        from pipeline.publish.image_folders import folders_for

        unresolved = unresolved_images(args.out, folders_for(args.out, args.images_dir))
        if unresolved:
            print(f"msg export: note: {len(unresolved)} image(s) are not embedded and not in "
                  f"the image folders (e.g. {unresolved[0]}); set MSG_IMAGES_DIR or pass "
                  "--images-dir before running the task")  # fmt: skip
        if result["circular"]:
            detail += "; circular over rotation groups"
    elif args.format == "pope":
        from pipeline.publish.export_pope import export_pope

        result = export_pope(args.out, args.dest)
        detail = _pope_detail(result["summary"])
    else:
        from pipeline.publish.export_vlmevalkit import export_vlmevalkit

        result = export_vlmevalkit(args.out, args.dest, args.images_dir, args.skip_missing_images)
        detail = _vlmevalkit_detail(result["summary"])
    for path in result["files"]:
        print(f"msg export: wrote {path}")
    print(f"msg export: {args.format}: {detail}")
    return 0


def _counts(by: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in by.items()) or "none"


def _vlmevalkit_detail(summary: dict) -> str:
    """Rows per file and every item left out, by reason: never dropped silently."""
    files = "; ".join(
        f"{name}: {f['rows']} rows"
        + (f" ({sum(f['left_out_no_image'].values())} without an image left out)"
           if f["left_out_no_image"] else "")
        for name, f in summary["files"].items()
    )  # fmt: skip
    gone = summary["not_exported"]
    reasons = gone["by_reason"]
    return (
        f"{files}; items in no file: {gone['total']} (open forms: "
        f"{_counts(reasons['open_form'])}; no image: {_counts(reasons['no_image'])})"
    )


def _pope_detail(summary: dict) -> str:
    settings = "; ".join(
        f"{s}: {v['questions']} questions ({v['labels']['yes']} yes, {v['labels']['no']} no)"
        for s, v in summary["settings"].items()
    )
    return f"{settings}; not POPE items (other aspects and forms): {summary['not_pope']['total']}"
