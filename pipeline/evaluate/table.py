"""Plain-text tables of an evaluation report for the terminal (the JSON has everything)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.evaluate.metrics import BUCKETS

SHOW_IDS = 5  # ids listed on the terminal per problem kind; the JSON lists all


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ci(ci: list[float] | None) -> str:
    return "-" if ci is None else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:  # first column left, numbers right
        padded = (
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded)

    return [line(header), *(line(r) for r in rows)]


def _acc_row(name: str, m: dict[str, Any], circ: dict[str, Any] | None) -> list[str]:
    row = [name, str(m["n"]), str(m["correct"]), _pct(m["accuracy"]), _ci(m["ci95"])]
    if circ is not None:
        row.append(f"{_pct(circ['accuracy'])} of {circ['groups']}" if circ else "-")
    return row


def _problems(p: dict[str, Any]) -> list[str]:
    lines = [
        f"items {p['items']}  answered {p['answered']}  missing {p['missing']}  "
        f"unknown ids {p['unknown']}  duplicate lines {p['duplicates']} (first answer kept)"
    ]
    for label, key in (("missing", "missing_ids"), ("unknown", "unknown_ids")):
        ids = p[key]
        if ids:
            more = f" (+{len(ids) - SHOW_IDS} more)" if len(ids) > SHOW_IDS else ""
            lines.append(f"  {label}: {', '.join(ids[:SHOW_IDS])}{more}")
    if p["duplicate_ids"]:
        lines.append(f"  duplicated: {', '.join(p['duplicate_ids'][:SHOW_IDS])}")
    return lines


def render(result: dict[str, Any], out: Path) -> str:
    p = result["predictions"]
    lines = [f"MSG-MCQ evaluation of {p['file']} on {out}", *_problems(p), ""]
    circ = result["circular"]
    header = ["aspect", "items", "correct", "accuracy", "95% CI"]
    if circ:
        header.append("circular")
    rows = [
        _acc_row(a, m, circ["by_aspect"].get(a, {}) if circ else None)
        for a, m in result["by_aspect"].items()
    ]
    rows.append(_acc_row("overall", result["overall"], circ["overall"] if circ else None))
    lines += _grid(header, rows) + [""]
    rows = [_acc_row(f, m, None) for f, m in result["by_form"].items()]
    lines += _grid(["form", "items", "correct", "accuracy", "95% CI"], rows) + [""]
    lines += _pope_lines(result["yes_no"]) + [""]
    lines += _misgrounding_lines(result["misgrounding"])
    return "\n".join(lines)


def _pope_lines(yn: dict[str, Any]) -> list[str]:
    def row(name: str, m: dict[str, Any]) -> list[str]:
        return [
            name,
            str(m["n"]),
            _pct(m["accuracy"]),
            _pct(m["precision"]),
            _pct(m["recall"]),
            _pct(m["f1"]),
            _pct(m["yes_ratio"]),
        ]

    rows = [row(f"setting {s}", m) for s, m in yn["by_pope_setting"].items()]
    rows += [row(a, m) for a, m in yn["by_aspect"].items()]
    rows.append(row("overall", yn["overall"]))
    header = ["yes/no (POPE)", "items", "accuracy", "precision", "recall", "F1", "yes-ratio"]
    return _grid(header, rows)


def _misgrounding_lines(mg: dict[str, Any]) -> list[str]:
    def row(name: str, m: dict[str, int]) -> list[str]:
        return [name, str(m["wrong"]), *(str(m[b]) for b in BUCKETS)]

    rows = [row(a, m) for a, m in mg["by_aspect"].items()]
    rows.append(row("overall", mg["overall"]))
    return _grid(["wrong mcq answers", "wrong", *BUCKETS], rows)


def render_compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Two predictions files side by side per aspect (accuracy, and circular when built)."""
    name_a = Path(a["predictions"]["file"]).name
    name_b = Path(b["predictions"]["file"]).name
    circular = a["circular"] is not None and b["circular"] is not None
    header = ["aspect", "items", f"A {name_a}", f"B {name_b}", "B - A"]
    if circular:
        header += ["A circular", "B circular"]

    def row(name: str, ma: dict[str, Any], mb: dict[str, Any], ca: Any, cb: Any) -> list[str]:
        diff = (
            "-"
            if ma["accuracy"] is None or mb["accuracy"] is None
            else f"{100 * (mb['accuracy'] - ma['accuracy']):+.1f}"
        )
        cells = [name, str(ma["n"]), _pct(ma["accuracy"]), _pct(mb["accuracy"]), diff]
        if circular:
            cells += [_pct(ca.get("accuracy")), _pct(cb.get("accuracy"))]
        return cells

    ca, cb = (a["circular"] or {}), (b["circular"] or {})
    rows = [
        row(
            aspect,
            m,
            b["by_aspect"][aspect],
            ca.get("by_aspect", {}).get(aspect, {}),
            cb.get("by_aspect", {}).get(aspect, {}),
        )
        for aspect, m in a["by_aspect"].items()
    ]
    rows.append(row("overall", a["overall"], b["overall"], ca.get("overall"), cb.get("overall")))
    return "\n".join(_grid(header, rows))
