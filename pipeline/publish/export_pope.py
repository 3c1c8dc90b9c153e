"""MSG-MCQ's existence items in POPE's own file format (RUCAIBox/POPE): one file per negative
sampling setting, `msg_pope_{random,popular,adversarial}.json`, named like POPE's
`{dataset}_pope_{setting}.json`. Each line is one JSON object
`{"question_id": n, "image": file_name, "text": question, "label": "yes"|"no"}`, as POPE's
`output/coco/coco_pope_*.json` and as its `evaluate.py` reads labels
(`json.loads(line)['label']`) and LLaVA's `model_vqa_loader` reads questions.

`image` is the file name, relative to the folder that holds the images, as in POPE's files.
`question_id` counts from 1 within each file, in build order; `msg_pope_summary.json` maps it
back to the MSG item id and counts what is not a POPE item (other aspects and forms)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.publish.layout import CONFIGS, iter_rows

SETTINGS = ("random", "popular", "adversarial")  # POPE's three negative-sampling settings
SUMMARY_FILE = "msg_pope_summary.json"
LABELS = ("yes", "no")


def pope_file(setting: str) -> str:
    return f"msg_pope_{setting}.json"


def pope_line(question_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """One POPE question, keys in POPE's order."""
    if row["answer"] not in LABELS:
        raise ValueError(f"item {row['id']}: a POPE label is yes or no, not {row['answer']!r}")
    return {
        "question_id": question_id,
        "image": row["file_name"],
        "text": row["question"],
        "label": row["answer"],
    }


def export_pope(out: Path, dest: Path) -> dict[str, Any]:
    """Write the three POPE files and the summary; returns the files and the summary."""
    dest.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[dict[str, Any]]] = {s: [] for s in SETTINGS}
    ids: dict[str, list[str]] = {s: [] for s in SETTINGS}
    not_pope: Counter[str] = Counter()  # "aspect/form" -> items that are not POPE questions
    for row in iter_rows(out, CONFIGS["mcq"]):
        setting = row["pope_setting"]
        if row["form"] != "yes_no" or setting not in lines:
            not_pope[f"{row['aspect']}/{row['form']}"] += 1
            continue
        lines[setting].append(pope_line(len(lines[setting]) + 1, row))
        ids[setting].append(row["id"])
    files = []
    for setting in SETTINGS:
        path = dest / pope_file(setting)
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines[setting])
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        files.append(path)
    summary = {
        "settings": {
            s: {
                "file": pope_file(s),
                "questions": len(lines[s]),
                "labels": {label: sum(x["label"] == label for x in lines[s]) for label in LABELS},
                "images": len({x["image"] for x in lines[s]}),
                "msg_ids": ids[s],  # question_id n is msg_ids[n - 1]
            }
            for s in SETTINGS
        },
        "not_pope": {
            "total": sum(not_pope.values()),
            "by_aspect_form": dict(sorted(not_pope.items())),
        },
    }
    summary_path = dest / SUMMARY_FILE
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "utf-8")
    return {"files": [*files, summary_path], "summary": summary}
