"""The multiple-choice TSV that VLMEvalKit reads (`pd.read_csv(path, sep="\\t")`).

Columns: index, image (base64; a later row of the same image holds the first row's index,
which VLMEvalKit resolves) or, when the shards embed no images, image_path (an absolute path
that exists: VLMEvalKit hands it to the model as is), question, A..D,
answer (letter), category (aspect), l2-category (form), split, plus the MSG id and group.
Only items with options (forms `mcq` and `yes_no`) are multiple choice; others are skipped.
"""

from __future__ import annotations

import base64
import csv
from pathlib import Path
from typing import Any

from pipeline.publish.export_images import MissingImages, find_file, readable_bytes
from pipeline.publish.image_folders import ImageFolders, folders_for
from pipeline.publish.layout import CONFIGS, has_image_column, iter_rows
from pipeline.publish.prompts import LETTERS

TSV_FILE = "MSG_MCQ.tsv"
CHOICE_FORMS = ("mcq", "yes_no")


def export_vlmevalkit(
    out: Path,
    dest: Path,
    images_dirs: list[Path] | None = None,
    skip_missing_images: bool = False,
) -> dict[str, Any]:
    """Images: base64 when the shards embed them (an item whose image was not embedded is
    read from the image folders), else absolute paths into the image folders
    (`images_dirs`, by default the build's own). An image found nowhere stops the export
    with one error naming the files, unless `skip_missing_images` (then counted)."""
    cfg = CONFIGS["mcq"]
    embedded = has_image_column(out, cfg)
    folders = folders_for(out, images_dirs)
    missing: list[str] = []
    columns = ["index", "image" if embedded else "image_path", "question", *LETTERS]
    columns += ["answer", "category", "l2-category", "split", "msg_id", "group_id"]
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / TSV_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    first_index: dict[str, int] = {}  # file name -> index of the row holding its base64
    written = skipped = no_image = 0
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        for row in iter_rows(out, cfg):
            if row["form"] not in CHOICE_FORMS:
                skipped += 1
                continue
            index = written
            image = _image_cell(row, embedded, index, first_index, folders)
            if image is None:  # VLMEvalKit needs an image on every row
                no_image += 1
                missing.append(row["file_name"])
                continue
            options = list(row["options"]) + [""] * (len(LETTERS) - len(row["options"]))
            writer.writerow(
                [index, image, row["question"], *options, LETTERS[row["answer_index"]],
                 row["aspect"], row["form"], row["split"], row["id"], row["group_id"]]
            )  # fmt: skip
            written += 1
    if missing and not skip_missing_images:
        tmp.unlink()
        hint = " (or --skip-missing-images to leave those items out, counted)"
        raise MissingImages(str(out / "data" / "mcq"), sorted(set(missing)), folders, hint)
    tmp.replace(path)
    return {
        "files": [path],
        "rows": written,
        "skipped_open_forms": skipped,
        "skipped_no_image": no_image,
    }


def _image_cell(
    row: dict[str, Any],
    embedded: bool,
    index: int,
    first: dict[str, int],
    folders: ImageFolders,
) -> str | None:
    """An absolute path that exists, or base64 (a repeated image: the first row's index);
    None when the image is nowhere."""
    if not embedded:
        found = find_file(row, folders)
        return str(found) if found is not None else None
    name = row["file_name"]
    if name in first:  # VLMEvalKit: an image cell of <= 64 chars is another row's index
        return str(first[name])
    data = readable_bytes(row, folders)
    if data is None:
        return None
    first[name] = index
    return base64.b64encode(data).decode("ascii")
