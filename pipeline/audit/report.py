"""The HTML report: one self-contained file (inline CSS and SVG, images as data URIs), so it
opens offline and can be attached to a release review as is."""

from __future__ import annotations

from html import escape
from typing import Any

from pipeline.audit.charts import bar_chart

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;
font-size:13px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.sheet{display:flex;flex-wrap:wrap;gap:12px}.card{width:370px;border:1px solid #ddd;padding:6px;
font-size:13px}.card img{max-width:360px;display:block}.charts{display:flex;flex-wrap:wrap;
gap:18px}.answer{color:#1a7f37;font-weight:bold}small{color:#666}
"""


def _table(headers: list[str], rows: list[list[Any]], limit: int | None = None) -> str:
    shown = rows if limit is None else rows[:limit]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in shown)
    more = (
        f"<p><small>{len(rows) - len(shown)} more in metrics.json</small></p>"
        if len(shown) < len(rows)
        else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return escape("; ".join(f"{k}: {v}" for k, v in value.items()))
    return escape("" if value is None else str(value))


def _gates(metrics: dict[str, Any]) -> str:
    rows = [
        [
            g["gate"],
            g["threshold"],
            "pass" if g["passed"] else "FAIL",
            "; ".join(g["broken"][:6]) + (" ..." if len(g["broken"]) > 6 else ""),
        ]
        for g in metrics["gates"]
    ]
    html = _table(["gate", "threshold", "result", "where broken"], rows)
    return html.replace("<td>pass</td>", '<td class="pass">pass</td>').replace(
        "<td>FAIL</td>", '<td class="fail">FAIL</td>'
    )


def _balance(metrics: dict[str, Any]) -> str:
    rows = []
    for aspect, forms in metrics["balance"].items():
        leak = metrics["leakage"]["by_aspect_form"].get(aspect, {})
        for form, m in forms.items():
            rows.append(
                [
                    aspect,
                    form,
                    m["items"],
                    m["distinct_answers"],
                    m["entropy_bits"],
                    f"{m['head_answer']} ({m['head_share']:.2f})",
                    m.get("positions", ""),
                    m.get("position_p", ""),
                    m.get("yes_share", ""),
                    leak.get(form, {}).get("blind_accuracy", ""),
                    leak.get(form, {}).get("leakage", ""),
                ]
            )
    headers = [
        "aspect",
        "form",
        "items",
        "answers",
        "entropy (bits)",
        "head answer (share)",
        "correct positions",
        "chi-square p",
        "yes share",
        "blind accuracy (better attack)",
        "leakage (fraction)",
    ]
    return _table(headers, rows)


def _percent(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _leakage(metrics: dict[str, Any]) -> str:
    """Both blind attacks per (aspect, form), in percent, with the item-weighted overall."""
    leak = metrics["leakage"]
    rows = [
        (aspect, form, s)
        for aspect, forms in leak["by_aspect_form"].items()
        for form, s in forms.items()
    ]
    if leak.get("overall"):
        rows.append(("overall", "", leak["overall"]))
    table = [
        [
            aspect,
            form,
            s["items"],
            _percent(s["chance"]),
            _percent(s["answer_prior_accuracy"]),
            _percent(s["option_prior_accuracy"]),
            s.get("best_attack", ""),
            _percent(s["leakage"], signed=True),
        ]
        for aspect, form, s in rows
    ]
    headers = [
        "aspect",
        "form",
        "items",
        "chance %",
        "answer prior %",
        "option prior %",
        "better attack",
        "leakage (points)",
    ]
    return (
        "<p>A text-only model sees the question (regions masked) and the options, trained on "
        f"other images' items ({leak.get('folds')} folds over images). Attack a (answer prior): "
        "the most frequent answer for the same question text, backing off to its template, "
        "then to (aspect, form). Attack b (option prior): the offered option most often right "
        "when offered, per template (closed forms only). Leakage = the better attack's "
        "accuracy minus chance, in percentage points.</p>" + _table(headers, table)
    )


def _balancing(metrics: dict[str, Any]) -> str:
    summary = metrics["balancing"]["by_aspect"]
    if not summary:
        return "<p>The manifest has no balancing report (built before balancing existed).</p>"
    rows = [
        [
            aspect,
            r["before"]["mcq_items"],
            r["after"]["mcq_items"],
            r["before"]["head_share"],
            r["after"]["head_share"],
            r["before"]["position_p"],
            r["after"]["position_p"],
        ]
        for aspect, r in summary.items()
    ]
    dropped = metrics["balancing"]["report"].get("dropped", {})
    head = metrics["balancing"]["head_share_option"]
    return (
        f"<p>Head-share bound {head} per (aspect, form) and per (aspect, form, referent name); "
        "correct positions assigned round-robin.</p>"
        + _table(
            [
                "aspect",
                "mcq before",
                "mcq after",
                "head share before",
                "after",
                "position p before",
                "after",
            ],
            rows,
        )
        + "<p>Items dropped by balancing: "
        + (escape(", ".join(f"{k} {v}" for k, v in dropped.items())) or "none")
        + "</p>"
    )


def _charts(metrics: dict[str, Any], top: int) -> tuple[str, list[str]]:
    svgs, names = [], []
    report = metrics["balancing"]["report"]
    for aspect, forms in metrics["balance"].items():
        m = forms.get("mcq")
        if not m:
            continue
        answers = dict(list(m["answers"].items())[:top])
        before = report.get("before", {}).get("mcq_answers", {}).get(aspect, {})
        series = {"after": answers} | ({"before": before} if before else {})
        svgs.append(bar_chart(f"{aspect}: answers (mcq)", series, top))
        names.append(f"answers:{aspect}")
        positions = {"ABCD"[k]: n for k, n in enumerate(m["positions"])}
        pos_before = report.get("before", {}).get("mcq_positions", {}).get(aspect)
        series = {"after": positions}
        if pos_before:
            series["before"] = {"ABCD"[int(k)]: n for k, n in pos_before.items()}
        svgs.append(bar_chart(f"{aspect}: correct position (mcq)", series))
        names.append(f"positions:{aspect}")
    return '<div class="charts">' + "".join(svgs) + "</div>", names


def _sheets(sheets: dict[str, list[dict[str, Any]]], aspects: list[str]) -> str:
    if not sheets:
        return "<p>No images available: run with <code>--images-dir</code> to see sheets.</p>"
    missing = [a for a in aspects if not sheets.get(a)]
    parts = [f"<p>No image available for: {escape(', '.join(missing))}.</p>" if missing else ""]
    for aspect, cards in sheets.items():
        parts.append(f'<h3 id="sheet-{escape(aspect)}">{escape(aspect)}</h3><div class="sheet">')
        for c in cards:
            options = "".join(
                f'<li class="{"answer" if o == c["answer"] else ""}">{escape(o)}</li>'
                for o in c["options"]
            )
            parts.append(
                f'<div class="card"><img src="{c["image"]}" alt="{escape(c["id"])}">'
                f"<div><small>{escape(c['id'])} · {escape(c['scene_id'])} · "
                f"{escape(c['form'])} · {c['boxes']} box(es)</small></div>"
                f"<div>{escape(c['question'])}</div>"
                + (f"<ol type='A'>{options}</ol>" if options else "")
                + f'<div>answer: <span class="answer">{escape(c["answer"])}</span></div></div>'
            )
        parts.append("</div>")
    return "".join(parts)


def _labels(metrics: dict[str, Any], limit: int) -> str:
    lab, cap = metrics["labels"], metrics["captions"]
    excl = [
        [r["scene_id"], r["object_id"], r["name"], r["aspect"], r["values"], r["raw_attributes"]]
        for r in lab["exclusive_values"]
    ]
    boxes = [
        [r["scene_id"], r["name"], r["aspect"], r["values_by_object"]]
        for r in lab["duplicate_box_conflicts"]
    ]
    dups = [
        [r["scene_id"], r["form"], r["kind"], r["box_iou"], r["questions"], r["answers"]]
        for r in lab["duplicate_questions"]
    ]
    caps = [
        [r["scene_id"], r["caption"], r["phrase"], r["kind"], r["value"], r["item_values"]]
        for r in cap["disagreements"]
    ]
    return (
        f"<h3>Objects with mutually exclusive values ({len(excl)})</h3>"
        + _table(["scene", "object", "name", "aspect", "values", "raw attributes"], excl, limit)
        + f"<h3>Near-duplicate boxes with conflicting values ({len(boxes)})</h3>"
        + _table(["scene", "name", "aspect", "values by box"], boxes, limit)
        + f"<h3>Duplicate and near-duplicate questions on one image ({len(dups)})</h3>"
        + _table(["scene", "form", "kind", "box IoU", "questions", "answers"], dups, limit)
        + "<h3>Captions against labels</h3>"
        + f"<p>{cap['captions']} captions, {cap['claims']} count/colour phrases, "
        f"{cap['compared']} compared with an item of the same image: {cap['agree']} agree, "
        f"{cap['disagree']} disagree"
        + ("" if caps else " (no disagreement found)")
        + ".</p>"
        + _table(["scene", "caption", "phrase", "kind", "caption says", "items say"], caps, limit)
    )


def _conv(metrics: dict[str, Any], cards: list[dict[str, Any]]) -> str:
    """MSG-Conv per kind (pipeline/audit/conv.py), and sampled samples with their boxes."""
    conv = metrics.get("conv")
    if not conv or not conv["samples"]:
        return "<p>No MSG-Conv samples in this build.</p>"
    rows = [
        [
            kind,
            m["samples"],
            m["turns_per_sample"]["mean"],
            m["families_per_sample"],
            m["repeated_family_samples"],
            _percent(m["distinct_question_share"]),
            _percent(m["distinct_question_share_regions_masked"]),
            _percent(m["distinct_answer_share"]),
            f"{m['distinct_2']['questions']} / {m['distinct_2']['answers']}",
            f"{_percent(m['follow_up_share'])}% of {m['three_plus_turn_samples']}",
        ]
        for kind, m in conv["by_kind"].items()
    ]
    headers = ["kind", "samples", "turns / sample", "families / sample", "repeated family",
               "distinct questions %", "… regions masked %", "distinct answers %",
               "distinct-2 (q / a)", "follow-up (3+ turns)"]  # fmt: skip
    d = conv["description"]
    parts = [
        _table(headers, rows),
        f"<p>Descriptions: {d['described']} of {d['eligible_images']} tuning images with at "
        f"least three objects ({_percent(d['share'])}%), {d['sentences_mean']} sentences on "
        f"average. Grammar violations: {conv['grammar_violations']}.</p>",
    ]
    if not cards:
        parts.append("<p>No images available: run with <code>--images-dir</code> to see them.</p>")
    parts.append('<div class="sheet">')
    for c in cards:
        turns = "".join(
            f"<div><b>{escape(who)}:</b> {escape(text)}</div>" for who, text in c["turns"]
        )
        parts.append(
            f'<div class="card"><img src="{c["image"]}" alt="{escape(c["id"])}">'
            f"<div><small>{escape(c['id'])} · {escape(c['scene_id'])} · {escape(c['kind'])} · "
            f"{c['boxes']} box(es)</small></div>{turns}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_report(
    metrics: dict[str, Any],
    sheets: dict[str, list[dict[str, Any]]],
    settings: dict[str, Any],
    conv_cards: list[dict[str, Any]] | None = None,
) -> tuple[str, list[str]]:
    """(page, names of the charts drawn)."""
    charts, names = _charts(metrics, settings["top_answers"])
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>MSG audit</title><style>{CSS}</style></head><body>"
        f"<h1>MSG-MCQ label-quality audit</h1><p>{metrics['items']} items.</p>"
        "<h2>Gates</h2>"
        + _gates(metrics)
        + "<h2>Balance and bias</h2>"
        + _balance(metrics)
        + "<h2>Language-prior leakage: blind attacks</h2>"
        + _leakage(metrics)
        + "<h2>Build-time balancing: before and after</h2>"
        + _balancing(metrics)
        + "<h2>Charts</h2>"
        + charts
        + "<h2>Label checks</h2>"
        + _labels(metrics, settings["max_rows"])
        + "<h2>Sheets: sampled items with the referent's box</h2>"
        + _sheets(sheets, list(metrics["balance"]))
        + "<h2>MSG-Conv: conversations and descriptions</h2>"
        + _conv(metrics, conv_cards or [])
        + human_review_section(metrics.get("human_review"))
        + "</body></html>\n"
    )
    return page, names


def human_review_section(review: dict[str, Any] | None) -> str:
    """Verdicts of people (`msg review --import`), between markers so that a later import
    replaces just this part of the page."""
    if not review:
        return "<!--human-review--><!--/human-review-->"
    rows = [["overall", "", review["overall"]]]
    if review.get("sampled_only"):
        rows.append(["sampled items only", "", review["sampled_only"]])
    rows += [
        [aspect, form, t]
        for aspect, entry in review["by_aspect"].items()
        for form, t in [("", entry["overall"]), *entry["by_form"].items()]
    ]
    table = [
        [a, f, t["reviewed"], t["wrong"], t["ambiguous"], t["unanswerable"], t["error_rate"]]
        + [("-" if t["ci95"] is None else f"{t['ci95'][0]:.3f} - {t['ci95'][1]:.3f}")]
        for a, f, t in rows
    ]
    kappas = [
        [" / ".join(p["reviewers"]), p["items"], p["observed"], p["kappa"]]
        for p in review["agreement"]
    ]
    judged = [
        [r["id"], r["aspect"], r["form"], r["verdict"], r["question"], r["answer"]]
        + ["; ".join(f"{v['reviewer']}: {v['verdict']} {v['note']}".strip() for v in r["verdicts"])]
        for r in review["judged_not_correct"]
    ]
    return (
        "<!--human-review--><h2>Human review</h2>"
        f"<p>{review['verdicts']} verdicts by {len(review['reviewers'])} reviewer(s) "
        f"({escape(', '.join(review['reviewers']))}); {len(review['skipped_lines'])} line(s) "
        "skipped. An item's verdict is the reviewers' most frequent one (a tie goes to the "
        "graver); error rate = wrong / reviewed, with its Wilson 95% interval.</p>"
        + _table(
            ["aspect", "form", "reviewed", "wrong", "ambiguous", "unanswerable", "error rate"]
            + ["95% interval"],
            table,
        )
        + "<h3>Agreement between reviewers (Cohen's kappa)</h3>"
        + (_table(["reviewers", "items", "observed", "kappa"], kappas) if kappas else "<p>none</p>")
        + f"<h3>Items judged wrong, ambiguous or unanswerable ({len(judged)})</h3>"
        + _table(["id", "aspect", "form", "verdict", "question", "answer", "verdicts"], judged)
        + "<!--/human-review-->"
    )
