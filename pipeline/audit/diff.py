"""`msg diff OLD NEW`: what changed between two output folders (two releases).

Items are matched by id (a hash of the item's image, fact and form, so an id names the
same question in any build): an id only in NEW is added, only in OLD removed, in both with
a different question, option set or answer (MSG-MCQ) or conversation (MSG-Conv) changed;
an item whose options differ only in order is counted apart as moved (positions are
balanced round-robin over an aspect, so one item more moves many).
Counted per (aspect, form) or kind, with the images involved; the manifests' rule, schema
and package versions, table checksums, seed, options and input checksums are compared."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.errors import InputError

# What an item's label is, per config: compared to decide "changed".
LABELS = {
    "mcq": ("question", "options", "answer"),
    "conv": ("conversations",),
}
GROUP = {"mcq": ("aspect", "form"), "conv": ("kind",)}
VERSION_KEYS = (
    "manifest_version",
    "package_version",
    "rules_version",
    "schema_version",
    "tables_sha256",
    "seed",
)


def read_items(out: Path, config: str) -> dict[str, dict[str, Any]]:
    """id -> the columns the diff reads, from <out>/data/<config>/*.parquet."""
    folder = out / "data" / config
    columns = ["id", "scene_id", *GROUP[config], *LABELS[config]]
    items: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.parquet")):
        try:
            rows = pq.read_table(path, columns=columns).to_pylist()
        except Exception as exc:  # pyarrow raises several types for a bad or foreign file
            raise InputError(path, f"not a readable {config} shard ({exc})") from None
        items.update((row["id"], row) for row in rows)
    return items


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no manifest.json: not an output folder of `msg build`") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc})") from None


def _label(row: dict[str, Any], config: str) -> dict[str, Any]:
    return {k: row[k] for k in LABELS[config]}


def _content(row: dict[str, Any], config: str) -> dict[str, Any]:
    """The label with the options as a set: the correct option's position is balanced
    round-robin over a whole aspect, so one item more or less moves many positions."""
    label = _label(row, config)
    if "options" in label:
        label["options"] = sorted(label["options"])
    return label


def diff_items(old: dict[str, dict], new: dict[str, dict], config: str) -> dict[str, Any]:
    group_of = lambda row: "/".join(str(row[k]) for k in GROUP[config])  # noqa: E731
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    both = set(old) & set(new)
    changed = sorted(i for i in both if _content(old[i], config) != _content(new[i], config))
    moved = sorted(
        i
        for i in both
        if _label(old[i], config) != _label(new[i], config)
        and _content(old[i], config) == _content(new[i], config)
    )
    by_group: dict[str, Counter] = {}
    for kind, ids, side in (
        ("added", added, new),
        ("removed", removed, old),
        ("changed", changed, new),
    ):
        for i in ids:
            by_group.setdefault(group_of(side[i]), Counter())[kind] += 1
    images = {
        side[i]["scene_id"]
        for ids, side in ((added, new), (removed, old), (changed, new))
        for i in ids
    }
    return {
        "added": len(added),
        "removed": len(removed),
        "changed": len(changed),
        # same question, options and answer; only the correct option's position differs
        "moved": len(moved),
        "by_group": {g: dict(sorted(c.items())) for g, c in sorted(by_group.items())},
        "images": sorted(images),
        "added_ids": added,
        "removed_ids": removed,
        "changed_items": [
            {
                "id": i,
                "scene_id": new[i]["scene_id"],
                "group": group_of(new[i]),
                "old": _label(old[i], config),
                "new": _label(new[i], config),
            }
            for i in changed
        ],
    }


def _diff_dict(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """key -> [old, new] for every key whose value differs (None where absent)."""
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


def diff_inputs(old: list[dict], new: list[dict]) -> dict[str, list[Any]]:
    """input label -> [old sha256, new sha256] where they differ (None: absent)."""
    sha = lambda entries: {e["label"]: e.get("sha256") for e in entries}  # noqa: E731
    return _diff_dict(sha(old), sha(new))


def diff_folders(old: Path, new: Path) -> dict[str, Any]:
    for folder in (old, new):
        if not folder.is_dir():
            raise InputError(folder, "output folder not found")
    old_m, new_m = read_manifest(old), read_manifest(new)
    report: dict[str, Any] = {"old": str(old), "new": str(new)}
    for config in LABELS:
        report[config] = diff_items(read_items(old, config), read_items(new, config), config)
    report["versions"] = _diff_dict(
        {k: old_m.get(k) for k in VERSION_KEYS}, {k: new_m.get(k) for k in VERSION_KEYS}
    )
    report["options"] = _diff_dict(old_m.get("options", {}), new_m.get("options", {}))
    report["inputs"] = diff_inputs(old_m.get("inputs", []), new_m.get("inputs", []))
    report["identical"] = not any(
        [*(report[c][k] for c in LABELS for k in ("added", "removed", "changed", "moved"))]
        + [report["versions"], report["options"], report["inputs"]]
    )
    return report


def summary(report: dict[str, Any], max_images: int = 20) -> str:
    """The report as text for a terminal."""
    if report["identical"]:
        return f"msg diff: {report['old']} and {report['new']} hold the same items and recipe"
    lines = [f"msg diff {report['old']} -> {report['new']}"]
    for name, d in (
        ("versions", report["versions"]),
        ("options", report["options"]),
        ("inputs (sha256)", report["inputs"]),
    ):
        for key, (a, b) in d.items():
            lines.append(f"  {name}: {key}: {a} -> {b}")
    for config, title in (("mcq", "MSG-MCQ"), ("conv", "MSG-Conv")):
        d = report[config]
        lines.append(
            f"{title}: {d['added']} added, {d['removed']} removed, {d['changed']} changed"
            + (f" ({d['moved']} more with the answer at another position)" if d["moved"] else "")
        )
        for group, counts in d["by_group"].items():
            shown = ", ".join(f"{k} {n}" for k, n in counts.items())
            lines.append(f"  {group}: {shown}")
        if d["images"]:
            more = len(d["images"]) - max_images
            listed = ", ".join(d["images"][:max_images]) + (f" (+{more} more)" if more > 0 else "")
            lines.append(f"  images: {listed}")
    return "\n".join(lines)
