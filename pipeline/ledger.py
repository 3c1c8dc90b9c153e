"""Nothing lost silently: every input record is counted as read, then as used, skipped
(with a named reason) or quarantined (with its error). The counts must reconcile."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileCounts:
    read: int = 0
    used: int = 0
    skipped: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)

    def add(self, other: FileCounts) -> None:
        self.read += other.read
        self.used += other.used
        self.skipped.update(other.skipped)
        self.quarantined.update(other.quarantined)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileCounts:
        return cls(
            data["read"], data["used"], Counter(data["skipped"]), Counter(data["quarantined"])
        )

    def unaccounted(self) -> int:
        return self.read - self.used - sum(self.skipped.values()) - sum(self.quarantined.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "used": self.used,
            "skipped": dict(sorted(self.skipped.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
            "reconciled": self.unaccounted() == 0,
        }


@dataclass
class Ledger:
    """Counts per input file (keyed by the file's label) plus the quarantined rows."""

    files: dict[str, FileCounts] = field(default_factory=dict)
    quarantine_rows: list[dict[str, Any]] = field(default_factory=list)

    def _counts(self, label: str) -> FileCounts:
        counts = self.files.get(label)  # not setdefault: a FileCounts per call is costly
        if counts is None:
            counts = self.files[label] = FileCounts()
        return counts

    def read(self, label: str, n: int = 1) -> None:
        self._counts(label).read += n

    def used(self, label: str, n: int = 1) -> None:
        self._counts(label).used += n

    def skip(self, label: str, reason: str, n: int = 1) -> None:
        self._counts(label).skipped[reason] += n

    def quarantine(self, label: str, where: str, reason: str, detail: str, record: Any) -> None:
        self._counts(label).quarantined[reason] += 1
        self.quarantine_rows.append(
            {"file": label, "where": where, "reason": reason, "detail": detail, "record": record}
        )

    def merge_result(self, counts: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """Add a stage result's counts (as written by to_dict) and quarantined rows."""
        for label, data in counts.items():
            self._counts(label).add(FileCounts.from_dict(data))
        self.quarantine_rows.extend(rows)

    def merge(self, other: Ledger) -> None:
        for label, counts in other.files.items():
            self._counts(label).add(counts)
        self.quarantine_rows.extend(other.quarantine_rows)

    def unreconciled(self) -> dict[str, int]:
        """Files whose counts do not add up, with the number of records unaccounted for."""
        return {k: c.unaccounted() for k, c in sorted(self.files.items()) if c.unaccounted()}

    def to_dict(self) -> dict[str, Any]:
        return {label: counts.to_dict() for label, counts in sorted(self.files.items())}
