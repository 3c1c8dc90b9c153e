"""Canonical relationship predicates: reviewed groups (`tables/predicates.toml`) win, then
the VG relationship alias list, then stripping auxiliaries and articles."""

from __future__ import annotations

from functools import cache

from pipeline.normalize.text import clean_text
from pipeline.tables import load_table

_LEADING = ("is ", "are ", "was ", "were ", "be ")
_TRAILING = (" a", " an", " the", " is", " are")


@cache
def predicate_groups() -> dict[str, str]:
    """Surface form -> canonical predicate."""
    out: dict[str, str] = {}
    for canonical, forms in load_table("predicates")["groups"].items():
        for form in [canonical, *forms]:
            form = clean_text(form)
            if out.setdefault(form, canonical) != canonical:
                raise ValueError(f"predicates.toml: {form!r} is in two groups")
    return out


def _strip_function_words(s: str) -> str:
    changed = True
    while changed:
        changed = False
        for lead in _LEADING:
            if s.startswith(lead) and len(s) > len(lead):
                s, changed = s[len(lead) :], True
        for trail in _TRAILING:
            if s.endswith(trail) and len(s) > len(trail):
                s, changed = s[: -len(trail)], True
    return s


def canonical_predicate(raw: str, aliases: dict[str, str]) -> str:
    groups = predicate_groups()
    s = clean_text(raw)
    for candidate in (s, _strip_function_words(s)):
        if candidate in groups:
            return groups[candidate]
        aliased = aliases.get(candidate, candidate)
        if aliased in groups:
            return groups[aliased]
    stripped = _strip_function_words(s)
    return aliases.get(stripped, stripped)
