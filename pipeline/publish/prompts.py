"""How an MSG-MCQ item is asked and scored, shared by every exporter.

This module uses only the standard library: the lmms-eval exporter copies its source into the
generated `utils.py`, so that evaluation prompts and scoring are the same everywhere.
"""

import re

LETTERS = "ABCD"
MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."
YES_NO_INSTRUCTION = "Answer yes or no."
OPEN_INSTRUCTION = "Answer the question using a single word or phrase."
CORRECTION_INSTRUCTION = "Rewrite the statement so that it is true for the image."


def item_prompt(doc):
    """The text shown to the model for one item (without the image token)."""
    form = doc["form"]
    if form == "mcq":
        options = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(doc["options"]))
        return f"{doc['question']}\n{options}\n{MCQ_INSTRUCTION}"
    if form == "yes_no":
        return f"{doc['question']}\n{YES_NO_INSTRUCTION}"
    if form == "correction":
        return f"{doc['question']}\n{CORRECTION_INSTRUCTION}"
    return f"{doc['question']}\n{OPEN_INSTRUCTION}"


def item_target(doc):
    """The reference answer: the option letter for multiple choice, else the answer text."""
    if doc["form"] == "mcq":
        return LETTERS[doc["answer_index"]]
    return doc["answer"]


def _norm(text):
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", str(text).lower())).strip()


def parse_letter(prediction, options):
    """The option letter a free-text prediction chose, or None when it is unclear."""
    text = str(prediction).strip()
    valid = LETTERS[: len(options)]
    m = re.match(r"^\(?([A-Da-d])\)?(?:[.:)\s]|$)", text)
    if m and m.group(1).upper() in valid:
        return m.group(1).upper()
    m = re.search(r"answer(?: is)?\s*[:\s]\s*\(?([A-D])\b", text, re.IGNORECASE)
    if m and m.group(1).upper() in valid:
        return m.group(1).upper()
    said = _norm(text)
    hits = [LETTERS[i] for i, o in enumerate(options) if _norm(o) == said]
    return hits[0] if len(hits) == 1 else None


def is_correct(doc, prediction):
    """Whether a model's answer to the item is right."""
    form = doc["form"]
    if form == "mcq":
        return parse_letter(prediction, doc["options"]) == LETTERS[doc["answer_index"]]
    said = _norm(prediction)
    if form == "yes_no":
        first = said.split(" ", 1)[0] if said else ""
        return first == _norm(doc["answer"])
    expected = _norm(doc["answer_value"] if form == "correction" else doc["answer"])
    return bool(expected) and re.search(rf"\b{re.escape(expected)}\b", said) is not None
