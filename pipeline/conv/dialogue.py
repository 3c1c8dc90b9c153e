"""Coherent conversations: a plan (tables/conversations.toml, [plans]) of steps that
introduce a referent, follow it up by pronoun or "the same <name>", or move to a neighbour.
No two human turns share a family; the plan, the turn count and every choice come from the
sample's seeded rng, so the mix of aspects and lengths varies per conversation."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pipeline.facts.model import Fact
from pipeline.facts.slots import direction_phrase, fill
from pipeline.normalize.countability import be, be_with_article, with_article
from pipeline.registry import registry
from pipeline.tables import load_table

# (text, the fact an assistant turn states or None for a human turn, false value corrected)
Turn = tuple[str, Fact | None, str | None]


def table() -> dict[str, Any]:
    return load_table("conversations")


def pick(rng: random.Random, choices: list[str]) -> str:
    return choices[rng.randrange(len(choices))]


@dataclass(frozen=True)
class Focus:
    """The referent the conversation is about: its annotation ids and its name."""

    ids: frozenset[str]
    name: str

    def pronouns(self) -> dict[str, str]:
        """it / they and the words that agree with it ("the glasses" are "they")."""
        if be(self.name) == "are":
            words = {"it": "they", "them": "them", "its": "their", "is": "are"}
        else:
            words = {"it": "it", "them": "it", "its": "its", "is": "is"}
        return words | {"It": words["it"].capitalize(), "Its": words["its"].capitalize()}


def _about(fact: Fact, focus: Focus) -> bool:
    """The fact's subject is the object in focus (a count: one of its instances is)."""
    return bool(focus.ids & set(fact.subject_ids))


def _focus_of(fact: Fact) -> Focus | None:
    """What a turn about this fact puts in focus: its subject; a count only when it is one
    object (a plural count is about a kind, not an object to follow)."""
    if not fact.subject_ids or fact.referent_name is None:
        return None
    if fact.aspect == "number" and fact.value != "1":
        return None
    return Focus(frozenset(fact.subject_ids), fact.referent_name)


class Planner:
    """One conversation over one image's facts (already in a stable, seeded order)."""

    def __init__(self, facts: list[Fact], rng: random.Random) -> None:
        self.rng = rng
        self.t = table()
        self.facts = facts
        self.used_families: set[str] = set()
        self.introduced: set[frozenset[str]] = set()
        self.focus: Focus | None = None
        self.turns: list[Turn] = []

    # -- choosing ------------------------------------------------------------------------
    def _choose(self, cands: list[Fact]) -> Fact | None:
        """A family first (so rare aspects get their turn), then one of its facts."""
        families = sorted({f.family for f in cands if f.family not in self.used_families})
        if not families:
            return None
        family = families[self.rng.randrange(len(families))]
        of_family = [f for f in cands if f.family == family]
        return of_family[self.rng.randrange(len(of_family))]

    def _introduce(self) -> bool:
        new = [f for f in self.facts if frozenset(f.subject_ids) not in self.introduced]
        fact = self._choose(new)
        if fact is None:
            return False
        if fact.family == "entity_region":
            asked = [
                *registry().family(fact.family).phrasings["mcq"],
                *self.t["region"][fact.family],
            ]
            ask = fill(pick(self.rng, asked), fact.slots, fact.family, fact.value)
        else:
            ask = fill(
                pick(self.rng, registry().family(fact.family).phrasings["mcq"]),
                fact.slots,
                fact.family,
                fact.value,
            )
        answer = fill(
            pick(self.rng, self.t["answer"][fact.family]), fact.slots, fact.family, fact.value
        )
        self._add(ask, answer, fact, moves_focus=True)
        return True

    def _follow(self) -> bool:
        focus = self.focus
        if focus is None:
            return False
        asked, anchored = self.t["follow_up"]["pronoun"], self.t["follow_up"]["anchor"]
        fact = self._choose(
            [
                f
                for f in self.facts
                if (f.family in asked and _about(f, focus))
                or (f.family in anchored and focus.ids & set(f.anchor_ids))
            ]
        )
        if fact is None:
            return False
        if not _about(fact, focus):
            return self._follow_anchor(fact, focus)
        words = focus.pronouns()
        slots = dict(fact.slots) | {k: v for k, v in words.items() if k != "is"}
        slots |= {"name": focus.name, "is": words["is"]}
        same = self.rng.random() < self.t["same_name_share"]
        if same:
            ask_slots = slots | {"is": be(focus.name)}  # "the same glasses are"
            ask = fill(
                pick(self.rng, self.t["follow_up"]["same_name"][fact.family]),
                ask_slots,
                fact.family,
                fact.value,
            )
        else:
            ask = fill(pick(self.rng, asked[fact.family]), slots, fact.family, fact.value)
        answer_slots = slots | {"ref": words["it"]}
        answer = fill(
            pick(self.rng, self.t["follow_up"]["answer"][fact.family]),
            answer_slots,
            fact.family,
            fact.value,
        )
        self._add(ask, answer, fact)
        return True

    def _follow_anchor(self, fact: Fact, focus: Focus) -> bool:
        """Something else placed relative to the focus: the focus is said as it / them."""
        slots = dict(fact.slots) | {"them": focus.pronouns()["them"]}
        ask = fill(
            pick(self.rng, self.t["follow_up"]["anchor"][fact.family]),
            slots,
            fact.family,
            fact.value,
        )
        answer = fill(
            pick(self.rng, self.t["follow_up"]["anchor_answer"][fact.family]),
            slots,
            fact.family,
            fact.value,
        )
        self._add(ask, answer, fact)
        return True

    def _neighbour(self) -> bool:
        focus = self.focus
        if focus is None or "spatial" in self.used_families:
            return False
        cands = [
            f
            for f in self.facts
            if f.family == "spatial" and focus.ids & set(f.anchor_ids) and f.referent_name
        ]
        if not cands:
            return False
        fact = cands[self.rng.randrange(len(cands))]
        name = fact.referent_name or ""
        obj = with_article(name)
        verb = be_with_article(name)
        slots = focus.pronouns() | {
            "side": direction_phrase(fact.value),
            "a_obj": obj,
            "A_obj": obj[:1].upper() + obj[1:],
            "a_is": verb,
        }
        ask = pick(self.rng, self.t["neighbour"]["ask"]).format(**slots)
        answer = pick(self.rng, self.t["neighbour"]["answer"]).format(**slots)
        self._add(ask, answer, fact, moves_focus=True)
        return True

    def _add(self, ask: str, answer: str, fact: Fact, moves_focus: bool = False) -> None:
        """A follow-up keeps the focus; an introduction or a neighbour moves it to the
        fact's subject (a plural count leaves none)."""
        self.turns += [(ask, None, None), (answer, fact, None)]
        self.used_families.add(fact.family)
        self.introduced.add(frozenset(fact.subject_ids))
        if moves_focus:
            self.focus = _focus_of(fact)

    # -- the plan ------------------------------------------------------------------------
    def run(self) -> list[Turn]:
        plans = self.t["plans"]
        names = sorted(plans)
        weights = [plans[n]["weight"] for n in names]
        plan = plans[self.rng.choices(names, weights)[0]]
        wanted = self.rng.randint(plan["min_turns"], plan["max_turns"])
        steps = {"introduce": self._introduce, "follow": self._follow, "neighbour": self._neighbour}
        k = 0
        while len(self.turns) < 2 * wanted:
            step = plan["steps"][k % len(plan["steps"])]
            k += 1
            if not steps[step]() and (step == "introduce" or not self._introduce()):
                break
        return self.turns
