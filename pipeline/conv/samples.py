"""Four kinds of tuning sample from one image's grounded facts: a multi-turn conversation
(pipeline/conv/dialogue.py), region-prompted recognition, visual fact-checking, and a
grounded detailed description (pipeline/conv/describe.py). Every assistant turn or sentence
states only the facts whose annotation ids it carries; every choice is seeded from the
sample's key."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from pipeline.config import BuildOptions
from pipeline.conv.describe import Describer, Sentence
from pipeline.conv.dialogue import Planner, Turn
from pipeline.facts.context import FactContext, make_context
from pipeline.facts.generators import scene_facts
from pipeline.facts.model import Fact, pick_distractors
from pipeline.facts.referents import normalized_box, region_text
from pipeline.facts.slots import fill
from pipeline.facts.stats import Stats
from pipeline.hashing import seeded_rng, stable_hash64
from pipeline.manifest import SCHEMA_VERSION
from pipeline.registry import Family, registry
from pipeline.tables import load_table

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


def _claim(fact: Fact, false_value: str | None) -> dict[str, Any]:
    return {
        "aspect": fact.aspect,
        "value": fact.value,
        "referent_name": fact.referent_name,
        "referent_object_ids": fact.referent_ids,
        "false_value": false_value,
    }


def _named(fact: Fact) -> list[str | None]:
    """Names the fact's phrasing uses without a region: "the bus", "the cup ... the laptop"."""
    ref = fact.slots.get("ref")
    names = [fact.referent_name] if ref and "region" not in ref else []
    ref2 = fact.slots.get("ref2")
    return names + ([ref2.removeprefix("the ")] if ref2 else [])


class SampleMaker:
    def __init__(
        self, scene: dict[str, Any], facts: list[Fact], seed: int, ctx: FactContext | None = None
    ) -> None:
        self.scene = scene
        self.seed = seed
        self.ctx = ctx
        talkable = set(phrasings()["families"])
        # A stable order that does not depend on generator order: by hash of the key.
        self.facts = sorted(
            (f for f in facts if f.family in talkable and self._names_hold(f)),
            key=lambda f: stable_hash64(seed, scene["scene_id"], f.key),
        )

    def _names_hold(self, fact: Fact) -> bool:
        """Every object the fact names without a region is the only one its name fits,
        counting every box of every referent (FactContext.named_uniquely)."""
        if self.ctx is None:
            return True
        named = [n for n in _named(fact) if n]
        return all(self.ctx.named_uniquely(n) for n in named)

    def rng(self, *key: object) -> random.Random:
        return seeded_rng(self.seed, self.scene["scene_id"], *key)

    def record(
        self, kind: str, key: str, turns: list[Turn], sentences: list[Sentence] | None = None
    ) -> dict[str, Any]:
        """turns alternate human, gpt; an assistant turn carries the fact it states (and,
        for a fact-check, the false value it corrects), so each claim can be re-derived. A
        description's answer is its sentences, each with its own claims and evidence."""
        s = self.scene
        sentences = sentences or []
        conversations, evidence, claims = [], [], []
        for i, (text, fact, false_value) in enumerate(turns):
            speaker = "human" if i % 2 == 0 else "gpt"
            value = f"<image>\n{text}" if i == 0 else text
            conversations.append({"from": speaker, "value": value})
            evidence.append(sorted(set(fact.evidence)) if fact else [])
            claims.append(_claim(fact, false_value) if fact else None)
        if sentences:  # the description's answer rests on every sentence's evidence
            evidence[-1] = sorted({e for x in sentences for e in x.evidence})
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
            "sentences": [x.text for x in sentences],
            "sentence_evidence": [x.evidence for x in sentences],
            "sentence_facts": [x.claims for x in sentences],
            "split": "train",
        }

    # -- kinds ------------------------------------------------------------------------
    def conversation(self) -> list[dict[str, Any]]:
        """Referents introduced and followed up, by a plan drawn from the seed."""
        turns = Planner(self.facts, self.rng("conversation")).run()
        if len(turns) < 4:
            return []
        return [self.record("conversation", "all", turns)]

    def description(self) -> list[dict[str, Any]]:
        """'Describe the image in detail.' answered by grounded sentences."""
        if self.ctx is None:
            return []
        rng = self.rng("description")
        sentences = Describer(self.ctx, self.facts, rng).sentences()
        if not sentences:
            return []
        ask = _pick(rng, phrasings()["description"]["prompt"])
        turns: list[Turn] = [(ask, None, None), (" ".join(x.text for x in sentences), None, None)]
        return [self.record("description", "all", turns, sentences)]

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
            answer = fill(_pick(rng, answers[fact.family]), slots, fact.family, fact.value)
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
    maker = SampleMaker(scene, scene_facts(ctx), options.seed, ctx)
    skipped.update(ctx.skipped)
    samples = maker.regions() + maker.fact_checks() + maker.conversation() + maker.description()
    samples.sort(key=lambda s: s["id"])
    return samples
