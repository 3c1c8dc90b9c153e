"""Normalisation as data plus small functions: canonical object names and predicates,
attribute typing, synonyms and confusables. Tables live in `pipeline/tables/`; WordNet and
spaCy load lazily, once per process."""

from pipeline.normalize.attributes import (
    TypedAttribute,
    attribute_values,
    canonical_value,
    typed_aspects,
)
from pipeline.normalize.confusables import are_confusable
from pipeline.normalize.names import name_synonyms, names_related
from pipeline.normalize.text import clean_text
from pipeline.normalize.vocabulary import Vocabulary
from pipeline.normalize.wordnet_setup import ensure_wordnet

__all__ = [
    "TypedAttribute",
    "Vocabulary",
    "are_confusable",
    "attribute_values",
    "canonical_value",
    "clean_text",
    "ensure_wordnet",
    "name_synonyms",
    "names_related",
    "typed_aspects",
]
