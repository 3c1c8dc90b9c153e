"""The family registry: aspects and question families, read from `tables/families.toml`
and checked once, before a build does any work. Every list of aspects in the project
(scene attributes, JSON and Arrow schemas, statistics, the oracle, answer extraction, the
audit) comes from here, so a new aspect is a table entry, not a code change.

The registry knows the generator kinds by name only (their code is in
pipeline/facts/generators.py, which a test keeps in step with GENERATOR_KINDS), so it sits
below everything that uses it."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipeline.errors import InputError
from pipeline.tables import load_table, tables_dir, tables_env

FORMS = ("mcq", "yes_no", "fill_blank", "correction")
# The phrasing list each form renders from (correction states a false `statement`).
PHRASINGS_OF_FORM = {
    "mcq": "mcq",
    "yes_no": "yes_no",
    "fill_blank": "fill_blank",
    "correction": "statement",
}
GROUNDINGS = ("entity", "count", "attribute", "geometry", "relation", "existence")
OPTION_WORDINGS = ("values", "direction_phrases")
# The typed scene attribute that holds every value no aspect claims.
OTHER_ATTRIBUTE = "other"


@dataclass(frozen=True, kw_only=True)
class GeneratorKind:
    """What a generator kind needs: the grounding of its aspect, and the slots its
    templates may use (those filled from the fact, and those from the asserted value)."""

    grounding: str
    slots: frozenset[str]


# The referent phrase and the verb agreeing with it ("the glasses are"); an asserted name
# with its article and agreeing verb ("a bus is", "grass is", "stairs are").
_REF = frozenset({"ref", "Ref", "is", "Is"})
_ARTICLE = frozenset({"a_value", "a_is", "A_is"})
GENERATOR_KINDS: dict[str, GeneratorKind] = {
    "entity_present": GeneratorKind(grounding="entity", slots=frozenset()),
    "entity_region": GeneratorKind(grounding="entity", slots=_ARTICLE | {"box"}),
    "number": GeneratorKind(
        grounding="count",
        slots=frozenset({"plural", "category", "count_word", "noun", "be", "Be"}),
    ),
    "attribute": GeneratorKind(grounding="attribute", slots=_REF),
    "spatial": GeneratorKind(grounding="geometry", slots=_REF | {"ref2", "direction"}),
    "relation": GeneratorKind(grounding="relation", slots=_REF | {"ref2"}),
    "existence": GeneratorKind(grounding="existence", slots=_ARTICLE | {"name"}),
}


@dataclass(frozen=True, kw_only=True)
class Aspect:
    name: str
    grounding: str
    single_valued: bool
    asked: bool


@dataclass(frozen=True, kw_only=True)
class Family:
    name: str
    aspect: str
    generator: str
    forms: tuple[str, ...]
    options: str
    phrasings: dict[str, tuple[str, ...]]

    def phrasing(self, form: str) -> tuple[str, ...]:
        return self.phrasings[PHRASINGS_OF_FORM.get(form, form)]


@dataclass(frozen=True, kw_only=True)
class Registry:
    aspects: dict[str, Aspect]
    families: dict[str, Family]
    correction_prompts: tuple[str, ...]

    def family(self, name: str) -> Family:
        return self.families[name]

    def aspect_of(self, family: str) -> str:
        return self.families[family].aspect

    @property
    def asked_aspects(self) -> tuple[str, ...]:
        """Aspects some family asks about, in table order (the `aspect` of an item)."""
        used = {f.aspect for f in self.families.values()}
        return tuple(a for a in self.aspects if a in used)

    @property
    def attribute_aspects(self) -> tuple[str, ...]:
        """Typed VG attributes that are asked (color, material, ...), in table order."""
        return tuple(
            a.name
            for a in self.aspects.values()
            if a.grounding == "attribute" and a.asked and a.name in self.asked_aspects
        )

    @property
    def scene_attributes(self) -> tuple[str, ...]:
        """The typed attribute keys of a scene object: every attribute aspect, asked or
        not, then "other"."""
        typed = (a.name for a in self.aspects.values() if a.grounding == "attribute")
        return (*typed, OTHER_ATTRIBUTE)

    @property
    def single_valued_aspects(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.aspects.values() if a.single_valued)

    def grounding(self, aspect: str) -> str:
        """How an aspect's answers are grounded (and read by the scorer); "" for an aspect
        these tables do not know (an item from a build made with other tables)."""
        found = self.aspects.get(aspect)
        return found.grounding if found else ""


class _Checker:
    """Reads the raw table, naming the file and key of the first problem."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = table
        self.file = tables_dir() / "families.toml"

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(self.file, problem, where=key)

    def section(self, key: str) -> dict[str, Any]:
        value = self.table.get(key)
        if not isinstance(value, dict) or not value:
            raise self.fail(key, "missing or empty table")
        return value

    def choice(self, key: str, value: Any, allowed: tuple[str, ...] | dict) -> str:
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def strings(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return tuple(value)


def _slots_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _aspect(check: _Checker, name: str, raw: Any) -> Aspect:
    key = f"aspects.{name}"
    if not isinstance(raw, dict):
        raise check.fail(key, "must be a table")
    unknown = sorted(set(raw) - {"grounding", "single_valued", "asked"})
    if unknown:
        raise check.fail(key, f"unknown key(s): {', '.join(unknown)}")
    grounding = check.choice(f"{key}.grounding", raw.get("grounding"), GROUNDINGS)
    if grounding == "attribute" and name not in load_table("attributes"):
        raise check.fail(key, "an attribute aspect needs a section of that name in attributes.toml")
    return Aspect(
        name=name,
        grounding=grounding,
        single_valued=bool(raw.get("single_valued", False)),
        asked=bool(raw.get("asked", True)),
    )


def _family(check: _Checker, name: str, raw: Any, aspects: dict[str, Aspect]) -> Family:
    key = f"families.{name}"
    if not isinstance(raw, dict):
        raise check.fail(key, "must be a table")
    known = {"aspect", "generator", "forms", "options", *PHRASINGS_OF_FORM.values()}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise check.fail(key, f"unknown key(s): {', '.join(unknown)}")
    aspect = check.choice(f"{key}.aspect", raw.get("aspect"), aspects)
    generator = check.choice(f"{key}.generator", raw.get("generator"), GENERATOR_KINDS)
    kind = GENERATOR_KINDS[generator]
    if aspects[aspect].grounding != kind.grounding:
        raise check.fail(
            key,
            f"generator {generator!r} makes {kind.grounding} facts, but aspect {aspect!r} is "
            f"grounded by {aspects[aspect].grounding}",
        )
    forms = check.strings(f"{key}.forms", raw.get("forms"))
    for form in forms:
        check.choice(f"{key}.forms", form, FORMS)
    options = check.choice(f"{key}.options", raw.get("options", "values"), OPTION_WORDINGS)
    allowed = kind.slots | {"value"}
    needed = {PHRASINGS_OF_FORM[form] for form in forms}
    phrasings = {}
    # Every phrasing list is checked; those of the family's forms must be there (MSG-Conv
    # also asks with a family's `mcq` and `statement` phrasings).
    for list_name in dict.fromkeys(PHRASINGS_OF_FORM.values()):
        if list_name not in raw and list_name not in needed:
            continue
        templates = check.strings(f"{key}.{list_name}", raw.get(list_name))
        for template in templates:
            extra = sorted(_slots_of(template) - allowed)
            if extra:
                raise check.fail(
                    f"{key}.{list_name}",
                    f"unknown slot(s) {', '.join(extra)} in {template!r} "
                    f"(generator {generator!r} fills {', '.join(sorted(allowed))})",
                )
        phrasings[list_name] = templates
    return Family(
        name=name,
        aspect=aspect,
        generator=generator,
        forms=forms,
        options=options,
        phrasings=phrasings,
    )


def load_registry(table: dict[str, Any]) -> Registry:
    """The registry of a parsed families table; raises InputError on the first problem."""
    check = _Checker(table)
    aspects = {n: _aspect(check, n, raw) for n, raw in check.section("aspects").items()}
    families = {n: _family(check, n, raw, aspects) for n, raw in check.section("families").items()}
    prompts = check.strings("correction_prompt", table.get("correction_prompt"))
    for prompt in prompts:
        if _slots_of(prompt) != {"statement"}:
            raise check.fail("correction_prompt", f"{prompt!r} must use exactly {{statement}}")
    return Registry(aspects=aspects, families=families, correction_prompts=prompts)


@cache
def _registry_of(folder: str) -> Registry:
    return load_registry(load_table("families"))


def direction_of_phrase() -> dict[str, str]:
    """Option text of a direction -> the direction ("to the left of" -> "left")."""
    return {phrase: d for d, phrase in load_table("item_rules")["spatial"]["phrases"].items()}


def registry() -> Registry:
    """The checked registry of the tables folder in use (once per process and folder)."""
    # Keyed on the raw MSG_TABLES_DIR value (tables_env: read once per partition task, on
    # every call elsewhere), so an override still takes effect, without building a Path per
    # call (~200K calls per 1K-image build). _registry_of reads the tables through load_table.
    return _registry_of(tables_env())
