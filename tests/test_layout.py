"""The package stays a set of short modules whose import graph has no circle (issue 14 item 3).

A module over ~350 lines mixes jobs; a circle of imports at module import time means two modules can
only be loaded in one order and breaks as soon as someone imports the other one first. Imports inside
a function run when the function is called, after every module is loaded, so they are not part of the
graph; nor are imports under ``if TYPE_CHECKING:`` (annotations only).
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "nfl_bnn"
MAX_LINES = 350


def _module_name(f: Path) -> str:
    parts = f.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(f): f for f in sorted(PKG.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_time_nodes(body: list[ast.stmt]):
    """Import statements that run when the module is imported: module level, class bodies, if/try
    blocks; not function bodies, not ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_nodes(node.body)
            yield from _import_time_nodes(node.orelse)
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_nodes(node.body)
        elif isinstance(node, (ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody"):
                yield from _import_time_nodes(getattr(node, field, []))
            for h in getattr(node, "handlers", []):
                yield from _import_time_nodes(h.body)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports at import time."""
    graph: dict[str, set[str]] = {}
    for name, f in modules.items():
        pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in _import_time_nodes(ast.parse(f.read_text(), filename=str(f)).body):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
                continue
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:  # `from nfl_bnn import market` imports the module nfl_bnn.market
                if f"{base}.{a.name}" in modules:
                    deps.add(f"{base}.{a.name}")
                elif base in modules:
                    deps.add(base)
        graph[name] = deps - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_no_module_is_over_350_lines():
    long = {str(f.relative_to(PKG.parent)): n for f in MODULES.values()
            if (n := len(f.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_the_import_graph_has_no_circle():
    cycle = find_cycle(import_graph(MODULES))
    assert cycle is None, "modules import each other at import time: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_circle(tmp_path):
    """The check itself works: two modules importing each other, one through ``from pkg import x``, one
    inside a class body, are reported; a function-level or TYPE_CHECKING import is not."""
    pkg = tmp_path / "nfl_bnn"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from nfl_bnn import b\n")
    (pkg / "b.py").write_text("class K:\n    from nfl_bnn.c import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nfl_bnn import a\n"
                              "def f():\n    from nfl_bnn import a\n")
    mods = {"nfl_bnn": pkg / "__init__.py", "nfl_bnn.a": pkg / "a.py", "nfl_bnn.b": pkg / "b.py",
            "nfl_bnn.c": pkg / "c.py"}
    assert find_cycle(import_graph(mods)) is None
    (pkg / "c.py").write_text("from . import a\n")
    assert find_cycle(import_graph(mods)) == ["nfl_bnn.a", "nfl_bnn.b", "nfl_bnn.c", "nfl_bnn.a"]
