"""Text cleanup shared by names, predicates and attributes."""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
# Punctuation annotators leave around a value ("seat in front.", '"red"', "(wooden)").
_EDGE_PUNCT = "\"'`.,;:!?()[]{}<>*_#~|\\/-"


def clean_text(s: str) -> str:
    """Lowercase, collapse whitespace, and strip stray surrounding punctuation."""
    s = _SPACES.sub(" ", s.strip().lower())
    # Strip punctuation and the spaces it uncovers, until both edges are stable.
    prev = None
    while prev != s:
        prev = s
        s = s.strip(_EDGE_PUNCT).strip()
    return s
