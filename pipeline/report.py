"""The summary a build prints: where the output is, and counts a user checks first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.storage import is_url


def print_build_report(manifest: dict[str, Any], out: Path | str, quiet: bool = False) -> None:
    """`out` is the --out of the build: a local folder, or a URL (a str) shown as given."""
    counts = manifest["counts"]
    lines = [f"scenes: {counts.get('scenes', 0)}"]
    for section in ("mcq", "conv"):
        if section in counts:
            lines.append(f"{section}: {counts[section].get('total', 0)} items")
            for key in ("by_aspect_form", "by_kind", "skipped"):
                for name, n in sorted(counts[section].get(key, {}).items()):
                    lines.append(f"  {key.replace('by_', '')} {name}: {n}")
            balance = counts[section].get("balance", {})
            # Per (aspect/form): the bound that dropped them (same_question, ...).
            dropped = balance.get("dropped_by_reason") or balance.get("dropped", {})
            for name, n in sorted(dropped.items()):
                lines.append(f"  dropped by balancing {name}: {n}")
            release = counts[section].get("release")
            if release:  # --mcq-size / --conv-size: the pool, and quotas left unfilled
                lines.append(f"  release: {release['size']} of a pool of {release['pool']}")
                for name, n in release.get("shortfalls", {}).items():
                    lines.append(f"  shortfall {name}: {n} short of its quota")
    quarantined = sum(sum(c["quarantined"].values()) for c in manifest["records"].values())
    url = is_url(out)
    where = f"{str(out).rstrip('/')}/quarantine" if url else Path(out) / "quarantine"
    lines += image_lines(counts)
    images_out = counts.get("images_quarantined", 0)
    # Annotation records and items without their image are quarantined apart: say both.
    lines.append(
        f"quarantined: {quarantined} input records, {images_out} items without their image "
        f"(see {where})"
    )
    if not quiet:
        print("\n".join(lines))
    print(f"output: {out if url else Path(out).resolve()}")


def image_lines(counts: dict[str, Any]) -> list[str]:
    """Image coverage per source: of the distinct images the items use, how many are
    embedded, missing from every --images-dir folder, rejected, or never looked up."""
    coverage = counts.get("image_coverage") or {}
    lines = ["images (distinct, per source):"] if coverage else []
    for source, c in coverage.items():
        if c["not_searched"] == c["images"]:
            lines.append(f"  {source}: {c['images']} images of {c['items']} items not embedded "
                         "(no --images-dir)")  # fmt: skip
            continue
        parts = [f"{c['embedded']} embedded", f"{c['missing']} missing"]
        parts += [f"{c[k]} {k.replace('_', ' ')}" for k in ("rejected", "not_searched") if c[k]]
        lines.append(
            f"  {source}: {', '.join(parts)} of {c['images']} "
            f"({c['items_embedded']} of {c['items']} items with their image)"
        )
    return lines
