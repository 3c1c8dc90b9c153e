"""JSON Schema validation of records against schemas/*.schema.json (the contracts)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


class SchemaViolation(Exception):
    """A record the pipeline made does not match its schema: a bug, so the build stops."""


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(kind: str, record: dict[str, Any]) -> list[str]:
    """Every violation, as 'path: message'."""
    found = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in found]


def require_valid(kind: str, record: dict[str, Any]) -> None:
    found = problems(kind, record)
    if found:
        raise SchemaViolation(f"{kind} record {record.get('id', '?')} is invalid: {found[0]}")
