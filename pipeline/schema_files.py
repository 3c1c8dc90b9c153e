"""The JSON Schemas (the record and manifest contracts): where they are, loaded once.

They live in the repository's top-level `schemas/` folder, which a checkout (an editable
install included) reads directly. A wheel carries the same files inside the package, as
`pipeline/schemas/` (setup.py maps the package `pipeline.schemas` to `schemas/`)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.registry import registry

SUFFIX = ".schema.json"
_PACKAGE = Path(__file__).resolve().parent
# Installed copy first: next to an installed package, `../schemas` could belong to anything.
SCHEMA_DIRS = (_PACKAGE / "schemas", _PACKAGE.parent / "schemas")


def schema_dir() -> Path:
    """The folder holding the schema files."""
    for folder in SCHEMA_DIRS:
        if folder.is_dir():
            return folder
    raise InputError(SCHEMA_DIRS[-1], "JSON schema folder not found")


def schema_names() -> list[str]:
    """Every schema by name ("scene", "mcq", ...), sorted."""
    return sorted(p.name.removesuffix(SUFFIX) for p in schema_dir().glob(f"*{SUFFIX}"))


def schema_path(name: str) -> Path:
    path = schema_dir() / f"{name}{SUFFIX}"
    if not path.is_file():
        raise InputError(path, "JSON schema not found")
    return path


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema; cached, so callers must not change it."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


# Parts of the record schemas that the family registry decides (JSON pointers into each
# schema): the files hold them for the shipped tables, and `record_schema` fills them in
# from the tables in use, so a copy of the tables with a new aspect validates.
def _attribute_object(aspects: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(aspects),
        "properties": {a: {"$ref": "#/$defs/values"} for a in aspects},
    }


def registry_parts(name: str) -> dict[tuple[str, ...], Any]:
    """Path in the schema -> the node the registry gives it."""
    reg = registry()
    aspect_enum = {"enum": list(reg.asked_aspects)}
    return {
        "scene": {
            ("$defs", "object", "properties", "attributes"): _attribute_object(reg.scene_attributes)
        },
        "mcq": {("properties", "aspect"): aspect_enum},
        "conv": {},
    }.get(name, {})


def record_schema(name: str) -> dict[str, Any]:
    """The schema records are checked against: the file, with the registry's parts."""
    schema = copy.deepcopy(load_schema(name))
    for path, node in registry_parts(name).items():
        parent = schema
        for key in path[:-1]:
            parent = parent[key]
        if path[-1] not in parent:
            raise InputError(schema_path(name), f"no {'/'.join(path)} to fill from the registry")
        parent[path[-1]] = node
    return schema
