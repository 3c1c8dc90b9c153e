"""Canonical object names and name relatedness (synonyms, hypernyms, hyponyms)."""

from __future__ import annotations

from functools import cache, lru_cache

from pipeline.normalize import lexicon
from pipeline.normalize.lemma import noun_singular
from pipeline.normalize.tables import load_table
from pipeline.normalize.text import clean_text

_ARTICLES = ("a ", "an ", "the ")


@cache
def name_exceptions() -> dict[str, str]:
    return dict(load_table("names")["exceptions"])


@cache
def default_aliases() -> dict[str, str]:
    return dict(load_table("names")["aliases"])


@cache
def related_groups() -> dict[str, frozenset[str]]:
    """Name -> every name it shares a reviewed 'related' group with."""
    out: dict[str, set[str]] = {}
    for group in load_table("names")["related"]["groups"]:
        for name in group:
            out.setdefault(name, set()).update(group)
    return {k: frozenset(v) for k, v in out.items()}


def canonical_name(raw: str, aliases: dict[str, str]) -> str:
    """Clean, resolve aliases, singularise the head noun; reviewed exceptions win."""
    name = clean_text(raw)
    for article in _ARTICLES:  # "a man" -> "man"; VG names carry these now and then
        if name.startswith(article) and len(name) > len(article):
            name = name[len(article) :]
    exceptions = name_exceptions()
    if name in exceptions:
        return exceptions[name]
    name = default_aliases().get(name, name)
    name = aliases.get(name, name)
    if name in exceptions:
        return exceptions[name]
    *rest, head = name.split(" ")
    if head in exceptions:  # "swim trunks", "sun glasses" keep their head as reviewed
        head = exceptions[head]
    elif head.isalpha():
        head = noun_singular(head)
    name = " ".join([*rest, head])
    return exceptions.get(name, default_aliases().get(name, name))


@lru_cache(maxsize=100_000)
def _senses(name: str) -> tuple:
    """The first few noun senses of a name; a multi-word name WordNet lacks uses its head."""
    name = clean_text(name)
    senses = lexicon.synsets(name, "n") or lexicon.synsets(name.split(" ")[-1], "n")
    return senses[: lexicon.RELATED_SENSES]


@lru_cache(maxsize=200_000)
def names_related(a: str, b: str) -> bool:
    """True when two names may denote the same thing: equal, synonyms, a reviewed related
    pair, or one a hypernym/hyponym of the other in WordNet (first few noun senses)."""
    a, b = clean_text(a), clean_text(b)
    if a == b or b in related_groups().get(a, ()):
        return True
    if a.split(" ")[-1] == b or b.split(" ")[-1] == a:  # "tennis racket" is a "racket"
        return True
    sa, sb = _senses(a), _senses(b)
    if not sa or not sb:
        return False
    if set(sa) & set(sb):
        return True
    return any(x in lexicon.closure(y) or y in lexicon.closure(x) for x in sa for y in sb)


@lru_cache(maxsize=100_000)
def name_synonyms(name: str) -> frozenset[str]:
    """The name, its WordNet synonyms (first few noun senses) and reviewed related names."""
    name = clean_text(name)
    out = {name} | set(related_groups().get(name, ()))
    for synset in _senses(name):
        out.update(lemma.name().replace("_", " ").lower() for lemma in synset.lemmas())
    return frozenset(out)
