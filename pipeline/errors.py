"""Errors a user sees: one line that names the file, the place and what is wrong."""

from __future__ import annotations


class InputError(Exception):
    """An input file cannot be read as a whole (missing, unreadable, not JSON, truncated)."""

    def __init__(self, path: object, problem: str, where: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.where = where
        place = f" ({where})" if where else ""
        super().__init__(f"{self.path}{place}: {problem}")


class RecordError(ValueError):
    """One record is malformed; the record is quarantined with this reason and the run goes on."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")
