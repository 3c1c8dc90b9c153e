"""Render facts as MSG-MCQ items in four forms. Every random choice (phrasing, distractors,
option order, the false value of a yes/no) comes from a generator seeded by the item's key."""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

from pipeline.facts.model import Distractor, Fact, pick_distractors
from pipeline.facts.slots import fill, option_text
from pipeline.hashing import seeded_rng, stable_hash64
from pipeline.manifest import SCHEMA_VERSION
from pipeline.registry import registry

MCQ_OPTIONS = 4


def item_id(scene_id: str, key: str, form: str, variant: str = "") -> str:
    return f"mcq-{stable_hash64(scene_id, key, form, variant):016x}"


def contains_word(text: str, value: str) -> bool:
    return re.search(rf"\b{re.escape(value)}\b", text, flags=re.IGNORECASE) is not None


def _source(d: Distractor, family: str) -> dict[str, Any]:
    return {"option": option_text(family, d.option), "source": d.source, "object_ids": d.object_ids}


class Renderer:
    def __init__(self, scene: dict[str, Any], seed: int, circular: bool, skipped: Counter) -> None:
        self.scene = scene
        self.seed = seed
        self.circular = circular
        self.skipped = skipped

    def base(self, fact: Fact, form: str, variant: str = "") -> dict[str, Any]:
        s = self.scene
        ident = item_id(s["scene_id"], fact.key, form, variant)
        return {
            "id": ident,
            "schema_version": SCHEMA_VERSION,
            "image_source": s["image_source"],
            "image_id": s["image_id"],
            "scene_id": s["scene_id"],
            "file_name": s["file_name"],
            "url": s["url"],
            "width": s["width"],
            "height": s["height"],
            "aspect": fact.aspect,
            "form": form,
            "answer_value": fact.value,
            "referent_name": fact.referent_name,
            "referent_object_ids": fact.referent_ids,
            "referent_bbox": fact.referent_bbox,
            "evidence_ids": sorted(set(fact.evidence)),
            "split": "test",
            "pope_setting": fact.pope_setting,
            "group_id": ident,
            "rotation": 0,
        }

    def rng(self, fact: Fact, form: str, variant: str = "") -> random.Random:
        return seeded_rng(self.seed, self.scene["scene_id"], fact.key, form, variant)

    def template(self, fact: Fact, form: str, rng: random.Random) -> tuple[str, str]:
        choices = registry().family(fact.family).phrasings[form]
        index = rng.randrange(len(choices))
        return choices[index], f"{fact.family}.{form}.{index}"

    def gives_away(self, fact: Fact, question: str) -> bool:
        if contains_word(question, option_text(fact.family, fact.value)):
            self.skipped[f"{fact.aspect}:answer_in_question"] += 1
            return True
        return False

    # -- forms ------------------------------------------------------------------------
    def mcq(self, fact: Fact) -> list[dict[str, Any]]:
        rng = self.rng(fact, "mcq")
        distractors = pick_distractors(fact, rng, MCQ_OPTIONS - 1)
        if len(distractors) < MCQ_OPTIONS - 1:
            self.skipped[f"{fact.aspect}:no_distractors"] += 1
            return []
        template, template_id = self.template(fact, "mcq", rng)
        question = fill(template, fact.slots, fact.family, fact.value)
        if self.gives_away(fact, question):
            return []
        answer = option_text(fact.family, fact.value)
        options = [answer] + [option_text(fact.family, d.option) for d in distractors]
        rng.shuffle(options)
        item = self.base(fact, "mcq") | {
            "question": question,
            "template_id": template_id,
            "distractor_sources": [_source(d, fact.family) for d in distractors],
        }
        rotations = range(MCQ_OPTIONS) if self.circular else range(1)
        return [self._rotated(item, options, answer, k) for k in rotations]

    def _rotated(self, item: dict, options: list[str], answer: str, k: int) -> dict[str, Any]:
        turned = options[k:] + options[:k]
        out = dict(item, options=turned, answer=answer, answer_index=turned.index(answer))
        if self.circular:
            out.update(id=f"{item['id']}-r{k}", group_id=item["id"], rotation=k)
        return out

    def yes_no(self, fact: Fact) -> list[dict[str, Any]]:
        if (
            registry().family(fact.family).generator == "existence"
        ):  # POPE: each fact is one statement, true or false
            return self._yes_no_item(fact, fact.slots["name"], fact.value, None, "")
        rng = self.rng(fact, "yes_no", "no")
        false = pick_distractors(fact, rng, 1)
        if not false:
            self.skipped[f"{fact.aspect}:no_distractors"] += 1
            return []
        # One true and one false statement per fact: yes/no stays balanced per aspect.
        return self._yes_no_item(fact, fact.value, "yes", None, "yes") + self._yes_no_item(
            fact, false[0].option, "no", false[0], "no"
        )

    def _yes_no_item(
        self, fact: Fact, value: str, answer: str, false: Distractor | None, variant: str
    ) -> list[dict[str, Any]]:
        rng = self.rng(fact, "yes_no", variant)
        template, template_id = self.template(fact, "yes_no", rng)
        return [
            self.base(fact, "yes_no", variant)
            | {
                "question": fill(template, fact.slots, fact.family, value),
                "options": ["yes", "no"],
                "answer": answer,
                "answer_index": 0 if answer == "yes" else 1,
                "template_id": template_id,
                "distractor_sources": [_source(false, fact.family)] if false else [],
            }
        ]

    def fill_blank(self, fact: Fact) -> list[dict[str, Any]]:
        rng = self.rng(fact, "fill_blank")
        template, template_id = self.template(fact, "fill_blank", rng)
        question = fill(template, fact.slots, fact.family, fact.value)
        if self.gives_away(fact, question):
            return []
        return [
            self.base(fact, "fill_blank")
            | {
                "question": question,
                "options": [],
                "answer": option_text(fact.family, fact.value),
                "answer_index": None,
                "template_id": template_id,
                "distractor_sources": [],
            }
        ]

    def correction(self, fact: Fact) -> list[dict[str, Any]]:
        rng = self.rng(fact, "correction")
        false = pick_distractors(fact, rng, 1)
        if not false:
            self.skipped[f"{fact.aspect}:no_distractors"] += 1
            return []
        template, template_id = self.template(fact, "statement", rng)
        prompts = registry().correction_prompts
        index = rng.randrange(len(prompts))
        wrong = fill(template, fact.slots, fact.family, false[0].option)
        question = prompts[index].format(statement=wrong)
        if self.gives_away(fact, question):
            return []
        return [
            self.base(fact, "correction")
            | {
                "question": question,
                "options": [],
                "answer": fill(template, fact.slots, fact.family, fact.value),
                "answer_index": None,
                "template_id": f"{template_id}+correction.{index}",
                "distractor_sources": [_source(false[0], fact.family)],
            }
        ]

    def render(self, fact: Fact) -> list[dict[str, Any]]:
        items = []
        for form in registry().family(fact.family).forms:
            items.extend(getattr(self, form)(fact))
        return items
