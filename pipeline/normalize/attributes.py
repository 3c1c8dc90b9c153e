"""Attribute typing: a raw VG attribute string -> typed canonical values.

The reviewed table (`tables/attributes.toml`) decides first; WordNet decides only for single
words (or WordNet compounds) the table does not list, using each word's most frequent sense;
everything else is "other". A string naming several values ("white with red",
"black and white", "blue/white") yields every value, each marked `compound`, so later rules
never take it for a single colour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from pipeline.normalize import lexicon
from pipeline.normalize.lemma import word_lemma
from pipeline.normalize.text import clean_text
from pipeline.registry import registry
from pipeline.tables import load_table


def typed_aspects() -> tuple[str, ...]:
    """The typed attribute keys of a scene object (the registry's attribute aspects, then
    "other")."""
    return registry().scene_attributes


def labelled_aspects() -> tuple[str, ...]:
    """The typed aspects the attribute table lists values for (all but "other")."""
    return typed_aspects()[:-1]


@dataclass(frozen=True)
class TypedAttribute:
    aspect: str
    value: str
    compound: bool
    # "dark" in "dark blue": kept for reference, never part of the value or of equality.
    modifier: str | None = field(default=None, compare=False)


# Separators between several values in one string: "white with red", "blue/white", "red, white".
_SPLIT = re.compile(r"\s*(?:,|/|&|\+|;|\band\b|\bwith\b|\bor\b|\bn\b)\s*")
_TOKENS = re.compile(r"[\s-]+")
_COLOR_SUFFIXES = ("colored", "coloured", "color", "colour", "toned", "tone")
_MADE_OF = ("made of ", "made from ", "made out of ", "made with ")

# WordNet roots per aspect, for words the table does not list (most frequent noun sense).
_COLOR_ROOTS = frozenset({"color.n.01", "chromatic_color.n.01", "achromatic_color.n.01"})
_COLOR_ADJ_HEADS = frozenset({"chromatic.a.03", "achromatic.a.01"})
_MATERIAL_ROOTS = frozenset({"material.n.01"})
_METAL_ROOTS = frozenset({"metallic_element.n.01", "alloy.n.01", "metal.n.01"})
_SHAPE_ROOTS = frozenset({"plane_figure.n.01", "solid.n.03", "curve.n.01"})
# Verb files whose present participles describe what something is doing.
_ACTION_VERB_FILES = frozenset(
    {
        "verb.body",
        "verb.competition",
        "verb.consumption",
        "verb.contact",
        "verb.motion",
        "verb.perception",
        "verb.social",
        "verb.communication",
    }
)
# An "-ing" word whose first noun sense is a thing ("building", "clothing", "painting") is
# that thing, not an action.
_THING_NOUN_FILES = frozenset(
    {
        "noun.artifact",
        "noun.object",
        "noun.food",
        "noun.substance",
        "noun.plant",
        "noun.animal",
        "noun.person",
        "noun.body",
        "noun.location",
        "noun.group",
        "noun.time",
        "noun.quantity",
        "noun.possession",
        "noun.shape",
        "noun.attribute",
    }
)


@cache
def _table() -> dict:
    return load_table("attributes")


@cache
def surface_index() -> dict[str, tuple[str, str]]:
    """Every surface form in the table -> (aspect, canonical value)."""
    out: dict[str, tuple[str, str]] = {}
    for aspect in labelled_aspects():
        for key, forms in _table()[aspect].items():
            canonical = key.replace("_", " ")
            for form in [canonical, *forms]:
                form = clean_text(form)
                if out.setdefault(form, (aspect, canonical)) != (aspect, canonical):
                    raise ValueError(f"attributes.toml: {form!r} listed twice")
    return out


@cache
def _word_set(section: str) -> frozenset[str]:
    return frozenset(clean_text(w) for w in _table()[section]["words"])


def attribute_values(aspect: str) -> list[str]:
    """Canonical values of an aspect known to the table, sorted ([] for "other")."""
    if aspect not in labelled_aspects():
        return []
    return sorted(key.replace("_", " ") for key in _table()[aspect])


@lru_cache(maxsize=100_000)
def wordnet_aspect(word: str) -> str | None:
    """The aspect WordNet gives a word the table does not list, or None (conservative)."""
    nouns = lexicon.synsets(word, "n")
    if nouns:
        first = nouns[0]
        if lexicon.first_noun_under(word, _COLOR_ROOTS):
            return "color"
        if _names_a_color(word, nouns):
            return None  # "indigo", "bronze", "emerald": a substance and a colour, ambiguous
        material = lexicon.first_noun_under(word, _MATERIAL_ROOTS) or (
            first.lexname() == "noun.substance" and lexicon.first_noun_under(word, _METAL_ROOTS)
        )
        if material and first.lexname() == "noun.substance":  # not "pad", "maple" (a tree)
            return "material"
        if first.lexname() == "noun.shape" and lexicon.first_noun_under(word, _SHAPE_ROOTS):
            return "shape"
    elif _color_adjective(word):
        return "color"  # a word with no noun sense whose first adjective is a colour
    if word.endswith("ing") and " " not in word:
        lemma = word_lemma(word)
        verbs = lexicon.synsets(lemma, "v") if lemma != word else ()
        if verbs and verbs[0].lexname() in _ACTION_VERB_FILES:
            if not nouns or nouns[0].lexname() not in _THING_NOUN_FILES:
                return "action"
    return None


def _color_adjective(word: str) -> bool:
    adjectives = lexicon.synsets(word, "a")
    if not adjectives:
        return False
    heads = {adjectives[0], *adjectives[0].similar_tos()}
    return any(h.name() in _COLOR_ADJ_HEADS for h in heads)


def _names_a_color(word: str, nouns: tuple) -> bool:
    """True when any sense of `word` is a colour (not only the first)."""
    if _color_adjective(word):
        return True
    return any(
        s.lexname() == "noun.attribute"
        and any(h.name() in _COLOR_ROOTS for h in lexicon.closure(s))
        for s in nouns
    )


def _typed_single(s: str) -> tuple[str, str, str | None]:
    """(aspect, value, modifier) of one value; unknown -> ("other", s, None)."""
    other = ("other", s, None)
    index = surface_index()
    if s in index:
        return (*index[s], None)
    if s in _word_set("untyped"):
        return other
    tokens = [t for t in _TOKENS.split(s) if t]
    if not tokens or any(t in _word_set("negations") for t in tokens):
        return other  # "not red" must never become red
    for intensifier in _word_set("intensifiers"):
        if s.startswith(intensifier + " "):
            aspect, value, modifier = _typed_single(s[len(intensifier) + 1 :])
            return (aspect, value, modifier) if aspect != "other" else other
    for prefix in _MADE_OF:
        if s.startswith(prefix):
            aspect, value, _ = _typed_single(s[len(prefix) :])
            return (aspect, value, None) if aspect == "material" else other
    if len(tokens) >= 2 and tokens[-1] in _COLOR_SUFFIXES:
        aspect, value, modifier = _typed_single(" ".join(tokens[:-1]))
        return (aspect, value, modifier) if aspect == "color" else other
    if len(tokens) >= 2 and tokens[-1] == "shaped":
        aspect, value, _ = _typed_single(" ".join(tokens[:-1]))
        return (aspect, value, None) if aspect == "shape" else other
    if len(tokens) >= 2 and tokens[0] in _word_set("color_modifiers"):
        aspect, value, _ = _typed_single(" ".join(tokens[1:]))
        return (aspect, value, tokens[0]) if aspect == "color" else other
    if " " in s or "-" in s:
        return other  # multi-word strings are typed only by the table
    aspect = wordnet_aspect(s) if s.isalpha() else None
    if aspect is None or s in _word_set("color_modifiers"):
        return other
    value = canonical_value(aspect, s)
    return (aspect, value, None)


def _color_run(s: str) -> list[str] | None:
    """Several colour words with no separator ("white yellow", "black-white")."""
    tokens = [t for t in _TOKENS.split(s) if t]
    if len(tokens) < 2 or s in surface_index():
        return None
    values: list[str] = []
    for token in tokens:
        aspect, value, _ = _typed_single(token)
        if aspect != "color" or token in _word_set("color_modifiers"):
            return None
        if value not in values:
            values.append(value)
    return values


@lru_cache(maxsize=500_000)
def type_attribute(raw: str) -> tuple[TypedAttribute, ...]:
    """Typed values of one raw attribute string; () for empty or punctuation-only strings."""
    s = clean_text(raw)
    if not any(ch.isalnum() for ch in s):
        return ()
    if s in surface_index():
        return (TypedAttribute(*surface_index()[s], compound=False),)
    parts: list[str] = []
    for part in (clean_text(x) for x in _SPLIT.split(s)):
        if part:
            parts.extend(_color_run(part) or [part])  # "red white and green" has three
    if not parts:
        return ()
    compound = len(set(parts)) > 1
    out: list[TypedAttribute] = []
    for part in parts:
        aspect, value, modifier = _typed_single(part)
        item = TypedAttribute(aspect, value, compound, modifier)
        if item not in out:
            out.append(item)
    return tuple(out)


@lru_cache(maxsize=100_000)
def canonical_value(aspect: str, raw: str) -> str:
    """The canonical value of `raw` within `aspect` (synonyms merged); else the cleaned text."""
    s = clean_text(raw)
    hit = surface_index().get(s)
    if hit is not None and hit[0] == aspect:
        return hit[1]
    if aspect == "material" or aspect == "color":
        lemma = word_lemma(s)  # "bricks" -> "brick" when only the plural is unlisted
        hit = surface_index().get(lemma)
        if hit is not None and hit[0] == aspect:
            return hit[1]
    return s
