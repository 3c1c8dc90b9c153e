"""Release gates: thresholds from `pipeline/tables/audit.toml` (or a file given on the
command line), checked against the metrics; each broken gate is named."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

DEFAULTS = Path(__file__).resolve().parent.parent / "tables" / "audit.toml"


def load_settings(override: Path | None = None) -> dict[str, dict[str, Any]]:
    """The table, with any section values of `override` laid over it."""
    settings = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    if override is not None:
        try:
            extra = tomllib.loads(override.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(override, "thresholds file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(override, f"not valid TOML ({exc})") from None
        for section, values in extra.items():
            unknown = sorted(set(values) - set(settings.get(section, {})))
            if section not in settings or unknown:
                raise InputError(override, f"unknown setting(s) in [{section}]: {unknown}")
            settings[section] |= values
    return settings


def check_gates(metrics: dict[str, Any], gates: dict[str, Any]) -> list[dict[str, Any]]:
    """Every gate with its worst value; `broken` lists where it fails."""
    min_items = gates["min_items"]
    balance = metrics["balance"]
    head, position, yes = [], [], []
    for aspect, forms in balance.items():
        for form, m in forms.items():
            if m["items"] >= min_items and m["head_share"] > gates["max_head_share"] + 1e-9:
                head.append(f"{aspect}/{form}: {m['head_share']:.3f}")
            if (
                form == "mcq"
                and m.get("position_tested")
                and (m["position_p"] < gates["min_position_p"])
            ):
                position.append(f"{aspect}: p={m['position_p']:.4f}")
            if form == "yes_no" and m["items"] >= min_items:
                if abs(m["yes_share"] - 0.5) > gates["max_yes_share_deviation"] + 1e-9:
                    yes.append(f"{aspect}: yes share {m['yes_share']:.3f}")
    leak = [
        f"{aspect}: {forms['mcq']['leakage']:.3f}"
        for aspect, forms in metrics["leakage"]["by_aspect_form"].items()
        if "mcq" in forms
        and forms["mcq"]["items"] >= min_items
        and forms["mcq"]["leakage"] > gates["max_mcq_leakage"]
    ]
    conflicting = [
        f"{d['scene_id']}: {d['questions'][0]!r}"
        for d in metrics["labels"]["duplicate_questions"]
        if d["kind"] == "duplicate" and not d["same_answer"]
    ]
    conflicting = conflicting if len(conflicting) > gates["max_conflicting_duplicates"] else []
    results = [
        ("max_head_share", gates["max_head_share"], head),
        ("min_position_p", gates["min_position_p"], position),
        ("max_yes_share_deviation", gates["max_yes_share_deviation"], yes),
        ("max_mcq_leakage", gates["max_mcq_leakage"], leak),
        ("max_conflicting_duplicates", gates["max_conflicting_duplicates"], conflicting),
    ]
    return [
        {"gate": name, "threshold": limit, "passed": not broken, "broken": broken}
        for name, limit, broken in results
    ]
