"""Build-time balancing (pipeline/mcq/balance.py): the head-share bound, yes/no pairs and
rotations dropped together, uniform correct positions, and decisions independent of the
order rows arrive in (so of partitioning)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pyarrow as pa

from pipeline.mcq.balance import head_cap, plan_balance, rotate_column
from pipeline.mcq.balance_plan import REASONS

# What multiple-choice rows offer besides their answer (the answers of other rows).
OPTION_POOL = ["red", "blue", "green", "c0", "c1", "c2", "white", "2"]


def row(i: int, value: str, *, aspect="color", form="mcq", name="car", scene=None, **extra):
    ident = f"mcq-{i:016x}"
    answer = extra.pop("answer", value if form != "yes_no" else "yes")
    others = [v for v in OPTION_POOL if v != value]
    start = i % len(others)
    offered = [value, *(others[start:] + others[:start])[:3]] if form == "mcq" else []
    base = {
        "options": extra.pop("options", offered),
        "question": extra.pop("question", f"What {aspect} is the {name} in image {i}?"),
        "answer": answer,
        "distractor_sources": extra.pop("distractor_sources", []),
        "pope_setting": extra.pop("pope_setting", None),
        "id": ident,
        "scene_id": scene or f"coco/{i}",
        "aspect": aspect,
        "form": form,
        "answer_value": value,
        "referent_name": name,
        "referent_object_ids": [f"vg/obj/{i}"],
        "template_id": f"{aspect}.{form}.0",
        "group_id": ident,
        "rotation": 0,
        "answer_index": 0,
    }
    return base | extra


def skewed(n_head: int, n_tail: int, start: int = 0, **kw) -> list[dict]:
    rows = [row(start + i, "red", **kw) for i in range(n_head)]
    return rows + [row(start + 1000 + i, f"c{i % 3}", **kw) for i in range(n_tail)]


def test_head_cap_bounds_the_share():
    assert head_cap([10, 10], 0.5) == 10
    assert head_cap([30, 5, 5], 0.5) == 10
    assert head_cap([7], 0.5) == 0  # one answer cannot be balanced at all
    for counts in ([50, 3, 2, 1], [9, 9, 1], [100, 40, 40]):
        cap = head_cap(counts, 0.5)
        assert cap <= 0.5 * sum(min(c, cap) for c in counts)
        assert cap + 1 > 0.5 * sum(min(c, cap + 1) for c in counts)


def test_balancing_bounds_head_share_and_reports_drops():
    from pipeline.mcq.balance_plan import TEXT_SHARE

    rows = skewed(60, 20, name=None)
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    answers = Counter(r["answer_value"] for r in kept)
    # A multiple-choice answer may not be much more common than one option in four.
    assert answers["red"] / len(kept) <= TEXT_SHARE["mcq"] < 0.5
    assert answers["red"] > 0
    report = plan["report"]
    assert report["dropped"] == {"color/mcq": 80 - len(kept)}
    assert sum(report["dropped_by_reason"].values()) == 80 - len(kept)
    assert set(report["dropped_by_reason"]) <= {f"color/mcq:{r}" for r in REASONS}
    assert report["before"]["items"] == {"color/mcq": 80}
    assert report["after"]["items"] == {"color/mcq": len(kept)}


def test_local_groups_are_bounded_too():
    # Globally balanced, but every "car" is red: the (aspect, form, name) bound catches it.
    rows = [row(i, "red", name="car") for i in range(20)]
    rows += [row(100 + i, "blue", name="car") for i in range(2)]
    rows += [row(200 + i, f"c{i % 5}", name="bus") for i in range(20)]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    cars = Counter(r["answer_value"] for r in kept if r["referent_name"] == "car")
    assert 0 < cars["red"] <= 2
    assert plan["report"]["dropped_by_reason"]["color/mcq:referent_name"] > 0


def yes_no(i: int, asked: str, answer: str, **kw) -> dict:
    """A yes/no item asserting `asked` ("Is the car red?"), true or false."""
    false = [] if answer == "yes" else [{"option": asked, "source": "x", "object_ids": []}]
    value = asked if answer == "yes" else "other"
    name = kw.pop("name", f"car{i}")
    return row(
        i,
        value,
        form="yes_no",
        name=name,
        answer=answer,
        question=f"Is the {name} {asked}?",
        distractor_sources=false,
        **kw,
    )


def test_every_asked_value_is_asked_as_often_with_yes_as_with_no():
    rows = [yes_no(i, "red", "yes") for i in range(30)]
    rows += [yes_no(100 + i, "red", "no") for i in range(5)]
    rows += [yes_no(200 + i, "teal", "yes") for i in range(3)]  # never asked with "no"
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    asked = Counter((r["question"].split()[-1], r["answer"]) for r in kept)
    assert asked[("red?", "yes")] == asked[("red?", "no")] == 5
    assert asked[("teal?", "yes")] == 0
    assert sum(plan["report"]["dropped_by_reason"].values()) == 28


def test_pope_is_balanced_per_setting_and_category():
    rows = []
    for setting in ("random", "popular"):
        for _ in range(12):  # "person" is present in most images: "yes" 12 times ...
            rows.append(
                row(len(rows), "yes", aspect="existence", form="yes_no", name="person")
                | {"answer": "yes", "pope_setting": setting, "question": "Is there a person?"}
            )
        for _ in range(3):  # ... and asked absent only 3 times
            rows.append(
                row(len(rows), "no", aspect="existence", form="yes_no", name="person")
                | {"answer": "no", "pope_setting": setting, "question": "Is there a person?"}
            )
    plan = plan_balance(rows, 0.5)
    kept = Counter(
        (r["pope_setting"], r["answer"]) for r in rows if r["id"] not in set(plan["drop"])
    )
    for setting in ("random", "popular"):
        assert kept[setting, "yes"] == kept[setting, "no"] > 0


def test_the_same_question_keeps_one_item_per_answer_when_it_has_a_prior():
    """'What color is the snow?' asked on many images is always white: a text-only model
    would learn it; one such item is kept."""
    rows = [row(i, "white", name="snow", question="What color is the snow?") for i in range(8)]
    rows += [row(100 + i, f"c{i}", name=f"n{i}") for i in range(12)]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    assert sum(r["referent_name"] == "snow" for r in kept) == 1


def test_open_forms_are_bounded_near_chance():
    from pipeline.mcq.balance_plan import OPEN_MARGIN

    rows = [row(i, "white", form="fill_blank", name=f"n{i}") for i in range(40)]
    rows += [row(100 + i, f"c{i % 9}", form="fill_blank", name=f"m{i}") for i in range(45)]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    share = Counter(r["answer_value"] for r in kept)["white"] / len(kept)
    assert share <= 1 / 10 + OPEN_MARGIN  # ten distinct answers: chance is 1/10


def test_a_correction_answer_is_not_given_by_its_false_value():
    """'The pole is short.' -> 'tall' every time: the false value gives the answer away."""
    rows = [
        row(
            i,
            "tall",
            form="correction",
            name=f"pole{i}",
            question=f"Correct: The pole{i} is short.",
            distractor_sources=[{"option": "short", "source": "x", "object_ids": []}],
        )
        for i in range(10)
    ]
    rows += [row(100 + i, f"c{i % 6}", form="correction", name=f"m{i}") for i in range(30)]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    assert sum(r["answer_value"] == "tall" for r in kept) == 1


def test_positions_round_robin_and_rotations_keep_theirs():
    values = [f"v{k}" for k in range(7)]
    rows = [
        row(i, values[i % 7], name=None, options=[values[(i + k) % 7] for k in range(4)])
        for i in range(41)
    ]
    plan = plan_balance(rows, 0.9)
    assert Counter(plan["position"].values()) == Counter({0: 11, 1: 10, 2: 10, 3: 10})
    circular = [
        row(1, "red") | {"id": f"mcq-{1:016x}-r{k}", "group_id": f"mcq-{1:016x}", "rotation": k}
        for k in range(4)
    ]
    assert plan_balance(circular, 0.5)["position"] == {}


def rotate_to(item: dict, target: int) -> dict:
    """One item rotated the plain way, the reference for `rotate_column`."""
    options = item["options"]
    k = (item["answer_index"] - target) % len(options)
    turned = options[k:] + options[:k]
    return dict(item, options=turned, answer_index=turned.index(item["answer"]))


def test_rotation_keeps_options_answer_and_index_consistent():
    item = {"options": ["a", "b", "c", "d"], "answer": "c", "answer_index": 2}
    table = pa.Table.from_pylist([item] * 4)
    for target, turned in enumerate(rotate_column(table, np.arange(4)).to_pylist()):
        assert turned["options"][turned["answer_index"]] == "c"
        assert turned["answer_index"] == target
        assert sorted(turned["options"]) == ["a", "b", "c", "d"]
        assert turned["options"] == rotate_to(item, target)["options"]


def test_plan_does_not_depend_on_row_order():
    rows = skewed(50, 15) + skewed(30, 10, start=5000, aspect="material", name="bench")
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    assert plan_balance(rows, 0.5) == plan_balance(shuffled, 0.5)


def reference_drop(rows: list[dict], share: float) -> set[str]:
    """The plan's drops by a plain per-unit algorithm (dicts, no arrays), to check the
    columnar one against: the same bounds, written out one (aspect, form) at a time."""
    from collections import defaultdict

    from pipeline.mcq.balance import unit_row
    from pipeline.mcq.balance_plan import (
        MCQ_ASPECT_SHARE,
        MIN_LOCAL_GROUP,
        OPEN_MARGIN,
        OPTION_PRIOR_BY_NAME,
        OPTION_SHARE,
        TEXT_SHARE,
    )

    units: dict[int, dict] = {}  # rank -> the unit's columns and its item ids
    for r in rows:
        u = unit_row(r)
        units.setdefault(u["rank"], {"u": u, "ids": []})["ids"].append(r["id"])
    distinct: dict = defaultdict(set)
    for r in rows:
        distinct[r["aspect"]].add(r["answer_value"])

    def bounds(aspect: str, form: str) -> list:
        """(grouping columns, rule, share) in the plan's order."""
        if form in ("fill_blank", "correction"):
            s = min(1.0, 1 / len(distinct[aspect]) + OPEN_MARGIN)
            out = [(("text",), "one", s), (("name",), MIN_LOCAL_GROUP, s)]
            out += [(("frame",), 0, s), ((), 0, s)]
            return out + ([(("frame", "asked"), "one", s)] if form == "correction" else [])
        closed = min(share, TEXT_SHARE.get(form, share))
        if form == "mcq":
            closed = min(closed, MCQ_ASPECT_SHARE.get(aspect, closed))
        out = [(("text",), "one", TEXT_SHARE.get(form, share))]
        out += [(("name",), MIN_LOCAL_GROUP, share), (("frame",), 0, closed), ((), 0, closed)]
        return out + ([(("frame", "asked"), "equal", None)] if form == "yes_no" else [])

    def cap_of(counts: list[int], rule, s, single=True) -> int | None:
        if rule == "equal":
            return min(counts) if len(counts) == 2 else 0
        if rule == "one":
            return max(1, head_cap(counts, s)) if sum(counts) >= 2 else None
        if sum(counts) < max(rule, 2) or (len(counts) < 2 and single is False):
            return None
        return head_cap(counts, s) if len(counts) >= 2 else 1

    kept: set[int] = set()
    by_group: dict = defaultdict(list)
    for rank, unit in units.items():
        by_group[unit["u"]["aspect"], unit["u"]["form"]].append(rank)

    def option_prior(alive: set[int], offering: set[int], by: tuple[str, ...]) -> bool:
        """An option is right at most OPTION_SHARE of the times the kept items offer it
        (one item per answer always stays)."""
        as_distractor: Counter = Counter()
        for k in offering:
            u = units[k]["u"]
            group = tuple(u[c] for c in by)
            as_distractor.update((group, u[c]) for c in ("offered1", "offered2", "offered3"))
        right: dict = defaultdict(list)
        for k in alive:
            u = units[k]["u"]
            right[tuple(u[c] for c in by), u["answer"]].append(k)
        dropped = False
        for key, keys in right.items():
            cap = max(1, int(OPTION_SHARE / (1 - OPTION_SHARE) * as_distractor[key]))
            if len(keys) > cap:
                alive.difference_update(sorted(keys)[cap:])
                dropped = True
        return dropped

    for (aspect, form), ranks in by_group.items():
        alive = set(ranks)
        changed = True
        while changed:
            changed = False
            for columns, rule, s in bounds(aspect, form):
                groups: dict = defaultdict(lambda: defaultdict(list))
                for k in alive:
                    u = units[k]["u"]
                    groups[tuple(u[c] for c in columns)][u["answer"]].append(k)
                for by_answer in groups.values():
                    single = columns != ("name",)  # a name may be the answer
                    cap = cap_of([len(v) for v in by_answer.values()], rule, s, single)
                    for keys in by_answer.values():
                        if cap is not None and len(keys) > cap:
                            alive.difference_update(sorted(keys)[cap:])
                            changed = True
            if form == "mcq":
                names = aspect in OPTION_PRIOR_BY_NAME
                for by in (("frame",), ("frame", "name"))[: 2 if names else 1]:
                    changed |= option_prior(alive, set(alive), by)
        kept |= alive
    kept_ids = {i for k in kept for i in units[k]["ids"]}
    return {r["id"] for r in rows} - kept_ids


def test_columnar_plan_matches_the_plain_algorithm():
    rng = random.Random(3)
    drops = 0
    for trial in range(30):
        rows = []
        for i in range(rng.randint(0, 300)):
            aspect = rng.choice(["color", "material", "number"])
            form = rng.choice(["mcq", "yes_no", "fill_blank", "correction"])
            name = rng.choice(["car", "bus", None, "dog"])
            value = rng.choice(["red"] * rng.randint(1, 6) + ["blue", "green", "2"])
            index = 0 if form == "mcq" else None  # only mcq items have options
            answer = rng.choice(["yes", "no"]) if form == "yes_no" else value
            false = rng.choice(["blue", "pink"])
            question = rng.choice([f"Is the {name} {false}?", f"What is the {name}?", "Q?"])
            rows.append(
                row(
                    trial * 10_000 + i,
                    value,
                    aspect=aspect,
                    form=form,
                    name=name,
                    answer=answer,
                    question=question,
                    distractor_sources=[{"option": false, "source": "x", "object_ids": []}],
                )
                | {"answer_index": index}
            )
        share = rng.choice([0.3, 0.5, 0.7])
        plan = plan_balance(rows, share)
        assert set(plan["drop"]) == reference_drop(rows, share)
        drops += len(plan["drop"])
        leaders = [r for r in rows if r["form"] == "mcq" and r["id"] not in set(plan["drop"])]
        assert set(plan["position"]) == {r["id"] for r in leaders}
    assert drops > 100  # the cases do exercise the bounds


def test_rotating_arrow_columns_matches_rotate_to():
    rng = random.Random(5)
    items, targets = [], []
    for i in range(200):
        options = [f"o{i}-{k}" for k in range(rng.choice([0, 2, 4]))]
        index = rng.randrange(len(options)) if options else None
        answer = options[index] if options else "yes"
        items.append({"id": str(i), "options": options, "answer": answer, "answer_index": index})
        targets.append(rng.randrange(len(options)) if options and rng.random() < 0.7 else -2)
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("options", pa.list_(pa.string())),
            ("answer", pa.string()),
            ("answer_index", pa.int64()),
        ]
    )
    table = pa.Table.from_pylist(items, schema=schema).slice(3)  # offsets not starting at 0
    turned = rotate_column(table, np.asarray(targets[3:])).to_pylist()
    expected = [
        rotate_to(item, t) if t >= 0 else item
        for item, t in zip(items[3:], targets[3:], strict=True)
    ]
    assert turned == expected
    assert sum(t >= 0 for t in targets[3:]) > 50


def test_an_option_is_not_right_much_more_often_than_it_is_offered():
    """'person' is an answer whenever present and rarely an (absent) distractor: a
    text-only model would pick it whenever offered. It may be right at most OPTION_SHARE
    of the times the pool offers it."""
    from pipeline.mcq.balance_plan import OPTION_SHARE

    names = [f"n{k}" for k in range(12)]
    rows = [
        row(i, "person", aspect="entity", options=["person", *names[i % 9 : i % 9 + 3]])
        for i in range(20)
    ]
    rows += [
        row(100 + i, names[i % 12], aspect="entity", options=[names[i % 12], "person", "x", "y"])
        for i in range(10)
    ]
    rows += [
        row(200 + i, names[i % 12], aspect="entity", options=[names[i % 12], *names[:3]])
        for i in range(60)
    ]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    right = sum(r["answer_value"] == "person" for r in kept)
    assert 0 < right <= OPTION_SHARE / (1 - OPTION_SHARE) * 10
    assert plan["report"]["dropped_by_reason"].get("entity/mcq:option_prior", 0) > 0


def test_without_prior_balance_nothing_is_dropped_but_positions_still_spread():
    rows = skewed(60, 20, name=None)
    plan = plan_balance(rows, 0.5, balance=False)
    assert plan["drop"] == [] and plan_balance(rows, 0.5)["drop"]
    assert Counter(plan["position"].values()) == Counter({0: 20, 1: 20, 2: 20, 3: 20})


def test_a_group_with_a_single_answer_keeps_one_item():
    """Forty fill-in items that all answer "white": the strongest prior of all."""
    rows = [row(i, "white", form="fill_blank", name=f"n{i}") for i in range(40)]
    plan = plan_balance(rows, 0.5)
    assert len(rows) - len(plan["drop"]) == 1


def test_a_name_that_is_its_own_answer_is_not_a_prior():
    """Entity items are answered by their referent's name: grouping by name puts one
    answer in each group, which says nothing about a prior and must not cut it to one."""
    names = [f"n{k}" for k in range(8)]
    rows = [
        row(i, names[i % 8], aspect="entity", name=names[i % 8], form="fill_blank")
        for i in range(80)
    ]
    plan = plan_balance(rows, 0.5)
    assert len(rows) - len(plan["drop"]) > 8
