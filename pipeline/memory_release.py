"""Keep a long-lived process's memory to what its current task holds (issue 21).

A process that runs task after task (a Dask worker, or the build process itself with the
synchronous scheduler) otherwise keeps freed blocks: Arrow's default allocator (mimalloc
in the wheels) holds freed pages for reuse, and glibc keeps freed heap pages in its
arenas. Its resident size then climbs with the number of tasks, that is with the input
size, though no task holds more than its partition. Measured at 10K images with the
synchronous scheduler: peak 482 MB with mimalloc, 413 MB with the system allocator
(docs/performance.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim():  # noqa: ANN202 - a ctypes function, or None where there is none
    """glibc's malloc_trim, or None (musl, macOS: no such call)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> None:
    """Return Arrow's and the C heap's free pages to the system (no full garbage
    collection: over a process's long-lived tables that costs a quarter second a task)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def use_system_allocator() -> str:
    """Arrow allocates with malloc in this process from now on (run on each Dask worker:
    its process exists for the build's stages); returns the backend's name."""
    pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name


@contextmanager
def system_allocator() -> Iterator[None]:
    """use_system_allocator for the duration, in the caller's process (restored after:
    buffers already made are freed by the pool that made them)."""
    before = pa.default_memory_pool()
    use_system_allocator()
    try:
        yield
    finally:
        pa.set_memory_pool(before)
