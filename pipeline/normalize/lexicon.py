"""WordNet look-ups: noun senses, hypernym closure, morphological analyses.

WordNet is loaded lazily (and copied into place if needed) on first use, so importing the
package stays cheap and offline.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from pipeline.normalize.wordnet_setup import english_wordnet

# How many noun senses count when deciding whether two names may denote the same thing.
# Over-caution only removes a distractor, so a few senses beyond the first are considered.
RELATED_SENSES = 3


@cache
def wordnet() -> Any:
    """NLTK's WordNet reader for English, made loadable first (once per process)."""
    return english_wordnet()


def _key(word: str) -> str:
    return word.strip().replace(" ", "_")


@lru_cache(maxsize=200_000)
def synsets(word: str, pos: str) -> tuple[Any, ...]:
    """Synsets of `word` for a WordNet part of speech ('n', 'v', 'a'), most frequent first."""
    if not word.strip():
        return ()
    return tuple(wordnet().synsets(_key(word), pos=pos))


@lru_cache(maxsize=200_000)
def phrase_noun_senses(phrase: str) -> tuple[Any, ...]:
    """Noun senses of a name, most frequent first; a multi-word name WordNet lacks ("tennis
    player" has them, "grey desk" not) uses its head, the last word."""
    return synsets(phrase, "n") or synsets(phrase.rsplit(" ", 1)[-1], "n")


@lru_cache(maxsize=200_000)
def is_noun_lemma(word: str) -> bool:
    """True when `word` itself (not an inflection of it) is a WordNet noun lemma."""
    key = _key(word)
    return any(lemma.name().lower() == key for lemma in wordnet().lemmas(key, pos="n"))


@lru_cache(maxsize=200_000)
def noun_base_forms(word: str) -> tuple[str, ...]:
    """Noun base forms WordNet's morphology derives from `word` (e.g. shelves -> shelf)."""
    wn = wordnet()
    morph = getattr(wn, "_morphy", None)  # every analysis, not just the first
    forms = morph(_key(word), "n") if morph else [wn.morphy(_key(word), "n")]
    return tuple(f.replace("_", " ") for f in forms if f)


@lru_cache(maxsize=200_000)
def closure(synset: Any) -> frozenset[Any]:
    """The synset with all its (instance) hypernyms."""
    seen = {synset}
    for path in synset.hypernym_paths():
        seen.update(path)
    return frozenset(seen)


@lru_cache(maxsize=200_000)
def first_noun_under(word: str, ancestors: frozenset[str]) -> bool:
    """True when the most frequent noun sense of `word` descends from one of `ancestors`."""
    senses = synsets(word, "n")
    return bool(senses) and any(s.name() in ancestors for s in closure(senses[0]))


@lru_cache(maxsize=200_000)
def first_noun_synset(name: str) -> str | None:
    """The WordNet synset of a name that carries none (COCO categories, VG objects without
    one): its most frequent noun sense, as VG's own synset maps choose, on this module's
    reader (so a process loads WordNet once)."""
    senses = wordnet().synsets(name.replace(" ", "_"), pos="n")
    return senses[0].name() if senses else None
