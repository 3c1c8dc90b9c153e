"""word_lemma reads spaCy's lemma table directly for plain lowercase words: the same
lemmas as spaCy's blank English pipeline, whose tokenizer special cases are listed."""

from __future__ import annotations

import re

from pipeline.normalize import lemma, lexicon
from pipeline.normalize.tokenizer_splits import TOKENIZER_SPLITS


def _spacy_lemma(doc) -> str:
    return doc[0].lemma_.lower() if len(doc) == 1 else doc.text


def test_split_list_is_spacys_special_cases() -> None:
    nlp = lemma.nlp()
    letters = [k for k in nlp.tokenizer.rules if re.fullmatch(r"[a-z]+", k)]
    assert TOKENIZER_SPLITS == {k for k in letters if len(nlp(k)) != 1}


def test_table_is_the_lemmatizers() -> None:
    spacy_table = lemma.nlp().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    table = lemma.lemma_lookup_table()
    assert len(table) == len(spacy_table) > 40_000
    assert all(spacy_table.get(key) == value for key, value in table.items())


def test_plain_words_lemmatised_as_spacy_does() -> None:
    table = lemma.lemma_lookup_table()
    words = {w for pair in table.items() for w in pair if lemma.is_plain_token(w)}
    words |= {"shelves", "dont", "cannot", "gonna", "zzyzx", "running", "glasses"}
    words = sorted(words)
    nlp = lemma.nlp()
    expected = [_spacy_lemma(doc) for doc in nlp.pipe(words)]
    assert [lemma.word_lemma(w) for w in words] == expected
    assert lemma.word_lemma("shelves") == "shelve" and lemma.word_lemma("dont") == "dont"


def test_hyphenated_words_left_as_spacy_leaves_them() -> None:
    words = [w.replace("_", " ") for w in lexicon.wordnet().all_lemma_names()]
    words = sorted(w for w in words if re.fullmatch(r"[a-z]+(-[a-z]+)+", w))
    assert len(words) > 4000 and "t-shirt" in words
    nlp = lemma.nlp()
    assert all(len(doc) > 1 for doc in nlp.pipe(words))  # so spaCy returns the word
    assert [lemma.word_lemma(w) for w in words] == words


def test_other_strings_go_through_spacy() -> None:
    assert not lemma.is_plain_token("t-shirt") and not lemma.is_plain_token("Dogs")
    for word in ("Dogs", "x-ray's", "café", "e-"):
        assert lemma.word_lemma(word) == _spacy_lemma(lemma.nlp()(word))
