"""The build's check of a batch of records against its JSON Schema, column by column.

Checking every record dict against its JSON Schema cost about an eighth of a build. Here a
batch is checked where it is cheap: the Arrow schema the records are written with enforces
types and nesting (pipeline/arrow_schemas.py; tests/test_schemas_contract.py keeps the two
schemas in step), one walk over the dicts checks their keys (`required`,
`additionalProperties`), and the value rules (enum, const, pattern, bounds, lengths,
uniqueness, conditionals, nulls) are checked on the Arrow columns with pyarrow.compute.

Scenes (published too) and both item kinds are checked this way. The checks are read from
the JSON Schema itself, its local `$ref`s inlined: each keyword has a handler in KEYWORDS, and
a keyword without one stops the import (UnsupportedSchema), so an edit of the schema cannot
slip past the build. `msg validate` still checks every published record with jsonschema.

On a failure the first offending record is reported with jsonschema's own message
(validation.problems) and the rule that caught it, and the build stops (SchemaViolation)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from itertools import chain
from operator import is_not, itemgetter
from types import NoneType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import arrow_schemas
from pipeline.parquet_io import record_name
from pipeline.record_rules import rule_errors
from pipeline.schema_files import record_schema
from pipeline.validation import SchemaViolation, is_valid, problems

# The record kinds the build checks this way, and the Arrow schema each is written with.
ARROW_SCHEMAS = {
    "scene": arrow_schemas.SCENE,
    "mcq": arrow_schemas.MCQ,
    "conv": arrow_schemas.CONV,
}

# Keywords that only document the schema.
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description"})
# Keywords checked on the record dicts, by the key walk (Arrow turns a missing key into a
# null and drops an unknown one, so the table cannot tell).
KEY_WALK = frozenset({"required", "additionalProperties"})
# What the Arrow schema enforces of `type`: each value has the column's type (checked at
# import against the JSON type) and the nesting of lists and structs. Whether a null is
# allowed is checked on the columns (Arrow fields are nullable); what Arrow converts
# silently instead of refusing (a str for a list, a bool for a number, a fraction for an
# integer) by the key walk.
ARROW_ENFORCED = {"type": "the kind of every non-null value and the nesting"}

JSON_TYPE_IS_ARROW = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "integer": pa.types.is_integer,
    "number": pa.types.is_floating,
    "boolean": pa.types.is_boolean,
    "array": lambda t: pa.types.is_list(t) or pa.types.is_large_list(t),
    "object": pa.types.is_struct,
}


class UnsupportedSchema(Exception):
    """A schema uses a keyword (or a form of one) the column checks do not implement."""


@dataclass(frozen=True)
class Column:
    """Values at one place of the records (a column, or the elements of lists inside one),
    for each value the index of its record, and whether the rules apply to it (a value
    inside a null object, or outside a conditional's branch, is left alone). Masking
    instead of filtering keeps the columns uncopied."""

    values: pa.Array
    rows: np.ndarray
    active: np.ndarray

    def where(self, mask: pa.Array | np.ndarray) -> Column:
        return Column(self.values, self.rows, self.active & _bools(mask))

    def failing(self, mask: pa.Array | np.ndarray) -> np.ndarray:
        """Records with an active value where `mask` is true (a null in it passes: nulls
        are the `type` rule's)."""
        if not isinstance(mask, np.ndarray):
            mask = pc.fill_null(mask, False)
        return self.rows[self.active & _bools(mask)]

    def elements(self, lists: pa.Array) -> Column:
        """The elements of `lists` (one list per value of this column)."""
        parents = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
        return Column(pc.list_flatten(lists), self.rows[parents], self.active[parents])

    def at_position(self, position: int) -> Column:
        """The element at `position` of each list long enough to have one."""
        return self.elements(pc.list_slice(self.values, position, position + 1))


def _bools(mask: pa.Array | np.ndarray) -> np.ndarray:
    return mask if isinstance(mask, np.ndarray) else mask.to_numpy(zero_copy_only=False)


# A failure: the rule (JSON pointer and keyword) and the records that break it.
Failure = tuple[str, np.ndarray]
Handler = Callable[[Any, dict[str, Any], Column, str], Iterator[Failure]]


# -- the keywords ---------------------------------------------------------------------------
def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _null_allowed(node: dict[str, Any]) -> bool:
    if "type" in node:
        return "null" in _types(node)
    if "enum" in node:
        return None in node["enum"]
    if "const" in node:
        return node["const"] is None
    return True


def _type(value: Any, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    if not _null_allowed(node):
        yield f"{path}: type", col.failing(col.values.is_null())


def _enum(value: list[Any], node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    allowed = pa.array([v for v in value if v is not None], type=col.values.type)
    outside = pc.invert(pc.is_in(col.values, value_set=allowed))
    if None in value:
        outside = pc.and_(outside, col.values.is_valid())
    yield f"{path}: enum", col.failing(outside)


def _const(value: Any, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    if not isinstance(value, list):
        differs = pc.fill_null(pc.not_equal(col.values, value), True)
        yield f"{path}: const", col.failing(differs)
        return
    other_length = pc.fill_null(pc.not_equal(pc.list_value_length(col.values), len(value)), True)
    yield f"{path}: const", col.failing(other_length)
    for position, expected in enumerate(value):
        element = col.at_position(position)
        differs = pc.fill_null(pc.not_equal(element.values, expected), True)
        yield f"{path}: const", element.failing(differs)


def _python_pattern(pattern: str) -> str:
    """The same pattern for RE2 (pyarrow). jsonschema uses Python's re.search, whose `$`
    also matches before a final newline; RE2's does not, so that newline is made optional."""
    if "$" in pattern.replace("\\$", "")[:-1]:
        raise UnsupportedSchema(f"pattern {pattern!r}: '$' only at the end is supported")
    return (
        pattern[:-1] + "\\n?$" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    )


def _pattern(value: str, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    matches = pc.match_substring_regex(col.values, _python_pattern(value))
    yield f"{path}: pattern", col.failing(pc.invert(matches))


def _minimum(value: float, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    yield f"{path}: minimum", col.failing(pc.less(col.values, value))


def _maximum(value: float, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    yield f"{path}: maximum", col.failing(pc.greater(col.values, value))


def _min_length(value: int, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    yield f"{path}: minLength", col.failing(pc.less(pc.utf8_length(col.values), value))


def _min_items(value: int, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    yield f"{path}: minItems", col.failing(pc.less(pc.list_value_length(col.values), value))


def _max_items(value: int, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    yield f"{path}: maxItems", col.failing(pc.greater(pc.list_value_length(col.values), value))


def _unique_items(value: bool, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    if not value:
        return
    elements = col.elements(col.values)
    values = pc.dictionary_encode(elements.values, null_encoding="encode")
    width = max(len(values.dictionary), 1)
    # One number per (list, value): a list holds a value twice where its number repeats.
    keys = np.asarray(pc.list_parent_indices(col.values), dtype=np.int64) * width
    keys += np.asarray(values.indices, dtype=np.int64)
    pairs, counts = np.unique(keys, return_counts=True)
    repeated = np.zeros(len(col.values), dtype=bool)
    repeated[pairs[counts > 1] // width] = True
    yield f"{path}: uniqueItems", col.failing(repeated)


def _items(
    value: dict[str, Any], node: dict[str, Any], col: Column, path: str
) -> Iterator[Failure]:
    yield from failures(value, col.elements(col.values), f"{path}/items")


def _prefix_items(
    value: list[Any], node: dict[str, Any], col: Column, path: str
) -> Iterator[Failure]:
    for position, item in enumerate(value):
        yield from failures(item, col.at_position(position), f"{path}/prefixItems/{position}")


def _properties(
    value: dict[str, Any], node: dict[str, Any], col: Column, path: str
) -> Iterator[Failure]:
    structs = col.where(col.values.is_valid())  # a null object has no properties to check
    for name, inner in value.items():
        field = Column(pc.struct_field(col.values, name), col.rows, structs.active)
        yield from failures(inner, field, f"{path}/{name}")


def _all_of(value: list[Any], node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    for index, inner in enumerate(value):
        yield from failures(inner, col, f"{path}/allOf/{index}")


def _one_of(value: list[Any], node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    # Only "null or X" (checked at import): X applies to the values that are not null.
    (inner,) = [alt for alt in value if alt != {"type": "null"}]
    yield from failures(inner, col.where(col.values.is_valid()), path)


def _if(value: dict[str, Any], node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    holds = np.ones(len(col.values), dtype=bool)
    for name, test in value["properties"].items():
        field = pc.struct_field(col.values, name)
        if "const" in test:
            matches = pc.equal(field, test["const"])
        else:
            matches = pc.is_in(field, value_set=pa.array(test["enum"], type=field.type))
        holds &= np.asarray(pc.fill_null(matches, False), dtype=bool)
    if "then" in node:
        yield from failures(node["then"], col.where(holds), f"{path}/then")
    if "else" in node:
        yield from failures(node["else"], col.where(~holds), f"{path}/else")


def _nothing(value: Any, node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    return iter(())


KEYWORDS: dict[str, Handler] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "minLength": _min_length,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "items": _items,
    "prefixItems": _prefix_items,
    "properties": _properties,
    "allOf": _all_of,
    "oneOf": _one_of,
    "if": _if,
    "then": _nothing,  # applied by `if`
    "else": _nothing,
    **{k: _nothing for k in KEY_WALK | ANNOTATIONS},
}


def failures(node: dict[str, Any], col: Column, path: str) -> Iterator[Failure]:
    """Every rule of `node` applied to `col`."""
    for keyword, value in node.items():
        yield from KEYWORDS[keyword](value, node, col, path)


# -- what the handlers support, checked once at import ---------------------------------------
def _arrow_inner(arrow_type: pa.DataType, keyword: str, name: str | int = 0) -> pa.DataType:
    if keyword in ("items", "prefixItems"):
        return arrow_type.value_type
    return arrow_type.field(name).type


def check_supported(node: Any, arrow_type: pa.DataType, path: str) -> None:
    """Raise UnsupportedSchema where `node` uses a keyword, or a form of one, the column
    checks do not implement, or where its types are not the Arrow type's."""
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"{path}: a schema must be an object")
    unknown = set(node) - set(KEYWORDS)
    if unknown:
        raise UnsupportedSchema(f"{path}: keywords {sorted(unknown)} have no column check")
    for kind in _types(node) - {"null"}:
        if not JSON_TYPE_IS_ARROW[kind](arrow_type):
            raise UnsupportedSchema(f"{path}: JSON type {kind} but Arrow {arrow_type}")
    for keyword, rule in SHAPE_RULES.items():
        if keyword in node:
            rule(node, arrow_type, path)


def _check_properties(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    names = {arrow_type.field(i).name for i in range(arrow_type.num_fields)}
    closed = node.get("additionalProperties", True) is False
    # A closed object's keys are the struct's fields (no key dropped, none always null); a
    # conditional branch may name some of them only.
    if not set(node["properties"]) <= names or (closed and set(node["properties"]) != names):
        raise UnsupportedSchema(f"{path}: properties differ from the Arrow struct's fields")
    for name, inner in node["properties"].items():
        check_supported(inner, _arrow_inner(arrow_type, "properties", name), f"{path}/{name}")


def _check_items(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    check_supported(node["items"], arrow_type.value_type, f"{path}/items")


def _check_prefix_items(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    if "items" in node:  # draft 2020-12: items would then skip the prefix's elements
        raise UnsupportedSchema(f"{path}: prefixItems beside items (put it inside allOf)")
    for position, inner in enumerate(node["prefixItems"]):
        check_supported(inner, arrow_type.value_type, f"{path}/{position}")


def _check_all_of(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    for inner in node["allOf"]:
        if set(inner) & KEY_WALK:  # the key walk reads only the schema's main branch
            raise UnsupportedSchema(f"{path}/allOf: key rules inside allOf")
        check_supported(inner, arrow_type, f"{path}/allOf")


def _check_one_of(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    others = [alt for alt in node["oneOf"] if alt != {"type": "null"}]
    if len(node["oneOf"]) != 2 or len(others) != 1 or _null_allowed(others[0]):
        raise UnsupportedSchema(f"{path}/oneOf: only 'null or a non-null schema' is supported")
    check_supported(others[0], arrow_type, f"{path}/oneOf")


def _check_if(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    test = node["if"]
    tests = test.get("properties", {}).values()
    if set(test) != {"properties"} or any(set(t) not in ({"const"}, {"enum"}) for t in tests):
        raise UnsupportedSchema(f"{path}/if: only 'properties with const or enum' is supported")
    for branch in ("then", "else"):
        if branch in node:
            if set(node[branch]) & KEY_WALK:
                raise UnsupportedSchema(f"{path}/{branch}: key rules inside a conditional")
            check_supported(node[branch], arrow_type, f"{path}/{branch}")


def _check_branch_without_if(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    if "if" not in node:
        raise UnsupportedSchema(f"{path}: then/else without if")


def _check_const(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    value = node["const"]
    if isinstance(value, dict) or (isinstance(value, list) and not _scalars(value)):
        raise UnsupportedSchema(f"{path}/const: only scalars and lists of scalars are supported")


def _check_unique_items(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    if pa.types.is_nested(arrow_type.value_type):
        raise UnsupportedSchema(f"{path}/uniqueItems: only lists of scalars are supported")


def _check_pattern(node: dict[str, Any], arrow_type: pa.DataType, path: str) -> None:
    _python_pattern(node["pattern"])


def _scalars(values: list[Any]) -> bool:
    return all(not isinstance(v, dict | list) for v in values)


SHAPE_RULES: dict[str, Callable[[dict[str, Any], pa.DataType, str], None]] = {
    "properties": _check_properties,
    "items": _check_items,
    "prefixItems": _check_prefix_items,
    "allOf": _check_all_of,
    "oneOf": _check_one_of,
    "if": _check_if,
    "then": _check_branch_without_if,
    "else": _check_branch_without_if,
    "const": _check_const,
    "uniqueItems": _check_unique_items,
    "pattern": _check_pattern,
}


# -- the key walk ---------------------------------------------------------------------------
# What Arrow accepts but the JSON Schema does not, so the walk checks it on the dicts: a key
# missing (it would be written as null) or unknown (dropped), a str or tuple where a list
# belongs (a str would be written as a list of its characters), a bool where a number
# belongs (written as 0.0 or 1.0), a fractional float where an integer belongs (truncated).
# Arrow converts a bytes value or a numpy scalar to the column's type faithfully; those are
# not checked.
# Per JSON type: the Python type to look for (found in C, by `type in map(type, values)`),
# when such a value is wrong, and what to say.
WRONG_SCALARS: dict[str, tuple[type, Callable[[Any], bool], str]] = {
    "number": (bool, lambda v: True, "a bool where a number belongs"),
    "integer": (float, lambda v: not v.is_integer(), "a fraction where an integer belongs"),
}


@dataclass(frozen=True)
class Place:
    """A property the walk looks into: how many lists deep its values are, and what they
    must be there (an object with these Keys, or a scalar of a kind in WRONG_SCALARS)."""

    name: str
    depth: int
    keys: Keys | None
    scalar: str | None


@dataclass(frozen=True)
class Keys:
    """The keys an object may have, the keys it must have, its Places holding lists or
    objects, and its scalar properties per kind of WRONG_SCALARS."""

    allowed: frozenset[str]
    required: frozenset[str]
    places: tuple[Place, ...]
    scalars: tuple[tuple[str, tuple[str, ...]], ...]


def keys_of(node: dict[str, Any]) -> Keys:
    if node.get("additionalProperties", True) is not False:
        # Arrow drops a key its struct lacks: only a closed object can be written safely.
        raise UnsupportedSchema(f"an object without additionalProperties: false ({node})")
    places = []
    scalars: dict[str, list[str]] = {}
    for name, inner in node["properties"].items():
        depth = 0
        while True:  # down through lists and "null or X" to what the elements are
            if "oneOf" in inner:
                (inner,) = [alt for alt in inner["oneOf"] if alt != {"type": "null"}]
            elif "items" in inner:
                inner, depth = inner["items"], depth + 1
            else:
                break
        keys = keys_of(inner) if "properties" in inner else None
        scalar = next((kind for kind in WRONG_SCALARS if kind in _types(inner)), None)
        if depth or keys:
            places.append(Place(name, depth, keys, scalar))
        elif scalar:
            scalars.setdefault(scalar, []).append(name)
    return Keys(
        frozenset(node["properties"]),
        frozenset(node.get("required", ())),
        tuple(places),
        tuple((kind, tuple(names)) for kind, names in scalars.items()),
    )


def key_problem(record: dict[str, Any], keys: Keys) -> str | None:
    """The first thing wrong with `record` that Arrow would not notice (see above), or None."""
    present = record.keys()
    if present != keys.allowed:  # the usual case, every key there and no other, is one test
        extra = present - keys.allowed
        missing = keys.required - present
        if extra or missing:
            return f"keys {sorted(extra)} not allowed, {sorted(missing)} missing"
    for kind, names in keys.scalars:
        found = _wrong_scalar(kind, list(map(record.get, names)))
        if found:
            return found
    for place in keys.places:
        found = _place_problem(record.get(place.name), place.depth, place)
        if found:
            return f"{place.name}: {found}"
    return None


def _wrong_scalar(kind: str, values: list[Any]) -> str | None:
    suspect, wrong, message = WRONG_SCALARS[kind]
    if suspect in map(type, values) and any(wrong(v) for v in values if type(v) is suspect):
        return message
    return None


def _place_problem(value: Any, depth: int, place: Place) -> str | None:
    if value is None:  # nulls are the column checks'
        return None
    if depth == 0:
        if place.keys is not None:
            return key_problem(value, place.keys) if isinstance(value, dict) else None
        return _wrong_scalar(place.scalar, [value]) if place.scalar else None
    if not isinstance(value, list):
        return f"a {type(value).__name__} where a list belongs"
    if depth == 1 and place.keys is None:  # a list of scalars
        return _wrong_scalar(place.scalar, value) if place.scalar else None
    for item in value:
        found = _place_problem(item, depth - 1, place)
        if found:
            return found
    return None


# -- the same walk over a whole batch at once -------------------------------------------------
# The walk above, record by record, costs about 10 µs per record. The screen below asks the
# same questions of the whole batch a property at a time, with the loops in C (map, set,
# chain): it says "maybe" whenever the walk would find something in some record (it may also
# say it when the walk would not, e.g. for a list subclass), and only then is the walk run,
# to name the first record and the problem exactly as before.
def _may_have_key_problem(objects: list[dict[str, Any]], keys: Keys) -> bool:
    """False only if key_problem is None for every one of `objects`."""
    # Records made by the same code share one key order: a handful of distinct tuples.
    if any(set(present) != keys.allowed for present in set(map(tuple, objects))):
        return True  # a key missing or extra, or an optional one absent: the walk decides
    for kind, names in keys.scalars:
        if _wrong_scalar(kind, list(chain.from_iterable(map(_getter(names), objects)))):
            return True
    return any(
        _may_have_place_problem(list(map(itemgetter(place.name), objects)), place.depth, place)
        for place in keys.places
    )


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The values of `names` in a dict, as a tuple even for one name."""
    return itemgetter(*names) if len(names) > 1 else lambda d: (d[names[0]],)


def _may_have_place_problem(values: list[Any], depth: int, place: Place) -> bool:
    """False only if _place_problem is None for every one of `values` (nulls are the
    column checks', as there)."""
    if depth == 0:
        values = list(filter(partial(is_not, None), values))
        if place.keys is not None:
            return _may_have_key_problem([v for v in values if isinstance(v, dict)], place.keys)
        return bool(place.scalar and _wrong_scalar(place.scalar, values))
    if not set(map(type, values)) <= {list, NoneType}:
        return True  # a value that is not a list (or a list subclass, left to the walk)
    if depth == 1 and place.keys is None and place.scalar is None:  # lists of any scalars
        return False
    items = list(chain.from_iterable(filter(None, values)))  # only nulls and [] are falsy here
    if depth == 1 and place.keys is None:  # lists of scalars of a kind in WRONG_SCALARS
        return bool(_wrong_scalar(place.scalar, items))
    return _may_have_place_problem(items, depth - 1, place)


# -- the batch ------------------------------------------------------------------------------
def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with each local reference ("#/$defs/name") replaced by its definition and
    `$defs` dropped: the column checks follow the nesting of the Arrow columns, which a
    reference hides. A reference elsewhere, a cycle, or a sibling keyword that the
    definition also states is UnsupportedSchema (nothing is checked differently)."""
    defs = schema.get("$defs", {})

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if ref is None:
            return {k: inline(v, seen) for k, v in node.items() if k != "$defs"}
        name = ref.removeprefix("#/$defs/")
        if name == ref or name not in defs or name in seen:
            raise UnsupportedSchema(f"$ref {ref!r}: only a non-recursive #/$defs/ entry")
        target = inline(defs[name], (*seen, name))
        rest = {k: inline(v, seen) for k, v in node.items() if k != "$ref"}
        if set(rest) & set(target):
            raise UnsupportedSchema(f"$ref {ref!r}: {sorted(set(rest) & set(target))} twice")
        return {**target, **rest}

    return inline(schema, ())


@cache
def _plan(kind: str) -> tuple[dict[str, Any], Keys]:
    schema = inline_refs(record_schema(kind))
    check_supported(schema, pa.struct(list(ARROW_SCHEMAS[kind])), "")
    return schema, keys_of(schema)


def checked_table(kind: str, rows: list[dict[str, Any]], arrow_schema: pa.Schema) -> pa.Table:
    """The Arrow table of `rows` (as `Table.from_pylist` makes it), once every row is shown
    to satisfy the JSON Schema of `kind` and the rules between its fields. Otherwise
    SchemaViolation names the first offending record, the message and the rule that caught
    it."""
    if not arrow_schema.equals(ARROW_SCHEMAS[kind]):  # the checks were derived for that one
        raise ValueError(f"{kind}: only its Arrow schema in ARROW_SCHEMAS can be checked")
    schema, keys = _plan(kind)
    first = _first_key_problem(rows, keys)
    try:
        table = pa.Table.from_pylist(rows, schema=arrow_schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        # Arrow does not say which record: the first that jsonschema rejects.
        index = next((i for i, row in enumerate(rows) if not is_valid(kind, row)), None)
        found = [c for c in (first, (index, f"Arrow types ({exc})")) if c and c[0] is not None]
        if not found:
            raise SchemaViolation(f"{kind} records do not fit the Arrow schema: {exc}") from exc
        raise _violation(kind, rows, *_first(found)) from exc
    found = [c for c in (first, _first_column_failure(schema, table)) if c is not None]
    if found:
        raise _violation(kind, rows, *_first(found))
    for row in rows:  # what the schema cannot state (pipeline/record_rules.py)
        if broken := rule_errors(kind, row):
            record = record_name(row, "?")
            raise SchemaViolation(
                f"{kind} record {record} is invalid: {broken[0]} (caught by rule)"
            )
    return table


def _first(found: list[tuple[int, str]]) -> tuple[int, str]:
    """The earliest record; on a tie the key walk's finding, which explains the columns'
    (a str where a list belongs fails the pattern of each of its characters)."""
    return min(found, key=lambda failure: failure[0])


def _first_key_problem(rows: list[dict[str, Any]], keys: Keys) -> tuple[int, str] | None:
    if not _may_have_key_problem(rows, keys):
        return None
    for index, row in enumerate(rows):  # which record, and what: the walk one at a time
        found = key_problem(row, keys)
        if found:
            return index, f"keys: {found}"
    return None


def _first_column_failure(schema: dict[str, Any], table: pa.Table) -> tuple[int, str] | None:
    if table.num_rows == 0:
        return None
    rows = np.arange(table.num_rows)
    records = Column(
        table.combine_chunks().to_struct_array().chunk(0), rows, np.ones(len(rows), dtype=bool)
    )
    first: tuple[int, str] | None = None
    for rule, failing in failures(schema, records, ""):
        if len(failing) and (first is None or int(failing.min()) < first[0]):
            first = int(failing.min()), rule
    return first


def _violation(kind: str, rows: list[dict[str, Any]], index: int, rule: str) -> SchemaViolation:
    record = rows[index]
    found = problems(kind, record)
    message = found[0] if found else "jsonschema accepts it: the batch check is wrong"
    return SchemaViolation(
        f"{kind} record {record_name(record, '?')} is invalid: {message} (caught by {rule})"
    )


for _kind in ARROW_SCHEMAS:  # fail at import, not in the middle of a build
    _plan(_kind)
