"""The contracts and their copies: the JSON Schemas (top-level schemas/) load through one
loader, ship inside the wheel, agree with the Arrow schemas (pipeline/arrow_schemas.py)
field by field, and a record key the Arrow schema lacks is an error, never dropped."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline import arrow_schemas
from pipeline.batch_checks import JSON_TYPE_IS_ARROW
from pipeline.parquet_io import UnknownKeyError, write_table
from pipeline.schema_files import SUFFIX, load_schema, schema_dir, schema_names
from pipeline.validation import validator

REPO = Path(__file__).resolve().parent.parent
FILES = sorted((REPO / "schemas").glob(f"*{SUFFIX}"))


# -- the loader -----------------------------------------------------------------------------
def test_the_loader_reads_every_schema_from_the_checkout():
    assert schema_dir() == REPO / "schemas"
    assert schema_names() == [p.name.removesuffix(SUFFIX) for p in FILES]
    for name in schema_names():
        assert load_schema(name)["$id"].endswith(f"/{name}{SUFFIX}")
        validator(name)  # a valid draft 2020-12 schema


@pytest.mark.slow
def test_the_wheel_ships_every_schema_and_the_loader_finds_them(tmp_path):
    """Build a wheel from a copy of the sources, check its file list, unpack it (a pure
    Python wheel unpacked is its installed layout) and load every schema from there."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for folder in ("pipeline", "schemas"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(wheels)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("msg_pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
        site = tmp_path / "site"
        archive.extractall(site)
    assert {f"pipeline/schemas/{p.name}" for p in FILES} <= inside
    assert not any(n.startswith("schemas/") for n in inside)  # no stray top-level package

    # -S: no site-packages, so the project's editable install cannot answer instead.
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pipeline.schema_files import load_schema, schema_dir, schema_names;"
        "[load_schema(n) for n in schema_names()];"
        "print(schema_dir()); print(*schema_names())"
    )
    found = subprocess.run(
        [sys.executable, "-S", "-c", check, str(site)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert found == [str(site / "pipeline" / "schemas"), " ".join(schema_names())]


# -- JSON Schema <-> Arrow schema -----------------------------------------------------------
JSON_TYPE_OF_VALUE = {str: "string", bool: "boolean", int: "integer", float: "number"}
ARROW_TYPE_IS = JSON_TYPE_IS_ARROW  # the batch check relies on the same pairing


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _alternatives(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(node, root)
    for key in ("oneOf", "anyOf"):
        if key in node:
            return [alt for option in node[key] for alt in _alternatives(option, root)]
    return [node]


def _types(node: dict[str, Any]) -> set[str]:
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    values = node.get("enum", [node["const"]] if "const" in node else [])
    return {"null" if v is None else JSON_TYPE_OF_VALUE[type(v)] for v in values}


def field_disagreements(node: dict[str, Any], field: pa.Field, root: dict, path: str) -> list[str]:
    typed = [(kind, alt) for alt in _alternatives(node, root) for kind in _types(alt)]
    kinds = {kind for kind, _ in typed} - {"null"}
    found = []
    if any(kind == "null" for kind, _ in typed) and not field.nullable:
        found.append(f"{path}: the JSON schema allows null, the Arrow field is not nullable")
    if len(kinds) != 1:
        return [*found, f"{path}: JSON types {sorted(kinds)}, expected exactly one (and null)"]
    (kind,) = kinds
    if not ARROW_TYPE_IS[kind](field.type):
        return [*found, f"{path}: JSON {kind} but Arrow {field.type}"]
    alt = next(alt for k, alt in typed if k == kind)
    if kind == "array":
        found += field_disagreements(
            alt.get("items", {}), field.type.value_field, root, f"{path}[]"
        )
    elif kind == "object":
        found += disagreements(alt, list(field.type), root, path)
    return found


def disagreements(
    node: dict[str, Any], fields: list[pa.Field], root: dict, path: str = ""
) -> list[str]:
    """How an object schema's properties and Arrow fields differ (recursively), as text."""
    props = _resolve(node, root).get("properties", {})
    arrow = {field.name: field for field in fields}
    found = [f"{path}/{n}: only in the JSON schema" for n in sorted(props.keys() - arrow.keys())]
    found += [f"{path}/{n}: only in the Arrow schema" for n in sorted(arrow.keys() - props.keys())]
    for name in sorted(props.keys() & arrow.keys()):
        found += field_disagreements(props[name], arrow[name], root, f"{path}/{name}")
    return found


def record_kinds() -> dict[str, pa.Schema]:
    """Each JSON Schema with an Arrow schema of the same name (scene -> SCENE, ...)."""
    found = {n: getattr(arrow_schemas, n.upper(), None) for n in schema_names()}
    return {n: schema for n, schema in found.items() if isinstance(schema, pa.Schema)}


def test_every_record_kind_has_both_schemas():
    assert {"scene", "mcq", "conv"} <= record_kinds().keys()


@pytest.mark.parametrize("kind", sorted(record_kinds()))
def test_json_and_arrow_schemas_agree(kind):
    schema = load_schema(kind)
    assert disagreements(schema, list(record_kinds()[kind]), schema) == []


def test_the_comparison_sees_differences():
    schema = {
        "$defs": {"ids": {"type": "array", "items": {"type": "string"}}},
        "properties": {
            "a": {"type": ["integer", "null"]},
            "b": {"$ref": "#/$defs/ids"},
            "c": {"type": "array", "items": {"oneOf": [{"type": "null"}, {"properties": {}}]}},
            "d": {"type": "object", "properties": {"x": {"enum": ["p", "q"]}}},
            "only_json": {"type": "string"},
        },
    }
    arrow = pa.schema(
        [
            pa.field("a", pa.int64(), nullable=False),
            ("b", pa.list_(pa.int64())),
            ("c", pa.list_(pa.field("item", pa.struct([]), nullable=False))),
            ("d", pa.struct([("y", pa.string())])),
            ("only_arrow", pa.string()),
        ]
    )
    assert disagreements(schema, list(arrow), schema) == [
        "/only_json: only in the JSON schema",
        "/only_arrow: only in the Arrow schema",
        "/a: the JSON schema allows null, the Arrow field is not nullable",
        "/b[]: JSON string but Arrow int64",
        "/c[]: the JSON schema allows null, the Arrow field is not nullable",
        "/c[]: JSON types [], expected exactly one (and null)",
        "/d/x: only in the JSON schema",
        "/d/y: only in the Arrow schema",
    ]


# -- write_table: no key dropped silently ---------------------------------------------------
def test_a_top_level_key_the_arrow_schema_lacks_is_an_error(tmp_path):
    path = tmp_path / "mcq.parquet"
    rows = [{"id": "mcq-0000000000000001"}, {"id": "mcq-0000000000000002", "answr": "x"}]
    with pytest.raises(UnknownKeyError, match=r"mcq-0000000000000002: key 'answr'"):
        write_table(path, rows, arrow_schemas.MCQ)
    assert not path.exists()


def test_a_nested_key_the_arrow_schema_lacks_is_an_error(tmp_path):
    scene = {"scene_id": "coco/1", "objects": [{"object_id": "coco/ann/1", "attributes": {}}]}
    scene["objects"][0]["attributes"]["colour"] = ["red"]
    with pytest.raises(UnknownKeyError, match=r"coco/1: key 'objects.attributes.colour'"):
        write_table(tmp_path / "s.parquet", [scene], arrow_schemas.SCENE)
    turn = {"aspect": "color", "value": "red", "hint": "x"}
    conv = {"id": "conv-0000000000000001", "turn_facts": [None, turn]}
    with pytest.raises(UnknownKeyError, match=r"conv-0000000000000001: key 'turn_facts.hint'"):
        write_table(tmp_path / "c.parquet", [conv], arrow_schemas.CONV)


def test_rows_within_the_schema_are_written(tmp_path):
    conv = {"id": "conv-0000000000000001", "turn_facts": [None, {"aspect": "color"}]}
    table = write_table(tmp_path / "c.parquet", [conv], arrow_schemas.CONV)
    assert table.column("turn_facts").to_pylist()[0][1]["aspect"] == "color"
    assert table.column("split").to_pylist() == [None]  # a missing key is a null, as before
