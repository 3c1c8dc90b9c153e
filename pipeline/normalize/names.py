"""Canonical object names and name relatedness (synonyms, hypernyms, hyponyms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from pipeline.normalize import lexicon
from pipeline.normalize.lemma import noun_singular
from pipeline.normalize.text import clean_text
from pipeline.tables import load_table

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
    return lexicon.phrase_noun_senses(name)[: lexicon.RELATED_SENSES]


@dataclass(frozen=True)
class NameProfile:
    """What relatedness needs of one name, worked out once: WordNet senses as synset names
    (plain strings hash fast) and their hypernym closure, so comparing two names is a few
    set look-ups."""

    name: str  # cleaned
    head: str  # last word
    group: frozenset[str]  # reviewed related names
    senses: frozenset[str]  # first few noun senses
    closure: frozenset[str]  # those senses and all their (instance) hypernyms


@lru_cache(maxsize=100_000)
def name_profile(name: str) -> NameProfile:
    name = clean_text(name)
    senses = _senses(name)
    closure = frozenset(s.name() for sense in senses for s in lexicon.closure(sense))
    return NameProfile(
        name,
        name.split(" ")[-1],
        related_groups().get(name, frozenset()),
        frozenset(s.name() for s in senses),
        closure,
    )


# Pairs of names grow with the square of the vocabulary: a cache as large as that kept
# growing over a build's partitions (tens of MB, issue 21's flat memory). Most look-ups
# repeat within an image; a miss costs two cached profiles and a few set tests (0.3 us).
PAIR_CACHE_SIZE = 16_384


@lru_cache(maxsize=PAIR_CACHE_SIZE)
def names_related(a: str, b: str) -> bool:
    """True when two names may denote the same thing: equal, synonyms, a reviewed related
    pair, or one a hypernym/hyponym of the other in WordNet (first few noun senses)."""
    pa, pb = name_profile(a), name_profile(b)
    if pa.name == pb.name or pb.name in pa.group:
        return True
    if pa.head == pb.name or pb.head == pa.name:  # "tennis racket" is a "racket"
        return True
    # A sense of one lies in the closure of a sense of the other (shared senses included).
    return not pa.senses.isdisjoint(pb.closure) or not pb.senses.isdisjoint(pa.closure)


class RelatedIndex:
    """A set of names (those present in an image), indexed so that "is this name related
    to any of them" is a few set look-ups rather than one names_related call per name."""

    def __init__(self, names: Iterable[str]) -> None:
        profiles = [name_profile(n) for n in names]
        self.names = frozenset(p.name for p in profiles)
        self.heads = frozenset(p.head for p in profiles)
        self.senses = frozenset().union(*(p.senses for p in profiles))
        self.closure = frozenset().union(*(p.closure for p in profiles))

    def any_related(self, name: str) -> bool:
        """names_related(name, n) for some n in the index (the relation is symmetric)."""
        p = name_profile(name)
        return (
            p.name in self.names
            or not p.group.isdisjoint(self.names)
            or p.head in self.names
            or p.name in self.heads
            or not p.senses.isdisjoint(self.closure)
            or not self.senses.isdisjoint(p.closure)
        )


class RelatedLookup:
    """Names indexed by each part of their profiles, so that which of them are related to a
    given name is a few dict look-ups rather than one names_related call per name. Each
    test of names_related(n, name) is one look-up keyed by the other name's profile: n's
    name equal to that name, to one of its reviewed group (groups are symmetric) or to its
    head; n's head equal to that name; a sense of n in its closure; a sense of it in n's
    closure.

    Closures are long (every hypernym): indexing them pays for a large set asked about
    many times (`index_closures`); for the few names of one image, testing each closure
    against the asked name's few senses is cheaper than indexing them."""

    def __init__(self, names: Iterable[str], index_closures: bool = False) -> None:
        self._by_name: dict[str, list[str]] = {}
        self._by_head: dict[str, list[str]] = {}
        self._by_sense: dict[str, list[str]] = {}
        self._by_closure: dict[str, list[str]] = {}
        self._closures: list[tuple[str, frozenset[str]]] = []
        for n in dict.fromkeys(names):
            p = name_profile(n)
            self._by_name.setdefault(p.name, []).append(n)
            self._by_head.setdefault(p.head, []).append(n)
            for s in p.senses:
                self._by_sense.setdefault(s, []).append(n)
            if index_closures:
                for c in p.closure:
                    self._by_closure.setdefault(c, []).append(n)
            else:
                self._closures.append((n, p.closure))

    def related_to(self, name: str) -> set[str]:
        """The indexed names n with names_related(n, name)."""
        p = name_profile(name)
        probes = (
            (self._by_name, (p.name, p.head, *p.group)),
            (self._by_head, (p.name,)),
            (self._by_sense, p.closure),
            (self._by_closure, p.senses),
        )
        found: set[str] = set()
        for index, keys in probes:
            for key in keys:
                hits = index.get(key)
                if hits:
                    found.update(hits)
        for n, closure in self._closures:
            if not p.senses.isdisjoint(closure):
                found.add(n)
        return found


@lru_cache(maxsize=100_000)
def name_synonyms(name: str) -> frozenset[str]:
    """The name, its WordNet synonyms (first few noun senses) and reviewed related names."""
    name = clean_text(name)
    out = {name} | set(related_groups().get(name, ()))
    for synset in _senses(name):
        out.update(lemma.name().replace("_", " ").lower() for lemma in synset.lemmas())
    return frozenset(out)
