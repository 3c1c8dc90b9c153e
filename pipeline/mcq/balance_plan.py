"""The balancing decision over every mcq item, held as columns of small integers (about 40
bytes per item: no Python object per item), so the driver's memory stays small at full
Visual Genome size. What is decided is documented in `pipeline/mcq/balance.py`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

# POPE's existence questions are balanced by construction (as many absent as present
# categories per setting); dropping by answer would unbalance its three settings.
EXEMPT_ASPECTS = frozenset({"existence"})
# A referent name with fewer questions says nothing about a language prior, and bounding it
# would only shrink the small aspects.
MIN_LOCAL_GROUP = 10
OPTIONS = 4  # every mcq item has four options (schemas/mcq.schema.json)
TOP_ANSWERS = 20  # answers listed per aspect in the manifest (the rest summed as "(other)")
KEEP, DROP = -2, -1  # actions besides a target position 0..3
TEXT_COLUMNS = ("aspect", "form", "name", "value")


class Codes:
    """Strings -> dense integer codes, shared by every partition read into one plan."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def encode(self, dictionary: Iterable[str]) -> np.ndarray:
        """Codes for a partition's own dictionary, in its order."""
        out = []
        for text in dictionary:
            code = self.index.get(text)
            if code is None:
                code = self.index[text] = len(self.names)
                self.names.append(text)
            out.append(code)
        return np.asarray(out, dtype=np.int32)


@dataclass
class ItemColumns:
    """One entry per mcq item, partitions concatenated in order. `rank` identifies the unit
    (the items that stand or fall together); `leader_key` orders mcq leaders by id."""

    aspect: np.ndarray
    form: np.ndarray
    name: np.ndarray
    value: np.ndarray
    rank: np.ndarray  # uint64
    leader: np.ndarray  # bool: a non-circular mcq item (it gets a balanced position)
    leader_key: np.ndarray  # uint64: its id's hash, so sorting it sorts by id
    answer_index: np.ndarray  # int8

    @classmethod
    def concat(cls, parts: list[ItemColumns]) -> ItemColumns:
        fields = cls.__dataclass_fields__
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})

    def __len__(self) -> int:
        return len(self.rank)

    def take(self, idx: np.ndarray) -> ItemColumns:
        return ItemColumns(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})


@dataclass
class Plan:
    actions: np.ndarray  # int8 per item: KEEP, DROP or the target position
    report: dict[str, Any]


def head_cap(counts: Iterable[int], share: float) -> int:
    """The largest per-answer count C with C <= share * sum(min(c, C)): capping every answer
    at C bounds the head's share. share * sum(min(c, C)) - C is concave in C and 0 at 0, so
    the feasible C form an interval and a binary search finds its end."""
    counts = list(counts)
    lo, hi = 0, max(counts, default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid <= share * sum(min(c, mid) for c in counts):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cap_groups(
    kept: np.ndarray,
    bucket: np.ndarray,
    group: np.ndarray,
    rank: np.ndarray,
    min_size: int,
    share: float,
) -> bool:
    """Over kept units: in every group (of answers) with two answers or more and at least
    `min_size` units, keep each answer's `cap` lowest-ranked units. Updates `kept`; True if
    any unit went. bucket = (group, answer), so a bucket lies in one group."""
    idx = np.flatnonzero(kept)
    if len(idx) == 0:
        return False
    buckets, first, inverse, sizes = np.unique(
        bucket[idx], return_index=True, return_inverse=True, return_counts=True
    )
    bucket_group = group[idx][first]
    caps = np.full(len(buckets), np.iinfo(np.int64).max, dtype=np.int64)
    order = np.argsort(bucket_group, kind="stable")
    bounds = np.flatnonzero(np.diff(bucket_group[order])) + 1
    for members in np.split(order, bounds):
        counts = sizes[members]
        if len(members) >= 2 and counts.sum() >= min_size:
            caps[members] = head_cap(counts.tolist(), share)
    over = caps[inverse] < sizes[inverse]
    if not over.any():
        return False
    # Within each bucket, units by rank: those at place >= cap go.
    by_rank = np.lexsort((rank[idx], inverse))
    sorted_bucket = inverse[by_rank]
    place = np.arange(len(by_rank)) - np.searchsorted(sorted_bucket, sorted_bucket)
    kept[idx[by_rank[place >= caps[sorted_bucket]]]] = False
    return True


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One int64 key per row for a tuple of code columns."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column in codes:
        key = key * (int(column.max(initial=0)) + 1) + column
    return key


def select_units(units: ItemColumns, exempt: np.ndarray, share: float) -> np.ndarray:
    """Local (aspect, form, referent name) then global (aspect, form) bounds on the answer
    share, repeated until both hold (a global drop can unbalance a local group); only drops,
    so it ends. Returns the kept mask over units."""
    kept = ~exempt
    local_group = _combine(units.aspect, units.form, units.name)
    global_group = _combine(units.aspect, units.form)
    local_bucket = _combine(local_group, units.value)
    global_bucket = _combine(global_group, units.value)
    while True:
        local = _cap_groups(kept, local_bucket, local_group, units.rank, MIN_LOCAL_GROUP, share)
        broad = _cap_groups(kept, global_bucket, global_group, units.rank, 0, share)
        if not (local or broad):
            return kept | exempt


def assign_positions(items: ItemColumns, kept: np.ndarray) -> np.ndarray:
    """Round-robin correct positions over kept leaders, by id within each aspect (ids are
    hashes, so the order is unrelated to content); -1 where an item is not a kept leader.
    Circular rotations keep their own positions."""
    position = np.full(len(items), -1, dtype=np.int8)
    idx = np.flatnonzero(kept & items.leader)
    order = np.lexsort((items.leader_key[idx], items.aspect[idx]))
    aspects = items.aspect[idx][order]
    place = np.arange(len(order)) - np.searchsorted(aspects, aspects)
    position[idx[order]] = place % OPTIONS
    return position


def plan(items: ItemColumns, codes: dict[str, Codes], share: float) -> Plan:
    """Every item's action, and before/after counts for the manifest's report. Each
    (aspect, form) is decided on its own: every bound, unit and position lies within one,
    so the driver's temporaries are those of the largest (aspect, form), not of all items."""
    actions = np.empty(len(items), dtype=np.int8)
    exempt = [c for a, c in codes["aspect"].index.items() if a in EXEMPT_ASPECTS]
    report = Report(codes)
    forms = len(codes["form"].names) + 1
    key = items.aspect.astype(np.int64) * forms + items.form
    order = np.argsort(key, kind="stable")
    for idx in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        if len(idx) == 0:
            continue
        group = items.take(idx)
        _, first, unit_of = np.unique(group.rank, return_index=True, return_inverse=True)
        units = group.take(first)
        kept = select_units(units, np.isin(units.aspect, exempt), share)[unit_of]
        position = assign_positions(group, kept)
        actions[idx] = np.where(kept, np.where(position >= 0, position, KEEP), DROP)
        report.add(group, kept, np.where(position >= 0, position, group.answer_index))
    return Plan(actions, report.finish())


class Report:
    """Before/after counts for the manifest, added one (aspect, form) at a time: items per
    aspect/form, the top mcq answers and the correct positions per aspect, drops."""

    def __init__(self, codes: dict[str, Codes]) -> None:
        self.codes = codes
        self.before: dict[str, dict] = {"items": {}, "mcq_answers": {}, "mcq_positions": {}}
        self.after: dict[str, dict] = {"items": {}, "mcq_answers": {}, "mcq_positions": {}}
        self.dropped: dict[str, int] = {}

    def add(self, group: ItemColumns, kept: np.ndarray, final_index: np.ndarray) -> None:
        aspect = self.codes["aspect"].names[int(group.aspect[0])]
        form = self.codes["form"].names[int(group.form[0])]
        everything = np.ones(len(group), dtype=bool)
        for side, mask, index in (
            (self.before, everything, group.answer_index),
            (self.after, kept, final_index),
        ):
            if not mask.any():
                continue
            side["items"][f"{aspect}/{form}"] = int(mask.sum())
            if form == "mcq":
                side["mcq_answers"][aspect] = self._top_answers(group.value[mask])
                spread = np.bincount(index[mask].astype(np.int64), minlength=OPTIONS)
                side["mcq_positions"][aspect] = {str(k): int(n) for k, n in enumerate(spread)}
        if not kept.all():
            self.dropped[f"{aspect}/{form}"] = int((~kept).sum())

    def _top_answers(self, values: np.ndarray) -> dict[str, int]:
        found, counts = np.unique(values, return_counts=True)
        names = self.codes["value"].names
        head = sorted(
            ((names[v], int(n)) for v, n in zip(found.tolist(), counts.tolist(), strict=True)),
            key=lambda kv: (-kv[1], kv[0]),  # ties by name: stable across runs
        )
        rest = sum(n for _, n in head[TOP_ANSWERS:])
        return dict(head[:TOP_ANSWERS]) | ({"(other)": rest} if rest else {})

    def finish(self) -> dict[str, Any]:
        def ordered(side: dict[str, dict]) -> dict[str, dict]:
            return {k: dict(sorted(v.items())) for k, v in side.items()}

        return {
            "min_local_group": MIN_LOCAL_GROUP,
            "before": ordered(self.before),
            "after": ordered(self.after),
            "dropped": dict(sorted(self.dropped.items())),
        }
