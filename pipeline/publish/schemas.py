"""The JSON Schemas (records and manifest), loaded once."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

import pipeline
from pipeline.errors import InputError

_PACKAGE = Path(pipeline.__file__).resolve().parent
# The schemas live at the repository root; an installed package may carry a copy inside it.
SCHEMA_DIRS = (_PACKAGE.parent / "schemas", _PACKAGE / "schemas")


def schema_path(name: str) -> Path:
    for folder in SCHEMA_DIRS:
        path = folder / f"{name}.schema.json"
        if path.is_file():
            return path
    raise InputError(SCHEMA_DIRS[0] / f"{name}.schema.json", "JSON schema not found")


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def record_errors(name: str, record: Any) -> list[str]:
    """Every way `record` breaks schema `name`, each as "<json path>: <message>"."""
    return [
        f"{e.json_path}: {e.message}"
        for e in sorted(validator(name).iter_errors(record), key=lambda e: list(e.path))
    ]
