"""What the manifest and the card say about a fixed-size MSG-MCQ release: its quotas and
shortfalls (from the release plan), its composition (aspect x form x source) and its
text-only leakage, measured by the audit's own attacks on the published items."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.audit.leakage import blind_leakage
from pipeline.config import BuildOptions
from pipeline.parquet_io import read_rows
from pipeline.storage import FsPath
from pipeline.tables import load_table

# What the blind attacks and answer judging read of an item (not the image).
BLIND_COLUMNS = [
    "id",
    "scene_id",
    "aspect",
    "form",
    "question",
    "options",
    "answer",
    "answer_value",
    "distractor_sources",
]

# Said in the card and docs/release.md; release_plan.py does it.
RULES = (
    "exactly the asked number of items, chosen deterministically from the balanced pool",
    "quotas per aspect (shares), per form inside an aspect (equal) and per source "
    "(COCO / VG, in proportion to the pool); a quota the pool cannot fill is a named "
    "shortfall, its remainder shared by the other quotas",
    "at most one item per fact (image, referent set, aspect, value) and at most "
    "{per_image} items per image, spread over as many images as possible",
    "inside a quota, preferred: fewer skipped facts in the image, then a larger referent "
    "(its share of the image, in bins of a factor {bin_factor}), then a seeded hash",
    "the balancing bounds hold on the release itself: the answer head share per (aspect, "
    "form) as on the pool, checked on the result; per phrasing and per question text "
    "screened while choosing (flattening answers per question text); yes/no as often "
    "yes as no per asked value and phrasing (items are chosen in yes/no pairs); correct "
    "options at positions round-robin per aspect",
)


def rules(options: BuildOptions) -> list[str]:
    factor = load_table("release")["release"]["area_bin_factor"]
    return [r.format(per_image=options.mcq_per_image, bin_factor=factor) for r in RULES]


def release_counts(plan_report: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """`counts.mcq.release` (whole numbers only, as every count of the manifest): size,
    pool, quotas, shortfalls and the composition, aspect/form/source -> items."""
    composition: Counter = Counter()
    for r in results:
        composition.update(r["composition"])
    return plan_report | {"composition": dict(sorted(composition.items()))}


def release_facts(out: FsPath, options: BuildOptions) -> dict[str, Any]:
    """The manifest's `release.mcq`: the selection rules as the card states them, and the
    text-only leakage of the published items by the audit's own measure."""
    items = [
        row
        for path in sorted((out / "data" / "mcq").iterdir(), key=lambda p: p.name)
        if path.name.endswith(".parquet")
        for row in read_rows(path, columns=BLIND_COLUMNS)
    ]
    folds = load_table("audit")["checks"]["blind_folds"]
    leakage = blind_leakage(items, folds, options.seed)
    return {
        "rules": rules(options),
        "leakage": {
            "overall": (leakage["overall"] or {}).get("leakage"),
            "by_aspect": {a: s["leakage"] for a, s in leakage["by_aspect"].items()},
            "folds": folds,
            "unit": leakage["unit"],
        },
    }


def release_section(manifest: dict[str, Any]) -> str:
    """The card's account of a fixed-size release ("" for a whole-pool build): size,
    rules, composition (aspect x form x source), shortfalls and text-only leakage."""
    counts = manifest.get("counts", {})
    conv = counts.get("conv", {}).get("release")
    conv_line = (
        f"MSG-Conv here is a fixed-size release of **{conv['size']} samples** from a pool of "
        f"{conv['pool']} (`--conv-size`): per kind in proportion to the pool, in a seeded "
        "order, spread over as many images as possible."
        if conv
        else ""
    )
    release = counts.get("mcq", {}).get("release")
    if not release:
        return conv_line
    facts = manifest.get("release", {}).get("mcq", {})
    lines = [
        f"MSG-MCQ here is a fixed-size release of **{release['size']} items**, chosen from a "
        f"balanced pool of {release['pool']} (`--mcq-size`, docs/release.md):",
        "",
        *(f"- {rule}" for rule in facts.get("rules", [])),
        "",
        "| aspect | form | source | items | quota |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    quotas = release["quotas"]
    for cell, n in release["composition"].items():
        aspect, form, source = cell.split("/")
        lines.append(
            f"| {aspect} | {form} | {source} | {n} | {quotas.get(cell, {}).get('quota', '-')} |"
        )
    lines.append("")
    if release["shortfalls"]:
        short = ", ".join(f"`{k}` ({n})" for k, n in release["shortfalls"].items())
        lines += [f"Quotas the pool could not fill (items missing): {short}.", ""]
    leak = facts.get("leakage", {})
    if leak.get("overall") is not None:
        by_aspect = ", ".join(f"{a} {100 * v:+.1f}" for a, v in leak["by_aspect"].items())
        lines.append(
            f"Text-only leakage of this release (the audit's two blind attacks, {leak['folds']} "
            f"folds over images; accuracy minus chance, in points): overall "
            f"{100 * leak['overall']:+.1f}; by aspect: {by_aspect}."
        )
    return "\n".join([*lines, "", conv_line] if conv_line else lines)
