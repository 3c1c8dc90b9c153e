"""docs/reliability.md quotes the numbers of the reliability tests: keep them current."""

from __future__ import annotations

import re
from pathlib import Path

import test_reliability_hostile as hostile
import test_reliability_mutations as mutations
import test_reliability_secrets as secrets
import test_resume as resume

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"


def expected() -> dict[str, int]:
    m = mutations
    return {
        "record kinds broken": len(m.TARGETS),
        "kinds of break, added records": len(m.ADD_KINDS),
        "(record, field, break) combinations, added records": len(m.ADD_CATALOG),
        "examples per kind, added records": m.ADDED_RECORD_EXAMPLES_PER_KIND,
        "kinds of break, in place": len(m.IN_PLACE_KINDS),
        "(record, field, break) combinations, in place": len(m.IN_PLACE_CATALOG),
        "examples per kind, in place": m.BROKEN_IN_PLACE_EXAMPLES_PER_KIND,
        "kinds of unreadable file": len(m.FILE_BREAKS),
        "input files broken": len(m.FILES),
        "examples per kind, unreadable files": m.UNREADABLE_FILE_EXAMPLES_PER_KIND,
        "unusual text examples": m.UNUSUAL_TEXT_EXAMPLES,
        "text fields given unusual text": len(m.TEXT_FIELDS),
        # REGRESSIONS, plus the float-beyond-double case and one per COCO list key.
        "fixed-case regression tests": len(m.REGRESSIONS) + 1 + 3,
        "hostile image cases": len(hostile.HOSTILE),
        "validate mismatch cases": len(hostile.MISMATCHES),
        "commands searched for the token": secrets.COMMANDS,
        "kill points": len(resume.KILL_POINTS),
        "partitions in the kill test": resume.PARTITIONS,
    }


def doc_numbers() -> dict[str, int]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## Numbers") :]
    return {
        name.strip(): int(value)
        for name, value in re.findall(r"^\| ([^|]+?) \| (\d+) \|$", table, re.M)
    }


def test_the_numbers_table_matches_the_tests() -> None:
    assert doc_numbers() == expected()


def test_the_prose_quotes_the_same_counts() -> None:
    text = DOC.read_text(encoding="utf-8")
    numbers = expected()
    for phrase in (
        f"({numbers['record kinds broken']} record kinds)",
        f"Breaks ({numbers['kinds of break, added records']} kinds)",
        f"({numbers['kinds of unreadable file']} kinds, on any of the "
        f"{numbers['input files broken']} input files)",
        f"Added ({numbers['hostile image cases']} cases)",
        f"({numbers['validate mismatch cases']} cases)",
        f"{numbers['commands searched for the token']} commands run as subprocesses",
        f"at {numbers['kill points']} exact points",
        f"--partitions {numbers['partitions in the kill test']}",
    ):
        assert phrase in text, phrase
    for point, where in resume.KILL_POINTS.items():
        assert f"| `{point}` | {where} |" in text, point
