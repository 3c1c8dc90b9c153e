"""Head-noun lemmatisation with spaCy's lookup lemmatizer (no model download needed)."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from pipeline.normalize import lexicon


@cache
def nlp() -> Any:
    """A blank English pipeline with the lookup lemmatizer, built once per process."""
    import spacy

    pipe = spacy.blank("en")
    pipe.add_pipe("lemmatizer", config={"mode": "lookup"})
    pipe.initialize()  # loads the tables shipped by spacy-lookups-data, offline
    return pipe


@lru_cache(maxsize=200_000)
def word_lemma(word: str) -> str:
    """spaCy's lookup lemma of one word (part of speech unknown)."""
    doc = nlp()(word)
    return doc[0].lemma_.lower() if len(doc) == 1 else word


@lru_cache(maxsize=200_000)
def noun_singular(word: str) -> str:
    """The singular of a plural noun; any other word unchanged.

    The lookup table ignores part of speech ("building" -> "build", "shelves" -> "shelve"),
    so its lemma is accepted only when WordNet's noun morphology derives the same base
    form; else WordNet's own single analysis is used for a word that is not a noun as is.
    """
    lemma = word_lemma(word)
    bases = [b for b in lexicon.noun_base_forms(word) if b != word]
    if lemma != word and lemma in bases:
        return lemma
    if bases and not lexicon.is_noun_lemma(word) and len(set(bases)) == 1:
        return bases[0]
    return word
