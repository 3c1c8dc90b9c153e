"""Captions against labels: COCO captions parsed with spaCy's rule-based `Matcher` on lemmas
(blank English, lookup lemmatizer: offline), "number word + noun" and "colour + noun",
compared with the count and colour items of the same image."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from pipeline.normalize import are_confusable, name_synonyms
from pipeline.normalize.attributes import surface_index
from pipeline.normalize.lemma import nlp, word_lemma
from pipeline.normalize.names import canonical_name, default_aliases

NUMBER_WORDS = {
    w: i + 1
    for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split())
} | {str(i): i for i in range(1, 21)}
# "ten speed bike", "two story house": a number that measures the noun, not counts it.
MEASURE_WORDS = frozenset({"speed", "story", "storey", "year", "tier", "layer", "way", "seater"})
# A colour joined to another ("black and white cat") describes a multi-coloured thing.
JOINERS = frozenset({"and", "or", ",", "-", "/", "&", "with"})


@cache
def colour_words() -> dict[str, str]:
    """One-word colour surface forms -> canonical colour (the attribute table's own)."""
    return {
        surface: value
        for surface, (aspect, value) in surface_index().items()
        if aspect == "color" and surface.isalpha()
    }


@dataclass(frozen=True)
class Claim:
    kind: str  # "count" | "color"
    name: str  # canonical object name
    value: str  # a number as text, or a canonical colour
    phrase: str


def same_thing(a: str, b: str) -> bool:
    """Equal names or synonyms (not hypernyms: "two men" says nothing of all persons)."""
    return a == b or a in name_synonyms(b) or b in name_synonyms(a)


class CaptionParser:
    """Matcher patterns over the nouns that name the compared items' referents."""

    def __init__(self, names: Iterable[str]) -> None:
        from spacy.matcher import Matcher

        self.known: set[str] = set()
        heads: set[str] = set()
        for name in names:
            for n in {name} | set(name_synonyms(name)):
                self.known.add(n)
                head = n.split(" ")[-1]
                heads |= {head, word_lemma(head)}
        colours = sorted(colour_words())
        numbers = sorted(NUMBER_WORDS)
        noun = {"LEMMA": {"IN": sorted(heads)}}
        # At most one modifier between ("two large dogs", "a red double-decker bus" -> no).
        modifier = {
            "IS_ALPHA": True,
            "IS_STOP": False,
            "LOWER": {"NOT_IN": colours + numbers + sorted(MEASURE_WORDS)},
            "OP": "?",
        }
        self.matcher = Matcher(nlp().vocab)
        # LONGEST: "two computer monitors" is about monitors, not about computers.
        first_number = {"LOWER": {"IN": numbers}}
        self.matcher.add("count", [[first_number, modifier, noun]], greedy="LONGEST")
        self.matcher.add("color", [[{"LOWER": {"IN": colours}}, modifier, noun]], greedy="LONGEST")

    def _name(self, tokens: list) -> str:
        """The longest known name ending the span ("dining tables" -> "dining table")."""
        aliases = default_aliases()
        for start in range(len(tokens)):
            name = canonical_name(" ".join(t.text for t in tokens[start:]), aliases)
            if name in self.known:
                return name
        return canonical_name(tokens[-1].text, aliases)

    def claims(self, text: str) -> list[Claim]:
        doc = nlp()(text.lower())  # the lookup table is case-sensitive
        out = []
        for match_id, start, end in self.matcher(doc, as_spans=False):
            kind = nlp().vocab.strings[match_id]
            first = doc[start]
            if end < len(doc) and doc[end].lower_ in MEASURE_WORDS | {"-"}:
                continue  # "two computer-" / "ten speed": the noun is further on
            if kind == "color":
                before = doc[start - 1].lower_ if start else ""
                if before in JOINERS or before in colour_words():
                    continue
                value = colour_words()[first.lower_]
            else:
                value = str(NUMBER_WORDS[first.lower_])
            name = self._name(list(doc[start + 1 : end]))
            out.append(Claim(kind, name, value, doc[start:end].text))
        return sorted(set(out), key=lambda c: (c.phrase, c.kind, c.name))


def _agrees(claim: Claim, values: set[str]) -> bool:
    if claim.kind == "count":
        return claim.value in values
    return any(claim.value == v or are_confusable("color", claim.value, v) for v in values)


def check_captions(scenes: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Every caption claim about a name that has a count or colour item on the same image:
    agreement counts and the disagreements, listed with both sides."""
    aspect_of = {"count": "number", "color": "color"}
    by_scene: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        if item["aspect"] in ("number", "color") and item["referent_name"]:
            by_scene[item["scene_id"]].append(item)
    parser = CaptionParser({i["referent_name"] for rows in by_scene.values() for i in rows})
    stats = {"captions": 0, "claims": 0, "compared": 0, "agree": 0, "disagree": 0}
    disagreements = []
    for scene in scenes:
        scene_items = by_scene.get(scene["scene_id"])
        if not scene_items:
            continue
        for caption in scene.get("captions") or []:
            stats["captions"] += 1
            for claim in parser.claims(caption["text"]):
                stats["claims"] += 1
                about = [
                    i
                    for i in scene_items
                    if i["aspect"] == aspect_of[claim.kind]
                    and same_thing(claim.name, i["referent_name"])
                ]
                if not about:
                    continue
                stats["compared"] += 1
                values = {i["answer_value"] for i in about}
                if _agrees(claim, values):
                    stats["agree"] += 1
                    continue
                stats["disagree"] += 1
                disagreements.append(
                    {
                        "scene_id": scene["scene_id"],
                        "caption_id": caption["caption_id"],
                        "caption": caption["text"],
                        **asdict(claim),
                        "item_values": sorted(values),
                        "item_ids": sorted(i["id"] for i in about)[:8],
                    }
                )
    return stats | {"disagreements": disagreements}
