"""Render facts as MSG-MCQ items in four forms. Every random choice (phrasing, distractors,
option order, the false value of a yes/no) comes from a generator seeded by the item's key."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pipeline.facts.model import Distractor, Fact, pick_distractors
from pipeline.facts.slots import capitalised, family_option_text, fill_value
from pipeline.hashing import hash_prefix, stable_hash64
from pipeline.manifest import SCHEMA_VERSION
from pipeline.registry import Family, Registry, registry
from pipeline.tables import load_table

MCQ_OPTIONS = 4
# The scene's fields every item repeats, in the item's key order.
SCENE_FIELDS = ("image_source", "image_id", "scene_id", "file_name", "url", "width", "height")


def item_id(scene_id: str, key: str, form: str, variant: str = "") -> str:
    return f"mcq-{stable_hash64(scene_id, key, form, variant):016x}"


def word_pattern(value: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(value)}\b", flags=re.IGNORECASE)


def contains_word(text: str, value: str) -> bool:
    return word_pattern(value).search(text) is not None


@dataclass(frozen=True)
class Prepared:
    """What every form of one fact shares, derived once per fact instead of once per item:
    its family, the answer's option text and the item fields that come from the fact."""

    fact: Fact
    family: Family
    answer: str
    fields: dict[str, Any]  # aspect .. pope_setting, without the per-form "form"
    slots: dict[str, str]  # the fact's slots, capitalised() once for every form

    def fill(self, template: str, value: str) -> str:
        """The template filled for the fact asserting `value`."""
        return fill_value(template, self.slots, self.family.generator, value)


class Renderer:
    def __init__(self, scene: dict[str, Any], seed: int, circular: bool, skipped: Counter) -> None:
        self.scene = scene
        self.seed = seed
        self.circular = circular
        self.skipped = skipped
        self.registry: Registry = registry()  # once per scene: the tables do not change
        # aspect -> values no yes/no question states, true or false (item_rules.toml)
        self.not_stated: dict[str, list[str]] = load_table("item_rules")["yes_no_not_stated"]
        self.scene_fields = {name: scene[name] for name in SCENE_FIELDS}
        # The same hashes as item_id and seeded_rng, the scene's part hashed once.
        self._id_hash = hash_prefix(scene["scene_id"])
        self._seed_hash = hash_prefix(seed, scene["scene_id"])
        # Option texts and answer patterns repeat across a scene's facts and forms.
        self._option_texts: dict[tuple[str, str], str] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}

    def prepare(self, fact: Fact) -> Prepared:
        family = self.registry.family(fact.family)
        return Prepared(
            fact=fact,
            family=family,
            answer=self.option_text(family, fact.value),
            fields={
                "answer_value": fact.value,
                "referent_name": fact.referent_name,
                "referent_object_ids": fact.referent_ids,
                "referent_bbox": fact.referent_bbox,
                # One list for every item of the fact: items are written, never mutated.
                "evidence_ids": sorted(set(fact.evidence)),
                "split": "test",
                "pope_setting": fact.pope_setting,
            },
            slots=capitalised(fact.slots),
        )

    def option_text(self, family: Family, value: str) -> str:
        key = (family.name, value)
        text = self._option_texts.get(key)
        if text is None:
            text = self._option_texts[key] = family_option_text(family, value)
        return text

    def base(self, p: Prepared, form: str, variant: str = "") -> dict[str, Any]:
        ident = f"mcq-{self._id_hash(p.fact.key, form, variant):016x}"
        return {
            "id": ident,
            "schema_version": SCHEMA_VERSION,
            **self.scene_fields,
            "aspect": p.family.aspect,
            "form": form,
            **p.fields,
            "group_id": ident,
            "rotation": 0,
        }

    def seed_of(self, fact: Fact, form: str, variant: str = "") -> int:
        """seeded_rng's seed for (self.seed, scene id, fact key, form, variant)."""
        return self._seed_hash(fact.key, form, variant)

    def rng(self, fact: Fact, form: str, variant: str = "") -> random.Random:
        return random.Random(self.seed_of(fact, form, variant))

    def template(self, p: Prepared, form: str, rng: random.Random) -> tuple[str, str]:
        return self._phrasing(p, form, rng.randrange(len(p.family.phrasings[form])))

    def only_template(self, p: Prepared, form: str, seed: Callable[[], int]) -> tuple[str, str]:
        """template() with a generator freshly seeded by seed(), for an item that draws
        nothing else. randrange(1) is 0 whatever the seed, so a form with one phrasing
        seeds no generator: seeding one costs more than the rest of such an item."""
        count = len(p.family.phrasings[form])
        return self._phrasing(p, form, random.Random(seed()).randrange(count) if count > 1 else 0)

    @staticmethod
    def _phrasing(p: Prepared, form: str, index: int) -> tuple[str, str]:
        """The form's phrasing `index` and its template id."""
        return p.family.phrasings[form][index], f"{p.fact.family}.{form}.{index}"

    def gives_away(self, p: Prepared, question: str) -> bool:
        pattern = self._patterns.get(p.answer)
        if pattern is None:
            pattern = self._patterns[p.answer] = word_pattern(p.answer)
        if pattern.search(question) is not None:
            self.skipped[f"{p.family.aspect}:answer_in_question"] += 1
            return True
        return False

    def source(self, d: Distractor, family: Family) -> dict[str, Any]:
        return {
            "option": self.option_text(family, d.option),
            "source": d.source,
            "object_ids": d.object_ids,
        }

    def no_distractors(self, p: Prepared) -> list[dict[str, Any]]:
        self.skipped[f"{p.family.aspect}:no_distractors"] += 1
        return []

    # -- forms ------------------------------------------------------------------------
    def mcq(self, p: Prepared) -> list[dict[str, Any]]:
        fact = p.fact
        rng = self.rng(fact, "mcq")
        distractors = pick_distractors(fact, rng, MCQ_OPTIONS - 1)
        if len(distractors) < MCQ_OPTIONS - 1:
            return self.no_distractors(p)
        template, template_id = self.template(p, "mcq", rng)
        question = p.fill(template, fact.value)
        if self.gives_away(p, question):
            return []
        answer = p.answer
        options = [answer] + [self.option_text(p.family, d.option) for d in distractors]
        rng.shuffle(options)
        item = self.base(p, "mcq")
        item["question"] = question
        item["template_id"] = template_id
        item["distractor_sources"] = [self.source(d, p.family) for d in distractors]
        rotations = range(MCQ_OPTIONS) if self.circular else range(1)
        return [self._rotated(item, options, answer, k) for k in rotations]

    def _rotated(self, item: dict, options: list[str], answer: str, k: int) -> dict[str, Any]:
        turned = options[k:] + options[:k]
        if not self.circular:  # the only rotation: the item itself, no copy
            item.update(options=turned, answer=answer, answer_index=turned.index(answer))
            return item
        out = dict(item, options=turned, answer=answer, answer_index=turned.index(answer))
        out.update(id=f"{item['id']}-r{k}", group_id=item["id"], rotation=k)
        return out

    def yes_no(self, p: Prepared) -> list[dict[str, Any]]:
        fact = p.fact
        if p.family.generator == "existence":  # POPE: each fact is one statement, true or false
            return [self._yes_no_item(p, fact.slots["name"], fact.value, None, "")]
        not_stated = self.not_stated.get(p.family.aspect, ())
        if fact.value in not_stated:
            self.skipped[f"{p.family.aspect}:negative_question"] += 1
            return []
        if not_stated:  # nor is such a value the false one ("Are there no cups?": no)
            kept = [d for d in fact.distractors if d.option not in not_stated]
            fact = replace(fact, distractors=kept, pools=None)
        # The false value's draw and the "no" statement share one seed: hash it once.
        no_seed = self.seed_of(fact, "yes_no", "no")
        false = pick_distractors(fact, random.Random(no_seed), 1)
        if not false:
            return self.no_distractors(p)
        # One true and one false statement per fact: yes/no stays balanced per aspect.
        return [
            self._yes_no_item(p, fact.value, "yes", None, "yes"),
            self._yes_no_item(p, false[0].option, "no", false[0], "no", no_seed),
        ]

    def _yes_no_item(
        self,
        p: Prepared,
        value: str,
        answer: str,
        false: Distractor | None,
        variant: str,
        seed: int | None = None,
    ) -> dict[str, Any]:
        fact = p.fact
        template, template_id = self.only_template(
            p, "yes_no", lambda: self.seed_of(fact, "yes_no", variant) if seed is None else seed
        )
        item = self.base(p, "yes_no", variant)
        item["question"] = p.fill(template, value)
        item["options"] = ["yes", "no"]
        item["answer"] = answer
        item["answer_index"] = 0 if answer == "yes" else 1
        item["template_id"] = template_id
        item["distractor_sources"] = [self.source(false, p.family)] if false else []
        return item

    def fill_blank(self, p: Prepared) -> list[dict[str, Any]]:
        fact = p.fact
        template, template_id = self.only_template(
            p, "fill_blank", lambda: self.seed_of(fact, "fill_blank")
        )
        question = p.fill(template, fact.value)
        if self.gives_away(p, question):
            return []
        item = self.base(p, "fill_blank")
        item["question"] = question
        item["options"] = []
        item["answer"] = p.answer
        item["answer_index"] = None
        item["template_id"] = template_id
        item["distractor_sources"] = []
        return [item]

    def correction(self, p: Prepared) -> list[dict[str, Any]]:
        fact = p.fact
        rng = self.rng(fact, "correction")
        false = pick_distractors(fact, rng, 1)
        if not false:
            return self.no_distractors(p)
        template, template_id = self.template(p, "statement", rng)
        prompts = self.registry.correction_prompts
        index = rng.randrange(len(prompts))
        wrong = p.fill(template, false[0].option)
        question = prompts[index].format(statement=wrong)
        if self.gives_away(p, question):
            return []
        item = self.base(p, "correction")
        item["question"] = question
        item["options"] = []
        item["answer"] = p.fill(template, fact.value)
        item["answer_index"] = None
        item["template_id"] = f"{template_id}+correction.{index}"
        item["distractor_sources"] = [self.source(false[0], p.family)]
        return [item]

    def render(self, fact: Fact) -> list[dict[str, Any]]:
        p = self.prepare(fact)
        items = []
        for form in p.family.forms:
            items.extend(getattr(self, form)(p))
        return items
