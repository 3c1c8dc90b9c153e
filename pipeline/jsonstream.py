"""Streaming JSON reading (ijson, C backend): memory does not grow with file size, and a
broken file becomes one InputError naming the file and the byte where it broke."""

from __future__ import annotations

import io
import json
import math
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
# carrying them are quarantined one by one instead of failing the whole file. Numbers
# beyond 64-bit integers or doubles are valid JSON that the C parser cannot hold
# ("overflow"): they take the same path, taken at the first overflow so that normal files
# pay nothing.
_NAN_TOKEN = re.compile(
    rb'"(?:[^"\\]|\\.)*"|-?Infinity|NaN'
    rb"|(?<![\w.+-])-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.])"
)
_INT64 = range(-(2**63), 2**63)


# Blocks the quick look for "NaN" / "Infinity" reads: mapping the whole file for it made
# every page of the input resident in the driver at once (its peak grew with the input).
_SCAN_BLOCK_BYTES = 4 * 1024 * 1024
_BARE_WORDS = (b"NaN", b"Infinity")
_WORD_OVERLAP = max(map(len, _BARE_WORDS)) - 1


def _mentions_bare_word(handle) -> bool:
    """Whether the bytes hold "NaN" or "Infinity" anywhere, read block by block (each
    block keeps the previous one's tail, so a word across two blocks is still found)."""
    tail = b""
    for block in iter(lambda: handle.read(_SCAN_BLOCK_BYTES), b""):
        window = tail + block
        if any(word in window for word in _BARE_WORDS):
            return True
        tail = window[-_WORD_OVERLAP:]
    return False


def _has_bare_nan(handle) -> bool:
    found = _mentions_bare_word(handle)
    handle.seek(0)
    if not found:
        return False
    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # A quoted string or a (huge) integer is not what this looks for.
        return any(
            not m.group(0).startswith(b'"') and not m.group(0)[-1:].isdigit()
            for m in _NAN_TOKEN.finditer(data)
        )


def _fits(number: bytes) -> bool:
    if any(c in number for c in b".eE"):
        return math.isfinite(float(number))
    return int(number) in _INT64


def _quote_token(match: re.Match) -> bytes:
    token = match.group(0)
    if token.startswith(b'"') or (token[-1:].isdigit() and _fits(token)):
        return token
    return b'"' + token + b'"'


def _quote_bare_nan(data: bytes) -> bytes:
    return _NAN_TOKEN.sub(_quote_token, data)


def _is_overflow(exc: Exception) -> bool:
    return "overflow" in str(exc.args[0] if exc.args else "")


_PARSE_ERRORS = (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError)


def iter_items(path: Path, prefix: str) -> Iterator[Any]:
    """Yield the elements of the list at `prefix` ("item" for a top-level list,
    "images.item" for COCO images). Numbers come back as float/int, never Decimal.
    A value at `prefix`'s key that is not a list is an InputError, not zero records."""
    handle = _open(path)
    with handle:
        if handle.read(1) == b"":
            raise InputError(path, "empty file")
        handle.seek(0)
        slow = _has_bare_nan(handle)
        source = io.BytesIO(_quote_bare_nan(handle.read())) if slow else handle
        done = 0
        try:
            for item in ijson.items(source, prefix, use_float=True):
                done += 1
                yield item
        except _PARSE_ERRORS as exc:
            if slow or not _is_overflow(exc):
                raise InputError(path, _describe(exc), where=f"near byte {source.tell()}") from None
            # Read again with the huge integers quoted; skip what was already yielded
            # (the same items in the same order).
            handle.seek(0)
            source = io.BytesIO(_quote_bare_nan(handle.read()))
            try:
                for k, item in enumerate(ijson.items(source, prefix, use_float=True)):
                    if k >= done:
                        done += 1
                        yield item
            except _PARSE_ERRORS as exc2:
                where = f"near byte {source.tell()}"
                raise InputError(path, _describe(exc2), where=where) from None
        if done == 0 and prefix.endswith(".item"):
            source.seek(0)
            _require_list_at(path, source, prefix.removesuffix(".item"))


def _require_list_at(path: Path, source, key: str) -> None:
    """The value at `key` (when present) must be a list: a COCO file whose `annotations`
    is an object would otherwise give zero records without a word."""
    try:
        for prefix, event, _ in ijson.parse(source):
            if prefix == key:
                if event != "start_array":
                    kind = {"start_map": "an object"}.get(event, f"a {event}")
                    where = f"near byte {source.tell()}"
                    raise InputError(path, f"'{key}' is {kind}, expected a list", where=where)
                return
    except _PARSE_ERRORS as exc:
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
