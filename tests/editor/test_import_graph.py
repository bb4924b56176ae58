"""The editor's modules import one way: no circles, function-local imports included (they count as edges)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EDITOR = Path(__file__).resolve().parents[2] / "editor"


def _module_name(path: Path) -> str:
    parts = path.relative_to(EDITOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str, known: set[str]) -> set[str]:
    """Every editor module `path` imports, wherever the import statement is (module level or in a function)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found - {module}


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in EDITOR.rglob("*.py") if ".web" not in p.parts}
    known = set(paths)
    return {module: _imported(path, module, known) for module, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of `graph` (as a path a -> ... -> a), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return []


def test_the_graph_reader_sees_function_local_and_relative_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []
    state = import_graph()
    assert "editor.state.run_data" in state["editor.state.run"]  # `from . import run_data`
    assert "editor.state.editor" in state["editor.state.inspector"]  # `from .editor import ...`


def test_no_import_circle_in_the_editor() -> None:
    cycle = _cycle(import_graph())
    assert not cycle, "import circle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", ["editor.state.run_data", "editor.state.canvas_status", "editor.state.editor"])
def test_the_lower_state_modules_import_no_other_run_state(module: str) -> None:
    """run_data only reads and writes data; the canvas's and the editor's states know no run state."""
    graph = import_graph()
    run_states = {"editor.state.run", "editor.state.history", "editor.state.node_run", "editor.state.run_summary",
                  "editor.state.pins", "editor.state.inspector"}
    assert not graph[module] & run_states, graph[module]


def test_run_data_holds_no_reflex_state() -> None:
    source = (EDITOR / "state" / "run_data.py").read_text()
    assert "import reflex" not in source and "get_state" not in source
