"""Verdict files exported by the review page: JSON lines
`{"id", "verdict", "note", "reviewer"}`. A bad line is named (file and line number) and
skipped; the rest is read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

# Verdict and its key on the page (also reachable by its number, in this order).
VERDICTS: dict[str, str] = {"correct": "c", "wrong": "w", "ambiguous": "a", "unanswerable": "u"}
# A tie between reviewers goes to the graver verdict: a disputed label is not a clean one.
GRAVITY = ("wrong", "unanswerable", "ambiguous", "correct")


@dataclass(frozen=True)
class Verdict:
    id: str
    verdict: str
    note: str
    reviewer: str
    where: str  # file:line


def _parse(line: str, known_ids: set[str]) -> tuple[dict | None, str | None]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg})"
    if not isinstance(row, dict):
        return None, "not a JSON object"
    if not isinstance(row.get("id"), str) or not row["id"]:
        return None, "no item id"
    if row.get("verdict") not in VERDICTS:
        return (
            None,
            f"unknown verdict {row.get('verdict')!r} (expected one of {', '.join(VERDICTS)})",
        )
    if row["id"] not in known_ids:
        return None, f"unknown item id {row['id']!r} (not in this build)"
    for key in ("note", "reviewer"):
        if not isinstance(row.get(key, ""), str):
            return None, f"{key} is not a string"
    return row, None


def read_verdicts(paths: list[Path], known_ids: set[str]) -> tuple[list[Verdict], list[str]]:
    """(verdicts, problems): one problem per skipped line, "FILE:LINE: what is wrong". A
    reviewer's later verdict on an item replaces the earlier one. A line without a reviewer
    is credited to its file's name, so two anonymous files stay two reviewers."""
    found: dict[tuple[str, str], Verdict] = {}
    problems: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(path, "verdict file not found") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text ({exc.reason})") from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            row, problem = _parse(line, known_ids)
            if problem:
                problems.append(f"{path}:{number}: {problem}; line skipped")
                continue
            reviewer = (row.get("reviewer") or "").strip() or path.stem
            verdict = Verdict(
                row["id"], row["verdict"], row.get("note") or "", reviewer, f"{path}:{number}"
            )
            found[(reviewer, row["id"])] = verdict
    return sorted(found.values(), key=lambda v: (v.id, v.reviewer)), problems


def consensus(verdicts: list[Verdict]) -> str:
    """The item's verdict: the reviewers' most frequent one, a tie going to the graver."""
    counts = {name: sum(v.verdict == name for v in verdicts) for name in GRAVITY}
    return max(GRAVITY, key=lambda name: (counts[name], -GRAVITY.index(name)))
