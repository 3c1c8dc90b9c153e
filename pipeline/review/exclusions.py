"""The exclusion list: item ids judged wrong or ambiguous, one per line (`#` starts a
comment). `msg build --exclude-items FILE` drops them; an id names all rotations of its
question (`mcq-<hash>` and `mcq-<hash>-rN` alike)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import InputError

ITEM_ID = re.compile(r"^(mcq-[0-9a-f]{16})(-r[0-3])?$")
EXCLUDED = ("wrong", "ambiguous")


def base_id(item_id: str) -> str:
    match = ITEM_ID.match(item_id)
    return match.group(1) if match else item_id


def write_exclusions(path: Path, ids: list[str]) -> None:
    lines = ["# MSG-MCQ items judged wrong or ambiguous by review (msg review --import)"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, *sorted(set(ids))]) + "\n", encoding="utf-8")


def read_exclusions(path: Path) -> frozenset[str]:
    """The base ids listed; a line that is not an item id is an InputError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(path, "exclusion file not found") from None
    ids = set()
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if not ITEM_ID.match(entry):
            raise InputError(path, f"not an MSG-MCQ item id: {entry!r}", f"line {number}")
        ids.add(base_id(entry))
    return frozenset(ids)
