"""Each MSG-MCQ label rule on crafted scenes: every test breaks when its rule is removed."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from pipeline.config import BuildOptions
from pipeline.facts.context import make_context
from pipeline.facts.generators import direction, family_facts
from pipeline.facts.stats import Stats, scene_stats
from pipeline.mcq.stage import mcq_items

OPTIONS = BuildOptions(
    seed=0, count_cap=10, min_count_area=256.0, spatial_margin=0.1, circular=False
)
EMPTY = {
    "color": [],
    "material": [],
    "shape": [],
    "size": [],
    "action": [],
    "state": [],
    "other": [],
}


def obj(oid: str, name: str, box, *, coco: str | None = None, crowd=False, **attrs):
    source = "coco" if oid.startswith("coco") else "vg"
    return {
        "object_id": oid,
        "source": source,
        "raw_name": name,
        "name": name,
        "synset": None,
        "bbox": list(box),
        "area": float(box[2] * box[3]),
        "iscrowd": crowd,
        "coco_category": coco,
        "coco_category_id": 1 if coco else None,
        "duplicate_of": None,
        "attributes": EMPTY | {k: sorted(v) for k, v in attrs.items()},
        "raw_attributes": [],
        "multi_valued": [],
        "evidence_ids": [oid],
    }


def scene(objects, source="vg", relations=()):
    return {
        "scene_id": f"{source}/1",
        "image_source": source,
        "image_id": 1,
        "width": 1000,
        "height": 1000,
        "file_name": "1.jpg",
        "url": "",
        "evidence_ids": [f"{source}/img/1"],
        "objects": objects,
        "relations": list(relations),
        "captions": [],
    }


def facts(family: str, s: dict, stats: Stats | None = None):
    ctx = make_context(s, stats or Stats(scene_stats([s])), OPTIONS)
    return family_facts(ctx, family), ctx.skipped


def test_count_uses_only_clean_coco_categories():
    zebras = [obj(f"coco/ann/{i}", "zebra", (i * 100, 0, 80, 80), coco="zebra") for i in range(3)]
    found, _ = facts("number", scene(zebras, "coco"))
    assert [f.value for f in found if f.referent_name == "zebra"] == ["3"]

    crowd = zebras + [obj("coco/ann/9", "zebra", (0, 500, 400, 300), coco="zebra", crowd=True)]
    found, skipped = facts("number", scene(crowd, "coco"))
    assert not [f for f in found if f.referent_name == "zebra"] and skipped["number:crowd"] == 1

    tiny = zebras + [obj("coco/ann/9", "zebra", (900, 900, 10, 10), coco="zebra")]
    found, skipped = facts("number", scene(tiny, "coco"))
    assert not [f for f in found if f.referent_name == "zebra"] and skipped["number:too_small"]

    many = [obj(f"coco/ann/{i}", "cup", (i * 80, 0, 60, 60), coco="cup") for i in range(12)]
    found, skipped = facts("number", scene(many, "coco"))
    assert not [f for f in found if f.referent_name == "cup"] and skipped["number:over_cap"]


def test_no_count_from_visual_genome():
    found, skipped = facts("number", scene([obj("vg/obj/1", "zebra", (0, 0, 90, 90))]))
    assert found == [] and skipped["number:not_exhaustive"] == 1


def test_ambiguous_name_is_referred_to_by_region():
    buses = [
        obj("vg/obj/1", "bus", (0, 0, 300, 300), color={"red"}),
        obj("vg/obj/2", "bus", (600, 600, 300, 300), color={"blue"}),
    ]
    found, _ = facts("color", scene(buses))
    assert len(found) == 2
    assert all("in the region [" in f.slots["ref"] for f in found)
    single, _ = facts("color", scene(buses[:1]))
    assert single[0].slots["ref"] == "the bus"


def test_distractors_exclude_values_true_of_any_same_named_object():
    buses = [
        obj("vg/obj/1", "bus", (0, 0, 300, 300), color={"red"}),
        obj("vg/obj/2", "bus", (600, 600, 300, 300), color={"blue"}),
        obj("vg/obj/3", "car", (300, 600, 200, 200), color={"green"}),
    ]
    found, _ = facts("color", scene(buses))
    red = next(f for f in found if f.value == "red")
    offered = {d.option for d in red.distractors}
    assert "blue" not in offered and "red" not in offered
    assert "green" in offered  # another object's value: a plausible, wrong distractor


def test_confusable_and_synonym_values_are_never_distractors():
    found, _ = facts("color", scene([obj("vg/obj/1", "car", (0, 0, 300, 300), color={"gray"})]))
    offered = {d.option for d in found[0].distractors}
    assert "silver" not in offered and "grey" not in offered and "gray" not in offered
    assert offered, "other colours are still offered"


def test_duplicate_boxes_with_conflicting_values_make_no_item():
    boxes = [
        obj("vg/obj/1", "bench", (100, 100, 300, 200), material={"wood"}),
        obj("vg/obj/2", "bench", (105, 100, 300, 200), material={"metal"}),
    ]
    found, skipped = facts("material", scene(boxes))
    assert found == [] and skipped["material:conflicting_labels"] == 1


def test_compound_value_makes_no_item():
    shirt = obj("vg/obj/1", "shirt", (0, 0, 300, 300), color={"white", "red"})
    shirt["multi_valued"] = ["color"]
    found, skipped = facts("color", scene([shirt]))
    assert found == [] and skipped["color:multi_valued"] == 1


def test_question_never_contains_its_answer():
    """ "the red bus" would give "red" away, and "the orange cloth" contradict "white": a
    name that states a value of the aspect is not asked about in it."""
    s = scene(
        [
            obj("vg/obj/1", "red bus", (0, 0, 300, 300), color={"red"}),
            obj("vg/obj/2", "orange cloth", (400, 0, 300, 300), color={"white"}),
        ]
    )
    skipped: Counter = Counter()
    items = mcq_items(s, Stats(scene_stats([s])), OPTIONS, skipped)
    assert not [i for i in items if i["aspect"] == "color"]
    assert skipped["color:name_states_the_aspect"] == 2


def test_spatial_needs_a_clear_margin():
    assert direction([0, 0, 100, 100], [500, 0, 100, 100], 1000, 1000, 0.1) == {"left"}
    assert direction([0, 0, 100, 100], [50, 0, 100, 100], 1000, 1000, 0.1) == set()
    aligned = [
        obj("vg/obj/1", "cup", (400, 400, 100, 100)),
        obj("vg/obj/2", "laptop", (420, 410, 100, 100)),
    ]
    found, skipped = facts("spatial", scene(aligned))
    assert found == [] and skipped["spatial:boxes_nearly_align"] >= 1
    apart = [
        obj("vg/obj/1", "cup", (50, 400, 100, 100)),
        obj("vg/obj/2", "laptop", (700, 400, 200, 100)),
    ]
    found, _ = facts("spatial", scene(apart))
    assert {(f.referent_name, f.value) for f in found} == {("cup", "left"), ("laptop", "right")}


def test_entity_distractors_are_absent_and_unrelated():
    objs = [obj("coco/ann/1", "dog", (0, 0, 300, 300), coco="dog")]
    other = scene(
        [
            obj("coco/ann/2", "cat", (0, 0, 90, 90), coco="cat"),
            obj("coco/ann/3", "animal", (0, 0, 90, 90), coco="animal"),
        ],
        "coco",
    )
    s = scene(objs, "coco")
    stats = Stats(scene_stats([s, other]))
    found, _ = facts("entity_present", s, stats)
    offered = {d.option for d in found[0].distractors}
    assert "dog" not in offered and "animal" not in offered  # hypernym of the answer
    assert "cat" in offered


def test_items_depend_on_seed_and_key_only():
    s = scene(
        [
            obj("vg/obj/1", "car", (0, 0, 300, 300), color={"red"}),
            obj("vg/obj/2", "tree", (600, 0, 300, 300), color={"green"}),
        ]
    )
    stats = Stats(scene_stats([s]))
    first = mcq_items(s, stats, OPTIONS, Counter())
    again = mcq_items(s, stats, OPTIONS, Counter())
    assert first == again
    other_seed = mcq_items(s, stats, replace(OPTIONS, seed=7), Counter())
    assert [i["id"] for i in other_seed] == [i["id"] for i in first]
    assert [i["options"] for i in other_seed] != [i["options"] for i in first]


def test_yes_no_is_one_true_and_one_false_statement_per_fact():
    s = scene([obj("vg/obj/1", "car", (0, 0, 300, 300), color={"red"})])
    items = [
        i
        for i in mcq_items(s, Stats(scene_stats([s])), OPTIONS, Counter())
        if i["form"] == "yes_no"
    ]
    assert sorted(i["answer"] for i in items) == ["no", "yes"]


def test_circular_rotations_share_a_group():
    s = scene([obj("vg/obj/1", "car", (0, 0, 300, 300), color={"red"})])
    opts = replace(OPTIONS, circular=True)
    items = [
        i for i in mcq_items(s, Stats(scene_stats([s])), opts, Counter()) if i["form"] == "mcq"
    ]
    assert len(items) == 4 and len({i["group_id"] for i in items}) == 1
    assert sorted(i["answer_index"] for i in items) == [0, 1, 2, 3]
    # Rotation k is the options of rotation 0 turned left by k, same answer, own id.
    items.sort(key=lambda i: i["rotation"])
    base = items[0]["options"]
    for k, item in enumerate(items):
        assert item["rotation"] == k and item["id"] == f"{item['group_id']}-r{k}"
        assert item["options"] == base[k:] + base[:k]
        assert item["options"][item["answer_index"]] == item["answer"] == items[0]["answer"]


def test_a_box_over_several_objects_is_never_asked_about():
    """A VG box named "chairs" (recorded as a crowd region) covers several chairs: no
    colour, region, spatial or relation fact may call it "the chair"."""

    def chairs(crowd: bool) -> dict:
        return scene(
            [
                obj("vg/obj/1", "chair", (50, 400, 150, 150), crowd=crowd, color={"red"}),
                obj("vg/obj/2", "lamp", (700, 400, 150, 150), color={"white"}),
            ],
            relations=[
                {
                    "relation_id": "vg/rel/1",
                    "subject_id": "vg/obj/2",
                    "predicate": "near",
                    "raw_predicate": "near",
                    "object_id": "vg/obj/1",
                    "synset": None,
                }
            ],
        )

    def about_chairs(s: dict) -> set[str]:
        return {
            family
            for family in ("color", "entity_region", "spatial", "relation")
            for f in facts(family, s)[0]
            if "vg/obj/1" in f.referent_ids
        }

    # One chair: asked in every family that can ask it (the rule is what removes them).
    assert {"color", "entity_region", "spatial"} <= about_chairs(chairs(crowd=False))
    assert about_chairs(chairs(crowd=True)) == set()
    # The lamp is still asked about.
    assert any("vg/obj/2" in f.referent_ids for f in facts("color", chairs(crowd=True))[0])


def test_no_yes_no_question_states_a_count_of_zero():
    """ "Are there no zebras in the image?" is a negative question whose "no" is ambiguous:
    a count of zero is asked in the other forms, never stated by a yes/no item."""
    animals = [obj(f"coco/ann/{i}", "zebra", (i * 200, 0, 150, 150), coco="zebra") for i in (1,)]
    animals += [obj(f"coco/ann/{i}", "cup", (i * 200, 500, 150, 150), coco="cup") for i in (2, 3)]
    s = scene(animals, "coco")
    stats = Stats(scene_stats([s]))
    stated, offered, yes_no = set(), set(), 0
    for seed in range(40):
        skipped: Counter = Counter()
        for i in mcq_items(s, stats, replace(OPTIONS, seed=seed), skipped):
            if i["aspect"] != "number":
                continue
            if i["form"] == "yes_no":
                yes_no += 1
                stated |= {i["answer_value"]} | {d["option"] for d in i["distractor_sources"]}
            elif i["form"] == "mcq":
                offered |= set(i["options"])
    assert yes_no and "0" in offered  # zero is a count the other forms ask and offer
    assert "0" not in stated


def test_times_weather_views_and_colours_are_not_referents():
    """ "What is the object in the region ...?" never answers or offers "daytime",
    "weather" or "green": no region shows one, and a text-only model rules them out."""
    from pipeline.facts.referents import can_refer
    from pipeline.normalize import Vocabulary

    for name in ("daytime", "weather", "view", "green", "white"):
        assert not can_refer(name), name
    for name in ("orange", "cup", "stop sign", "sign"):
        assert can_refer(name), name
    assert Vocabulary.load().object_name("mean") == "man"  # a VG typo
    s = scene(
        [
            obj("vg/obj/1", "weather", (100, 100, 300, 300)),
            obj("vg/obj/2", "cup", (500, 500, 200, 200)),
        ]
    )
    found, _ = facts("entity_region", s)
    assert [f.value for f in found] == ["cup"]
    assert not {d.option for f in found for d in f.distractors} & {"weather", "daytime"}


def test_a_region_two_unrelated_names_fill_is_not_asked():
    """ "What is the object in the region ...?" has no single answer when a "monitor" and
    a "computer" box cover the same region."""
    monitor = obj("vg/obj/1", "monitor", (100, 100, 300, 200))
    cup = obj("vg/obj/3", "cup", (600, 600, 150, 150))
    found, _ = facts("entity_region", scene([monitor, cup]))
    assert {f.value for f in found} == {"monitor", "cup"}
    computer = obj("vg/obj/2", "computer", (110, 105, 290, 200))
    found, skipped = facts("entity_region", scene([monitor, computer, cup]))
    assert {f.value for f in found} == {"cup"}
    assert skipped["entity_region:region_shows_two_objects"] == 2
