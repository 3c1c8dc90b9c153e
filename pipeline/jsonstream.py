"""Streaming JSON reading (ijson, C backend): memory does not grow with file size, and a
broken file becomes one InputError naming the file and the byte where it broke."""

from __future__ import annotations

import io
import json
import mmap
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from pipeline.errors import InputError


def _open(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})") from None


def _describe(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    lines = str(raw).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    if "incomplete" in text.lower() or "premature" in text.lower():
        return f"truncated or incomplete JSON ({text})"
    return f"not valid JSON ({text})"


# NaN and Infinity are not JSON, but Python's json.dump writes them. A file holding them is
# read on a slower path that turns each such bare token into a string, so the records
# carrying them are quarantined one by one instead of failing the whole file.
_NAN_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|-?Infinity|NaN')


def _has_bare_nan(handle) -> bool:
    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"NaN") < 0 and data.find(b"Infinity") < 0:
            return False
        return any(not m.group(0).startswith(b'"') for m in _NAN_TOKEN.finditer(data))


def _quote_bare_nan(data: bytes) -> bytes:
    return _NAN_TOKEN.sub(
        lambda m: m.group(0) if m.group(0).startswith(b'"') else b'"' + m.group(0) + b'"', data
    )


def iter_items(path: Path, prefix: str) -> Iterator[Any]:
    """Yield the elements of the list at `prefix` ("item" for a top-level list,
    "images.item" for COCO images). Numbers come back as float/int, never Decimal."""
    handle = _open(path)
    with handle:
        if handle.read(1) == b"":
            raise InputError(path, "empty file")
        handle.seek(0)
        source = handle
        if _has_bare_nan(handle):
            source = io.BytesIO(_quote_bare_nan(handle.read()))
        try:
            yield from ijson.items(source, prefix, use_float=True)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            raise InputError(path, _describe(exc), where=f"near byte {source.tell()}") from None


def top_level_kind(path: Path) -> str:
    """'list', 'object' or another JSON kind of the file's top-level value."""
    handle = _open(path)
    with handle:
        if handle.read(1) == b"":
            raise InputError(path, "empty file")
        handle.seek(0)
        try:
            for _, event, _ in ijson.parse(handle):
                return {"start_array": "list", "start_map": "object"}.get(event, event)
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            raise InputError(path, _describe(exc), where=f"near byte {handle.tell()}") from None
    raise InputError(path, "empty file")


def require_top_level(path: Path, expected: str) -> None:
    kind = top_level_kind(path)
    if kind != expected:
        raise InputError(path, f"top-level JSON value is {kind}, expected {expected}")


def load_small_json(path: Path) -> Any:
    """Load a small file (synset maps, category tables) whole, with the same clear errors."""
    handle = _open(path)
    with handle:
        data = handle.read()
    if not data.strip():
        raise InputError(path, "empty file")
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise InputError(path, "not UTF-8 text", where=f"byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc.msg})", where=f"byte {exc.pos}") from None
