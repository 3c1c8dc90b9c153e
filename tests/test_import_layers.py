"""The package's modules form layers: no import cycle anywhere inside `pipeline/` (imports
inside functions count, since they are how cycles used to hide), and the generic stage
layer does not reach into MSG-MCQ or MSG-Conv."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every pipeline module `path` imports, at any depth of its code. `from a import b`
    names the module `a.b` when there is one (a submodule, the usual idiom), else `a`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}: relative import (the layer test reads absolute ones)")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(path, known) - {name} for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_cycle_finder_finds_a_hidden_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_are_seen(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from pipeline.registry import registry\n    return registry\n")
    assert imports_of(source, {"pipeline.registry"}) == {"pipeline.registry"}


def test_no_import_cycle_inside_the_package():
    assert cycles(import_graph()) == []


def test_generic_stage_layer_does_not_import_mcq_or_conv():
    graph = import_graph()
    for generic in ("pipeline.stages", "pipeline.items_stage", "pipeline.runner"):
        assert generic in graph, generic  # renamed: the test must follow
        reached = {
            m for m in graph.get(generic, set()) if m.startswith(("pipeline.mcq", "pipeline.conv"))
        }
        assert not reached, f"{generic} imports {sorted(reached)}"


def test_facts_are_shared_not_owned_by_mcq():
    """MSG-Conv reads facts from pipeline.facts, never from MSG-MCQ's modules."""
    graph = import_graph()
    conv = {m for name, deps in graph.items() if name.startswith("pipeline.conv") for m in deps}
    assert not {m for m in conv if m.startswith("pipeline.mcq")}
    facts = {m for name, deps in graph.items() if name.startswith("pipeline.facts") for m in deps}
    assert not {m for m in facts if m.startswith(("pipeline.mcq", "pipeline.conv"))}
