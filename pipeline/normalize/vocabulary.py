"""`Vocabulary`: canonical object names, predicates and typed attributes, with the optional
VG alias files. One instance per set of alias files per process; every answer is cached per
distinct string (these calls run millions of times at full Visual Genome scale)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pipeline.normalize.aliases import read_alias_file
from pipeline.normalize.attributes import TypedAttribute, type_attribute
from pipeline.normalize.names import canonical_name
from pipeline.normalize.predicates import canonical_predicate


class Vocabulary:
    _loaded: ClassVar[dict[tuple[str | None, str | None], Vocabulary]] = {}

    def __init__(self, object_aliases: dict[str, str], relationship_aliases: dict[str, str]):
        self.object_aliases = object_aliases
        self.relationship_aliases = relationship_aliases
        # Per-distinct-string caches; VG has ~100k distinct names, so plain dicts suffice.
        self._names: dict[str, str] = {}
        self._predicates: dict[str, str] = {}

    @classmethod
    def load(
        cls, object_alias: Path | None = None, relationship_alias: Path | None = None
    ) -> Vocabulary:
        """The vocabulary for these alias files (each optional), built once per process."""
        key = (
            str(Path(object_alias).resolve()) if object_alias else None,
            str(Path(relationship_alias).resolve()) if relationship_alias else None,
        )
        if key not in cls._loaded:
            cls._loaded[key] = cls(
                read_alias_file(Path(object_alias)) if object_alias else {},
                read_alias_file(Path(relationship_alias)) if relationship_alias else {},
            )
        return cls._loaded[key]

    def object_name(self, raw: str) -> str:
        """Canonical object name: "Trees" -> "tree", "tennis rackets" -> "tennis racket"."""
        name = self._names.get(raw)
        if name is None:
            name = self._names[raw] = canonical_name(raw, self.object_aliases)
        return name

    def predicate(self, raw: str) -> str:
        """Canonical predicate: "ON" -> "on", "wears" -> "wearing", "next to" -> "near"."""
        predicate = self._predicates.get(raw)
        if predicate is None:
            predicate = self._predicates[raw] = canonical_predicate(raw, self.relationship_aliases)
        return predicate

    def attribute(self, raw: str) -> list[TypedAttribute]:
        """Typed values of a raw attribute string; [] for empty or junk-only strings."""
        return list(type_attribute(raw))
