"""Countability of a noun phrase's head: what article it takes and whether it agrees as
singular or plural. The reviewed lists in `tables/names.toml` ([countability]) win; then
WordNet (a noun whose first sense is a substance is a mass noun); then morphology (a word
whose singular differs is a plural)."""

from __future__ import annotations

from functools import cache, lru_cache

from pipeline.normalize import lexicon
from pipeline.normalize.lemma import noun_singular
from pipeline.tables import load_table

COUNT, MASS, PAIR, PLURAL = "count", "mass", "pair", "plural"


@cache
def _listed() -> dict[str, str]:
    table = load_table("names")["countability"]
    return {word: kind for kind in (MASS, COUNT, PAIR, PLURAL) for word in table[kind]}


@lru_cache(maxsize=100_000)
def countability(noun: str) -> str:
    """count, mass, pair (plural-only, "a pair of") or plural, for a noun or noun phrase
    (judged by the whole phrase if listed, else by its last word)."""
    listed = _listed()
    head = noun.rsplit(" ", 1)[-1]
    for word in (noun, head):
        if word in listed:
            return listed[word]
    senses = lexicon.phrase_noun_senses(noun)  # "hair drier" before "drier"
    if senses and senses[0].lexname() == "noun.substance":
        return MASS
    if noun_singular(head) != head:
        return PLURAL
    return COUNT


def indefinite_article(phrase: str) -> str:
    """ "a" or "an", by the sound of the first word (a reviewed list of the exceptions to
    spelling, in names.toml [articles]: "a uniform", "an hour")."""
    first = phrase.split(" ", 1)[0].split("-", 1)[0]
    table = load_table("names")["articles"]
    if first in table["a_before_vowel"]:
        return "a"
    if first in table["an_before_consonant"]:
        return "an"
    return "an" if first[:1] in "aeiou" else "a"


def is_plural(noun: str) -> bool:
    """Agrees with "are": pair and plural nouns."""
    return countability(noun) in (PAIR, PLURAL)


def names_a_group(raw_name: str, name: str) -> bool:
    """A box named in the plural of a countable noun covers several objects ("chairs",
    "wine glasses", "skis" become "chair", "wine glass", "ski"): its own name is plural
    while its canonical name is not. Names that stay plural ("people", "stairs", "pants",
    "fries") are one referent and not a group."""
    return is_plural(raw_name) and not is_plural(name)


def with_article(noun: str) -> str:
    """ "a bus", "an apple", "grass", "a pair of glasses", "stairs"."""
    kind = countability(noun)
    if kind == COUNT:
        return f"{indefinite_article(noun)} {noun}"
    if kind == PAIR:
        return f"a pair of {noun}"
    return noun


def be(noun: str) -> str:
    """The present of "to be" that agrees with "the <noun>"."""
    return "are" if is_plural(noun) else "is"


def be_with_article(noun: str) -> str:
    """The present of "to be" that agrees with `with_article(noun)` ("a pair of" is one)."""
    return "are" if countability(noun) == PLURAL else "is"
