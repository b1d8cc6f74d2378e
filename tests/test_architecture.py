"""The import rule, checked on the import graph drawn from the code (``ast``, lazy imports included).

Layers, lowest first (an import may go down or stay level, never up):

0. ``errors``, ``util``, ``geo``, ``domain``, ``io`` — codes, rules, geometry, readers
1. ``store`` — the workspace
2. engines: ``analysis``, ``control``, ``monitor``, ``indicators``, ``reports``, ``ingest``, ``ledgers``, ``field``,
   ``tiles``, ``sample``
3. use cases: ``services`` (later ``app/``)
4. adapters: ``cli``, ``api``, ``web``

and no import circles, neither between modules nor between packages. Imports under
``if TYPE_CHECKING:`` are not imports at run time and are ignored; imports inside functions count
(a lazy import does not remove a dependency, it only hides it).

Today's known violations are listed in :data:`ALLOWED_UPWARD` and :data:`ALLOWED_CYCLES`, each with
its reason; issue #9 removes them with the module moves. The test fails on any violation not
listed, and on a listed one that has gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import onemap

#: Layer of each top-level part of the package.
LAYERS: dict[str, int] = {
    "errors": 0, "util": 0, "geo": 0, "domain": 0, "io": 0,
    "store": 1,
    "analysis": 2, "control": 2, "monitor": 2, "indicators": 2, "reports": 2, "ingest": 2,
    "tiles": 2, "sample": 2, "ledgers": 2, "field": 2,
    "services": 3, "services_map": 3, "app": 3,
    "cli": 4, "api": 4, "web": 4,
}

#: Known imports from a lower layer to a higher one (importer, imported) → reason. Issue #9.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("onemap.indicators.compute", "onemap.services"):
        "issue #9: the evaluator imports services lazily for the land-use table; "
        "moves with the use cases into the application layer",
    ("onemap.monitor.service", "onemap.services"):
        "issue #9: monitor/service.py holds nine use cases among the engines; "
        "becomes app/monitor.py",
}

#: Known module import circles → reason. Issue #9.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


# ---------------------------------------------------------------------------- the graph
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module → modules of the same package it imports (at run time, lazy imports included)."""
    files = {_module_name(p, package_dir): p for p in package_dir.rglob("*.py")}
    top = package_dir.name
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text("utf-8"))
        typing_only = {id(n) for node in ast.walk(tree)
                       if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                       for n in ast.walk(node)}
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if id(node) in typing_only or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = mod.split(".") if is_package else mod.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in files else prefix
                           for a in node.names]
            for target in targets:
                if target.split(".")[0] != top:
                    continue
                while target not in files and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != mod:
                    graph[mod].add(target)
    return graph


def part(module: str) -> str:
    """Top-level part of a module: ``onemap.monitor.judge`` → ``monitor``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]], layers: dict[str, int]) -> set[tuple[str, str]]:
    """Imports from a module to one of a higher layer."""
    return {(m, t) for m, targets in graph.items() for t in targets
            if part(m) and part(t) and layers[part(t)] > layers[part(m)]}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    found.add(frozenset(comp))
    return found


def package_graph(graph: dict[str, set[str]], skip: set[tuple[str, str]]) -> dict[str, set[str]]:
    """Part → parts it imports, without the module edges in ``skip``."""
    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        for t in targets:
            if (m, t) not in skip and part(m) and part(t) and part(m) != part(t):
                out.setdefault(part(m), set()).add(part(t))
                out.setdefault(part(t), set())
    return out


# ---------------------------------------------------------------------------- the rule on OneMap
GRAPH = import_graph(Path(onemap.__file__).resolve().parent)


def test_every_part_has_a_layer():
    assert {part(m) for m in GRAPH if part(m)} - set(LAYERS) == set()


def test_no_new_import_from_a_higher_layer():
    found = upward_imports(GRAPH, LAYERS)
    assert found - set(ALLOWED_UPWARD) == set(), "import from a higher layer (see docs/architecture.md)"
    assert set(ALLOWED_UPWARD) - found == set(), "fixed: remove it from ALLOWED_UPWARD"


def test_no_new_module_circle():
    found = cycles(GRAPH)
    assert found - set(ALLOWED_CYCLES) == set(), "import circle (see docs/architecture.md)"
    assert set(ALLOWED_CYCLES) - found == set(), "fixed: remove it from ALLOWED_CYCLES"


def test_no_circle_between_packages():
    skip = set(ALLOWED_UPWARD)
    assert cycles(package_graph(GRAPH, skip)) == set()


# ---------------------------------------------------------------------------- the checker itself
@pytest.fixture
def toy(tmp_path) -> Path:
    """A package ``pkg``: store ← engine ← cli, plus a lazy upward import and a circle."""
    files = {
        "pkg/__init__.py": "",
        "pkg/store/__init__.py": "",
        "pkg/store/base.py": "def open_it():\n    from pkg.store import gpkg\n    return gpkg\n",
        "pkg/store/gpkg.py": "from pkg.store.base import open_it\n",
        "pkg/analysis/__init__.py": "",
        "pkg/analysis/stats.py": ("from typing import TYPE_CHECKING\n"
                                  "from pkg.store import base\nfrom . import tab\n"
                                  "if TYPE_CHECKING:\n    from pkg.cli import main\n"
                                  "def f():\n    import pkg.cli.main\n"),
        "pkg/analysis/tab.py": "from ..store.gpkg import open_it\n",
        "pkg/cli/__init__.py": "",
        "pkg/cli/main.py": "from pkg.analysis.stats import f\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    return tmp_path / "pkg"


def test_checker_finds_lazy_upward_imports_and_circles(toy):
    graph = import_graph(toy)
    assert graph["pkg.analysis.stats"] == {"pkg.store.base", "pkg.analysis.tab", "pkg.cli.main"}
    assert graph["pkg.analysis.tab"] == {"pkg.store.gpkg"}
    layers = {"store": 1, "analysis": 2, "cli": 4}
    # the TYPE_CHECKING import is ignored, the lazy one inside f() is not
    assert upward_imports(graph, layers) == {("pkg.analysis.stats", "pkg.cli.main")}
    assert cycles(graph) == {frozenset({"pkg.store.base", "pkg.store.gpkg"}),
                             frozenset({"pkg.analysis.stats", "pkg.cli.main"})}
    assert cycles(package_graph(graph, set())) == {frozenset({"analysis", "cli"})}
    assert cycles(package_graph(graph, {("pkg.analysis.stats", "pkg.cli.main")})) == set()
