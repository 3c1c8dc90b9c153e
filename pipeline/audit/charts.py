"""Inline SVG bar charts (text in the page: no image files, nothing to fetch)."""

from __future__ import annotations

from html import escape

BAR_H, LABEL_W, BAR_W, GAP = 16, 130, 260, 4
COLOURS = ("#4c72b0", "#dd8452")  # series: after / before (or a single series)


def bar_chart(title: str, series: dict[str, dict[str, float]], limit: int = 12) -> str:
    """Horizontal bars; `series` maps a series name to {label: value}, labels in the first
    series' order (at most `limit`)."""
    names = list(series)
    labels = list(next(iter(series.values()), {}))[:limit]
    peak = max((v for s in series.values() for v in s.values()), default=0) or 1
    row_h = BAR_H * len(names) + GAP
    height = 24 + row_h * len(labels) + 18
    width = LABEL_W + BAR_W + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for row, label in enumerate(labels):
        y0 = 24 + row * row_h
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y0 + BAR_H - 4}" font-size="11" '
            f'text-anchor="end">{escape(str(label))[:22]}</text>'
        )
        for k, name in enumerate(names):
            value = series[name].get(label, 0)
            w = BAR_W * value / peak
            y = y0 + k * BAR_H
            parts.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H - 2}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"><title>{escape(name)}: {value:g}</title>'
                "</rect>"
            )
            parts.append(
                f'<text x="{LABEL_W + w + 3:.1f}" y="{y + BAR_H - 4}" font-size="10">'
                f"{value:g}</text>"
            )
    legend_y = height - 4
    for k, name in enumerate(names if len(names) > 1 else []):
        x = LABEL_W + k * 90
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{COLOURS[k % len(COLOURS)]}"/><text x="{x + 14}" y="{legend_y}" '
            f'font-size="10">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
