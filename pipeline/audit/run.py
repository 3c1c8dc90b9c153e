"""`msg audit OUT`: read a build's items, scenes and manifest; compute every figure; write
`OUT/audit/metrics.json` and `OUT/audit/report.html`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.audit import captions, gates, labels, leakage, pictures, stats
from pipeline.audit import conv as conv_audit
from pipeline.errors import InputError
from pipeline.manifest import describe_outputs
from pipeline.parquet_io import write_json
from pipeline.publish.image_folders import build_image_dirs
from pipeline.publish.layout import IMAGE_COLUMN


def load_items(out: Path) -> list[dict[str, Any]]:
    files = sorted((out / "data" / "mcq").glob("*.parquet"))
    if not files:
        raise InputError(out / "data" / "mcq", "no MSG-MCQ shards (is this a `msg build` output?)")
    rows: list[dict[str, Any]] = []
    for path in files:  # the image bytes are not needed here: the report draws its own
        columns = [c for c in pq.read_schema(path).names if c != IMAGE_COLUMN]
        rows.extend(pq.read_table(path, columns=columns).to_pylist())
    return rows


def load_scenes(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((out / "scenes").glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def balancing_summary(report: dict[str, Any]) -> dict[str, Any]:
    """Per aspect, before and after build-time balancing: mcq items, head share, position
    p-value (from the manifest's `counts.mcq.balance`)."""
    out: dict[str, Any] = {}
    for aspect in sorted(report.get("before", {}).get("mcq_answers", {})):
        row = {}
        for when in ("before", "after"):
            answers = report[when]["mcq_answers"].get(aspect, {})
            listed = {k: v for k, v in answers.items() if k != "(other)"}
            positions = list(report[when]["mcq_positions"].get(aspect, {}).values())
            total = sum(answers.values())
            row[when] = {
                "mcq_items": total,
                "head_share": round(max(listed.values(), default=0) / total, 6) if total else 0,
                "position_p": round(stats.chi_square_uniform(positions)[1], 6),
            }
        out[aspect] = row
    return out


def compute_metrics(
    items: list[dict[str, Any]],
    scenes: list[dict[str, Any]],
    manifest: dict[str, Any],
    settings: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    g, checks = settings["gates"], settings["checks"]
    balance_report = manifest.get("counts", {}).get("mcq", {}).get("balance", {})
    dup_questions = labels.duplicate_questions(items, checks["near_duplicate_iou"])
    exclusive = labels.exclusive_values(scenes)
    dup_boxes = labels.duplicate_box_conflicts(scenes)
    metrics: dict[str, Any] = {
        "items": len(items),
        "balance": stats.balance_metrics(items, g["min_items"]),
        "balancing": {
            "head_share_option": manifest.get("options", {}).get("head_share"),
            "report": balance_report,
            "by_aspect": balancing_summary(balance_report) if balance_report else {},
        },
        "leakage": leakage.blind_leakage(
            items, checks["blind_folds"], int(manifest.get("seed", 0) or 0)
        ),
        "labels": {
            "counts": {
                "exclusive_values": len(exclusive),
                "duplicate_box_conflicts": len(dup_boxes),
                "duplicate_questions": sum(d["kind"] == "duplicate" for d in dup_questions),
                "near_duplicate_questions": sum(
                    d["kind"] == "near_duplicate" for d in dup_questions
                ),
            },
            "exclusive_values": exclusive,
            "duplicate_box_conflicts": dup_boxes,
            "duplicate_questions": dup_questions,
        },
        "captions": captions.check_captions(scenes, items),
    }
    metrics["gates"] = gates.check_gates(metrics, g)
    return metrics


def run_audit(
    out: Path, images_dir: Path | list[Path] | None = None, thresholds: Path | None = None
) -> dict[str, Any]:
    """Write the audit of `out`; returns the metrics (with `gates`)."""
    from pipeline.audit.report import render_report

    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "manifest not found (is this a `msg build` output?)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    settings = gates.load_settings(thresholds)
    items, scenes = load_items(out), load_scenes(out)
    metrics = compute_metrics(items, scenes, manifest, settings)
    # The folders given, else the build's own images.
    given = [images_dir] if isinstance(images_dir, Path) else images_dir
    dirs = [d for d in (given or build_image_dirs(manifest)) if d.is_dir()]
    sheets: dict[str, list] = {}
    if dirs:
        seed = int(manifest.get("seed", 0) or 0)
        per_aspect = settings["report"]["sheet_items"]
        loader = pictures.folder_loader(dirs)
        sheets = pictures.build_sheets(items, scenes, loader, per_aspect, seed)
    metrics["pictures"] = {
        "images_available": bool(sheets),
        "by_aspect": {a: [c["id"] for c in cards] for a, cards in sheets.items()},
    }
    # MSG-Conv, read as a data user reads it (pipeline/audit/conv.py).
    samples = conv_audit.load_conv(out)
    fraction = float(manifest.get("options", {}).get("tuning_fraction") or 0.0)
    metrics["conv"] = conv_audit.conv_metrics(samples, scenes, fraction)
    conv_cards: list = []
    if dirs:
        loader = pictures.folder_loader(dirs)
        per_kind = settings["report"]["sheet_items"]
        seed = int(manifest.get("seed", 0) or 0)
        conv_cards = conv_audit.conv_sheet(samples, scenes, loader, per_kind, seed)
    metrics["conv"]["sheet"] = [c["id"] for c in conv_cards]
    folder = out / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    previous = folder / "metrics.json"  # people's verdicts outlive a re-run of the audit
    if previous.is_file():
        kept = json.loads(previous.read_text(encoding="utf-8")).get("human_review")
        if kept:
            metrics["human_review"] = kept
    html_text, charts = render_report(metrics, sheets, settings["report"], conv_cards)
    metrics["charts"] = charts
    write_json(folder / "metrics.json", metrics)
    (folder / "report.html").write_text(html_text, encoding="utf-8")
    # The audit belongs to the output folder: list it so `msg validate` still passes.
    manifest["outputs"] = describe_outputs(out)
    write_json(manifest_path, manifest)
    return metrics
