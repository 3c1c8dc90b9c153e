"""WordNet synset of a canonical object name (for COCO categories and VG objects that
carry none): the most frequent noun sense, which is what VG's own synset maps use."""

from __future__ import annotations

from functools import cache


@cache
def first_noun_synset(name: str) -> str | None:
    from nltk.corpus import wordnet as wn

    from pipeline.normalize.wordnet_setup import ensure_wordnet

    ensure_wordnet()
    senses = wn.synsets(name.replace(" ", "_"), pos=wn.NOUN)
    return senses[0].name() if senses else None
