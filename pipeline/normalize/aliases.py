"""Alias lists in Visual Genome's format: each line `canonical,alias1,alias2,...`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.normalize.text import clean_text


def parse_alias_lines(lines: Iterable[str]) -> dict[str, str]:
    """Map every alias to its canonical form.

    Same semantics as the VG preprocessing scripts that ship these files (scene-graph
    benchmarks build their vocabularies this way): when a line's first entry is already an
    alias, its whole group joins that earlier target, so chains resolve to one name.
    """
    out: dict[str, str] = {}
    for line in lines:
        parts = [clean_text(p) for p in line.split(",")]
        parts = [p for p in parts if p]
        if not parts:
            continue
        target = out.get(parts[0], parts[0])
        for alias in parts:
            out[alias] = target
    return out


def read_alias_file(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return parse_alias_lines(f)
