"""The fast name relatedness (per-name profiles, a per-scene index) and the quick-starting
WordNet reader answer exactly as the straightforward versions they replace."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from pipeline.normalize import lexicon, wordnet_setup
from pipeline.normalize.names import (
    RelatedIndex,
    RelatedLookup,
    _senses,
    names_related,
    related_groups,
)
from pipeline.normalize.text import clean_text
from pipeline.tables import load_table

# Only the copy test needs Debian's files (it hides every other WordNet); the rest use
# whichever WordNet the build finds, as every build test does.
needs_debian_wordnet = pytest.mark.skipif(
    not (wordnet_setup.SYSTEM_WORDNET / "data.noun").is_file(),
    reason="Debian WordNet (wordnet-base) not installed at /usr/share/wordnet",
)

EXTRA = [
    "man", "person", "woman", "dog", "animal", "tennis racket", "racket", "racquet", "car",
    "vehicle", "bus", "tree", "plant", "sky", "shirt", "clothing", "cat", "pizza", "food",
    "sports ball", "ball", "cell phone", "phone", "tv", "television", "hot dog", "zzqx",
    "blue thing", "floor is wood", "", "Man ", "the man", "glass", "glasses", "table",
]  # fmt: skip


def _reference_related(a: str, b: str) -> bool:
    """names_related as it was written before the speed-up: pairwise over synsets."""
    a, b = clean_text(a), clean_text(b)
    if a == b or b in related_groups().get(a, ()):
        return True
    if a.split(" ")[-1] == b or b.split(" ")[-1] == a:
        return True
    sa, sb = _senses(a), _senses(b)
    if not sa or not sb:
        return False
    if set(sa) & set(sb):
        return True
    return any(x in lexicon.closure(y) or y in lexicon.closure(x) for x in sa for y in sb)


def _names() -> list[str]:
    table = load_table("names")
    names = set(EXTRA) | set(table["exceptions"]) | set(table["exceptions"].values())
    names |= set(table["aliases"]) | set(table["aliases"].values())
    names |= {n for group in table["related"]["groups"] for n in group}
    return sorted(names)


def test_names_related_matches_reference() -> None:
    names = _names()
    for a in names:
        for b in names:
            assert names_related(a, b) == _reference_related(a, b), (a, b)


def test_related_index_matches_any() -> None:
    names = _names()
    rng = random.Random(0)
    for _ in range(300):
        present = rng.sample(names, rng.randrange(0, 12))
        index = RelatedIndex(present)
        for name in rng.sample(names, 40):
            expected = any(_reference_related(name, p) for p in present)
            assert index.any_related(name) == expected, (name, present)


def test_english_reader_loads_what_nltk_loads() -> None:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    fast = lexicon.wordnet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = WordNetCorpusReader(fast.root, None)
    assert fast._lemma_pos_offset_map == stock._lemma_pos_offset_map
    assert fast._exception_map == stock._exception_map
    assert fast._lexnames == stock._lexnames
    assert fast.satellite_offsets == stock.satellite_offsets
    for word in ("dogs", "shelves", "glasses", "tennis_rackets", "buildings", "geese"):
        assert fast._morphy(word, "n") == stock._morphy(word, "n")
        assert fast.synsets(word, "n") == stock.synsets(word, "n")
    assert lexicon.first_noun_synset("tennis racket") == "tennis_racket.n.01"


@needs_debian_wordnet
def test_english_reader_copies_wordnet_in_when_missing(tmp_path) -> None:
    probe = (
        "import nltk.data\n"
        f"nltk.data.path[:] = [{str(tmp_path)!r}]  # hide any WordNet installed elsewhere\n"
        "from pipeline.normalize import lexicon\n"
        "print(lexicon.first_noun_synset('dogs'), lexicon.wordnet().root)\n"
    )
    env = {**os.environ, "NLTK_DATA": str(tmp_path)}
    run = [sys.executable, "-c", probe]
    out = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    synset, root = out.stdout.split()
    assert synset == "dog.n.01"
    assert Path(root).resolve() == (tmp_path / "corpora" / "wordnet").resolve()


@pytest.mark.parametrize("index_closures", [False, True])
def test_related_lookup_matches_reference(index_closures: bool) -> None:
    names = _names()
    rng = random.Random(1)
    for _ in range(200):
        indexed = rng.sample(names, rng.randrange(0, 15))
        lookup = RelatedLookup(indexed, index_closures=index_closures)
        for name in rng.sample(names, 30):
            expected = {n for n in indexed if _reference_related(n, name)}
            assert lookup.related_to(name) == expected, (name, indexed)
