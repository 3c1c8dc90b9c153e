"""Deterministic answer extraction: turn a model's raw prediction into a judgement of one
item. Nothing is ever guessed: a prediction that matches no rule (or several answers at
once) is `unparsed` and counts as wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

# --- project tables (an exported copy replaces this block with literal tables) ---
from pipeline.facts.slots import NUMBER_WORDS
from pipeline.normalize.attributes import surface_index
from pipeline.registry import direction_of_phrase, registry


def attribute_aspects() -> tuple[str, ...]:
    """The aspects whose words are mapped to canonical values ("grey" -> "gray")."""
    return registry().attribute_aspects


def grounding(aspect: str) -> str:
    """How an aspect's answers are read: "count", "geometry", ... ("" when unknown)."""
    return registry().grounding(aspect)


# --- end of project tables ---

YES = frozenset({"yes", "yeah", "yep", "true", "correct"})
NO = frozenset({"no", "nope", "false", "incorrect"})
# "no" is a count only when no other number is said ("No, there are two" means 2).
NUMBERS = {w: str(i) for i, w in enumerate(NUMBER_WORDS) if w != "no"} | {"zero": "0"}
ZERO_WORDS = frozenset({"no", "none"})

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
# Letter styles: "B", "(b)", "[B]", "b.", "B) glass", "Answer: C", "the answer is (c)".
_LETTER_ALONE = re.compile(r"^[\(\[]?([a-z])[\)\]]?[.:]?$", re.IGNORECASE)
_LETTER_LEAD = re.compile(r"^(?:\(([a-z])\)|\[([a-z])\]|([a-z])[.:)])(?:\s|$)", re.IGNORECASE)
# After "answer is", a bare lower-case letter counts only at the end: "the answer is a fork".
_LETTER_SAID = re.compile(
    r"\b(?i:answer|option|choice)(?:\s+(?i:is))?\s*[:\-]?\s*"
    r"(?:[\(\[]([a-zA-Z])[\)\]]|([A-Z])\b|([a-z])(?=\s*[.)]?\s*$))"
)


@dataclass(frozen=True)
class Judgement:
    """How one prediction was read: `chosen` is the option text or "yes"/"no" for closed
    forms (None for free text or when unparsed)."""

    parsed: bool
    correct: bool
    chosen: str | None = None


UNPARSED = Judgement(parsed=False, correct=False)


def tokens(text: str, aspect: str | None = None) -> list[str]:
    """Lower-case word tokens; decimals stay whole ("0.640" is not the count 0); attribute
    words mapped to the project's canonical values ("grey" -> "gray")."""
    out = _TOKEN.findall(text.lower())
    if aspect in attribute_aspects():
        out = [_canonical_token(aspect, t) for t in out]
    return out


@cache
def _canonical_token(aspect: str, token: str) -> str:
    hit = surface_index().get(token)
    return hit[1] if hit is not None and hit[0] == aspect and " " not in hit[1] else token


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _without(haystack: list[str], needle: list[str]) -> list[str]:
    """The tokens with every occurrence of the phrase replaced by a separator."""
    out, i, n = [], 0, len(needle)
    while i < len(haystack):
        if n and haystack[i : i + n] == needle:
            out.append("\x00")
            i += n
        else:
            out.append(haystack[i])
            i += 1
    return out


def numbers_in(words: list[str]) -> set[str]:
    """Counts said as digits or words; "no"/"none" mean 0 only when nothing else is said."""
    found = {NUMBERS.get(w, w) for w in words if w.isdigit() or w in NUMBERS}
    found = {str(int(n)) for n in found}  # "07" -> "7"
    if not found and ZERO_WORDS & set(words):
        return {"0"}
    return found


def value_of_option(aspect: str, option: str) -> str:
    """The value an option stands for: a direction phrase stands for its direction."""
    if grounding(aspect) == "geometry":
        return direction_of_phrase().get(option, option)
    return option


def as_text(prediction: Any) -> str:
    if prediction is None:
        return ""
    if isinstance(prediction, bool):  # JSON true/false from a yes/no harness
        return "yes" if prediction else "no"
    return str(prediction)


def judge(item: dict[str, Any], prediction: Any) -> Judgement:
    text = as_text(prediction).strip()
    if not text:
        return UNPARSED
    form = item["form"]
    if form == "mcq":
        return _judge_choice(item, _choose_option(item, text))
    if form == "yes_no":
        return _judge_choice(item, _yes_no(text))
    return _judge_free(item, text)


def _judge_choice(item: dict[str, Any], chosen: str | None) -> Judgement:
    if chosen is None:
        return UNPARSED
    return Judgement(parsed=True, correct=chosen == item["answer"], chosen=chosen)


def _yes_no(text: str) -> str | None:
    words = tokens(text)
    if not words:
        return None
    if words[0] in YES:  # "Yes, it is" / "No, there is not"
        return "yes"
    if words[0] in NO:
        return "no"
    said = {"yes" for w in words if w in YES} | {"no" for w in words if w in NO}
    return said.pop() if len(said) == 1 else None


def _choose_option(item: dict[str, Any], text: str) -> str | None:
    options: list[str] = list(item["options"])
    aspect = item["aspect"]
    words = tokens(text, aspect)
    exact = [o for o in options if tokens(o, aspect) == words]
    if len(exact) == 1:  # the option's own text, whatever it looks like
        return exact[0]
    letter = _letter(text)
    if letter is not None:
        index = ord(letter.lower()) - ord("a")
        return options[index] if index < len(options) else None
    if grounding(aspect) == "count":
        said = numbers_in(words) & set(options)
        return said.pop() if len(said) == 1 else None
    return _mentioned_option(options, aspect, words)


def _letter(text: str) -> str | None:
    for pattern in (_LETTER_ALONE, _LETTER_LEAD, _LETTER_SAID):
        m = pattern.search(text)
        if m:
            return next(g for g in m.groups() if g)
    return None


def _mentioned_option(options: list[str], aspect: str, words: list[str]) -> str | None:
    """The one option named in the text; an option inside a longer named one ("red" in
    "dark red") does not count as a second answer."""
    hits: dict[str, list[list[str]]] = {}
    for o in options:
        for phrase in (tokens(o, aspect), tokens(value_of_option(aspect, o), aspect)):
            if _contains(words, phrase):
                hits.setdefault(o, []).append(phrase)
    longer = [p for ps in hits.values() for p in ps]

    def inside_longer(p: list[str]) -> bool:
        return any(len(q) > len(p) and _contains(q, p) for q in longer)

    named = [o for o, ps in hits.items() if not all(inside_longer(p) for p in ps)]
    return named[0] if len(named) == 1 else None


def false_values(item: dict[str, Any]) -> list[str]:
    """The values a correction item's false statement asserted."""
    return [value_of_option(item["aspect"], d["option"]) for d in item["distractor_sources"]]


def _judge_free(item: dict[str, Any], text: str) -> Judgement:
    """Fill-in and correction: right when the answer value is said as a word and, for a
    correction, the false value is not (repeating the false statement is not a fix)."""
    aspect = item["aspect"]
    words = tokens(text, aspect)
    if not words:
        return UNPARSED
    if grounding(aspect) == "count":
        said = numbers_in(words)
        ok = item["answer_value"] in said
        if item["form"] == "correction":
            ok = ok and not any(v in said for v in false_values(item))
        return Judgement(parsed=True, correct=ok)
    answer = tokens(item["answer_value"], aspect)
    ok = _contains(words, answer)
    if item["form"] == "correction" and ok:
        rest = _without(words, answer)  # "blue" inside the answer "light blue" is fine
        ok = not any(_contains(rest, tokens(v, aspect)) for v in false_values(item))
    return Judgement(parsed=True, correct=ok)
