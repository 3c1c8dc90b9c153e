"""The TSV files VLMEvalKit reads (`pd.read_csv(path, sep="\\t")`), following its own loaders
(open-compass/VLMEvalKit: vlmeval/dataset/image_base.py, image_mcq.py, image_yorn.py,
utils/multiple_choice.py, utils/yorn.py).

- `MSG_MCQ.tsv` (custom MCQ dataset): the items with options (forms `mcq` and `yes_no`).
  Columns: index, image (base64; a later row of the same image holds the first row's index,
  which VLMEvalKit resolves) or, when the shards embed no images, image_path (an absolute
  path that exists: VLMEvalKit hands it to the model as is), question, A..D,
  answer (letter), category (aspect), l2-category (form), split, g_index (the index of the
  first row of the item's rotation group), pope_setting (existence items), msg_id, group_id.
- `MSG_MCQ_circular.tsv`, for builds with rotations (`msg build --circular`): the mcq items
  only, numbered as MMBench numbers its rotations (rotation k of question i has index
  i + k * 1e6, and `g_index` = i). The name holds "circular", which is how VLMEvalKit turns on
  its CircularEval (`mcq_circular_eval`): its circular score is then `msg evaluate`'s.
- `MSG_YN_POPE.tsv` (ImageYORNDataset): the yes/no items, answer `Yes`/`No`, category =
  aspect, l2-category = POPE setting (or the form), so VLMEvalKit's yes/no rating (POPE's
  accuracy, precision, recall and F1 per category: the name holds "POPE") works.
- `msg_vlmevalkit_summary.json`: rows per file and every item left out, by reason (open
  forms, no image), so nothing is dropped silently.
"""

from __future__ import annotations

import base64
import csv
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pipeline.publish.export_images import MissingImages, find_file, readable_bytes
from pipeline.publish.groups import has_rotations
from pipeline.publish.image_folders import ImageFolders, folders_for
from pipeline.publish.layout import CONFIGS, has_image_column, iter_rows
from pipeline.publish.prompts import LETTERS

TSV_FILE = "MSG_MCQ.tsv"
CIRCULAR_TSV_FILE = "MSG_MCQ_circular.tsv"
YN_TSV_FILE = "MSG_YN_POPE.tsv"
SUMMARY_FILE = "msg_vlmevalkit_summary.json"
CHOICE_FORMS = ("mcq", "yes_no")
ROTATION_OFFSET = 1_000_000  # MMBench: g_index = index % 1e6 when there is no g_index column
YES_NO = {"yes": "Yes", "no": "No"}  # VLMEvalKit's Y/N answers


@dataclass
class _Sheet:
    """One TSV being written: which rows it takes and how it numbers and fills them."""

    path: Path
    columns: list[str]
    takes: Callable[[dict[str, Any]], bool]
    cells: Callable[[dict[str, Any], int, int, str], list[Any]]  # row, index, g_index, image
    circular: bool = False  # MMBench numbering of rotations
    rows: int = 0
    no_image: Counter = field(default_factory=Counter)  # form -> rows left out
    first_image: dict[str, int] = field(default_factory=dict)  # file name -> index
    groups: dict[str, int] = field(default_factory=dict)  # group_id -> g_index
    handle: TextIO | None = None

    def index_of(self, row: dict[str, Any]) -> tuple[int, int]:
        group = row["group_id"]
        if self.circular:
            g_index = self.groups.setdefault(group, len(self.groups))
            if g_index >= ROTATION_OFFSET:
                raise ValueError(f"{self.path.name}: more than {ROTATION_OFFSET} questions")
            return g_index + (row.get("rotation") or 0) * ROTATION_OFFSET, g_index
        index = self.rows
        return index, self.groups.setdefault(group, index)


def _choice_cells(row: dict[str, Any], index: int, g_index: int, image: str) -> list[Any]:
    options = list(row["options"]) + [""] * (len(LETTERS) - len(row["options"]))
    return [index, image, row["question"], *options, LETTERS[row["answer_index"]],
            row["aspect"], row["form"], row["split"], g_index, row["pope_setting"] or "",
            row["id"], row["group_id"]]  # fmt: skip


def _yes_no_cells(row: dict[str, Any], index: int, g_index: int, image: str) -> list[Any]:
    return [index, image, row["question"], YES_NO[row["answer"]], row["aspect"],
            row["pope_setting"] or row["form"], row["split"], row["pope_setting"] or "",
            row["id"]]  # fmt: skip


def _sheets(dest: Path, image_column: str, circular: bool) -> list[_Sheet]:
    choice = ["index", image_column, "question", *LETTERS, "answer", "category", "l2-category",
              "split", "g_index", "pope_setting", "msg_id", "group_id"]  # fmt: skip
    yes_no = ["index", image_column, "question", "answer", "category", "l2-category", "split",
              "pope_setting", "msg_id"]  # fmt: skip
    sheets = [
        _Sheet(dest / TSV_FILE, choice, lambda r: r["form"] in CHOICE_FORMS, _choice_cells),
        _Sheet(dest / YN_TSV_FILE, yes_no, lambda r: r["form"] == "yes_no", _yes_no_cells),
    ]
    if circular:
        sheets.append(
            _Sheet(dest / CIRCULAR_TSV_FILE, choice, lambda r: r["form"] == "mcq", _choice_cells,
                   circular=True)
        )  # fmt: skip
    return sheets


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
    dest.mkdir(parents=True, exist_ok=True)
    sheets = _sheets(dest, "image" if embedded else "image_path", has_rotations(out))
    writers = {}
    for sheet in sheets:
        sheet.handle = open(_tmp(sheet.path), "w", encoding="utf-8", newline="")  # noqa: SIM115
        writers[sheet.path] = csv.writer(sheet.handle, delimiter="\t", lineterminator="\n")
        writers[sheet.path].writerow(sheet.columns)
    not_exported: dict[str, Counter[str]] = {"open_form": Counter(), "no_image": Counter()}
    try:
        for row in iter_rows(out, cfg):
            taken = False
            takers = [sheet for sheet in sheets if sheet.takes(row)]
            if not takers:  # fill_blank, correction: no options, no yes/no
                not_exported["open_form"][row["form"]] += 1
            for sheet in takers:
                index, g_index = sheet.index_of(row)
                image = _image_cell(row, embedded, index, sheet.first_image, folders)
                if image is None:  # VLMEvalKit needs an image on every row
                    sheet.no_image[row["form"]] += 1
                    missing.append(row["file_name"])
                    continue
                writers[sheet.path].writerow(sheet.cells(row, index, g_index, image))
                sheet.rows += 1
                taken = True
            if takers and not taken:
                not_exported["no_image"][row["form"]] += 1
    finally:
        for sheet in sheets:
            if sheet.handle is not None:
                sheet.handle.close()
    if missing and not skip_missing_images:
        for sheet in sheets:
            _tmp(sheet.path).unlink()
        hint = " (or --skip-missing-images to leave those items out, counted)"
        raise MissingImages(str(out / "data" / "mcq"), sorted(set(missing)), folders, hint)
    for sheet in sheets:
        _tmp(sheet.path).replace(sheet.path)
    summary = _summary(sheets, not_exported)
    summary_path = dest / SUMMARY_FILE
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "utf-8")
    main = sheets[0]
    return {
        "files": [s.path for s in sheets] + [summary_path],
        "rows": main.rows,
        "skipped_open_forms": sum(not_exported["open_form"].values()),
        "skipped_no_image": sum(main.no_image.values()),
        "summary": summary,
    }


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _summary(sheets: list[_Sheet], not_exported: dict[str, Counter[str]]) -> dict[str, Any]:
    """Rows per file, and the items of the build in no file at all, by reason and form:
    `open_form` (fill_blank, correction: VLMEvalKit's MCQ and Y/N datasets need options or a
    yes/no answer) and `no_image` (the build embeds images and this one's was quarantined)."""
    return {
        "files": {
            s.path.name: {"rows": s.rows, "left_out_no_image": dict(sorted(s.no_image.items()))}
            for s in sheets
        },
        "not_exported": {
            "total": sum(sum(c.values()) for c in not_exported.values()),
            "by_reason": {k: dict(sorted(c.items())) for k, c in sorted(not_exported.items())},
        },
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
