"""Template slots that depend on the value being asserted (articles, plurals, number
words, direction phrases): small functions, one per family that needs them."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.normalize.countability import be, be_with_article, with_article
from pipeline.registry import Family, registry
from pipeline.tables import load_table

NUMBER_WORDS = (
    "no one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()


def plural(noun: str) -> str:
    irregular = load_table("item_rules")["plurals"]
    if noun in irregular:
        return irregular[noun]
    head, _, last = noun.rpartition(" ")
    prefix = f"{head} " if head else ""
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return f"{prefix}{last}es"
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        return f"{prefix}{last[:-1]}ies"
    return f"{prefix}{last}s"


def subject_slots(phrase: str, name: str) -> dict[str, str]:
    """The referent phrase and the verb that agrees with it ("the glasses are")."""
    verb = be(name)
    return {"ref": phrase, "is": verb, "Is": verb.capitalize()}


def number_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def _number(value: str, slots: dict[str, str]) -> dict[str, str]:
    n = int(value)
    return {
        "count_word": number_word(n),
        "noun": slots["category"] if n == 1 else slots["plural"],
        "be": "is" if n == 1 else "are",
        "Be": "Is" if n == 1 else "Are",
    }


def _article(value: str, slots: dict[str, str]) -> dict[str, str]:
    """ "a bus", "grass", "a pair of glasses", "stairs", and the verb agreeing with it."""
    verb = be_with_article(value)
    return {"a_value": with_article(value), "a_is": verb, "A_is": verb.capitalize()}


def direction_phrase(value: str) -> str:
    return load_table("item_rules")["spatial"]["phrases"][value]


def _direction(value: str, slots: dict[str, str]) -> dict[str, str]:
    return {"direction": direction_phrase(value)}


# Slots that depend on the asserted value, by generator kind (the registry checks that a
# template uses only its kind's slots).
VALUE_SLOTS: dict[str, Callable[[str, dict[str, str]], dict[str, str]]] = {
    "number": _number,
    "entity_region": _article,
    "existence": _article,
    "spatial": _direction,
}


def fill(template: str, slots: dict[str, str], family: str, value: str) -> str:
    """Fill a template with the fact's slots and those of the asserted value."""
    return fill_value(template, capitalised(slots), registry().family(family).generator, value)


def capitalised(slots: dict[str, str]) -> dict[str, str]:
    """The fact's slots and "Ref", the referent phrase starting a sentence (no value slot
    sets "ref": once per fact, for every template it fills)."""
    full = dict(slots)
    if "ref" in full:
        full["Ref"] = full["ref"][:1].upper() + full["ref"][1:]
    return full


def fill_value(template: str, slots: dict[str, str], kind: str, value: str) -> str:
    """fill() with the fact's slots already capitalised() and its generator kind known."""
    full = dict(slots)
    full["value"] = value
    value_slots = VALUE_SLOTS.get(kind)
    if value_slots is not None:
        full.update(value_slots(value, slots))
    return template.format_map(full)


def option_text(family: str, value: str) -> str:
    """How a value appears as an option, by the family's option wording."""
    return family_option_text(registry().family(family), value)


def family_option_text(family: Family, value: str) -> str:
    """option_text() for a family already looked up."""
    if family.options == "direction_phrases":
        return direction_phrase(value)
    return value
