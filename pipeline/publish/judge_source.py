"""A standalone copy of `msg evaluate`'s judging (`pipeline/evaluate/extract.py`) for exports
that must run without the project installed (lmms-eval's `utils.py`).

The copy is generated, never written by hand: the source of `extract.py` is taken as is and
only its marked block of project imports is replaced by the same tables written as literals
(number words, attribute surface forms, direction phrases, how each aspect is grounded), read
from the tables in use at export time. So an exported task judges exactly like
`msg evaluate` did on the day it was exported.
"""

from __future__ import annotations

import inspect
import pprint

from pipeline.evaluate import extract

BEGIN = "# --- project tables (an exported copy replaces this block with literal tables) ---"
END = "# --- end of project tables ---"
FUTURE = "from __future__ import annotations\n"

LITERAL_TABLES = """\
# --- tables of the MSG build's rules, written out at export time (msg export) ---
NUMBER_WORDS = {number_words}
_SURFACE_INDEX = {surface_index}
_DIRECTIONS = {directions}
_GROUNDING = {grounding}
_ATTRIBUTE_ASPECTS = {attribute_aspects}


def surface_index():
    return _SURFACE_INDEX


def direction_of_phrase():
    return _DIRECTIONS


def attribute_aspects():
    return _ATTRIBUTE_ASPECTS


def grounding(aspect):
    return _GROUNDING.get(aspect, "")


# --- end of tables ---"""


def _literal(value: object) -> str:
    return pprint.pformat(value, width=100, sort_dicts=True)


def literal_tables() -> str:
    """The project tables `extract.py` reads, as Python literals."""
    aspects = tuple(extract.attribute_aspects())
    surface = {k: v for k, v in extract.surface_index().items() if v[0] in aspects}
    registry = extract.registry()
    return LITERAL_TABLES.format(
        number_words=_literal(tuple(extract.NUMBER_WORDS)),
        surface_index=_literal(surface),
        directions=_literal(dict(extract.direction_of_phrase())),
        grounding=_literal({a: extract.grounding(a) for a in sorted(registry.aspects)}),
        attribute_aspects=_literal(aspects),
    )


def standalone_judge_source() -> str:
    """The source of `extract.py` without its module docstring, its `__future__` import and
    its project imports (replaced by literal tables): standard library only. Without the
    `__future__` import, annotations are evaluated (Python >= 3.10, as lmms-eval requires),
    so `dataclass` works in a module loaded from its file and not registered in
    `sys.modules`, which is how lmms-eval loads a task's `utils.py`."""
    source = inspect.getsource(extract)
    body = source.split('"""', 2)[2]  # after the module docstring
    if FUTURE not in body or BEGIN not in body or END not in body:
        raise RuntimeError("pipeline/evaluate/extract.py lost the markers of its project tables")
    body = body.replace(FUTURE, "", 1)
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    text = head.strip() + "\n\n" + literal_tables() + "\n" + tail
    if "pipeline" in "".join(
        line for line in text.splitlines() if line.startswith(("import ", "from "))
    ):
        raise RuntimeError("the standalone judge still imports the project")
    return text.strip() + "\n"
