"""The multiple-choice TSV that VLMEvalKit reads (`pd.read_csv(path, sep="\\t")`).

Columns: index, image (base64; a later row of the same image holds the first row's index,
which VLMEvalKit resolves) or image_path when images are not embedded, question, A..D,
answer (letter), category (aspect), l2-category (form), split, plus the MSG id and group.
Only items with options (forms `mcq` and `yes_no`) are multiple choice; others are skipped.
"""

from __future__ import annotations

import base64
import csv
from pathlib import Path
from typing import Any

from pipeline.publish.layout import CONFIGS, IMAGE_COLUMN, has_image_column, iter_rows
from pipeline.publish.prompts import LETTERS

TSV_FILE = "MSG_MCQ.tsv"
CHOICE_FORMS = ("mcq", "yes_no")


def export_vlmevalkit(out: Path, dest: Path) -> dict[str, Any]:
    cfg = CONFIGS["mcq"]
    embedded = has_image_column(out, cfg)
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
            image = _image_cell(row, embedded, index, first_index)
            if image is None:  # its image was quarantined: VLMEvalKit needs one per row
                no_image += 1
                continue
            options = list(row["options"]) + [""] * (len(LETTERS) - len(row["options"]))
            writer.writerow(
                [index, image, row["question"], *options, LETTERS[row["answer_index"]],
                 row["aspect"], row["form"], row["split"], row["id"], row["group_id"]]
            )  # fmt: skip
            written += 1
    tmp.replace(path)
    return {
        "files": [path],
        "rows": written,
        "skipped_open_forms": skipped,
        "skipped_no_image": no_image,
    }


def _image_cell(
    row: dict[str, Any], embedded: bool, index: int, first: dict[str, int]
) -> str | None:
    if not embedded:
        return row["file_name"]
    image = row.get(IMAGE_COLUMN)
    if not image or not image.get("bytes"):
        return None
    name = row["file_name"]
    if name in first:  # VLMEvalKit: an image cell of <= 64 chars is another row's index
        return str(first[name])
    first[name] = index
    return base64.b64encode(image["bytes"]).decode("ascii")
