"""How an MSG-MCQ item is asked, shared by every exporter.

This module uses only the standard library: the lmms-eval exporter copies its source into the
generated `utils.py`, so that evaluation prompts are the same everywhere. Scoring is not here:
every export judges with `msg evaluate`'s own rules (`pipeline/evaluate/extract.py`, copied
by `publish/judge_source.py`).
"""

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
