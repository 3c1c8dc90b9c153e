"""The review page: one HTML file with the items as JSON, the images as data URIs and the
script and style inline, so it opens offline from a file or an e-mail attachment."""

from __future__ import annotations

import hashlib
import json
from html import escape
from importlib import resources
from typing import Any

from pipeline.review.verdicts import VERDICTS


def _asset(name: str) -> str:
    return resources.files("pipeline.review").joinpath("assets", name).read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: no "</" can close the element early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def storage_key(ids: list[str], seed: int) -> str:
    """Names the page's verdicts in the browser's storage: another sample, another key."""
    digest = hashlib.blake2b("\n".join([str(seed), *ids]).encode(), digest_size=8)
    return digest.hexdigest()


def render_page(cards: list[dict[str, Any]], images: list[str], about: dict[str, Any]) -> str:
    """`cards`: per item the fields the script shows (see pipeline.review.run); `images`:
    data URIs the cards point to by index; `about`: the summary line's figures."""
    data = {
        "key": storage_key([c["id"] for c in cards], about["seed"]),
        "verdicts": [[name, key] for name, key in VERDICTS.items()],
        "items": cards,
        "images": images,
    }
    keys = ", ".join(f"{k} or {n} {name}" for n, (name, k) in enumerate(VERDICTS.items(), 1))
    summary = (
        f"{len(cards)} items of {escape(str(about['build']))}: {about['sampled']} sampled by "
        f"(aspect, form), {about['flagged']} flagged by the automatic checks; seed {about['seed']}."
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>MSG label review</title><style>{_asset('review.css')}</style></head><body>"
        "<header><h1>MSG label review</h1>"
        '<label>Reviewer <input id="reviewer" autocomplete="name" placeholder="your name"></label>'
        '<span id="progress"></span>'
        '<button id="export" type="button">Export verdicts (JSON lines)</button>'
        '<span id="export-status" class="help"></span></header>'
        f'<p class="help" style="padding:0 14px">{summary} Keys: {escape(keys)}; '
        "&larr; / &rarr; (or k / j) previous / next; n writes a note (Esc leaves it). "
        "Verdicts stay in this browser until exported.</p>"
        '<nav class="strip" id="strip" aria-label="items"></nav>'
        '<main><div class="stage" id="stage"></div><div class="panel">'
        '<div class="nav"><button id="prev" type="button">&larr; previous</button>'
        '<button id="next" type="button">next &rarr;</button> '
        'item <span id="position"></span></div>'
        '<p><span class="id" id="item-id"></span> <small id="item-meta"></small></p>'
        '<p class="question" id="question"></p><ol type="A" class="options" id="options"></ol>'
        '<p>answer: <span class="answer" id="answer"></span> '
        '<small>(value <span id="answer-value"></span>)</small></p>'
        '<div class="verdicts" id="verdict-buttons"></div>'
        '<label>Note<textarea id="note" placeholder="why (optional)"></textarea></label>'
        '<h3>Evidence</h3><table class="evidence"><tbody id="evidence"></tbody></table>'
        '<details id="flags"><summary>Automatic checks flagged this item</summary>'
        '<ul id="flag-list"></ul></details></div></main>'
        f'<script type="application/json" id="review-data">{_script_json(data)}</script>'
        f"<script>{_asset('review.js')}</script></body></html>\n"
    )
