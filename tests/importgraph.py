"""The import graph of the ``geo`` package, read from its source with :mod:`ast` (nothing is imported).

Every import of one ``geo`` module by another counts, wherever it is written: at
module level, inside a function (a *lazy* import), or under ``if TYPE_CHECKING:``.
A lazy import only delays the dependency to the first call, and a type-only import
is still a dependency of the module's interface; both are what a reader follows,
and both were the usual ways to hide a cycle. So the tests of the layers, of
cycles and of the columnar cache's code list all see them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEO = ROOT / "geo"


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line``; ``where`` is ``module``, ``function`` or ``type_checking``."""

    source: str
    target: str
    line: int
    where: str

    def __str__(self) -> str:
        how = {"module": "", "function": " (inside a function)", "type_checking": " (for type checking)"}[self.where]
        return f"geo/{self.source}.py:{self.line} imports geo.{self.target}{how}"


def modules(package: Path = GEO) -> list[str]:
    """The package's modules by name (``"source"``), from its ``*.py`` files (sub-packages: none today)."""
    return sorted(p.stem for p in package.glob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, known: set[str], package: str) -> list[str]:
    """The modules of ``package`` that one import statement names."""
    found: list[str] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == package and len(parts) > 1 and parts[1] in known:
                found.append(parts[1])
        return found
    if node.level:  # relative: ``from . import x`` or ``from .x import y`` (one level: the package itself)
        parts = [package, *(node.module.split(".") if node.module else [])]
    else:
        parts = (node.module or "").split(".")
    if parts[0] != package:
        return found
    if len(parts) > 1:
        if parts[1] in known:
            found.append(parts[1])
    else:  # ``from geo import a, b``
        found += [alias.name for alias in node.names if alias.name in known]
    return found


def edges(package: Path = GEO) -> list[Edge]:
    """Every import of one module of ``package`` by another (a module importing itself is left out)."""
    known = set(modules(package))
    out: list[Edge] = []

    def visit(module: str, node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend(
                    Edge(module, t, child.lineno, where) for t in _targets(child, known, package.name) if t != module
                )
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit(module, ast.Module(body=[stmt], type_ignores=[]), "type_checking")
                for stmt in child.orelse:
                    visit(module, ast.Module(body=[stmt], type_ignores=[]), where)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(module, child, "function" if where == "module" else where)
            else:
                visit(module, child, where)

    for module in sorted(known):
        visit(module, ast.parse((package / f"{module}.py").read_text(encoding="utf-8")), "module")
    return out


def graph(package: Path = GEO) -> dict[str, set[str]]:
    """``{module: modules it imports}`` for every module of ``package`` (all kinds of import)."""
    g: dict[str, set[str]] = {m: set() for m in modules(package)}
    for e in edges(package):
        g[e.source].add(e.target)
    return g


def cycles(g: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Every group of two or more modules that import each other round (directly or not), with one cycle.

    ``(members, [a, b, …, a])``: Tarjan's algorithm finds the groups; a breadth-first search inside each
    gives a shortest cycle through its first module, so the message names a real chain of imports.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(g):
        if v not in index:
            strong(v)

    found = []
    for group in sorted(groups):
        members, start = set(group), group[0]
        came_from: dict[str, str] = {}
        frontier, seen = [start], {start}
        end = None
        while frontier and end is None:
            nxt = []
            for v in frontier:
                for w in sorted(g[v] & members):
                    if w == start:
                        end = v
                        break
                    if w not in seen:
                        seen.add(w)
                        came_from[w] = v
                        nxt.append(w)
                if end is not None:
                    break
            frontier = nxt
        path = [end]
        while path[-1] != start:
            path.append(came_from[path[-1]])
        found.append((group, [*reversed(path), start]))
    return found


def closure(g: dict[str, set[str]], start: set[str]) -> set[str]:
    """``start`` and every module they import, directly or not."""
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(g.get(m, ()))
    return seen
