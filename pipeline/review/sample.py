"""The items a review round looks at: every flagged item, then a sample stratified by
(aspect, form) filling the page up to the size asked for. Only items whose image is at hand
(a reviewer judges the picture) and only the first rotation of a circular question. Ranked
by a stable hash of (seed, id): the same build and seed give the same page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.hashing import stable_hash64


@dataclass
class Selection:
    items: list[dict[str, Any]]  # in page order
    flagged: list[str]  # ids on the page because a check flagged them
    sampled: list[str]  # ids drawn by the stratified sample
    without_image: list[str] = field(default_factory=list)  # flagged, but no image: left out


def select_items(
    items: list[dict[str, Any]],
    flags: dict[str, list[str]],
    size: int,
    seed: int,
    has_image: Callable[[dict[str, Any]], bool],
    aspects: list[str] | None = None,
) -> Selection:
    """Flagged items first (all of them, even beyond `size`), then round-robin over the
    (aspect, form) strata, each giving its next item by rank, until `size` items."""
    rank = {i["id"]: stable_hash64(seed, "review", i["id"]) for i in items}
    pool = [
        i for i in items if i.get("rotation", 0) == 0 and (not aspects or i["aspect"] in aspects)
    ]
    pool.sort(key=lambda i: rank[i["id"]])
    flagged, without_image = [], []
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for item in pool:
        if item["id"] in flags:
            (flagged if has_image(item) else without_image).append(item)
        elif has_image(item):
            strata[(item["aspect"], item["form"])].append(item)
    sampled: list[dict] = []
    queues = [rows for _, rows in sorted(strata.items())]
    depth = 0
    while len(flagged) + len(sampled) < size and any(depth < len(q) for q in queues):
        for rows in queues:
            if depth < len(rows) and len(flagged) + len(sampled) < size:
                sampled.append(rows[depth])
        depth += 1
    # The page mixes both kinds in rank order: the reviewer does not see which is which
    # from the position.
    page = sorted(flagged + sampled, key=lambda i: rank[i["id"]])
    return Selection(
        page,
        [i["id"] for i in flagged],
        [i["id"] for i in sampled],
        [i["id"] for i in without_image],
    )
