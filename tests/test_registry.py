"""The family registry (tables/families.toml): checked once at start-up, every problem one
clear error naming the file and the key; the generator kinds it knows are the ones the code
has."""

from __future__ import annotations

import copy

import pytest

from pipeline.errors import InputError
from pipeline.facts.generators import GENERATORS
from pipeline.facts.slots import VALUE_SLOTS
from pipeline.registry import GENERATOR_KINDS, load_registry, registry
from pipeline.tables import load_table


def raw() -> dict:
    return copy.deepcopy(load_table("families"))


def error_of(table: dict) -> InputError:
    with pytest.raises(InputError) as caught:
        load_registry(table)
    return caught.value


def test_generator_kinds_match_the_code():
    assert set(GENERATORS) == set(GENERATOR_KINDS)
    assert set(VALUE_SLOTS) <= set(GENERATOR_KINDS)


def test_shipped_registry_loads_and_every_family_renders_its_forms():
    reg = registry()
    assert reg.families, "no family"
    for family in reg.families.values():
        assert family.aspect in reg.aspects
        for form in family.forms:
            assert family.phrasing(form), (family.name, form)


def test_unknown_generator_kind_names_file_and_key():
    table = raw()
    table["families"]["color"]["generator"] = "colour_maker"
    error = error_of(table)
    assert error.path.endswith("families.toml")
    assert error.where == "families.color.generator"
    assert "colour_maker" in str(error)


def test_unknown_slot_names_the_template():
    table = raw()
    table["families"]["color"]["mcq"] = ["What color is {referent}?"]
    error = error_of(table)
    assert error.where == "families.color.mcq"
    assert "referent" in error.problem


def test_unknown_form_and_missing_phrasings():
    table = raw()
    table["families"]["color"]["forms"] = ["mcq", "essay"]
    assert "essay" in error_of(table).problem
    table = raw()
    del table["families"]["color"]["statement"]  # correction needs a statement
    assert error_of(table).where == "families.color.statement"


def test_generator_must_suit_the_aspect_grounding():
    table = raw()
    table["families"]["color"]["generator"] = "number"
    error = error_of(table)
    assert error.where == "families.color"
    assert "count" in error.problem


def test_unknown_aspect_and_unknown_keys():
    table = raw()
    table["families"]["color"]["aspect"] = "colour"
    assert error_of(table).where == "families.color.aspect"
    table = raw()
    table["families"]["color"]["phrasing"] = ["x"]
    assert "phrasing" in error_of(table).problem
    table = raw()
    table["aspects"]["texture"] = {"grounding": "attribute"}  # no attributes.toml section
    assert error_of(table).where == "aspects.texture"


def test_aspect_lists_come_from_the_registry():
    reg = registry()
    assert reg.attribute_aspects == ("color", "material", "shape", "size", "action")
    assert reg.scene_attributes[-1] == "other"
    assert "state" in reg.scene_attributes and "state" not in reg.asked_aspects
    assert "size" not in reg.single_valued_aspects


def test_conversation_phrasings_name_registered_families():
    """MSG-Conv's phrasings are keyed by family: a renamed family would silently stop
    appearing in conversations."""
    conv = load_table("conversations")
    named = set(conv["families"]) | set(conv["region"]) | set(conv["answer"])
    named |= set(conv["region_answer"])
    for section in conv["follow_up"].values():  # pronoun, same_name, anchor, answers
        named |= set(section)
    assert named <= set(registry().families), sorted(named - set(registry().families))


def test_schema_files_describe_the_shipped_registry():
    """The files in schemas/ are what users read: with the shipped tables, the parts the
    registry fills in must already say the same thing."""
    from pipeline.schema_files import load_schema, record_schema, registry_parts

    for name in ("scene", "mcq"):  # the kinds with parts the registry fills in
        on_disk, used = load_schema(name), record_schema(name)
        for path in registry_parts(name):
            a, b = on_disk, used
            for key in path:
                a, b = a[key], b[key]
            if "enum" in a:
                assert sorted(a["enum"]) == sorted(b["enum"]), (name, path)
            else:
                assert a == b, (name, path)


def test_a_task_reads_the_tables_folder_once_and_others_see_each_change(monkeypatch, tmp_path):
    from pipeline.tables import TABLES_ENV, tables_env, tables_env_pinned

    monkeypatch.setenv(TABLES_ENV, str(tmp_path / "a"))
    with tables_env_pinned():
        monkeypatch.setenv(TABLES_ENV, str(tmp_path / "b"))
        assert tables_env() == str(tmp_path / "a")  # pinned at the task's start
        with tables_env_pinned():
            assert tables_env() == str(tmp_path / "a")
        assert tables_env() == str(tmp_path / "a")  # the inner task left the pin as it was
    assert tables_env() == str(tmp_path / "b")  # outside a task: every change is seen
    monkeypatch.delenv(TABLES_ENV)
    assert tables_env() == ""
