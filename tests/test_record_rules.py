"""Rules between a record's fields that the JSON Schema cannot state (pipeline/record_rules)."""

from __future__ import annotations

import pytest

from pipeline.record_rules import rule_errors


def mcq(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "form": "mcq",
        "options": ["cat", "dog", "horse", "sheep"],
        "answer": "dog",
        "answer_index": 1,
        "answer_value": "dog",
    }
    return record | fields


@pytest.mark.parametrize(
    ("record", "broken"),
    [
        (mcq(), None),
        (mcq(answer_index=2), "answer is not the option at answer_index"),
        (mcq(answer_index=7), "answer is not the option at answer_index"),
        (mcq(answer_index=None), "answer is not the option at answer_index"),
        (mcq(form="yes_no", options=["yes", "no"], answer="no", answer_index=1), None),
        (mcq(form="yes_no", options=["yes", "no"], answer="no", answer_index=0), "answer is not"),
        (mcq(form="fill_blank", options=[], answer="dog", answer_index=None), None),
        (mcq(form="fill_blank", options=[], answer="dog", answer_index=0), "answer is not"),
        (mcq(form="fill_blank", options=[], answer="cat", answer_index=None), "fill-in-the-blank"),
        (mcq(form="correction", options=[], answer="A dog.", answer_index=None), None),
    ],
)
def test_each_rule_passes_good_records_and_names_what_a_bad_one_breaks(
    record: dict[str, object], broken: str | None
) -> None:
    errors = rule_errors("mcq", record)
    if broken is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith("$: ") and broken in errors[0]


def test_kinds_without_rules_have_no_errors() -> None:
    assert rule_errors("conv", {"anything": 1}) == []
