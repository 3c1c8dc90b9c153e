"""`msg review`: write the review page of a build, or import verdicts into its audit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipeline.audit import gates
from pipeline.audit.run import load_items, load_scenes
from pipeline.errors import InputError
from pipeline.manifest import describe_outputs
from pipeline.parquet_io import write_json
from pipeline.review import evidence, flags, images, page, sample
from pipeline.review.figures import review_figures, sampled_tally
from pipeline.review.verdicts import read_verdicts

SECTION = re.compile(r"<!--human-review-->.*?<!--/human-review-->", re.S)


def _manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    if not path.is_file():
        raise InputError(path, "manifest not found (is this a `msg build` output?)")
    return json.loads(path.read_text(encoding="utf-8"))


def write_review_page(
    out: Path,
    dest: Path,
    size: int,
    seed: int,
    aspects: list[str] | None = None,
    images_dir: Path | list[Path] | None = None,
) -> dict[str, Any]:
    """DEST/review.html; returns what is on it (ids flagged, sampled, left out, notes)."""
    from pipeline.publish.image_folders import build_image_dirs

    manifest = _manifest(out)
    given = [images_dir] if isinstance(images_dir, Path) else images_dir
    images_dir = [d for d in (given or build_image_dirs(manifest)) if d.is_dir()] or None
    items, scenes = load_items(out), load_scenes(out)
    near = gates.load_settings(None)["checks"]["near_duplicate_iou"]
    found, notes = flags.automatic_flags(out, items, scenes, near)
    load = images.image_loader(out, images_dir)
    uris: dict[str, str | None] = {}

    def uri_of(item: dict[str, Any]) -> str | None:
        if item["file_name"] not in uris:
            data = load(item)
            uris[item["file_name"]] = images.embed(data) if data else None
        return uris[item["file_name"]]

    chosen = sample.select_items(items, found, size, seed, lambda i: uri_of(i) is not None, aspects)
    scene_of = {s["scene_id"]: s for s in scenes}
    image_index: dict[str, int] = {}
    cards = []
    for item in chosen.items:
        scene = scene_of.get(item["scene_id"], {})
        image_index.setdefault(item["file_name"], len(image_index))
        cards.append(
            {
                "id": item["id"],
                "scene_id": item["scene_id"],
                "aspect": item["aspect"],
                "form": item["form"],
                "question": item["question"],
                "options": list(item["options"] or []),
                "answer": item["answer"],
                "answer_index": item["answer_index"],
                "answer_value": item["answer_value"],
                "image": image_index[item["file_name"]],
                "boxes": evidence.item_boxes(item, scene),
                "evidence": evidence.evidence_lines(item, scene),
                "flags": found.get(item["id"], []),
            }
        )
    data_uris = [uris[name] for name in image_index]
    about = {
        "build": out.name,
        "sampled": len(chosen.sampled),
        "flagged": len(chosen.flagged),
        "seed": seed,
    }
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "review.html").write_text(page.render_page(cards, data_uris, about), encoding="utf-8")
    # Which ids were drawn at random: an import given this file reports their error rate
    # apart, since flagged items overstate the rate of the whole set.
    selection = {"seed": seed, "size": size, "sampled": chosen.sampled, "flagged": chosen.flagged}
    write_json(dest / "selection.json", selection)
    return {
        "items": [c["id"] for c in cards],
        "sampled": chosen.sampled,
        "flagged": chosen.flagged,
        "flagged_without_image": chosen.without_image,
        "notes": notes,
    }


def import_verdicts(
    out: Path, files: list[Path], selection: Path | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Reads the verdict files, writes `human_review` into OUT/audit/metrics.json (the rest
    kept), refreshes the report's section and the manifest's file list; returns (figures,
    problems with skipped lines)."""
    manifest = _manifest(out)
    items = {i["id"]: i for i in load_items(out)}
    verdicts, problems = read_verdicts(files, set(items))
    figures = review_figures(verdicts, items)
    if selection is not None:
        try:
            sampled = set(json.loads(selection.read_text(encoding="utf-8"))["sampled"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(selection, f"not a selection.json of `msg review` ({exc})") from None
        figures["sampled_only"] = sampled_tally(verdicts, sampled)
    figures["files"] = [str(f) for f in files]
    figures["skipped_lines"] = problems
    folder = out / "audit"
    metrics_path = folder / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    metrics["human_review"] = figures
    write_json(metrics_path, metrics)
    report = folder / "report.html"
    if report.is_file():
        from pipeline.audit.report import human_review_section

        text = report.read_text(encoding="utf-8")
        section = human_review_section(figures)
        text = (
            SECTION.sub(lambda _: section, text)
            if SECTION.search(text)
            else (text.replace("</body>", section + "</body>"))
        )
        report.write_text(text, encoding="utf-8")
    manifest["outputs"] = describe_outputs(out)
    write_json(out / "manifest.json", manifest)
    return figures, problems
