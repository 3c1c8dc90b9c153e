"""Three kinds of tuning sample from one image's grounded facts: a multi-turn conversation,
region-prompted recognition, and visual fact-checking. Every assistant turn states only the
facts whose annotation ids it carries; every choice is seeded from the sample's key."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from pipeline.config import BuildOptions
from pipeline.facts.context import make_context
from pipeline.facts.generators import scene_facts
from pipeline.facts.model import Fact, pick_distractors
from pipeline.facts.referents import normalized_box, region_text
from pipeline.facts.slots import fill
from pipeline.facts.stats import Stats
from pipeline.hashing import seeded_rng, stable_hash64
from pipeline.manifest import SCHEMA_VERSION
from pipeline.registry import Family, registry
from pipeline.tables import load_table

MAX_TURNS = 5  # question-answer pairs in one conversation
REGION_SAMPLES, FACT_CHECKS = 3, 2  # per image


def phrasings() -> dict[str, Any]:
    return load_table("conversations")


def _pick(rng: random.Random, choices: list[str]) -> str:
    return choices[rng.randrange(len(choices))]


def _family(fact: Fact) -> Family:
    return registry().family(fact.family)


def question(fact: Fact, rng: random.Random) -> str:
    return fill(_pick(rng, _family(fact).phrasings["mcq"]), fact.slots, fact.family, fact.value)


def statement(fact: Fact, value: str, rng: random.Random, slots: dict | None = None) -> str:
    template = _pick(rng, _family(fact).phrasings["statement"])
    return fill(template, slots or fact.slots, fact.family, value)


# (text, the fact an assistant turn states or None for a human turn, false value corrected)
Turn = tuple[str, Fact | None, str | None]


def _claim(fact: Fact, false_value: str | None) -> dict[str, Any]:
    return {
        "aspect": fact.aspect,
        "value": fact.value,
        "referent_name": fact.referent_name,
        "referent_object_ids": fact.referent_ids,
        "false_value": false_value,
    }


class SampleMaker:
    def __init__(self, scene: dict[str, Any], facts: list[Fact], seed: int) -> None:
        self.scene = scene
        self.seed = seed
        talkable = set(phrasings()["families"])
        # A stable order that does not depend on generator order: by hash of the key.
        self.facts = sorted(
            (f for f in facts if f.family in talkable),
            key=lambda f: stable_hash64(seed, scene["scene_id"], f.key),
        )

    def rng(self, *key: object) -> random.Random:
        return seeded_rng(self.seed, self.scene["scene_id"], *key)

    def record(self, kind: str, key: str, turns: list[Turn]) -> dict[str, Any]:
        """turns alternate human, gpt; an assistant turn carries the fact it states (and,
        for a fact-check, the false value it corrects), so each claim can be re-derived."""
        s = self.scene
        conversations, evidence, claims = [], [], []
        for i, (text, fact, false_value) in enumerate(turns):
            speaker = "human" if i % 2 == 0 else "gpt"
            value = f"<image>\n{text}" if i == 0 else text
            conversations.append({"from": speaker, "value": value})
            evidence.append(sorted(set(fact.evidence)) if fact else [])
            claims.append(_claim(fact, false_value) if fact else None)
        return {
            "id": f"conv-{stable_hash64(s['scene_id'], kind, key):016x}",
            "schema_version": SCHEMA_VERSION,
            "image_source": s["image_source"],
            "image_id": s["image_id"],
            "scene_id": s["scene_id"],
            "file_name": s["file_name"],
            "url": s["url"],
            "width": s["width"],
            "height": s["height"],
            "kind": kind,
            "conversations": conversations,
            "evidence_ids": evidence,
            "turn_facts": claims,
            "split": "train",
        }

    # -- kinds ------------------------------------------------------------------------
    def conversation(self) -> list[dict[str, Any]]:
        """Facts across aspects; a later fact about the same referent is asked with 'it'."""
        rng = self.rng("conversation")
        follow_ups = phrasings()["follow_up"]
        turns: list[Turn] = []
        last_referent: list[str] | None = None
        used_aspects: Counter = Counter()
        pending = list(self.facts)
        while pending and len(turns) < 2 * MAX_TURNS:
            fact = pending.pop(0)
            # A follow-up says "it": only for a referent that agrees with "is".
            same = (
                fact.referent_ids == last_referent
                and fact.family in follow_ups
                and fact.slots.get("is") == "is"
            )
            if used_aspects[fact.aspect] >= 2 and not same:
                continue  # spread the turns over aspects
            if same:
                ask = _pick(rng, follow_ups[fact.family])
                answer = statement(fact, fact.value, rng, dict(fact.slots, ref="it"))
            else:
                ask, answer = question(fact, rng), statement(fact, fact.value, rng)
            turns += [(ask, None, None), (answer, fact, None)]
            used_aspects[fact.aspect] += 1
            last_referent = fact.referent_ids
            # Prefer a follow-up next: facts about this referent move to the front.
            pending.sort(key=lambda f: f.referent_ids != last_referent)
        if len(turns) < 4:
            return []
        return [self.record("conversation", "all", turns)]

    def regions(self) -> list[dict[str, Any]]:
        asked, answers = phrasings()["region"], phrasings()["region_answer"]
        out = []
        for fact in self.facts:
            if len(out) == REGION_SAMPLES:
                break
            if fact.family not in asked or fact.referent_bbox is None:
                continue
            rng = self.rng("region", fact.key)
            box = normalized_box(fact.referent_bbox, self.scene["width"], self.scene["height"])
            slots = dict(fact.slots, box=region_text(box))
            ask = _pick(rng, asked[fact.family]).format(**slots)
            answer = fill(answers[fact.family], slots, fact.family, fact.value)
            turns: list[Turn] = [(ask, None, None), (answer, fact, None)]
            out.append(self.record("region", fact.key, turns))
        return out

    def fact_checks(self) -> list[dict[str, Any]]:
        table = phrasings()["fact_check"]
        out = []
        for fact in self.facts:
            if len(out) == FACT_CHECKS:
                break
            rng = self.rng("fact_check", fact.key)
            true = statement(fact, fact.value, rng)
            wrong = pick_distractors(fact, rng, 1)
            false_value = None
            if stable_hash64(self.seed, fact.key, "truth") % 2 == 0 or not wrong:
                shown, reply = true, _pick(rng, table["true_answer"]).format(statement=true)
            else:
                false_value = wrong[0].option
                shown = statement(fact, false_value, rng)
                reply = _pick(rng, table["false_answer"]).format(correct=true)
            ask = _pick(rng, table["prompt"]).format(statement=shown)
            turns = [(ask, None, None), (reply, fact, false_value)]
            out.append(self.record("fact_check", fact.key, turns))
        return out


def conv_samples(
    scene: dict[str, Any], stats: Stats, options: BuildOptions, skipped: Counter
) -> list[dict[str, Any]]:
    ctx = make_context(scene, stats, options)
    maker = SampleMaker(scene, scene_facts(ctx), options.seed)
    skipped.update(ctx.skipped)
    samples = maker.regions() + maker.fact_checks() + maker.conversation()
    samples.sort(key=lambda s: s["id"])
    return samples
