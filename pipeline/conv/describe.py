"""Grounded detailed descriptions: a paragraph written from one scene's facts alone. Each
sentence states facts the generators made under the MSG-MCQ rules (visible objects, reliable
COCO counts, unique names, one clear direction, annotated relations) and keeps their
evidence ids, so every claim can be re-derived from the raw annotations. Nothing is said
about an object that needs a region to be named: prose cannot point."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipeline.conv.dialogue import pick, table
from pipeline.facts.context import FactContext
from pipeline.facts.generators import item_rules
from pipeline.facts.model import Fact
from pipeline.facts.referents import askable, spans_image
from pipeline.facts.slots import direction_phrase, number_word, plural
from pipeline.normalize.countability import COUNT, be_with_article, countability, with_article
from pipeline.registry import registry


def claim(
    aspect: str, value: str, name: str | None, ids: list[str], false_value: str | None = None
) -> dict[str, Any]:
    """What one sentence (or turn) states: checkable against the raw annotations."""
    return {
        "aspect": aspect,
        "value": value,
        "referent_name": name,
        "referent_object_ids": ids,
        "false_value": false_value,
    }


def fact_claim(fact: Fact) -> dict[str, Any]:
    return claim(fact.aspect, fact.value, fact.referent_name, fact.referent_ids)


@dataclass
class Sentence:
    text: str
    claims: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Describer:
    def __init__(self, ctx: FactContext, facts: list[Fact], rng: random.Random) -> None:
        self.ctx = ctx
        self.facts = facts
        self.rng = rng
        self.t = table()["description"]

    # -- the opening: the main objects ---------------------------------------------------
    def opening(self) -> list[Sentence]:
        """The main objects: COCO counts (the most numerous first), or without them the
        visible objects by name; the first `opening_listed` in one sentence, the rest in
        an "also" sentence."""
        listed = self._counted() or self._named()
        first, rest = listed[: self.t["opening_listed"]], listed[self.t["opening_listed"] :]
        out = []
        for part, templates in ((first, self.t["opening"]), (rest, self.t["also"])):
            if not part:
                continue
            words = _join([p for p, _, _, _ in part])
            text = pick(self.rng, templates).format(list=words, List=_cap(words), be=part[0][1])
            claims = [c for _, _, c, _ in part]
            evidence = sorted({e for _, _, _, ev in part for e in ev})
            out.append(Sentence(_cap(text), claims, evidence))
        return out

    def _counted(self) -> list[tuple[str, str, dict[str, Any], list[str]]]:
        """(phrase, agreeing verb, claim, evidence) per COCO count."""
        counts = [f for f in self.facts if f.family == "number" and f.value != "0"]
        # The most numerous first; ties in the facts' seeded order (sorted is stable).
        counts = sorted(counts, key=lambda f: -int(f.value))[: self.t["max_listed"]]
        out = []
        for f in counts:
            category = f.slots["category"]
            if f.value == "1":
                phrase, verb = with_article(category), be_with_article(category)
            else:
                phrase, verb = f"{number_word(int(f.value))} {plural(category)}", "are"
            out.append((phrase, verb, fact_claim(f), sorted(set(f.evidence))))
        return out

    def _named(self) -> list[tuple[str, str, dict[str, Any], list[str]]]:
        """Without COCO counts: visible objects by name, the largest first; a name several
        visible objects answer to is said in the plural, with no number (VG is not
        exhaustive), and its claim names every one of them."""
        ctx = self.ctx
        size = (ctx.scene["width"], ctx.scene["height"])
        span = item_rules()["spatial"]["clarity"]["max_span"]
        by_name: dict[str, list] = defaultdict(list)
        for g in askable(ctx.groups):
            if ctx.visible(g.main):
                by_name[g.name].append(g)
        out = []
        for name, groups in by_name.items():
            if len(ctx.same_name(name)) != len(groups):
                continue  # a related name ("person" beside "man") blurs what is meant
            area = max(g.main["bbox"][2] * g.main["bbox"][3] for g in groups)
            # Things before stuff: a box spanning the image (wall, sky, floor) comes last.
            stuff = all(spans_image(g.main["bbox"], *size, span) for g in groups)
            several = len(groups) > 1 and countability(name) == COUNT
            if len(groups) > 1 and not several:
                continue
            phrase = plural(name) if several else with_article(name)
            verb = "are" if several else be_with_article(name)
            ids = [i for g in groups for i in g.ids]
            evidence = sorted({e for g in groups for e in g.evidence})
            entry = (phrase, verb, claim("entity", name, name, ids), evidence)
            out.append((stuff, -area, name, entry))
        out.sort(key=lambda x: x[:3])
        return [x[3] for x in out[: self.t["max_listed"]]]

    # -- details ---------------------------------------------------------------------------
    def attributes(self) -> list[Sentence]:
        """One sentence per uniquely named object: up to max_attributes of its values."""
        order = list(self.t["props"])
        by_object: dict[tuple[str, ...], list[Fact]] = defaultdict(list)
        for f in self.facts:
            named = "region" not in f.slots.get("ref", "region")
            if registry().family(f.family).generator == "attribute" and named:
                if f.aspect in self.t["props"]:
                    by_object[tuple(f.subject_ids)].append(f)
        out = []
        for facts in by_object.values():
            facts = sorted(facts, key=lambda f: order.index(f.aspect))[: self.t["max_attributes"]]
            props = _join([self.t["props"][f.aspect].format(value=f.value) for f in facts])
            slots = dict(facts[0].slots, props=props, Ref=_cap(facts[0].slots["ref"]))
            text = pick(self.rng, self.t["attribute"]).format(**slots)
            evidence = sorted({e for f in facts for e in f.evidence})
            out.append(Sentence(_cap(text), [fact_claim(f) for f in facts], evidence))
        return out

    def pairs(self, family: str) -> list[Sentence]:
        """Spatial or relation facts, one per pair of objects (never both a-b and b-a) and
        one per subject (a paragraph that places one object four times reads as a list)."""
        seen: set[frozenset[str]] = set()
        subjects: set[str] = set()
        out = []
        for f in self.facts:
            pair = frozenset(f.referent_ids)
            if f.family != family or pair in seen or f.referent_name in subjects:
                continue
            seen.add(pair)
            subjects.add(f.referent_name or "")
            slots = dict(f.slots, value=f.value, Ref=_cap(f.slots["ref"]))
            if family == "spatial":
                slots["direction"] = direction_phrase(f.value)
            text = pick(self.rng, self.t[family]).format(**slots)
            out.append(Sentence(_cap(text), [fact_claim(f)], sorted(set(f.evidence))))
        return out

    def absent(self) -> list[Sentence]:
        """What is not there: a zero COCO count (the 80 categories are exhaustive), the
        kind of sentence a description written from captions cannot promise."""
        zero = [f for f in self.facts if f.family == "number" and f.value == "0"]
        out = []
        for f in zero[:1]:
            text = pick(self.rng, self.t["absent"]).format(plural=f.slots["plural"])
            out.append(Sentence(_cap(text), [fact_claim(f)], sorted(set(f.evidence))))
        return out

    def sentences(self) -> list[Sentence]:
        opening = self.opening()
        if not opening:
            return []
        # Details interleaved by kind, each kind in a seeded order: varied paragraphs.
        kinds = [self.attributes(), self.pairs("relation"), self.pairs("spatial")]
        for kind in kinds:
            self.rng.shuffle(kind)
        details: list[Sentence] = []
        while any(kinds):
            for kind in kinds:
                if kind:
                    details.append(kind.pop(0))
        out = [*opening, *details][: self.t["max_sentences"] - 1] + self.absent()
        return out if len(out) >= self.t["min_sentences"] else []
