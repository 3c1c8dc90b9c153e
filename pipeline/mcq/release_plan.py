"""The choice of a fixed-size MSG-MCQ release from the balanced pool (`--mcq-size`), over
small integer columns, one entry per balanced item (docs/release.md says what is chosen
and why). Pure: no files, no Dask; `release.py` reads and writes around it.

1. Quotas: per aspect (shares), per form inside an aspect (equal), per source in
   proportion to the pool; yes/no quotas are even (a yes/no item comes with a "no" twin of
   the same asked value).
2. Units, best first inside each quota cell: fewer skips in the image, larger referent
   (in bins of `area_bin_factor`), then a seeded hash. A yes/no unit is a pair: the i-th
   best "yes" and the i-th best "no" asking the same value in the same phrasing.
3. A greedy fill, cells interleaved by how far along their quota each unit is, in passes
   allowing 1, 2, ... `per_image` items per image (spread over images first). A unit is
   taken only if its fact is unused and the pool's head-share bounds (per (aspect, form),
   phrasing and question text) allow it against the (aspect, form)'s quota; the exact
   (aspect, form) bound is checked on the result (`violations`).
4. A cell left short is first given first pick of the images (it may have lost them to
   other cells); short again, it keeps what it got (a named shortfall) and the rest of
   the size goes to the other cells in proportion to their shares; repeated until every
   cell is met or none can take more (then the size cannot be reached: an error)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.errors import InputError
from pipeline.largest_remainder import largest_remainder
from pipeline.mcq.balance_plan import (
    MCQ_ASPECT_SHARE,
    OPEN_FORMS,
    OPEN_MARGIN,
    OPTIONS,
    TEXT_SHARE,
    head_cap,
)
from pipeline.registry import registry
from pipeline.tables import load_table

KEEP, DROP = -2, -1  # as in the balance plan: a position 0..3 otherwise
MAX_ROUNDS = 100  # quota re-distributions; each fixes or lowers a cell, so few are needed
YES = "yes"


@dataclass
class Candidates:
    """One entry per balanced item, partitions concatenated in order. Strings are codes
    (`names[column]` maps them back); `answer` and `offered` share one code space."""

    names: dict[str, list[str]]
    aspect: np.ndarray
    form: np.ndarray
    source: np.ndarray
    text: np.ndarray
    frame: np.ndarray
    asked: np.ndarray
    answer: np.ndarray
    name: np.ndarray
    value: np.ndarray
    offered: np.ndarray  # (n, 3) codes of the other options ("" where none)
    scene: np.ndarray  # uint64 hash of the scene id
    fact: np.ndarray  # uint64 hash of (scene, aspect, referent set, value)
    tie: np.ndarray  # uint64 seeded hash of the item id
    area_bin: np.ndarray  # referent's share of the image, in bins (area_bin below)
    skips: np.ndarray  # facts or items skipped in the item's image
    leader: np.ndarray
    leader_key: np.ndarray

    def __len__(self) -> int:
        return len(self.aspect)


@dataclass
class Selection:
    actions: np.ndarray  # per candidate: DROP, KEEP or a target position
    report: dict[str, Any] = field(default_factory=dict)


# -- quotas --------------------------------------------------------------------------------
def aspect_shares(given: dict[str, float]) -> dict[str, float]:
    """Aspect -> share of the release, summing to 1: the build's `mcq_aspect_shares`, or
    release.toml's default (core aspects equal, the rest shared by the other aspects)."""
    asked = registry().asked_aspects
    if given:
        unknown = sorted(set(given) - set(asked))
        bad = sorted(a for a, s in given.items() if not isinstance(s, int | float) or s < 0)
        if unknown or bad or sum(given.values()) <= 0:
            problem = (
                f"unknown aspect(s) {', '.join(unknown)} (asked: {', '.join(asked)})"
                if unknown
                else "shares must be non-negative numbers with a positive sum"
            )
            raise InputError("mcq_aspect_shares", problem)
        total = float(sum(given.values()))
        return {a: given[a] / total for a in asked if given.get(a, 0) > 0}
    rules = load_table("release")["release"]
    core = [a for a in rules["core_aspects"] if a in asked]
    extra = [a for a in asked if a not in core]
    core_share = rules["core_share"] if extra else 1.0
    shares = {a: core_share / len(core) for a in core}
    shares.update({a: (1.0 - core_share) / len(extra) for a in extra})
    return shares


def forms_of_aspects() -> dict[str, tuple[str, ...]]:
    """Aspect -> the forms its families render, in form order."""
    out: dict[str, list[str]] = defaultdict(list)
    for family in registry().families.values():
        for form in family.forms:
            if form not in out[family.aspect]:
                out[family.aspect].append(form)
    order = ("mcq", "yes_no", "fill_blank", "correction")
    return {a: tuple(sorted(f, key=order.index)) for a, f in out.items()}


def ideal_cells(
    shares: dict[str, float], pool: dict[tuple[str, str, str], int], size: int
) -> dict[tuple[str, str, str], float]:
    """(aspect, form, source) -> its real-valued quota: the aspect's share, equal forms,
    sources in proportion to the pool (an (aspect, form) with no pool item: source "any")."""
    forms = forms_of_aspects()
    ideal: dict[tuple[str, str, str], float] = {}
    for aspect, share in shares.items():
        for form in forms.get(aspect, ()):
            target = size * share / len(forms[aspect])
            by_source = {s: n for (a, f, s), n in pool.items() if (a, f) == (aspect, form)}
            total = sum(by_source.values())
            if total == 0:
                ideal[aspect, form, "any"] = target
            for source, n in sorted(by_source.items()):
                ideal[aspect, form, source] = target * n / total
    return ideal


def step_of(cell: tuple[str, ...]) -> int:
    return 2 if cell[1:2] == ("yes_no",) else 1


def integerize(ideal: dict[tuple, float], total: int) -> dict[tuple, int]:
    """Whole quotas summing to `total`: first per aspect (so an aspect gets its share),
    then per cell inside it (yes/no in steps of two); a remainder no cell of its aspect
    can take (odd, yes/no only) goes to the cell furthest below its ideal anywhere."""
    aspects = sorted({c[0] for c in ideal})
    per_aspect = {(a,): sum(v for c, v in ideal.items() if c[0] == a) for a in aspects}
    aspect_quota, _ = largest_remainder(per_aspect, total, dict.fromkeys(per_aspect, 0), step_of)
    quota: dict[tuple, int] = {}
    carried = 0
    for (aspect,), n in aspect_quota.items():
        cells = {c: v for c, v in ideal.items() if c[0] == aspect}
        placed, left = largest_remainder(cells, n, step=step_of)
        quota.update(placed)
        carried += left
    quota, left = largest_remainder(ideal, sum(quota.values()) + carried, quota, step_of)
    if left:
        raise InputError("--mcq-size", f"{total} items cannot be split into these quotas")
    return quota


# -- units ---------------------------------------------------------------------------------
def area_bin(area: float) -> int:
    """A referent's share of the image in bins of release.toml's factor (whole image: 0)."""
    factor = float(load_table("release")["release"]["area_bin_factor"])
    return math.floor(math.log(max(area, 1e-9)) / math.log(factor))


def preference_tuple(skips: int, bin_: int, tie: int) -> tuple[int, int, int]:
    """The preference inside a quota, lower first: fewer skips in the image, then a larger
    referent, then the seeded hash (what `preference` sorts by)."""
    return skips, -bin_, tie


def windows(size: int, shares: dict[str, float]) -> dict[str, int]:
    """Aspect/form -> how many of a cell's best items can matter: release.toml's `window`
    times the most its quota could be at first. Workers keep no more per cell and
    partition, so the driver never holds the whole pool (the best `window` of a cell over
    every partition lie in the union of each partition's best)."""
    window = int(load_table("release")["release"]["window"])
    forms = forms_of_aspects()
    return {
        f"{aspect}/{form}": window * math.ceil(size * share / len(forms[aspect])) + window
        for aspect, share in aspect_shares(shares).items()
        for form in forms.get(aspect, ())
    }


def preference(c: Candidates) -> np.ndarray:
    """An int64 sort key per item (`preference_tuple`'s order), lower first."""
    order = np.lexsort((c.tie, -c.area_bin.astype(np.int64), c.skips))
    key = np.empty(len(c), dtype=np.int64)
    key[order] = np.arange(len(c))
    return key


def make_units(c: Candidates, key: np.ndarray) -> tuple[list[tuple[int, ...]], list[int]]:
    """The selection units (item index tuples) and each one's preference key. Yes/no items
    are paired per (aspect, source, phrasing, asked value): i-th best yes with i-th best no
    (a pair's key is its worse item's)."""
    units: list[tuple[int, ...]] = []
    keys: list[int] = []
    yes_no = c.names["form"].index("yes_no") if "yes_no" in c.names["form"] else -1
    yes_code = c.names["answer"].index(YES) if YES in c.names["answer"] else -1
    buckets: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i in np.argsort(key, kind="stable").tolist():
        if c.form[i] != yes_no:
            units.append((i,))
            keys.append(int(key[i]))
            continue
        bucket = (int(c.aspect[i]), int(c.source[i]), int(c.frame[i]), int(c.asked[i]))
        buckets[bucket][0 if c.answer[i] == yes_code else 1].append(i)
    for bucket in sorted(buckets):
        yes, no = buckets[bucket]
        for a, b in zip(yes, no, strict=False):  # in preference order: best with best
            units.append((a, b))
            keys.append(int(max(key[a], key[b])))
    return units, keys


# -- balance bounds, checked as units are added ----------------------------------------------
def bound_groups(c: Candidates, head_share: float) -> list[list[tuple[tuple, float]]]:
    """Per candidate, the groups whose answers the pool's balancing bounds, with each
    one's share (balance_plan.bounds_for): (aspect, form), phrasing, masked question
    text, and for corrections the false value. An open form's share is its chance (one
    over the aspect's distinct values among the candidates) plus the margin."""
    forms, aspects = c.names["form"], c.names["aspect"]
    distinct = {
        int(a): len(np.unique(c.value[c.aspect == a])) for a in np.unique(c.aspect).tolist()
    }
    out: list[list[tuple[tuple, float]]] = []
    for i in range(len(c)):
        a, f = int(c.aspect[i]), int(c.form[i])
        form, aspect = forms[f], aspects[a]
        if form in OPEN_FORMS:
            share = text_share = min(1.0, 1.0 / max(1, distinct[a]) + OPEN_MARGIN)
        else:
            share = min(head_share, TEXT_SHARE.get(form, head_share))
            if form == "mcq":
                share = min(share, MCQ_ASPECT_SHARE.get(aspect, share))
            text_share = TEXT_SHARE.get(form, head_share)
        groups = [
            (("aspect_form", a, f), share),
            (("phrasing", a, f, int(c.frame[i])), share),
            (("same_question", a, f, int(c.text[i])), text_share),
        ]
        if form == "correction":
            groups.append((("per_false_value", a, f, int(c.frame[i]), int(c.asked[i])), share))
        out.append(groups)

    return out


class Bounds:
    """A quick screen of the pool's balance bounds (balance_plan.bounds_for) on the growing
    release: per group, an answer's count <= max(1, floor(share * the group's end size at
    most). `violations` then checks the exact (aspect, form) bound on the result. The
    option prior is not screened (its bound holds only once a group is large, so a running
    check would stall small groups): the release's leakage is measured instead (the card)."""

    def __init__(self, c: Candidates, groups: list, target: dict[tuple, int]) -> None:
        self.c = c
        self.groups = groups  # per candidate: its (group, share) pairs (`bound_groups`)
        self.target = target  # (aspect code, form code) -> its quota: the group's end size
        self.count: Counter = Counter()  # (group, answer) -> items
        self.size: Counter = Counter()  # group -> items

    def fits(self, items: Iterable[int]) -> bool:
        c = self.c
        count, size = Counter(), Counter()
        for i in items:
            answer = int(c.answer[i])
            for group, _ in self.groups[i]:
                count[group, answer] += 1
                size[group] += 1
        shares = {g: s for i in items for g, s in self.groups[i]}
        for (group, answer), n in count.items():
            # Against the larger of the group's size and its (aspect, form)'s quota: a group
            # of four answers at share 0.28 holds at 8 items, not at 5 on the way there.
            end = max(self.size[group] + size[group], self.target.get(group[1:3], 0))
            cap = max(1, math.floor(shares[group] * end))
            if self.count[group, answer] + n > cap:
                return False
        self.count.update(count)
        self.size.update(size)
        return True


# -- the greedy fill -------------------------------------------------------------------------
def fill(
    c: Candidates,
    units: list[tuple[int, ...]],
    unit_cell: list[tuple],
    unit_key: list[int],
    quota: dict[tuple, int],
    per_image: int,
    groups: list,
    first: frozenset = frozenset(),
) -> tuple[list[int], Counter]:
    """The items chosen for these quotas, and the count per cell; the cells in `first`
    (short in an earlier round) take their images before the others."""
    # A unit's place: how far along its cell's quota it comes, so cells fill evenly.
    rank: Counter = Counter()
    ranked = sorted(range(len(units)), key=lambda u: (unit_cell[u], unit_key[u]))
    place = [0.0] * len(units)
    for u in ranked:
        cell = unit_cell[u]
        place[u] = (rank[cell] + 0.5) / quota[cell] if quota.get(cell) else math.inf
        rank[cell] += 1
    order = sorted(
        (u for u in range(len(units)) if place[u] != math.inf),
        key=lambda u: (unit_cell[u] not in first, place[u], unit_key[u]),
    )
    target: Counter = Counter()
    codes = (
        {n: i for i, n in enumerate(c.names["aspect"])},
        {n: i for i, n in enumerate(c.names["form"])},
    )
    for (aspect, form, _), q in quota.items():
        if aspect in codes[0] and form in codes[1]:
            target[codes[0][aspect], codes[1][form]] += q
    bounds = Bounds(c, groups, target)
    got: Counter = Counter()
    facts: set[int] = set()
    per_scene: Counter = Counter()
    chosen: list[int] = []
    taken = [False] * len(units)
    limit = 1
    while True:
        added = 0
        for u in order:
            cell, items = unit_cell[u], units[u]
            if taken[u] or got[cell] + len(items) > quota[cell]:
                continue
            unit_facts = {int(c.fact[i]) for i in items}
            if len(unit_facts) < len(items) or unit_facts & facts:
                continue
            scenes = Counter(int(c.scene[i]) for i in items)
            if any(per_scene[s] + n > limit for s, n in scenes.items()):
                continue
            if not bounds.fits(items):
                continue
            taken[u] = True
            got[cell] += len(items)
            facts |= unit_facts
            per_scene.update(scenes)
            chosen.extend(items)
            added += 1
        if limit < per_image:
            limit += 1
        elif added == 0:  # at the last limit, passes repeat while a bound loosens
            break
    return sorted(chosen), got


def violations(c: Candidates, chosen: list[int], key: np.ndarray, groups: list) -> set[int]:
    """The chosen items beyond the pool's own (aspect, form) head-share bound
    (balance_plan.head_cap on the release's counts), worst preference first. The running
    screen holds it whenever the (aspect, form) fills its quota; this catches the rest."""
    by_group: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in sorted(chosen, key=lambda i: key[i]):
        group, share = groups[i][0]  # ("aspect_form", aspect, form)
        by_group[group, share][int(c.answer[i])].append(i)
    dropped: set[int] = set()
    for (_, share), answers in by_group.items():
        counts = [len(items) for items in answers.values()]
        cap = head_cap(counts, share) if len(counts) >= 2 else 1
        for items in answers.values():
            dropped.update(items[cap:])
    return dropped


def fill_balanced(
    c: Candidates,
    units: list[tuple[int, ...]],
    unit_cell: list[tuple],
    unit_key: list[int],
    key: np.ndarray,
    quota: dict[tuple, int],
    per_image: int,
    groups: list,
    first: frozenset,
) -> tuple[list[int], Counter]:
    """`fill`, less what the exact bound drops (its cells come back short, and the caller
    lowers their quotas, against which the running screen is then exact)."""
    chosen, got = fill(c, units, unit_cell, unit_key, quota, per_image, groups, first)
    dropped = violations(c, chosen, key, groups)
    cell_of = {i: unit_cell[u] for u, items in enumerate(units) for i in items}
    for i in dropped:
        got[cell_of[i]] -= 1
    return [i for i in chosen if i not in dropped], got


def assign_positions(c: Candidates, chosen: np.ndarray) -> np.ndarray:
    """Round-robin correct positions over the chosen multiple-choice leaders, by id within
    each aspect (as the balance plan does over the pool); -1 elsewhere."""
    position = np.full(len(c), -1, dtype=np.int8)
    idx = chosen[c.leader[chosen]]
    order = np.lexsort((c.leader_key[idx], c.aspect[idx]))
    aspects = c.aspect[idx][order]
    place = np.arange(len(order)) - np.searchsorted(aspects, aspects)
    position[idx[order]] = place % OPTIONS
    return position


def select(
    c: Candidates,
    size: int,
    pool: Counter,
    *,
    shares: dict[str, float],
    per_image: int,
    head_share: float,
    strict: bool,
) -> Selection:
    """The release: each candidate's action, and the report for the manifest and card."""
    if size < 1:
        raise InputError("--mcq-size", f"must be at least 1 (got {size})")
    total = sum(pool.values())
    if size > total:
        raise InputError(
            "--mcq-size", f"{size} is larger than the balanced pool ({total} MSG-MCQ items)"
        )
    if per_image < 1:
        raise InputError("--mcq-per-image", f"must be at least 1 (got {per_image})")
    names = c.names
    cell_of = [
        (names["aspect"][a], names["form"][f], names["source"][s])
        for a, f, s in zip(c.aspect.tolist(), c.form.tolist(), c.source.tolist(), strict=True)
    ]
    ideal = ideal_cells(aspect_shares(shares), pool, size)
    first = integerize(ideal, size)
    key = preference(c)
    groups = bound_groups(c, head_share)
    units, unit_key = make_units(c, key)
    unit_cell = [cell_of[u[0]] for u in units]
    fixed: dict[tuple, int] = {}
    ahead: set[tuple] = set()  # short cells given first pick of the images
    for _ in range(MAX_ROUNDS):
        free = {k: v for k, v in ideal.items() if k not in fixed and v > 0}
        left = size - sum(fixed.values())
        if left > 0 and not free:
            break
        quota = fixed | (integerize(free, left) if left > 0 else dict.fromkeys(free, 0))
        chosen, got = fill_balanced(
            c, units, unit_cell, unit_key, key, quota, per_image, groups, frozenset(ahead)
        )
        short = {k for k, q in quota.items() if got[k] < q}
        if short - ahead - set(fixed):  # short for want of images, maybe: go first, retry
            ahead |= short
            continue
        if not short:
            selection = _selection(c, np.asarray(chosen, dtype=np.int64), first, quota, got, pool)
            check_strict(selection.report, strict)
            return selection
        fixed.update({k: got[k] for k in short})
    raise InputError(
        "--mcq-size",
        f"the balanced pool ({total} items) gives at most {sum(fixed.values())} under the "
        f"release rules (one item per fact, at most {per_image} per image, the balance "
        "bounds): lower --mcq-size or raise --mcq-per-image",
    )


def _selection(
    c: Candidates,
    chosen: np.ndarray,
    first: dict[tuple, int],
    quota: dict[tuple, int],
    got: Counter,
    pool: Counter,
) -> Selection:
    kept = np.zeros(len(c), dtype=bool)
    kept[chosen] = True
    position = assign_positions(c, chosen)
    actions = np.where(kept, np.where(position >= 0, position, KEEP), DROP).astype(np.int8)
    cells = sorted(set(first) | set(quota))
    report = {
        "size": int(len(chosen)),
        "pool": int(sum(pool.values())),
        "quotas": {
            "/".join(k): {
                "quota": first.get(k, 0),
                "final_quota": quota.get(k, 0),
                "selected": int(got[k]),
                "available": int(pool[k]),
            }
            for k in cells
        },
        "shortfalls": {
            "/".join(k): first[k] - int(got[k]) for k in cells if got[k] < first.get(k, 0)
        },
    }
    return Selection(actions, report)


def check_strict(report: dict[str, Any], strict: bool) -> None:
    """--strict-size: a shortfall is an error naming every short cell."""
    if strict and report["shortfalls"]:
        short = ", ".join(f"{k} short by {n}" for k, n in report["shortfalls"].items())
        raise InputError("--strict-size", f"the pool cannot fill every quota: {short}")
