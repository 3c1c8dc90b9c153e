"""Values too close to be safe distractors for each other (`tables/confusables.toml`)."""

from __future__ import annotations

from functools import cache, lru_cache

from pipeline.normalize.attributes import canonical_value
from pipeline.tables import load_table


@cache
def _neighbours(aspect: str) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(value -> values sharing a group with it, universal values) for an aspect."""
    section = load_table("confusables").get(aspect, {})
    out: dict[str, set[str]] = {}
    for group in section.get("groups", []):
        for value in group:
            out.setdefault(value, set()).update(group)
    return {k: frozenset(v) for k, v in out.items()}, frozenset(section.get("universal", []))


@lru_cache(maxsize=200_000)
def are_confusable(aspect: str, a: str, b: str) -> bool:
    """True when `a` cannot serve as a distractor for `b` (or back): synonyms, a confusable
    group, or a value compatible with every other. Symmetric."""
    a, b = canonical_value(aspect, a), canonical_value(aspect, b)
    if a == b:
        return True
    groups, universal = _neighbours(aspect)
    return a in universal or b in universal or b in groups.get(a, ())
