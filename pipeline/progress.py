"""Progress per stage: a bar on a terminal, plain log lines elsewhere, nothing with --quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Progress:
    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr

    def log(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def track(self, items: Iterable[T], stage: str, total: int | None = None) -> Iterator[T]:
        if self.quiet:
            yield from items
            return
        if self.stream.isatty():
            from tqdm import tqdm

            yield from tqdm(items, desc=stage, total=total, file=self.stream, unit="part")
            return
        start, done = time.monotonic(), 0
        self.log(f"[{stage}] started" + (f" ({total} partitions)" if total else ""))
        for item in items:
            done += 1
            yield item
        self.log(f"[{stage}] done: {done} in {time.monotonic() - start:.1f}s")
