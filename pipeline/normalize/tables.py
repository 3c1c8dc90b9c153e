"""Load the reviewed data tables shipped in `pipeline/tables/` (read once per process)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

TABLES_DIR = Path(__file__).resolve().parent.parent / "tables"


@cache
def load_table(name: str) -> dict[str, Any]:
    """The parsed `pipeline/tables/<name>.toml`."""
    with (TABLES_DIR / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)
