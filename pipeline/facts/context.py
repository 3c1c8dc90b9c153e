"""What every generator of one scene shares: its referents, the global statistics, the
seed and thresholds, skip counts, and the candidate pools built once per scene."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from pipeline.config import BuildOptions
from pipeline.facts.model import FALLBACK, PLAUSIBLE, Distractor, DrawPools, draw_pools
from pipeline.facts.referents import Referent, can_refer, referents, related, visible
from pipeline.facts.stats import Stats
from pipeline.normalize.names import RelatedIndex, RelatedLookup


@dataclass(kw_only=True)
class FactContext:
    scene: dict[str, Any]
    groups: list[Referent]
    stats: Stats
    seed: int
    count_cap: int
    min_count_area: float
    spatial_margin: float
    min_side_px: float
    min_area_share: float
    skipped: Counter = field(default_factory=Counter)

    def skip(self, family: str, reason: str) -> None:
        self.skipped[f"{family}:{reason}"] += 1

    def visible(self, obj: dict[str, Any]) -> bool:
        """The object's box is big enough to see (min_side_px, min_area_share)."""
        s = self.scene
        return visible(obj["bbox"], s["width"], s["height"], self.min_side_px, self.min_area_share)

    @cached_property
    def names(self) -> list[str]:
        return sorted({g.name for g in self.groups})

    @cached_property
    def _present(self) -> RelatedIndex:
        return RelatedIndex(self.names)

    @cached_property
    def _absent(self) -> dict[str, bool]:
        return {}

    def absent(self, name: str) -> bool:
        """No object in the image answers to this name or a related one (asked for many
        candidate names by several families: remembered per scene)."""
        known = self._absent.get(name)  # one dict lookup on the (usual) remembered path
        if known is None:
            known = self._absent[name] = not self._present.any_related(name)
        return known

    @cached_property
    def _same_name(self) -> dict[str, list[Referent]]:
        return {}

    @cached_property
    def _names_lookup(self) -> RelatedLookup:
        return RelatedLookup(self.names)

    def same_name(self, name: str) -> list[Referent]:
        """Every referent the word `name` could refer to, as `referents.same_name` finds them
        (related(): equal or names_related): the image's names looked up by the name's
        profile, not compared one by one (and remembered)."""
        if name not in self._same_name:
            names = self._names_lookup.related_to(name)
            self._same_name[name] = [g for n, g in self._named_groups if n in names]
        return self._same_name[name]

    @cached_property
    def _named_groups(self) -> list[tuple[str, Referent]]:
        """(name, referent) of every referent: same_name scans them for each name asked."""
        return [(g.name, g) for g in self.groups]

    def named_uniquely(self, name: str) -> bool:
        """One referent answers to `name` even counting every box of each referent: a
        "woman" referent holding a "person" box answers to "hand" (WordNet: a hired hand
        is a person) though its main name does not. Stricter than same_name, for prose
        that names objects with no region to fall back on (MSG-Conv)."""
        return sum(any(related(m["name"], name) for m in g.members) for g in self.groups) == 1

    @cached_property
    def _valued(self) -> dict[str, list[tuple[Referent, list[str]]]]:
        return {}

    def valued_groups(self, aspect: str) -> list[tuple[Referent, list[str]]]:
        """Referents with values of this aspect, values sorted (every attribute fact of the
        scene asks: remembered)."""
        if aspect not in self._valued:
            valued = [(g, sorted(g.values(aspect))) for g in self.groups]
            self._valued[aspect] = [(g, values) for g, values in valued if values]
        return self._valued[aspect]

    @cached_property
    def _ruled_out(self) -> set[str]:
        """The candidates of the absent pools that some name of the image is related to."""
        return absent_candidates(self.stats).related_to_any(self.names)

    def _candidate_absent(self, name: str) -> bool:
        """absent(name) for a name of the absent pools, from the per-image ruled-out set."""
        if name in absent_candidates(self.stats).names:
            return name not in self._ruled_out
        return self.absent(name)

    @property
    def candidate_names(self) -> frozenset[str]:
        """The names of the absent pools (popular referable names, COCO categories)."""
        return absent_candidates(self.stats).names

    def candidates_related_to(self, name: str) -> frozenset[str]:
        """The names of the absent pools n with related(n, name) (equal or names_related)."""
        return absent_candidates(self.stats).related_to(name)

    # The pools below are the same for every fact of the scene: built once. Absence is
    # filtered before de-duplication (both act per option, so they commute), and the
    # first occurrence of a name keeps its place, as dedupe() over one tier does.
    @cached_property
    def _cooccurring(self) -> list[str]:
        return self.stats.cooccurring(sorted(coco_categories_present(self)))

    @cached_property
    def absent_categories(self) -> list[Distractor]:
        """Absent COCO categories: those seen most with the present ones first (plausible),
        then the others by popularity (fallback); weighted by how often each is present."""
        present = coco_categories_present(self)
        candidates = absent_candidates(self.stats)
        tiers: dict[str, int] = {}
        for names, tier in ((self._cooccurring, PLAUSIBLE), (candidates.categories, FALLBACK)):
            for n in names:
                if n not in tiers and self._candidate_absent(n):
                    tiers[n] = tier
        return [candidates.category(n, tier) for n, tier in tiers.items() if n not in present]

    @cached_property
    def absent_region_names(self) -> list[Distractor]:
        """The entity_region distractor pool: absent names that are often region answers
        (popular names, categories among them), one tier, weighted by how often a name is
        in an image. Names are the answers here: an absent COCO category offered first
        would be an option that is never right, and a rare name one that is always right."""
        candidates = absent_candidates(self.stats)
        ruled_out = self._ruled_out
        # The popular names (all candidates) first: one set look-up each; then the names
        # not among them, in the order of dict.fromkeys over the whole sequence.
        pool = [d for d in candidates.region_distractors if d.option not in ruled_out]
        seen = set(candidates.region_name_set)
        for n in (*self._cooccurring, *candidates.categories):
            if n not in seen:
                seen.add(n)
                if self._candidate_absent(n):
                    pool.append(candidates.region(n))
        return pool

    @cached_property
    def absent_region_pools(self) -> DrawPools:
        """draw_pools of absent_region_names: every region fact of the scene offers them."""
        return draw_pools(self.absent_region_names)


class AbsentCandidates:
    """The names the absent pools draw from (popular referable names, COCO categories) for
    one Stats, indexed once per process: which of them an image rules out is a few look-ups
    per present name, and each distractor is made once (distractors are never changed)."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.region_names = _referable(tuple(stats.popular_names()[:REGION_NAME_POOL]))
        self.categories = tuple(stats.popular_categories())
        self.names = frozenset((*self.region_names, *self.categories))
        self._lookup = RelatedLookup(sorted(self.names), index_closures=True)
        # Per present name (the images' vocabulary): usually none or a few candidates.
        self.related_to = lru_cache(maxsize=100_000)(self._candidates_related_to)
        self._regions: dict[str, Distractor] = {}
        self._categories: dict[tuple[str, int], Distractor] = {}
        # The region pool's popular part, before an image rules some of them out.
        self.region_name_set = frozenset(self.region_names)
        self.region_distractors = [self.region(n) for n in dict.fromkeys(self.region_names)]

    def _candidates_related_to(self, name: str) -> frozenset[str]:
        return frozenset(self._lookup.related_to(name))

    def related_to_any(self, present: Iterable[str]) -> set[str]:
        """The candidates n with names_related(n, p) for some present name p."""
        found: set[str] = set()
        for name in present:
            found |= self.related_to(name)
        return found

    def region(self, name: str) -> Distractor:
        d = self._regions.get(name)
        if d is None:
            weight = self.stats.name_weight(name)
            d = self._regions[name] = Distractor(
                option=name, source="absent", tier=PLAUSIBLE, weight=weight
            )
        return d

    def category(self, name: str, tier: int) -> Distractor:
        d = self._categories.get((name, tier))
        if d is None:
            weight = self.stats.category_weight(name)
            d = self._categories[name, tier] = Distractor(
                option=name, source="absent", tier=tier, weight=weight
            )
        return d


@lru_cache(maxsize=4)
def absent_candidates(stats: Stats) -> AbsentCandidates:
    """One index per Stats (a worker loads the build's Stats once)."""
    return AbsentCandidates(stats)


# Names a region question may offer as distractors: the most frequent ones (by images).
REGION_NAME_POOL = 500


@lru_cache(maxsize=16)
def _referable(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names that can be a question's subject (the same popular names every scene)."""
    return tuple(n for n in names if can_refer(n))


def dedupe(cands: list[Distractor]) -> list[Distractor]:
    seen: set[str] = set()
    out = []
    for c in sorted(cands, key=lambda c: c.tier):
        if c.option not in seen:
            seen.add(c.option)
            out.append(c)
    return out


def coco_categories_present(ctx: FactContext) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for obj in ctx.scene["objects"]:
        if obj["coco_category"]:
            found.setdefault(obj["coco_category"], []).append(obj)
    return found


def make_context(scene: dict[str, Any], stats: Stats, options: BuildOptions) -> FactContext:
    return FactContext(
        scene=scene,
        groups=referents(scene),
        stats=stats,
        seed=options.seed,
        count_cap=options.count_cap,
        min_count_area=options.min_count_area,
        spatial_margin=options.spatial_margin,
        min_side_px=options.min_side_px,
        min_area_share=options.min_area_share,
    )
