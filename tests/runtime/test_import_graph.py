"""`runtime/` and `components_catalog/` import one way: `editor → runtime ← components_catalog`, front ends
(`cli`, `serving`) above the core, and no import circle except the two written down here.

Imports under `if TYPE_CHECKING:` are not counted (annotations only); function-local imports are.
"""

from __future__ import annotations

import ast

from tests.import_graph import ROOT, circles, import_graph

# Known circles, each through function-local imports; a new one (or a new member) fails the test.
KNOWN_CIRCLES = {
    # The flow nodes are spec language (validation checks their scopes) and components that run sub-plans
    # (they drive an executor); the registry adds them to every registry.
    frozenset({"runtime.attempts", "runtime.executor", "runtime.flow", "runtime.flow.components",
               "runtime.flow.nested", "runtime.flow.ports", "runtime.flow.scope", "runtime.flow.subrun",
               "runtime.inputs", "runtime.node_checks", "runtime.node_runs", "runtime.plan", "runtime.registry", "runtime.validation"}),
    # `session()` migrates the database on first use (db -> schema), which reads and writes through db.
    frozenset({"runtime.store.db", "runtime.store.health", "runtime.store.recorder", "runtime.store.retention",
               "runtime.store.runs", "runtime.store.schema"}),
}


def test_the_graph_finds_every_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(map(sorted, circles(graph))) == [["a", "b", "c"], ["d", "e"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_new_import_circle_in_the_runtime() -> None:
    found = set(circles(import_graph("runtime", type_checking=False)))
    assert found == KNOWN_CIRCLES, [sorted(c) for c in found ^ KNOWN_CIRCLES]


def test_no_import_circle_in_the_components() -> None:
    assert circles(import_graph("components_catalog", type_checking=False)) == []


def test_the_http_service_and_tracing_do_not_import_their_callers() -> None:
    graph = import_graph("runtime", type_checking=False)
    serving = {m for m in graph if m.startswith("runtime.serving")}
    assert not {dep for m in serving for dep in graph[m] if dep.startswith("runtime.cli")}
    assert not {m for m in graph if m.startswith("runtime.tracing.") and "runtime.tracing" in graph[m]}


def test_the_runtime_imports_neither_reflex_nor_the_editor_nor_the_components() -> None:
    found = []
    for path in sorted((ROOT / "runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                      if name.split(".")[0] in ("reflex", "editor", "components_catalog")]
    assert found == []


def test_no_module_imports_another_modules_private_names() -> None:
    """A helper two modules share is public (named without `_`) in the module that owns it."""
    found = []
    for package in ("runtime", "editor", "components_catalog"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if ".web" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                    found += [f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}" for alias in node.names
                              if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []
