"""The editor's modules import one way: no circles, function-local imports included (they count as edges)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import find_cycle as _cycle
from tests.import_graph import import_graph as _import_graph

EDITOR = Path(__file__).resolve().parents[2] / "editor"


def import_graph() -> dict[str, set[str]]:
    return _import_graph("editor")


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
