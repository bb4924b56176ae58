"""What the browser is sent: nodes with one handle per port, edges, issues, the compatibility table."""

from __future__ import annotations

from editor import graph, views
from runtime import EdgeSpec, PipelineSpec, PortRef, validate
from runtime.registry import LoadProblem


def _spec(registry, empty) -> PipelineSpec:
    spec, _ = graph.add_node(empty, registry, "t.numbers", 0, 0)
    spec, _ = graph.add_node(spec, registry, "t.scale", 300, 50)
    return graph.connect(spec, registry, "numbers", "count", "scale", "factor")


def test_flow_nodes_are_compact_and_carry_the_ports(registry, empty):
    spec = _spec(registry, empty)
    nodes = views.flow_nodes(spec, registry)
    assert nodes[1] == {"id": "scale", "c": "t.scale@1", "in": [["factor", "float", 1]], "out": [["value", "float"]]}
    assert views.flow_positions(spec) == {"numbers": [0.0, 0.0], "scale": [300.0, 50.0]}
    meta = views.component_meta(spec, registry)
    assert meta["t.scale@1"]["title"] == "Scale" and meta["t.scale@1"]["category"] == "Test"
    assert meta["t.scale@1"]["ports"] == {"factor": "A float input"} and meta["t.scale@1"]["color"].startswith("#")


def test_a_missing_component_still_shows(registry, empty):
    spec = PipelineSpec.model_validate({"name": "x", "nodes": [{"id": "a", "component": "gone.x"}]})
    assert views.flow_nodes(spec, registry)[0] == {"id": "a", "c": "gone.x@1", "missing": True, "in": [], "out": []}
    assert "not installed" in views.component_meta(spec, registry)["gone.x@1"]["description"]


def test_edges_and_issues_are_pinned(registry, empty):
    spec, _ = graph.add_node(_spec(registry, empty), registry, "demo.echo", 0, 0)
    # `echo.value` (str) into `scale.factor` (float) only arrives through a spec file: marked invalid.
    wrong = EdgeSpec(source=PortRef(node="echo", port="value"), target=PortRef(node="scale", port="factor"))
    bad = spec.model_copy(update={"edges": [*spec.edges, wrong]})
    ports = {n.id: graph.node_ports(n, registry) for n in bad.nodes}
    issues = validate(bad, registry)
    edges = views.flow_edges(bad, ports, issues)
    assert edges == [["numbers", "count", "scale", "factor", "int", 1], ["echo", "value", "scale", "factor", "str", 1]]
    pinned = views.issues_by_node(issues)
    assert "scale" in pinned and any(i["port"] == "factor" for i in pinned["scale"])
    rows = views.issue_rows(issues)
    assert rows[0]["severity"] == "error" and rows[0]["index"] == 0


def test_compat_table_is_the_runtime_rule(registry, empty):
    spec = _spec(registry, empty)
    ports = {n.id: graph.node_ports(n, registry) for n in spec.nodes}
    table = views.compat_table(views.port_types(registry, ports.values()))
    assert "float" in table["int"] and "int" not in table["float"]
    assert "str" not in table["int"] and "list[str]" in table["str"]  # fan-in: an item into a list
    assert set(table["Any"]) == set(table) and "Any" in table["float"]


def test_palette_groups_search_and_failed_plugins(registry):
    groups = views.palette_groups(registry)
    categories = [g["category"] for g in groups]
    assert categories == sorted(categories) and "Test" in categories
    found = views.palette_groups(registry, "scale number")
    assert [i["id"] for g in found for i in g["items"]] == ["t.scale"]
    registry.problems.append(LoadProblem(source="plugin `x.py`", message="plugin `x.py` failed to load: boom"))
    assert views.load_problems(registry) == [{"source": "plugin `x.py`", "message": "plugin `x.py` failed to load: boom",
                                              "index": "0"}]


def test_a_custom_model_base_shows_as_a_warning_on_the_node_and_in_the_issues_panel(registry, empty, monkeypatch):
    from components_catalog.llm.chat import ChatCompletion

    monkeypatch.delenv("PATCHWIRE_MODEL_BASES", raising=False)
    registry.add(ChatCompletion)
    spec, _ = graph.add_node(empty, registry, "llm.chat", 0, 0)
    spec = graph.set_param(graph.set_param(spec, "chat", "model", "openai/gpt-4o-mini"), "chat", "api_base",
                           "http://10.0.0.9/v1")
    issues = validate(spec, registry)
    (pinned,) = [i for i in views.issues_by_node(issues)["chat"] if i["code"] == "custom_model_base"]
    assert pinned["severity"] == "warning" and "keys from the environment are not sent there" in pinned["message"]
    (row,) = [r for r in views.issue_rows(issues) if r["code"] == "custom_model_base"]
    assert (row["node_id"], row["severity"]) == ("chat", "warning")
    assert row["message"].startswith("Node `chat` (`llm.chat` v1): custom model base http://10.0.0.9/v1")
    assert "PATCHWIRE_MODEL_BASES" in row["hint"]


def test_the_issues_panel_reads_a_typed_var():
    """Each row has exactly the IssueRow fields, and the state var says so (no `.to(str)` casts in the panel)."""
    import inspect
    import re
    import typing

    from editor.components import issues_panel
    from editor.state.editor import EditorState
    from runtime import Issue

    (row,) = views.issue_rows([Issue(code="x", severity="warning", message="m", node_id=None)])
    assert row == {"index": 0, "node_id": "", "port": "", "message": "m", "hint": "", "severity": "warning", "code": "x"}
    assert set(row) == set(views.IssueRow.__annotations__)
    assert typing.get_args(EditorState.issues._var_type) == (views.IssueRow,)
    casts = re.findall(r'issue\["(\w+)"\]\.to\(', inspect.getsource(issues_panel))
    assert casts == ["index"]  # only the number, joined into a test id
