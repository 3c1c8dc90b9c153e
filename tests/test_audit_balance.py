"""Build-time balancing (pipeline/mcq/balance.py): the head-share bound, yes/no pairs and
rotations dropped together, uniform correct positions, and decisions independent of the
order rows arrive in (so of partitioning)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pyarrow as pa

from pipeline.mcq.balance import head_cap, plan_balance, rotate_column


def row(i: int, value: str, *, aspect="color", form="mcq", name="car", scene=None, **extra):
    ident = f"mcq-{i:016x}"
    base = {
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
    rows = skewed(60, 20, name=None)
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    answers = Counter(r["answer_value"] for r in kept)
    assert answers["red"] / len(kept) <= 0.5
    assert plan["report"]["dropped"] == {"color/mcq": 40}
    assert plan["report"]["before"]["items"] == {"color/mcq": 80}
    assert plan["report"]["after"]["items"] == {"color/mcq": 40}


def test_local_groups_are_bounded_too():
    # Globally balanced, but every "car" is red: the (aspect, form, name) bound catches it.
    rows = [row(i, "red", name="car") for i in range(20)]
    rows += [row(100 + i, "blue", name="car") for i in range(2)]
    rows += [row(200 + i, f"c{i % 5}", name="bus") for i in range(20)]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    cars = Counter(r["answer_value"] for r in kept if r["referent_name"] == "car")
    assert cars["red"] <= cars["blue"] == 2


def test_yes_no_pairs_and_existence_stay_together():
    rows = []
    for i in range(40):
        value = "red" if i < 30 else "blue"
        for answer in ("yes", "no"):
            rows.append(
                row(i, value, form="yes_no", answer=answer) | {"id": f"mcq-{i:015x}{answer[0]}"}
            )
    rows += [
        row(500 + i, "yes" if i % 2 else "no", aspect="existence", form="yes_no", name=f"n{i}")
        for i in range(10)
    ]
    plan = plan_balance(rows, 0.5)
    kept = [r for r in rows if r["id"] not in set(plan["drop"])]
    yes_no = Counter(r["answer"] for r in kept if r["aspect"] == "color")
    assert yes_no["yes"] == yes_no["no"] > 0
    assert sum(r["aspect"] == "existence" for r in kept) == 10  # POPE untouched


def test_positions_round_robin_and_rotations_keep_theirs():
    rows = [row(i, f"v{i % 7}", name=None) for i in range(41)]
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
    """The plan's drops by the plain per-unit algorithm (dicts, no arrays), to check the
    columnar one against."""
    from collections import defaultdict

    from pipeline.hashing import stable_hash64
    from pipeline.mcq.balance import unit_key
    from pipeline.mcq.balance_plan import EXEMPT_ASPECTS, MIN_LOCAL_GROUP

    units: dict[str, dict] = {}
    for r in rows:
        key = unit_key(r)
        unit = units.setdefault(key, {"row": r, "rank": stable_hash64("balance", key), "ids": []})
        unit["ids"].append(r["id"])
    kept = {k for k, u in units.items() if u["row"]["aspect"] not in EXEMPT_ASPECTS}

    def cap_groups(local: bool) -> bool:
        groups: dict = defaultdict(lambda: defaultdict(list))
        for key in kept:
            r = units[key]["row"]
            group = (r["aspect"], r["form"]) + ((r["referent_name"] or "",) if local else ())
            groups[group][r["answer_value"]].append(key)
        dropped = False
        for by_answer in groups.values():
            size = sum(len(keys) for keys in by_answer.values())
            if len(by_answer) < 2 or (local and size < MIN_LOCAL_GROUP):
                continue
            cap = head_cap([len(keys) for keys in by_answer.values()], share)
            for keys in by_answer.values():
                if len(keys) > cap:
                    keys.sort(key=lambda k: units[k]["rank"])
                    kept.difference_update(keys[cap:])
                    dropped = True
        return dropped

    while cap_groups(True) | cap_groups(False):
        pass
    kept_ids = {i for k in kept for i in units[k]["ids"]}
    kept_ids |= {r["id"] for r in rows if r["aspect"] in EXEMPT_ASPECTS}
    return {r["id"] for r in rows} - kept_ids


def test_columnar_plan_matches_the_plain_algorithm():
    rng = random.Random(3)
    drops = 0
    for trial in range(30):
        rows = []
        for i in range(rng.randint(0, 300)):
            aspect = rng.choice(["color", "material", "existence", "number"])
            form = rng.choice(["mcq", "yes_no"])
            name = rng.choice(["car", "bus", None, "dog"])
            value = rng.choice(["red"] * rng.randint(1, 6) + ["blue", "green", "2"])
            index = 0 if form == "mcq" else None  # yes/no items have no options
            rows.append(
                row(trial * 10_000 + i, value, aspect=aspect, form=form, name=name)
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
