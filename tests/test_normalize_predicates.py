"""Canonical predicates: reviewed groups, the VG alias file, auxiliaries and articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.normalize import Vocabulary


@pytest.mark.parametrize(
    ("raw", "predicate"),
    [
        ("ON", "on"),
        ("wears", "wearing"),
        ("is wearing a", "wearing"),
        ("next to", "near"),
        ("Next To", "near"),
        ("beside", "near"),
        ("on top of", "on"),
        ("holds", "holding"),
        ("has a", "has"),
        ("in front of a", "in front of"),
        ("parked on the", "parked on"),
        ("under", "under"),
        ("below", "under"),
        # verb predicates stay apart from spatial ones: the action aspect reads them
        ("sitting on", "sitting on"),
        ("sits on", "sitting on"),
        ("sitting in", "sitting in"),
    ],
)
def test_predicate_canonical(raw: str, predicate: str) -> None:
    assert Vocabulary.load().predicate(raw) == predicate


def test_predicate_vg_alias_file(sample_data: Path) -> None:
    vg = sample_data / "vg"
    vocab = Vocabulary.load(relationship_alias=vg / "relationship_alias.txt")
    assert vocab.predicate("walking toward a") == "walking toward"
    assert vocab.predicate("are feeding") == "feeding"
    # the reviewed table wins where the file merges a verb into another predicate
    assert vocab.predicate("standing in") == "standing in"
    assert vocab.predicate("on top of") == "on"
