"""The build's batch check (pipeline/batch_checks.py): a generator bug that makes an invalid
record still stops the build before anything is published, naming the record; every keyword
of the item schemas is checked somewhere; and on real records, valid and mutated, the batch
check and jsonschema agree."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import build_sample, read_scenes

from pipeline import arrow_schemas, batch_checks
from pipeline.batch_checks import (
    ANNOTATIONS,
    ARROW_ENFORCED,
    ARROW_SCHEMAS,
    KEY_WALK,
    KEYWORDS,
    UnsupportedSchema,
    check_supported,
    checked_table,
    inline_refs,
)
from pipeline.schema_files import load_schema
from pipeline.validation import SchemaViolation, record_errors, validator

Record = dict[str, Any]


def _records(out: Path, config: str) -> list[Record]:
    rows = pq.read_table(out / "data" / config).to_pylist()
    for row in rows:
        row.pop("image", None)
    return rows


@pytest.fixture(scope="module")
def real_records(real_build: Path, real_inputs, tmp_path_factory) -> dict[str, list[Record]]:
    """Scenes and MCQ items of the session's real build, and conv samples of a real build with half
    the images on the tuning side."""
    conv_out = build_sample(real_inputs, tmp_path_factory.mktemp("conv") / "out")
    return {
        "scene": read_scenes(real_build),
        "mcq": _records(real_build, "mcq"),
        "conv": _records(conv_out, "conv"),
    }


def _check(kind: str, rows: list[Record]) -> pa.Table:
    return checked_table(kind, rows, ARROW_SCHEMAS[kind])


# -- planted generator bugs ------------------------------------------------------------------
def _first_of(kind: str) -> Callable[[list[Record]], Record]:
    """The record to corrupt among a scene's: for MCQ the first multiple-choice one."""
    if kind == "mcq":
        return lambda records: next((r for r in records if r["form"] == "mcq"), None)
    return lambda records: records[0] if records else None


MCQ_BUGS: dict[str, tuple[Callable[[Record], None], str]] = {
    "answer_index_past_the_options": (lambda r: r.update(answer_index=7), "answer_index: maximum"),
    "aspect_outside_enum": (lambda r: r.update(aspect="smell"), "aspect: enum"),
    "empty_question": (lambda r: r.update(question=""), "question: minLength"),
    "duplicate_option": (lambda r: r["options"].__setitem__(1, r["options"][0]), "uniqueItems"),
    "wrong_type": (lambda r: r.update(width="640"), "Arrow types"),
    "string_for_a_list": (lambda r: r.update(evidence_ids="coco/ann/1"), "keys: evidence_ids"),
    "missing_field": (lambda r: r.pop("referent_name"), "keys: keys [] not allowed"),
    "extra_key": (lambda r: r.update(answr="x"), "keys: keys ['answr']"),
    "bad_id": (lambda r: r.update(id=r["id"].upper()), "id: pattern"),
    "null_question": (lambda r: r.update(question=None), "question: type"),
    "three_options": (lambda r: r["options"].pop(), "options: minItems"),
    # Schema-valid: only the rule between answer and options (pipeline/record_rules.py).
    "answer_not_the_indexed_option": (
        lambda r: r.update(answer_index=(r["answer_index"] + 1) % len(r["options"])),
        "answer is not the option at answer_index",
    ),
    "bad_distractor_source": (
        lambda r: r["distractor_sources"][0].update(source="guess"),
        "source: enum",
    ),
}
CONV_BUGS: dict[str, tuple[Callable[[Record], None], str]] = {
    "first_turn_not_human": (
        lambda r: r["conversations"][0].update({"from": "gpt"}),
        "prefixItems/0/from: const",
    ),
    "no_image_token": (
        lambda r: r["conversations"][0].update(value="what is this?"),
        "prefixItems/0/value: pattern",
    ),
    "unknown_kind": (lambda r: r.update(kind="chat"), "kind: enum"),
    "extra_turn_fact_key": (
        lambda r: r["turn_facts"].__setitem__(0, {"aspect": "a", "value": "b", "hint": 1}),
        "keys: turn_facts",
    ),
    "sentences_outside_description": (
        lambda r: r.update(sentences=r["sentences"] or ["A sentence."]),
        "else/sentences: maxItems",
    ),
}


SCENE_BUGS: dict[str, tuple[Callable[[Record], None], str]] = {
    "bad_scene_id": (lambda r: r.update(scene_id="coco/x1"), "scene_id: pattern"),
    "zero_width": (lambda r: r.update(width=0), "width: minimum"),
    "box_of_three": (lambda r: r["objects"][0]["bbox"].pop(), "bbox: minItems"),
    "negative_area": (lambda r: r["objects"][0].update(area=-1.0), "area: minimum"),
    "object_source_outside_enum": (lambda r: r["objects"][0].update(source="flickr"), "enum"),
    "extra_object_key": (lambda r: r["objects"][0].update(colour="red"), "keys: objects"),
    "empty_caption": (lambda r: r["captions"][0].update(text=""), "text: minLength"),
}


def _plant(monkeypatch, module: Any, name: str, kind: str, bug: Callable) -> dict[str, str]:
    """Wrap the stage's record maker so that it corrupts one record of the first scene
    with records of `kind`; returns {'id': the corrupted record's id} once it has."""
    planted: dict[str, str] = {}
    make = getattr(module, name)
    pick = _first_of(kind)

    def corrupting(*args: Any, **kwargs: Any) -> list[Record]:
        records = make(*args, **kwargs)
        victim = pick(records) if not planted else None
        if victim is not None:
            planted["id"] = victim["id"]
            bug(victim)
        return records

    monkeypatch.setattr(module, name, corrupting)
    return planted


def _assert_stopped_before_publishing(out: Path, planted: dict[str, str], excinfo) -> None:
    message = str(excinfo.value)
    assert planted["id"] in message
    assert "is invalid: " in message and "(caught by " in message
    assert not list(out.glob("data/**/*.parquet"))
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    "bug",
    [
        "answer_index_past_the_options",
        "extra_key",
        "string_for_a_list",
        "answer_not_the_indexed_option",
    ],
)
def test_a_planted_mcq_bug_stops_a_real_build(bug, real_inputs, tmp_path, monkeypatch):
    from pipeline.mcq import stage

    corrupt, rule = MCQ_BUGS[bug]
    planted = _plant(monkeypatch, stage, "mcq_items", "mcq", corrupt)
    out = tmp_path / "out"
    with pytest.raises(SchemaViolation) as excinfo:
        build_sample(real_inputs, out, tuning_fraction=0.0)
    assert rule in str(excinfo.value)
    _assert_stopped_before_publishing(out, planted, excinfo)


def test_a_planted_conv_bug_stops_a_real_build(real_inputs, tmp_path, monkeypatch):
    from pipeline.conv import stage

    corrupt, rule = CONV_BUGS["no_image_token"]
    planted = _plant(monkeypatch, stage, "conv_samples", "conv", corrupt)
    out = tmp_path / "out"
    with pytest.raises(SchemaViolation) as excinfo:
        build_sample(real_inputs, out)
    assert rule in str(excinfo.value)
    assert "does not match '^<image>\\\\n'" in str(excinfo.value)  # jsonschema's own message
    _assert_stopped_before_publishing(out, planted, excinfo)


def test_a_planted_scene_bug_stops_a_real_build(real_inputs, tmp_path, monkeypatch):
    """Scenes are published (<out>/scenes/): the scene stage checks them like the items."""
    from pipeline import stages

    make = stages.build_scenes
    planted: dict[str, str] = {}

    def corrupting(*args: Any, **kwargs: Any) -> list[Record]:
        scenes = make(*args, **kwargs)
        victim = next((s for s in scenes if s["objects"]), None) if not planted else None
        if victim is not None:
            planted["id"] = victim["scene_id"]
            victim["objects"][0]["bbox"] = [1.0, 2.0, -3.0, 4.0]
        return scenes

    monkeypatch.setattr(stages, "build_scenes", corrupting)
    out = tmp_path / "out"
    with pytest.raises(SchemaViolation, match="bbox/2: -3.0 is less than the minimum of 0"):
        build_sample(real_inputs, out)
    assert not (out / "scenes").exists()
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize("bug", sorted(SCENE_BUGS))
def test_each_planted_scene_bug_is_caught_naming_scene_and_rule(bug, real_records):
    corrupt, rule = SCENE_BUGS[bug]
    rows = copy.deepcopy(real_records["scene"])
    victim = next(r for r in rows[len(rows) // 2 :] + rows if r["objects"] and r["captions"])
    corrupt(victim)
    named = rf"^scene record {victim['scene_id']} is invalid: "
    with pytest.raises(SchemaViolation, match=named) as excinfo:
        _check("scene", rows)
    assert rule in str(excinfo.value)
    assert "jsonschema accepts it" not in str(excinfo.value)


def _corrupt_one(records: list[Record], kind: str, bug: Callable) -> tuple[list[Record], str]:
    """A copy of `records` with one record, in the middle, corrupted; and its id."""
    rows = copy.deepcopy(records)
    middle = rows[len(rows) // 2 :]
    victim = (
        _first_of(kind)(middle)
        if kind == "mcq"
        else next(r for r in middle if r["kind"] != "description")
    )
    bug(victim)
    return rows, victim["id"]


PLANTED = [("mcq", bug) for bug in sorted(MCQ_BUGS)] + [("conv", bug) for bug in sorted(CONV_BUGS)]


@pytest.mark.parametrize(("kind", "bug"), PLANTED)
def test_each_planted_bug_is_caught_naming_record_and_rule(kind, bug, real_records):
    corrupt, rule = {"mcq": MCQ_BUGS, "conv": CONV_BUGS}[kind][bug]
    rows, victim = _corrupt_one(real_records[kind], kind, corrupt)
    with pytest.raises(SchemaViolation, match=rf"^{kind} record {victim} is invalid: ") as excinfo:
        _check(kind, rows)
    assert rule in str(excinfo.value)
    assert "jsonschema accepts it" not in str(excinfo.value)


def test_the_first_offending_record_is_the_one_reported(real_records):
    rows = copy.deepcopy(real_records["mcq"])
    rows[-1]["question"] = ""  # a column rule, late
    rows[3]["answr"] = "x"  # a key rule, early
    rows[1]["pope_setting"] = "often"  # a column rule, earliest
    with pytest.raises(SchemaViolation, match=rf"^mcq record {rows[1]['id']} is invalid"):
        _check("mcq", rows)


# -- every keyword is checked somewhere ------------------------------------------------------
def _keywords(node: Any) -> set[str]:
    """Every keyword of a schema (the names under "properties" are not keywords)."""
    if isinstance(node, list):
        return {k for item in node for k in _keywords(item)}
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key == "properties":
            found |= {k for inner in value.values() for k in _keywords(inner)}
        elif key not in ("enum", "const"):
            found |= _keywords(value)
    return found


@pytest.mark.parametrize("kind", sorted(ARROW_SCHEMAS))
def test_every_keyword_of_the_item_schemas_is_checked(kind):
    used = _keywords(inline_refs(load_schema(kind)))  # as the checks see it
    column_checked = set(KEYWORDS) - KEY_WALK - ANNOTATIONS
    accounted = column_checked | KEY_WALK | set(ARROW_ENFORCED) | ANNOTATIONS
    assert used <= accounted, sorted(used - accounted)
    seen = {"pattern", "enum", "required", "items"} | ({"if"} if kind != "scene" else set())
    assert seen <= used  # the walk saw them


def test_inline_refs_replaces_local_definitions():
    schema = {
        "$defs": {"ids": {"type": "array", "items": {"type": "string"}}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/ids", "maxItems": 2}, "b": {"type": "integer"}},
    }
    assert inline_refs(schema) == {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "b": {"type": "integer"},
        },
    }


@pytest.mark.parametrize(
    ("defs", "node", "why"),
    [
        ({}, {"$ref": "other.json#/x"}, "only a non-recursive"),  # not local
        ({}, {"$ref": "#/$defs/missing"}, "only a non-recursive"),
        (
            {"loop": {"items": {"$ref": "#/$defs/loop"}}},
            {"$ref": "#/$defs/loop"},
            "only a non-recursive",
        ),
        ({"t": {"type": "string"}}, {"$ref": "#/$defs/t", "type": "integer"}, "['type'] twice"),
    ],
)
def test_inline_refs_refuses_what_it_cannot_inline(defs, node, why):
    with pytest.raises(UnsupportedSchema, match=re.escape(why)):
        inline_refs({"$defs": defs, "properties": {"a": node}})


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["properties"]["width"].update(multipleOf=2),  # no column check for it
        lambda s: s["properties"]["question"].update(format="email"),
        lambda s: s["properties"]["referent_bbox"]["oneOf"].append({"type": "string"}),
        lambda s: s["properties"].update(extra={"type": "string"}),  # not in the Arrow schema
        lambda s: s["properties"]["width"].update(type="string"),  # not the Arrow type
        lambda s: s["allOf"][0]["if"].update(required=["form"]),
    ],
)
def test_a_schema_the_column_checks_cannot_follow_fails_loudly(edit):
    schema = copy.deepcopy(load_schema("mcq"))
    edit(schema)
    with pytest.raises(UnsupportedSchema):
        check_supported(schema, pa.struct(list(arrow_schemas.MCQ)), "")


def test_an_object_left_open_fails_loudly():
    schema = copy.deepcopy(load_schema("mcq"))
    del schema["additionalProperties"]
    with pytest.raises(UnsupportedSchema):
        batch_checks.keys_of(schema)


def test_only_the_checked_arrow_schema_is_accepted(real_records):
    with pytest.raises(ValueError, match="only its Arrow schema"):
        checked_table("mcq", real_records["mcq"][:2], arrow_schemas.CONV)


# -- batch check and jsonschema agree --------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(ARROW_SCHEMAS))
def test_real_records_pass_both_checks_and_are_written_as_before(kind, real_records):
    rows = real_records[kind]
    assert rows
    assert all(validator(kind).is_valid(r) for r in rows)
    table = _check(kind, rows)
    assert table.equals(pa.Table.from_pylist(rows, schema=ARROW_SCHEMAS[kind]))


def _values_of(rows: list[Record]) -> dict[str, list[Any]]:
    """Per top-level key, the values real records hold (mutations borrow them)."""
    return {key: [r[key] for r in rows[:200]] for key in rows[0]}


def _mutations(rng: random.Random, borrowed: dict[str, list[Any]]) -> list[Callable]:
    """Ways to change one record: swaps between records, nulls, empties, wrong types,
    removed or added keys, changed strings and list elements."""

    def at(record: Record) -> str:
        return rng.choice(sorted(record))

    def swap(r: Record) -> None:
        key = at(r)
        r[key] = copy.deepcopy(rng.choice(borrowed[key]))

    def nested(r: Record) -> None:  # change a value inside a list or an object
        lists = [k for k, v in r.items() if isinstance(v, list) and v]
        if not lists:
            return
        key = rng.choice(lists)
        index = rng.randrange(len(r[key]))
        item = r[key][index]
        if isinstance(item, dict) and item:
            item[rng.choice(sorted(item))] = rng.choice(ODD_VALUES)
        elif isinstance(item, list) and item:
            item[rng.randrange(len(item))] = rng.choice(ODD_VALUES)
        else:
            r[key][index] = rng.choice([*ODD_VALUES, *r[key]])

    return [
        swap,
        swap,
        nested,
        nested,
        lambda r: r.update({at(r): rng.choice(ODD_VALUES)}),
        lambda r: r.pop(at(r)),
        lambda r: r.update({"extra": 1}),
        lambda r: r.update({k: v + rng.choice(["\n", "x", "-r9", ""]) for k, v in [_a_string(r)]}),
        lambda r: r.update({k: v[:-1] for k, v in [_a_list(r)]}),
        lambda r: r.update({k: v + v[:1] for k, v in [_a_list(r)]}),
    ]


ODD_VALUES: list[Any] = [None, "", "x", 0, -1, 4, 1.5, True, [], ["x"], [""], {}, "yes", "mcq"]


def _a_string(record: Record) -> tuple[str, str]:
    return next((k, v) for k, v in sorted(record.items()) if isinstance(v, str))


def _a_list(record: Record) -> tuple[str, list]:
    return next(((k, v) for k, v in sorted(record.items()) if isinstance(v, list) and v), ("x", []))


@pytest.mark.parametrize("kind", sorted(ARROW_SCHEMAS))
def test_on_mutated_real_records_the_batch_check_and_jsonschema_agree(kind, real_records):
    """Each mutated record is checked alone and inside a batch of valid ones: the batch
    check stops exactly when `msg validate`'s check (jsonschema, then the record rules)
    finds a problem."""
    rng = random.Random(21)
    valid = real_records[kind][:50]
    mutations = _mutations(rng, _values_of(real_records[kind]))
    verdicts = {True: 0, False: 0}
    for _ in range(400):
        record = copy.deepcopy(rng.choice(real_records[kind]))
        for mutate in rng.sample(mutations, rng.choice([1, 1, 2])):
            mutate(record)
        expected = not record_errors(kind, record)  # the schema and the record rules
        for batch in ([record], [*valid[:25], record, *valid[25:]]):
            try:
                _check(kind, batch)
                verdict = "passed"
            except SchemaViolation as exc:
                verdict = str(exc)
            assert (verdict == "passed") == expected, (record, verdict)
            assert "jsonschema accepts it" not in verdict
        verdicts[expected] += 1
    assert verdicts[True] >= 20 and verdicts[False] >= 200  # both sides were exercised


@pytest.mark.parametrize(
    "turn",
    [
        {"from": "human", "value": ["<image>\nx"]},
        {"from": "human", "value": "<image>\nWhat is red?", "hint": "x"},
        {"from": "human"},
    ],
)
def test_the_first_turn_is_held_to_the_turn_rules_too(turn, real_records):
    """Draft 2020-12 `items` skips the elements `prefixItems` covers: the conv schema keeps
    its first-turn rule inside allOf so that jsonschema (`msg validate`) checks the first
    turn's keys and types as the build does."""
    record = copy.deepcopy(real_records["conv"][0])
    record["conversations"][0] = turn
    assert not validator("conv").is_valid(record)
    with pytest.raises(SchemaViolation, match="conversations/0"):
        _check("conv", [record])


@pytest.mark.parametrize("kind", sorted(ARROW_SCHEMAS))
def test_the_batch_screen_flags_every_batch_the_key_walk_faults(kind, real_records):
    """The screen lets a batch skip the record-by-record key walk: it must say "maybe"
    whenever the walk finds something in some record, and "no" on the real records."""
    keys = batch_checks._plan(kind)[1]
    assert not batch_checks._may_have_key_problem(real_records[kind], keys)
    rng = random.Random(8)
    valid = real_records[kind][:20]
    mutations = _mutations(rng, _values_of(real_records[kind]))
    faulted = 0
    for _ in range(400):
        record = copy.deepcopy(rng.choice(real_records[kind]))
        rng.choice(mutations)(record)
        batch = [*valid[:10], record, *valid[10:]]
        if batch_checks.key_problem(record, keys) is not None:
            faulted += 1
            assert batch_checks._may_have_key_problem(batch, keys), record
    assert faulted >= 50  # the walk's side was exercised
