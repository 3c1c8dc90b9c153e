"""memory_release: freed memory goes back to the system between tasks (issue 21)."""

from __future__ import annotations

import sys

import psutil
import pyarrow as pa
import pytest

from pipeline.memory_release import _malloc_trim, release_memory, system_allocator

CHUNK, CHUNKS = 64 * 1024, 3000  # below glibc's mmap threshold: these live on the heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_memory_hands_freed_heap_pages_back():
    assert _malloc_trim() is not None  # glibc here: the build would trim
    release_memory()
    chunks = [bytearray(CHUNK) for _ in range(CHUNKS)]  # about 190 MB, touched (zeroed)
    pinned = bytearray(CHUNK)  # above them on the heap: free() alone cannot shrink it
    del chunks
    before = psutil.Process().memory_info().rss
    release_memory()
    after = psutil.Process().memory_info().rss
    assert before - after > CHUNK * CHUNKS // 2, (before >> 20, after >> 20)
    del pinned


def test_system_allocator_is_the_default_pool_for_the_duration_only():
    before = pa.default_memory_pool().backend_name
    with system_allocator():
        assert pa.default_memory_pool().backend_name == "system"
        buffer = pa.array(range(100_000)).buffers()[1]  # made by the system pool
    assert pa.default_memory_pool().backend_name == before
    assert buffer.size == 800_000  # still readable once the pool is switched back
