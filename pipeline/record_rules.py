"""Rules between a record's fields that its JSON Schema cannot state (a schema cannot say
"the answer is the option at answer_index"). Each is data: the fields it reads and a test
that a valid record passes. `msg validate` checks them on every published record, the build
on every record it makes (after the schema check, so the fields have their types)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordRule:
    message: str  # what a violating record breaks
    fields: tuple[str, ...]  # what it reads, in the order `holds` takes them
    holds: Callable[..., bool]


def _answer_is_the_indexed_option(options: list[str], index: int | None, answer: str) -> bool:
    # Open forms have no options and no index (the schema says so per form).
    if not options:
        return index is None
    return index is not None and 0 <= index < len(options) and options[index] == answer


RULES: dict[str, tuple[RecordRule, ...]] = {
    "mcq": (
        RecordRule(
            "answer is not the option at answer_index",
            ("options", "answer_index", "answer"),
            _answer_is_the_indexed_option,
        ),
        RecordRule(
            "a fill-in-the-blank answer differs from answer_value",
            ("form", "answer", "answer_value"),
            lambda form, answer, value: form != "fill_blank" or answer == value,
        ),
    ),
}


def rule_errors(kind: str, record: dict[str, Any]) -> list[str]:
    """The rules a schema-valid record breaks, as '$: <message>'."""
    return [
        f"$: {rule.message}"
        for rule in RULES.get(kind, ())
        if not rule.holds(*(record.get(name) for name in rule.fields))
    ]
