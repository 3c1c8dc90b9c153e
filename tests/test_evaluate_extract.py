"""Answer extraction on hand-made items: every answer style is read as expected, and what
cannot be read is `unparsed`, never guessed."""

from __future__ import annotations

import pytest

from pipeline.evaluate.extract import judge, numbers_in, tokens


def item(aspect: str, form: str, **extra) -> dict:
    base = {
        "id": "mcq-0000000000000000",
        "aspect": aspect,
        "form": form,
        "options": [],
        "answer": "",
        "answer_index": None,
        "answer_value": "",
        "distractor_sources": [],
    }
    return base | extra


COLOR_MCQ = item(
    "color",
    "mcq",
    options=["brown", "silver", "dark red", "red"],
    answer="silver",
    answer_index=1,
    answer_value="silver",
)
NUMBER_MCQ = item(
    "number", "mcq", options=["1", "10", "0", "2"], answer="2", answer_index=3, answer_value="2"
)
SPATIAL_MCQ = item(
    "spatial",
    "mcq",
    options=["to the left of", "to the right of", "below", "above"],
    answer="below",
    answer_index=2,
    answer_value="below",
)
YES_ITEM = item("existence", "yes_no", options=["yes", "no"], answer="yes", answer_value="yes")
NO_ITEM = item("color", "yes_no", options=["yes", "no"], answer="no", answer_value="white")


@pytest.mark.parametrize(
    "prediction, chosen",
    [
        ("B", "silver"),
        ("b", "silver"),
        ("(b)", "silver"),
        ("[B]", "silver"),
        ("B.", "silver"),
        ("B) silver", "silver"),
        ("(B) silver", "silver"),
        ("Answer: B", "silver"),
        ("The answer is (b).", "silver"),
        ("the correct option is B", "silver"),
        ("The answer is b", "silver"),
        ("silver", "silver"),
        ("Silver.", "silver"),
        ("It looks silver to me", "silver"),
        ("A", "brown"),
        ("D. red", "red"),
        ("dark red", "dark red"),  # not also "red": the longer option holds it
        ("The car is dark red", "dark red"),
        ("grey", None),  # "grey" is "gray", no option: unparsed
    ],
)
def test_mcq_letters_and_option_text(prediction, chosen):
    j = judge(COLOR_MCQ, prediction)
    assert j.chosen == chosen
    assert j.parsed == (chosen is not None)
    assert j.correct == (chosen == "silver")


@pytest.mark.parametrize(
    "prediction",
    ["", "   ", None, "E", "I cannot tell", "brown or red", "a fork", "The answer is a fork"],
)
def test_mcq_unreadable_is_unparsed(prediction):
    j = judge(COLOR_MCQ, prediction)
    assert not j.parsed and not j.correct and j.chosen is None


@pytest.mark.parametrize(
    "prediction, chosen",
    [
        ("2", "2"),
        ("two", "2"),
        ("There are two.", "2"),
        ("D", "2"),
        ("10", "10"),
        ("ten", "10"),
        ("zero", "0"),
        ("There are no cats", "0"),
        ("No, there are two", "2"),  # "no" is a count only when nothing else is said
        ("two or ten", None),
        ("3", None),
    ],
)
def test_mcq_numbers_as_digits_and_words(prediction, chosen):
    assert judge(NUMBER_MCQ, prediction).chosen == chosen


@pytest.mark.parametrize(
    "prediction, chosen",
    [
        ("below", "below"),
        ("It is below the window.", "below"),
        ("left", "to the left of"),
        ("to the right of", "to the right of"),
        ("C", "below"),
        ("left or right", None),
    ],
)
def test_mcq_spatial_phrases(prediction, chosen):
    assert judge(SPATIAL_MCQ, prediction).chosen == chosen


@pytest.mark.parametrize(
    "prediction, said",
    [
        ("yes", "yes"),
        ("Yes, it is.", "yes"),
        ("YES", "yes"),
        (True, "yes"),
        ("no", "no"),
        ("No, there is not.", "no"),
        ("No. Yes.", "no"),  # the first word decides
        ("I think yes", "yes"),
        (False, "no"),
        ("maybe", None),
        ("I would say yes and no", None),
        ("B", None),  # letters are for multiple choice only
    ],
)
def test_yes_no(prediction, said):
    for it in (YES_ITEM, NO_ITEM):
        j = judge(it, prediction)
        assert j.chosen == said
        assert j.correct == (said == it["answer"])


FILL_COLOR = item("color", "fill_blank", answer="white", answer_value="white")
FILL_RELATION = item("relation", "fill_blank", answer="parked on", answer_value="parked on")
FILL_ZERO = item("number", "fill_blank", answer="0", answer_value="0")
CORR_COLOR = item(
    "color",
    "correction",
    answer="The plate is white.",
    answer_value="white",
    distractor_sources=[{"option": "brown", "source": "other_object_value", "object_ids": []}],
)
CORR_NUMBER = item(
    "number",
    "correction",
    answer="There is one traffic light in the image.",
    answer_value="1",
    distractor_sources=[{"option": "5", "source": "other_number", "object_ids": []}],
)
CORR_SPATIAL = item(
    "spatial",
    "correction",
    answer="The window is above the table.",
    answer_value="above",
    distractor_sources=[
        {"option": "to the right of", "source": "other_direction", "object_ids": []}
    ],
)
CORR_LIGHT = item(
    "color",
    "correction",
    answer="The sky is light blue.",
    answer_value="light blue",
    distractor_sources=[{"option": "blue", "source": "aspect_value", "object_ids": []}],
)


@pytest.mark.parametrize(
    "it, prediction, correct",
    [
        (FILL_COLOR, "white", True),
        (FILL_COLOR, "The plate is White.", True),
        (FILL_COLOR, "whitish", False),
        (FILL_COLOR, "black", False),
        (FILL_RELATION, "The car is parked on the street", True),
        (FILL_RELATION, "parked", False),
        (FILL_ZERO, "0", True),
        (FILL_ZERO, "zero", True),
        (FILL_ZERO, "there are no kites", True),
        (FILL_ZERO, "none", True),
        (FILL_ZERO, "two", False),
        (CORR_COLOR, "The plate is white.", True),
        (CORR_COLOR, "white", True),
        (CORR_COLOR, "The plate is brown.", False),  # repeats the false statement
        (CORR_COLOR, "The plate is white, not brown.", False),
        (CORR_NUMBER, "There is one traffic light in the image.", True),
        (CORR_NUMBER, "1", True),
        (CORR_NUMBER, "There are five traffic lights.", False),
        (CORR_NUMBER, "one, not five", False),
        (CORR_SPATIAL, "The window is above the table.", True),
        (CORR_SPATIAL, "The window is to the right of the table.", False),
        (CORR_LIGHT, "The sky is light blue.", True),  # "blue" inside the answer is fine
        (CORR_LIGHT, "The sky is blue.", False),
    ],
)
def test_free_text(it, prediction, correct):
    j = judge(it, prediction)
    assert j.parsed and j.correct == correct and j.chosen is None


def test_free_text_empty_is_unparsed():
    assert not judge(FILL_COLOR, "  ").parsed
    assert not judge(CORR_COLOR, "...").parsed


def test_tokens_keep_decimals_and_canonical_values():
    assert tokens("region [0.640, 0.613]") == ["region", "0.640", "0.613"]
    assert numbers_in(tokens("region [0.640, 0.613]")) == set()
    assert tokens("Grey", "color") == ["gray"]
    assert tokens("Grey") == ["grey"]  # canonical values only within an attribute aspect
