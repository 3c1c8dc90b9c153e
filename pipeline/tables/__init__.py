"""The reviewed data tables (`pipeline/tables/*.toml`): question families, item rules,
attribute, name and predicate tables. Every module reads them through `load_table`, which
sits below everything that uses them.

`MSG_TABLES_DIR` names another folder of tables (a copy with a new aspect, say): a build,
its Dask workers and the checks that read the build all see the same folder, because
worker processes inherit the environment."""

from __future__ import annotations

import hashlib
import os
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

TABLES_ENV = "MSG_TABLES_DIR"
PACKAGED_TABLES = Path(__file__).resolve().parent


def tables_dir() -> Path:
    return _folder(tables_env())


# A partition task reads MSG_TABLES_DIR once, at its start (`tables_env_pinned`), instead of
# on each of the ~300K table and registry look-ups per 1K images (0.7 µs per read of
# os.environ). Per thread, so that tasks running side by side never share a pin; outside a
# task (tests that monkeypatch the variable, the driver) every call reads the environment.
_task = threading.local()


def tables_env() -> str:
    """The raw MSG_TABLES_DIR value ("" when unset): the task's pinned value, if any."""
    pinned = getattr(_task, "tables_env", None)
    return pinned if pinned is not None else os.environ.get(TABLES_ENV) or ""


@contextmanager
def tables_env_pinned() -> Iterator[None]:
    """While the block runs (one task), tables_env() answers without reading the
    environment again; the variable is not expected to change during a task."""
    outer = getattr(_task, "tables_env", None)
    _task.tables_env = tables_env()
    try:
        yield
    finally:
        _task.tables_env = outer


@cache
def _folder(override: str) -> Path:
    return Path(override) if override else PACKAGED_TABLES


@cache
def _load(folder: Path, name: str) -> dict[str, Any]:
    path = folder / f"{name}.toml"
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputError(path, f"table {name!r} not found (tables folder {folder})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML ({exc})") from None


def load_table(name: str) -> dict[str, Any]:
    """The parsed `<tables folder>/<name>.toml` (read once per process and folder)."""
    # Keyed on the raw MSG_TABLES_DIR value, so that an override (a test's monkeypatch)
    # still takes effect, without building and hashing a Path per call (~100K calls per
    # 1K-image build).
    return _load_named(tables_env(), name)


@cache
def _load_named(override: str, name: str) -> dict[str, Any]:
    return _load(_folder(override), name)


def tables_digest() -> str:
    """sha256 over every table file (names and bytes): the rules a build used."""
    digest = hashlib.sha256()
    for path in sorted(tables_dir().glob("*.toml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
