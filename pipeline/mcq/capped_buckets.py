"""One bound of the balance plan (`balance_plan.bounds_for`), kept up to date from round to
round. In every group, each answer's bucket keeps its `cap_of(counts)` lowest-ranked kept
units (None: no bound). `select_units` repeats its bounds until all hold, and in cells
where drops cascade that takes thousands of rounds at 100K images: a round must cost what
changed in it, not a sort of every kept unit.

So the units sit once sorted by (bucket, rank), each bucket a segment of that order; the
bucket counts follow the drops (a log of dropped indices, `DropLog`); a run computes caps
for the groups that lost a unit since the bound last ran, and walks only the segments of
buckets over their cap, compacting them to their kept units as it goes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CapOf = Callable[[list[int]], int | None]
# A step of `select_units`: given the kept mask and the log, the units it drops now.
DropStep = Callable[[np.ndarray, "DropLog"], np.ndarray]
NO_BOUND = np.iinfo(np.int64).max
NO_UNITS = np.empty(0, dtype=np.int64)


class DropLog:
    """Every unit dropped so far, in rounds: a bound reads the drops since its last run."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def add(self, dropped: np.ndarray) -> None:
        if len(dropped):
            self.batches.append(dropped)

    def since(self, position: int) -> np.ndarray:
        return np.concatenate(self.batches[position:]) if position < len(self.batches) else NO_UNITS


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """np.arange(start, end) for every pair, concatenated (no Python loop)."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return NO_UNITS
    offsets = np.repeat(starts - np.cumsum(lengths, dtype=starts.dtype) + lengths, lengths)
    offsets += np.arange(total, dtype=offsets.dtype)
    return offsets


class CappedBuckets:
    """A bound over `bucket` codes per unit, `per_group` consecutive codes to a group (a
    bucket is a group's answer: its group is bucket // per_group)."""

    def __init__(self, bucket: np.ndarray, per_group: int, rank: np.ndarray, cap_of: CapOf) -> None:
        # One sort by (bucket, rank) numbers the buckets too (np.unique's would be a second
        # sort, with three more int64 columns alive at once). Each int64 temporary goes as
        # soon as it has served: the largest cell at 100K images has 900K units.
        order = np.lexsort((rank, bucket))
        # int32 per unit (a cell has far fewer than 2**31): each select_units step keeps
        # these two for its whole run, five steps at once.
        self.order = order.astype(np.int32)  # bucket, then rank
        del order
        in_order = bucket[self.order]
        starts = np.empty(len(in_order), dtype=bool)
        starts[:1] = True
        np.not_equal(in_order[1:], in_order[:-1], out=starts[1:])
        group_of_first = in_order[starts] // per_group  # each bucket's group, in bucket order
        del in_order
        numbers = np.cumsum(starts, dtype=np.int32)
        numbers -= 1
        self.bucket_of = np.empty(len(numbers), dtype=np.int32)
        self.bucket_of[self.order] = numbers
        del numbers, starts
        sizes = np.bincount(self.bucket_of).astype(np.int32)
        # int32 too, so that a run's per-unit temporaries (`_drop_beyond`) are int32.
        self.start = np.cumsum(sizes, dtype=np.int32) - sizes
        self.end = self.start + sizes  # kept units lie in [start, end) of `order`
        self.count = sizes.copy()  # kept units per bucket
        _, group_of_bucket = np.unique(group_of_first, return_inverse=True)
        self.group_of_bucket = group_of_bucket.astype(np.int64)
        # Buckets by group (in bucket order within one), and where each group's run starts.
        self.buckets_by_group = np.argsort(self.group_of_bucket, kind="stable")
        group_sizes = np.bincount(self.group_of_bucket)
        self.group_start = np.cumsum(group_sizes) - group_sizes
        self.group_end = self.group_start + group_sizes
        self.cap_of = cap_of
        self.read = -1  # DropLog batches already counted; -1: never run

    def run(self, kept: np.ndarray, log: DropLog) -> np.ndarray:
        """The units this bound drops now (already marked in `kept`; the caller logs them)."""
        new = log.since(max(self.read, 0))  # the first run: what earlier bounds dropped
        np.subtract.at(self.count, self.bucket_of[new], 1)
        if self.read < 0:
            groups = np.arange(len(self.group_start))
        elif len(new):
            groups = np.unique(self.group_of_bucket[self.bucket_of[new]])
        else:
            return NO_UNITS
        self.read = len(log.batches)  # its own drops, logged next, count for its next run
        buckets, caps = self._caps(groups)
        over = caps < self.count[buckets]
        if not over.any():
            return NO_UNITS
        return self._drop_beyond(kept, buckets[over], caps[over])

    def _caps(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The buckets of `groups` that still hold kept units, and each one's cap. The caps
        come from Python lists (thousands of small groups: one conversion, not a call into
        numpy per group)."""
        buckets = self.buckets_by_group[_ranges(self.group_start[groups], self.group_end[groups])]
        counts = self.count[buckets]
        buckets, counts = buckets[counts > 0], counts[counts > 0]
        if not len(buckets):
            return buckets, counts
        group_of = self.group_of_bucket[buckets]
        cuts = [0, *(np.flatnonzero(np.diff(group_of)) + 1).tolist(), len(buckets)]
        sizes = counts.tolist()
        caps = [self.cap_of(sizes[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
        per_group = [NO_BOUND if cap is None else cap for cap in caps]
        return buckets, np.repeat(np.asarray(per_group, dtype=np.int64), np.diff(cuts))

    def _drop_beyond(self, kept: np.ndarray, buckets: np.ndarray, caps: np.ndarray) -> np.ndarray:
        """In each bucket, the kept units beyond the first `cap` by rank go; the segments
        shrink to the units that stay."""
        starts, ends = self.start[buckets], self.end[buckets]
        positions = _ranges(starts, ends)
        units = self.order[positions]
        alive = kept[units]
        lengths = ends - starts
        running = np.cumsum(alive, dtype=np.int32)  # kept units up to each position
        first = np.cumsum(lengths) - lengths  # each segment's first place in `positions`
        place = running - np.repeat(running[first] - alive[first], lengths)  # 1-based, kept
        del running
        cap = np.repeat(caps.astype(np.int32), lengths)  # over-cap buckets: cap < count
        stays = alive & (place <= cap)
        goes = units[alive & (place > cap)]
        kept[goes] = False
        self.order[np.repeat(starts, lengths)[stays] + place[stays] - 1] = units[stays]
        self.end[buckets] = starts + np.minimum(caps, self.count[buckets])
        return goes
