"""Cleanup, canonical object names, alias files and name relatedness."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.normalize import Vocabulary, clean_text, name_synonyms, names_related
from pipeline.normalize.aliases import parse_alias_lines
from pipeline.normalize.countability import names_a_group


@pytest.fixture(scope="module")
def vg_vocab(sample_data: Path) -> Vocabulary:
    vg = sample_data / "vg"
    return Vocabulary.load(vg / "object_alias.txt", vg / "relationship_alias.txt")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("seat in front.", "seat in front"),
        ("  White  ", "white"),
        ("Tennis   Racket", "tennis racket"),
        ('"red"', "red"),
        ("(wooden) ", "wooden"),
        ("t-shirt", "t-shirt"),
        ("...", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("trees", "tree"),
        ("Sneakers", "sneaker"),
        ("women", "woman"),
        ("children", "child"),
        ("shelves", "shelf"),
        ("boxes", "box"),
        ("tennis rackets", "tennis racket"),
        ("hot dogs", "hot dog"),
        ("stop sign", "stop sign"),
        # "-ing" nouns keep their form although the lookup table says "build", "paint"
        ("building", "building"),
        ("painting", "painting"),
        ("ceiling", "ceiling"),
    ],
)
def test_object_name_lemmatises_head_noun(raw: str, name: str) -> None:
    assert Vocabulary.load().object_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("glasses", "glasses"),
        ("jeans", "jeans"),
        ("pants", "pants"),
        ("shorts", "shorts"),
        ("scissors", "scissors"),
        ("skis", "ski"),
        ("ski", "ski"),
        ("leaves", "leaf"),
        ("clothes", "clothes"),
        ("species", "species"),
        ("bus", "bus"),
        ("sun glasses", "sunglasses"),
        ("television", "tv"),
    ],
)
def test_name_exceptions_table(raw: str, name: str) -> None:
    assert Vocabulary.load().object_name(raw) == name


def test_exceptions_win_over_vg_alias_file(vg_vocab: Vocabulary) -> None:
    # object_alias.txt maps glasses->glass, jeans->jean, pants->pant, shorts->short.
    for raw, name in [("glasses", "glasses"), ("jeans", "jeans"), ("pants", "pants")]:
        assert vg_vocab.object_name(raw) == name
    assert vg_vocab.object_name("shorts") == "shorts"
    assert vg_vocab.object_name("vases") == "vase"  # the file chains vases -> vas -> va
    assert vg_vocab.object_name("wine glasses") == "wine glass"


def test_vg_object_alias_file(vg_vocab: Vocabulary) -> None:
    assert vg_vocab.object_name("savers") == "saver"
    assert vg_vocab.object_name("trees are") == "tree"
    assert vg_vocab.object_name("glassses") == "glass"
    assert vg_vocab.object_name("televisions") == "tv"
    assert Vocabulary.load().object_name("trees are") != "tree"  # only the file knows that


def test_alias_lines_chain_to_first_target() -> None:
    aliases = parse_alias_lines(["near,next to", "next to,is next to", "Saver,savers"])
    assert aliases == {
        "near": "near",
        "next to": "near",
        "is next to": "near",
        "saver": "saver",
        "savers": "saver",
    }


def test_vocabulary_loaded_once() -> None:
    assert Vocabulary.load() is Vocabulary.load()


@pytest.mark.parametrize(
    ("a", "b", "related"),
    [
        ("dog", "animal", True),
        ("dog", "puppy", True),
        ("puppy", "dog", True),
        ("dog", "canine", True),
        ("man", "person", True),
        ("car", "vehicle", True),
        ("cup", "mug", True),
        ("couch", "sofa", True),
        ("tennis racket", "racket", True),
        ("dog", "cat", False),
        ("man", "woman", False),
        ("horse", "zebra", False),
        ("bus", "car", False),
    ],
)
def test_names_related(a: str, b: str, related: bool) -> None:
    assert names_related(a, b) is related
    assert names_related(b, a) is related


def test_name_synonyms() -> None:
    assert {"couch", "sofa"} <= name_synonyms("couch")
    assert "bike" in name_synonyms("bicycle")
    assert "cat" not in name_synonyms("dog")


@pytest.mark.parametrize(
    ("raw", "group"),
    [
        ("chairs", True),
        ("wine glasses", True),
        ("skis", True),
        ("leaves", True),
        ("men", True),
        ("chair", False),
        ("people", False),  # a name that stays plural is one referent
        ("stairs", False),
        ("pants", False),
        ("glasses", False),
        ("fries", False),
        ("bus", False),
        ("grass", False),
        ("sheep", False),
    ],
)
def test_a_plural_name_made_singular_names_a_group(raw: str, group: bool) -> None:
    assert names_a_group(raw, Vocabulary.load().object_name(raw)) is group
