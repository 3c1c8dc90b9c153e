"""Release gates: thresholds from `pipeline/tables/audit.toml` (or a file given on the
command line), checked against the metrics; each broken gate is named."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.tables import load_table


def load_settings(override: Path | None = None) -> dict[str, dict[str, Any]]:
    """The table, with any section values of `override` laid over it."""
    settings = copy.deepcopy(load_table("audit"))
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


# Which leakage gate bounds each form: closed forms (options) and open forms (free answer).
LEAKAGE_GATE_OF_FORM = {
    "mcq": "max_mcq_leakage",
    "yes_no": "max_mcq_leakage",
    "fill_blank": "max_open_leakage",
    "correction": "max_open_leakage",
}
LEAKAGE_GATES = ("max_mcq_leakage", "max_open_leakage", "max_overall_leakage")


def _leak_text(where: str, s: dict[str, Any]) -> str:
    figures = ", ".join(
        f"{name} {s[f'{name}_accuracy']:.3f}"
        for name in ("answer_prior", "option_prior")
        if s.get(f"{name}_accuracy") is not None
    )
    return f"{where}: {s['leakage']:+.3f} ({figures}; chance {s['chance']:.3f})"


def leakage_breaks(leakage: dict[str, Any], gates: dict[str, Any]) -> dict[str, list[str]]:
    """Leakage gate -> where it breaks: every (aspect, form) group with at least
    `min_leakage_items` items against its form's gate, and the item-weighted overall; the
    worst first."""
    found: dict[str, list[tuple[float, str]]] = {name: [] for name in LEAKAGE_GATES}
    for aspect, forms in leakage["by_aspect_form"].items():
        for form, s in forms.items():
            gate = LEAKAGE_GATE_OF_FORM.get(form, "max_open_leakage")
            if s["items"] >= gates["min_leakage_items"] and s["leakage"] > gates[gate] + 1e-9:
                found[gate].append((s["leakage"], _leak_text(f"{aspect}/{form}", s)))
    overall = leakage.get("overall")
    if overall and overall["leakage"] > gates["max_overall_leakage"] + 1e-9:
        found["max_overall_leakage"].append((overall["leakage"], _leak_text("overall", overall)))
    return {gate: [text for _, text in sorted(rows, reverse=True)] for gate, rows in found.items()}


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
    leak = leakage_breaks(metrics["leakage"], gates)
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
        *((name, gates[name], leak[name]) for name in LEAKAGE_GATES),
        ("max_conflicting_duplicates", gates["max_conflicting_duplicates"], conflicting),
    ]
    return [
        {"gate": name, "threshold": limit, "passed": not broken, "broken": broken}
        for name, limit, broken in results
    ]
