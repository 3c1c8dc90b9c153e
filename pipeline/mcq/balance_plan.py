"""The balancing decision over every mcq item, held as columns of small integers (about 40
bytes per item: no Python object per item), so the driver's memory stays small at full
Visual Genome size. What is decided is documented in `pipeline/mcq/balance.py`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.mcq.capped_buckets import NO_UNITS, CapOf, CappedBuckets, DropLog, DropStep
from pipeline.parquet_io import PathArg, write_row_groups
from pipeline.tables import load_table

# No answer without the image (issue 16): for each form, the largest share one answer may
# have among the items a text-only model could tell apart (the same masked question; for
# open forms also the whole (aspect, form)). Chance plus a margin: mcq has four options,
# yes/no two; an open form's chance is one over its number of distinct answers.
_RULES = load_table("item_rules")["balance"]
TEXT_SHARE: dict[str, float] = _RULES["text_share"]
OPEN_MARGIN: float = _RULES["open_margin"]
MCQ_ASPECT_SHARE: dict[str, float] = _RULES["mcq_aspect_share"]
OPEN_FORMS = frozenset({"fill_blank", "correction"})
# Why a unit was dropped: the bound that dropped it (counted in the manifest's report).
REASONS = (
    "same_question",
    "referent_name",
    "phrasing",
    "aspect_form",
    "yes_no_per_asked_value",
    "correction_per_false_value",
    "option_prior",
)
# A multiple-choice option may be right at most this often among the times it is offered
# (per phrasing): else its text alone says it is the answer ("person" is present in half
# the images, so it is an answer far more often than an absent distractor).
OPTION_SHARE: float = _RULES["option_share"]
OPTION_PRIOR_BY_NAME: frozenset[str] = frozenset(_RULES["option_prior_by_name"])
# A referent name with fewer questions says nothing about a language prior, and bounding it
# would only shrink the small aspects.
MIN_LOCAL_GROUP = 10
OPTIONS = 4  # every mcq item has four options (schemas/mcq.schema.json)
TOP_ANSWERS = 20  # answers listed per aspect in the manifest (the rest summed as "(other)")
KEEP, DROP = -2, -1  # actions besides a target position 0..3
TEXT_COLUMNS = ("aspect", "form", "name", "value", "text", "frame", "asked", "answer")
DISTRACTOR_COLUMNS = ("offered1", "offered2", "offered3")  # coded like `answer`


# Unit files (one per partition) hold one row group per (aspect, form) "cell", in the
# order the file's metadata lists them, and each row's place in the partition's items.
ROW_COLUMN = "row"
CELLS_KEY = b"cells"


def write_units_by_cell(path: PathArg, table: pa.Table) -> None:
    """A partition's unit table (in item order) sorted (stably) by "aspect/form", one row
    group per cell, so that a plan task reads one cell's rows alone, never the partition."""
    rows = np.arange(table.num_rows, dtype=np.int32)
    table = table.append_column(ROW_COLUMN, pa.array(rows))
    cell = pc.binary_join_element_wise(table["aspect"], table["form"], "/")
    order = pc.sort_indices(cell)  # stable: a cell's rows stay in item order
    table, cell = table.take(order), cell.take(order)
    found = pc.value_counts(cell).to_pylist()
    sizes = dict(sorted((c["values"], c["counts"]) for c in found))
    starts = np.cumsum([0, *sizes.values()])[:-1].tolist()
    groups = [table.slice(start, n) for start, n in zip(starts, sizes.values(), strict=True)]
    metadata = {CELLS_KEY: json.dumps(list(sizes)).encode()}
    write_row_groups(path, groups, table.schema.with_metadata(metadata))


def cells_of(units: pq.ParquetFile) -> list[str]:
    """The "aspect/form" cells of a unit file, in row-group order."""
    return json.loads(units.schema_arrow.metadata[CELLS_KEY])


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
    text: np.ndarray  # the masked question (what a text-only model reads)
    frame: np.ndarray  # its phrasing without the object (template id, region or not)
    asked: np.ndarray  # the value a yes/no or a correction's false statement asserts
    answer: np.ndarray  # what the model must say (option text, yes/no, or value)
    offered1: np.ndarray  # a multiple-choice item's other options, coded like `answer`
    offered2: np.ndarray
    offered3: np.ndarray
    rank: np.ndarray  # uint64
    leader: np.ndarray  # bool: a non-circular mcq item (it gets a balanced position)
    leader_key: np.ndarray  # uint64: its id's hash, so sorting it sorts by id
    answer_index: np.ndarray  # int8

    @classmethod
    def empty(cls) -> ItemColumns:
        """No items (a cell no partition has)."""
        return cls(**{f: np.empty(0, dtype=np.int64) for f in cls.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.rank)

    def take(self, idx: np.ndarray) -> ItemColumns:
        return ItemColumns(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})


class CellFiller:
    """One cell's ItemColumns, `size` entries filled part after part. A column that has one
    value in every part so far is held as that value (a read-only view of it, no memory per
    item) and made a full column the first time a part differs: in a cell, aspect and form
    never differ, nor outside multiple choice the offered options, leader and leader_key
    (about 30 of 62 bytes per unit in the largest 100K cell, 888K yes/no units)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.filled = 0
        self.full: dict[str, np.ndarray] = {}
        self.constant: dict[str, np.ndarray] = {}  # one-entry arrays

    def put(self, part: ItemColumns) -> None:
        """`part`'s entries next (a part has at least one)."""
        start, end = self.filled, self.filled + len(part)
        for name in ItemColumns.__dataclass_fields__:
            values = getattr(part, name)
            if name not in self.full:
                one = self.constant.setdefault(name, values[:1])
                if (values == one[0]).all():
                    continue
                self.full[name] = np.empty(self.size, dtype=values.dtype)
                self.full[name][:start] = self.constant.pop(name)[0]
            self.full[name][start:end] = values
        self.filled = end

    def columns(self) -> ItemColumns:
        if self.filled != self.size:
            raise ValueError(f"cell filled with {self.filled} of its {self.size} entries")
        if not self.size:
            return ItemColumns.empty()
        return ItemColumns(
            **self.full,
            **{name: np.broadcast_to(one, self.size) for name, one in self.constant.items()},
        )


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
        if mid <= share * sum(map(min, counts, repeat(mid))):  # the loop in C
            lo = mid
        else:
            hi = mid - 1
    return lo


def share_cap(
    share: float, min_size: int, single: bool = True
) -> Callable[[list[int]], int | None]:
    """The head-share bound of a group of at least `min_size` units. With `single`, a group
    whose units all have one answer keeps one (forty "white" and nothing else is the
    strongest prior); not for groups by referent name, whose name may be the answer."""

    def cap(counts: list[int]) -> int | None:
        if sum(counts) < max(min_size, 2) or (len(counts) < 2 and not single):
            return None
        return head_cap(counts, share) if len(counts) >= 2 else 1

    return cap


def keep_one_cap(share: float) -> Callable[[list[int]], int | None]:
    """The head-share bound, but every answer keeps one unit: a question asked on several
    images keeps one item per answer at least (one alone is not a prior), and a question
    whose answer is always the same keeps just one."""

    def cap(counts: list[int]) -> int | None:
        if sum(counts) < 2:
            return None
        return max(1, head_cap(counts, share))

    return cap


def equal_cap(counts: list[int]) -> int:
    """As many of each answer as of the rarest: a value asked only with "yes" is dropped."""
    return min(counts) if len(counts) == 2 else 0


def _drop_beyond_caps(
    kept: np.ndarray,
    idx: np.ndarray,
    inverse: np.ndarray,
    sizes: np.ndarray,
    caps: np.ndarray,
    rank: np.ndarray,
) -> bool:
    """The kept units `idx` fall in buckets (`inverse`, of `sizes`); in each bucket the
    units by rank at place >= its cap go. Updates `kept`; True if any unit went."""
    if not (caps[inverse] < sizes[inverse]).any():
        return False
    by_rank = np.lexsort((rank[idx], inverse))
    sorted_bucket = inverse[by_rank]
    place = np.arange(len(by_rank)) - np.searchsorted(sorted_bucket, sorted_bucket)
    kept[idx[by_rank[place >= caps[sorted_bucket]]]] = False
    return True


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One int64 key per row for a tuple of code columns."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column in codes:  # in place: no temporary per column
        key *= int(column.max(initial=0)) + 1
        key += column
    return key


def bound_keys(columns: tuple[np.ndarray, ...], answer: np.ndarray) -> tuple[np.ndarray, int]:
    """A bound's bucket key per unit (its group of `columns`, with the answer) and how many
    keys a group spans: a bucket's group is its key // that. One int64 per unit: the
    group's key is made into the bucket's in place."""
    bucket = _combine(*columns)
    per_group = int(answer.max(initial=0)) + 1
    bucket *= per_group
    bucket += answer
    return bucket, per_group


def bounds_for(
    units: ItemColumns, form: str, share: float, distinct: int, aspect: str = ""
) -> Iterator[tuple]:
    """The (reason, group columns, cap) bounds of one (aspect, form), as data: each group
    of units has its answers' counts bounded. For every form: the same masked question (a
    text-only model's best key), the referent name, the phrasing, the whole (aspect, form).
    Yes/no: each asserted value as often with "yes" as with "no" in each phrasing.
    Correction: the answers given one false value (the statement to correct is in the
    question). An open form's share is its chance (one over the aspect's `distinct`
    answers) plus a margin; a multiple-choice answer may not be much more common than one
    option in four, or it could not be offered as a distractor as often as it is right.
    The columns are the unit's own (no copy); a bound's keys (`bound_keys`, one int64 per
    unit) are made by its user, one bound at a time: the largest cell at 100K images has
    900K units."""
    cell = (units.aspect, units.form)
    by_text, by_name, by_frame = (cell, units.text), (cell, units.name), (cell, units.frame)
    if form in OPEN_FORMS:
        open_share = min(1.0, 1.0 / max(1, distinct) + OPEN_MARGIN)
        bounds = [
            ("same_question", by_text, keep_one_cap(open_share)),
            ("referent_name", by_name, share_cap(open_share, MIN_LOCAL_GROUP, single=False)),
            ("phrasing", by_frame, share_cap(open_share, 0)),
            ("aspect_form", (cell,), share_cap(open_share, 0)),
        ]
        if form == "correction":
            by_asked = (cell, units.frame, units.asked)
            bounds.append(("correction_per_false_value", by_asked, keep_one_cap(open_share)))
    else:
        closed_share = min(share, TEXT_SHARE.get(form, share))
        if form == "mcq":
            closed_share = min(closed_share, MCQ_ASPECT_SHARE.get(aspect, closed_share))
        bounds = [
            ("same_question", by_text, keep_one_cap(TEXT_SHARE.get(form, share))),
            ("referent_name", by_name, share_cap(share, MIN_LOCAL_GROUP, single=False)),
            ("phrasing", by_frame, share_cap(closed_share, 0)),
            ("aspect_form", (cell,), share_cap(closed_share, 0)),
        ]
        if form == "yes_no":
            bounds.append(("yes_no_per_asked_value", (cell, units.frame, units.asked), equal_cap))
    for name, (first, *rest), cap in bounds:
        yield name, (*first, *rest), cap


def option_prior_cap(kept: np.ndarray, units: ItemColumns, group: np.ndarray) -> bool:
    """Per group (a phrasing of multiple-choice items): every option text is the answer at
    most OPTION_SHARE of the times the kept units offer it, i.e. at most OPTION_SHARE /
    (1 - OPTION_SHARE) times as often as they offer it as a distractor, and at least once;
    the items beyond, by rank, go. Updates `kept`; True if any unit went."""
    idx = np.flatnonzero(kept)
    if len(idx) == 0:
        return False
    offered = [getattr(units, c) for c in DISTRACTOR_COLUMNS]
    base = int(max(units.answer.max(initial=0), *(o.max(initial=0) for o in offered))) + 1
    answer_key = group[idx].astype(np.int64) * base + units.answer[idx]
    offered_keys = np.concatenate([group[idx].astype(np.int64) * base + o[idx] for o in offered])
    off_keys, off_counts = np.unique(offered_keys, return_counts=True)
    keys, inverse, sizes = np.unique(answer_key, return_inverse=True, return_counts=True)
    at = np.searchsorted(off_keys, keys)
    found = (at < len(off_keys)) & (off_keys[np.minimum(at, len(off_keys) - 1)] == keys)
    as_distractor = np.where(found, off_counts[np.minimum(at, len(off_keys) - 1)], 0)
    # One item per answer always stays: a rare value offered once or twice is no prior,
    # and dropping it would take its distractors' offers with it (and cascade).
    caps = np.maximum(1, np.floor(OPTION_SHARE / (1 - OPTION_SHARE) * as_distractor))
    return _drop_beyond_caps(kept, idx, inverse, sizes, caps.astype(np.int64), units.rank)


class ChangedGroups:
    """For the option-prior bound: the groups that lost a unit since it last ran. What it
    drops in a group depends on that group's kept units alone, so where nothing went it
    would drop nothing again; it runs on the changed groups only (same result)."""

    def __init__(self, group: np.ndarray) -> None:
        names, codes = np.unique(group, return_inverse=True)
        self.codes, self.count = codes.astype(np.int32), len(names)
        self.read = -1  # DropLog batches already seen; -1: never run

    def active(self, kept: np.ndarray, log: DropLog) -> np.ndarray | None:
        """The kept units of changed groups (all of them the first time); None: none."""
        new = log.since(self.read) if self.read >= 0 else None
        self.read = len(log.batches)  # its own drops, logged next, count for its next run
        if new is None:
            return kept.copy()
        if not len(new):
            return None
        changed = np.zeros(self.count, dtype=bool)
        changed[self.codes[new]] = True
        return kept & changed[self.codes]


def option_prior_step(units: ItemColumns, group: np.ndarray) -> DropStep:
    """`option_prior_cap` per group, run on the groups that changed since its last run."""
    groups = ChangedGroups(group)

    def run(kept: np.ndarray, log: DropLog) -> np.ndarray:
        active = groups.active(kept, log)
        if active is None:
            return NO_UNITS
        before = active.copy()
        if not option_prior_cap(active, units, group):
            return NO_UNITS
        dropped = np.flatnonzero(before & ~active)
        kept[dropped] = False
        return dropped

    return run


def capped_step(columns: tuple[np.ndarray, ...], units: ItemColumns, cap: CapOf) -> DropStep:
    """A bound as a `select_units` step; its int64 keys live only while it is set up (the
    step keeps two int32 per unit)."""
    return CappedBuckets(*bound_keys(columns, units.answer), units.rank, cap).run


def select_units(
    units: ItemColumns, form: str, share: float, distinct: int, aspect: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Every bound of `bounds_for`, repeated until all hold (a drop for one bound can
    unbalance another); only drops, so it ends. Returns the kept mask over units and, per
    unit, the index in REASONS of the bound that dropped it (-1: kept)."""
    kept = np.ones(len(units), dtype=bool)
    reason = np.full(len(kept), -1, dtype=np.int8)
    steps: list[tuple[int, DropStep]] = [
        (REASONS.index(name), capped_step(columns, units, cap))
        for name, columns, cap in bounds_for(units, form, share, distinct, aspect)
    ]
    # Per phrasing, and for the aspects listed in the table also per referent name
    # (counts: how many people differs from how many zebras, and the word is asked).
    option_groups = [(units.frame,)]
    if aspect in OPTION_PRIOR_BY_NAME:
        option_groups.append((units.frame, units.name))
    for columns in option_groups if form == "mcq" else ():
        group = _combine(units.aspect, *columns)
        steps.append((REASONS.index("option_prior"), option_prior_step(units, group)))
    log = DropLog()
    while True:
        changed = False
        for reason_index, step in steps:
            dropped = step(kept, log)
            if len(dropped):
                log.add(dropped)
                reason[dropped] = reason_index
                changed = True
        if not changed:
            return kept, reason


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


def plan(items: ItemColumns, codes: dict[str, Codes], share: float, balance: bool = True) -> Plan:
    """Every item's action, and before/after counts for the manifest's report. Each
    (aspect, form) is decided on its own (`decide_cell`): every bound, unit and position
    lies within one. The build decides each from its own rows in the unit files
    (`plan_cells.py`); this in-memory form serves `plan_balance`."""
    actions = np.empty(len(items), dtype=np.int8)
    report = Report(codes)
    forms = len(codes["form"].names) + 1
    # An open form's chance: one over the aspect's distinct answer values (every form).
    distinct_values = {
        int(a): len(np.unique(items.value[items.aspect == a])) for a in np.unique(items.aspect)
    }
    key = items.aspect.astype(np.int64) * forms + items.form
    order = np.argsort(key, kind="stable")
    for idx in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        if len(idx) == 0:
            continue
        group = items.take(idx)
        distinct = distinct_values[int(group.aspect[0])]
        actions[idx] = decide_cell(group, codes, share, distinct, balance, report)
    return Plan(actions, report.finish())


def units_of(group: ItemColumns) -> tuple[ItemColumns, np.ndarray | None]:
    """A cell's units (its first item of each rank) and each item's unit, or None when
    every item is its own unit (most cells): a unit is told apart by its rank, so what
    `select_units` decides never depends on the units' order, and the items serve as they
    are instead of a sorted copy (62 bytes per unit, 56 MB for the largest 100K cell)."""
    if len(group) < 2 or (np.diff(np.sort(group.rank)) != 0).all():
        return group, None
    _, first, unit_of = np.unique(group.rank, return_index=True, return_inverse=True)
    return group.take(first), unit_of


def decide_cell(
    group: ItemColumns,
    codes: dict[str, Codes],
    share: float,
    distinct: int,
    balance: bool,
    report: Report,
) -> np.ndarray:
    """The actions of one (aspect, form)'s items (`distinct`: the aspect's distinct answer
    values over every form, an open form's chance); its counts go to `report`."""
    units, unit_of = units_of(group)
    form = codes["form"].names[int(group.form[0])]
    aspect = codes["aspect"].names[int(group.aspect[0])]
    if balance:
        kept, reason = select_units(units, form, share, distinct, aspect)
    else:  # --no-prior-balance: every unit stays; positions only
        kept, reason = np.ones(len(units), dtype=bool), np.full(len(units), -1, np.int8)
    if unit_of is not None:
        kept, reason = kept[unit_of], reason[unit_of]
    position = assign_positions(group, kept)
    report.add(group, kept, np.where(position >= 0, position, group.answer_index), reason)
    return np.where(kept, np.where(position >= 0, position, KEEP), DROP).astype(np.int8)


class Report:
    """Before/after counts for the manifest, added one (aspect, form) at a time: items per
    aspect/form, the top mcq answers and the correct positions per aspect, drops."""

    def __init__(self, codes: dict[str, Codes]) -> None:
        self.codes = codes
        self.before: dict[str, dict] = {"items": {}, "mcq_answers": {}, "mcq_positions": {}}
        self.after: dict[str, dict] = {"items": {}, "mcq_answers": {}, "mcq_positions": {}}
        self.dropped: dict[str, int] = {}
        self.dropped_by_reason: dict[str, int] = {}

    def add(
        self, group: ItemColumns, kept: np.ndarray, final_index: np.ndarray, reason: np.ndarray
    ) -> None:
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
            for code, n in zip(*np.unique(reason[~kept], return_counts=True), strict=True):
                key = f"{aspect}/{form}:{REASONS[int(code)]}"
                self.dropped_by_reason[key] = int(n)

    def fragment(self) -> dict[str, Any]:
        """What `add` has counted so far, as JSON (a task's share of the report)."""
        return {
            "before": self.before,
            "after": self.after,
            "dropped": self.dropped,
            "dropped_by_reason": self.dropped_by_reason,
        }

    def absorb(self, fragment: dict[str, Any]) -> None:
        """Add another report's `fragment` (of other (aspect, form)s: keys never clash)."""
        for side in ("before", "after"):
            for table, counts in fragment[side].items():
                getattr(self, side)[table].update(counts)
        self.dropped.update(fragment["dropped"])
        self.dropped_by_reason.update(fragment["dropped_by_reason"])

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
            "dropped_by_reason": dict(sorted(self.dropped_by_reason.items())),
        }
