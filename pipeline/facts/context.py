"""What every generator of one scene shares: its referents, the global statistics, the
seed and thresholds, skip counts, and the candidate pools built once per scene."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from pipeline.config import BuildOptions
from pipeline.facts.model import FALLBACK, PLAUSIBLE, Distractor
from pipeline.facts.referents import Referent, can_refer, referents, related, visible
from pipeline.facts.stats import Stats
from pipeline.normalize.names import RelatedIndex


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

    def same_name(self, name: str) -> list[Referent]:
        """Every referent the word `name` could refer to, as `referents.same_name` finds them:
        one related() per distinct name of the image, not per referent (and remembered)."""
        if name not in self._same_name:
            names = {n for n in self.names if related(n, name)}
            self._same_name[name] = [g for g in self.groups if g.name in names]
        return self._same_name[name]

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

    def _absent_options(self, names: Iterable[str], tier: int) -> list[Distractor]:
        return [Distractor(option=n, source="absent", tier=tier) for n in names if self.absent(n)]

    # The candidate pools below are the same for every fact of the scene: built once.
    # Absence is filtered before de-duplication: both act per option, so they commute.
    @cached_property
    def _absent_category_candidates(self) -> list[Distractor]:
        """Absent COCO categories, those seen most with the present ones first."""
        present = sorted(coco_categories_present(self))
        cands = self._absent_options(self.stats.cooccurring(present), PLAUSIBLE)
        return cands + self._absent_options(self.stats.popular_categories(), FALLBACK)

    @cached_property
    def absent_categories(self) -> list[Distractor]:
        """Absent COCO categories, plausible ones first."""
        present = coco_categories_present(self)
        cands = dedupe(self._absent_category_candidates)
        weight = self.stats.category_weight
        return [_copy(c, c.tier, weight(c.option)) for c in cands if c.option not in present]

    @cached_property
    def absent_region_names(self) -> list[Distractor]:
        """The entity_region distractor pool: absent names that are often region answers
        (popular names, categories among them), one tier, weighted by how often a name is
        in an image. Names are the answers here: an absent COCO category offered first
        would be an option that is never right, and a rare name one that is always right."""
        popular = _referable(tuple(self.stats.popular_names()[:REGION_NAME_POOL]))
        categories = [_copy(c, PLAUSIBLE, c.weight) for c in self._absent_category_candidates]
        cands = dedupe(self._absent_options(popular, PLAUSIBLE) + categories)
        weight = self.stats.name_weight
        return [_copy(c, c.tier, weight(c.option)) for c in cands]


# Names a region question may offer as distractors: the most frequent ones (by images).
REGION_NAME_POOL = 500


@lru_cache(maxsize=16)
def _referable(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names that can be a question's subject (the same popular names every scene)."""
    return tuple(n for n in names if can_refer(n))


def _copy(c: Distractor, tier: int, weight: float) -> Distractor:
    """What dataclasses.replace(c, tier=..., weight=...) gives, without its per-call walk
    over the fields (hundreds of thousands of copies per 1K-image build)."""
    return Distractor(
        option=c.option, source=c.source, object_ids=c.object_ids, tier=tier, weight=weight
    )


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
