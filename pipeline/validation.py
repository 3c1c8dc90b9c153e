"""JSON Schema validation of records against schemas/*.schema.json (the contracts).

`jsonschema` is the reference: it lists every problem, and `msg validate` checks every
published record with it. The build checks its records in batches, column by column
(pipeline/batch_checks.py); where Arrow refuses a batch, `is_valid` finds the first invalid
record with the schema compiled to Python by `fastjsonschema` (ten times faster), except
for schemas that use keywords it does not know (then jsonschema).
The schema files are found and read by pipeline/schema_files.py."""

from __future__ import annotations

from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from pipeline.record_rules import rule_errors
from pipeline.schema_files import record_schema


class SchemaViolation(Exception):
    """A record the pipeline made does not match its schema: a bug, so the build stops."""


# Keywords of draft 2020-12 that fastjsonschema (drafts 4 to 7) would silently ignore.
NEWER_KEYWORDS = {
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "dependentRequired",
    "dependentSchemas",
    "minContains",
    "maxContains",
}


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = record_schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keywords(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keywords(v)}
    return set()


@cache
def fast_validator(kind: str) -> Any:
    """The compiled check, or None where the schema needs keywords it cannot check."""
    schema = record_schema(kind)
    if _keywords(schema) & NEWER_KEYWORDS:
        return None
    return fastjsonschema.compile(schema)


def is_valid(kind: str, record: dict[str, Any]) -> bool:
    fast = fast_validator(kind)
    if fast is None:
        return validator(kind).is_valid(record)
    try:
        fast(record)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def problems(kind: str, record: dict[str, Any]) -> list[str]:
    """Every violation, as 'path: message'."""
    found = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in found]


def record_errors(kind: str, record: Any) -> list[str]:
    """Every violation, as '<json path>: <message>' (the form `msg validate` prints): the
    schema's, then, for a record the schema accepts, the rules between its fields."""
    found = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.path))
    if not found:
        return rule_errors(kind, record)
    return [f"{e.json_path}: {e.message}" for e in found]
