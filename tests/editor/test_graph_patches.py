"""Graph edits become small patches; big changes and first shows become resets (editor.graph_patches)."""

from __future__ import annotations

import json

import pytest

from editor import graph, graph_patches
from runtime import PipelineSpec
from runtime.registry import Registry
from runtime.testing.components import sample_registry
from runtime.testing.specs import layered_spec

from .patch_kit import canvas_view


@pytest.fixture(scope="module")
def reg() -> Registry:
    return sample_registry()


def _size(value) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def test_first_show_is_a_reset_then_edits_are_patches_under_5_kb(reg: Registry) -> None:
    spec = PipelineSpec.model_validate(layered_spec(1000, 1300))
    shown, out = graph_patches.update(None, 0, {}, *canvas_view(spec, reg))
    assert out["graph_key"] == 1 and out["graph_patch"] == {"base": 1, "seq": 0, "steps": []}
    assert len(out["nodes"]) == 1000 and len(out["edges"]) == 1300 and _size(out["nodes"]) > 50_000
    patch = out["graph_patch"]

    edits = [
        ("move", lambda s: graph.move(s, {"n3_4": (10.0, 20.0), "n3_5": (30.0, 40.0)})),
        ("connect", lambda s: graph.connect(s, reg, "n0_1", "value", "n1_0", "values")),
        ("delete", lambda s: graph.delete(s, ["n2_7"], [])),
        ("rename", lambda s: graph.rename_node(s, "n4_4", "renamed")),
    ]
    for seq, (what, edit) in enumerate(edits, start=1):
        spec = edit(spec)
        shown, out = graph_patches.update(shown, 1, patch, *canvas_view(spec, reg))
        assert set(out) == {"graph_patch", "node_count", "edge_count"}, what
        patch = out["graph_patch"]
        assert (patch["base"], patch["seq"], patch["steps"][-1][0]) == (1, seq, seq)
        assert _size(patch) <= 5 * 1024, what
        assert out["node_count"] == len(spec.nodes) and out["edge_count"] == len(spec.edges)

    ops = patch["steps"][-1][1]  # the rename: the node and its wires are replaced under the new id
    assert {"op": "remove", "node": "n4_4"} in ops
    assert any(op["op"] == "upsert" and op.get("node", {}).get("id") == "renamed" for op in ops)
    assert any(op["op"] == "remove" and "edge" in op and "n4_4." in op["edge"] for op in ops)
    assert [step[0] for step in patch["steps"]] == [1, 2, 3, 4]  # earlier steps repeated (small ones)


def test_ops_turn_the_old_view_into_the_new_one(reg: Registry) -> None:
    before = PipelineSpec.model_validate(layered_spec(100, 130, layers=10))
    after = graph.delete(graph.move(graph.connect(before, reg, "n0_1", "value", "n1_0", "values"),
                                    {"n2_2": (1.0, 2.0)}), ["n5_5"], [])
    old, new = graph_patches.shown_graph(*canvas_view(before, reg)), graph_patches.shown_graph(*canvas_view(after, reg))
    replayed = json.loads(json.dumps(old))
    for op in graph_patches.diff(old, new):
        kind = "node" if "node" in op else "edge"
        if op["op"] == "remove":
            replayed[f"{kind}s"].pop(op[kind])
            replayed["positions"].pop(op[kind], None) if kind == "node" else None
        elif op["op"] == "move":
            replayed["positions"][op["node"]] = op["position"]
        elif kind == "node":
            replayed["nodes"][op["node"]["id"]] = op["node"]
            replayed["positions"][op["node"]["id"]] = op["position"]
        else:
            replayed["edges"][graph_patches.wire_id(op["edge"])] = op["edge"]
    assert replayed == json.loads(json.dumps(new))


def test_a_change_too_big_for_a_patch_resets_and_nothing_changed_sends_nothing(reg: Registry) -> None:
    spec = PipelineSpec.model_validate(layered_spec(1000, 1300))
    shown, out = graph_patches.update(None, 0, {}, *canvas_view(spec, reg))
    same, nothing = graph_patches.update(shown, 1, out["graph_patch"], *canvas_view(spec, reg))
    assert set(nothing) == {"node_count", "edge_count"} and same == shown
    everything = graph.move(spec, {n.id: (0.0, 0.0) for n in spec.nodes})  # e.g. a layout of the whole graph
    _, reset = graph_patches.update(shown, 1, out["graph_patch"], *canvas_view(everything, reg))
    assert reset["graph_key"] == 2 and reset["graph_patch"] == {"base": 2, "seq": 0, "steps": []}
    assert all(p == [0.0, 0.0] for p in reset["positions"].values())


def test_repeated_steps_are_bounded() -> None:
    patch: dict = {}
    big_op = [{"op": "move", "node": "x" * 400, "position": [1, 2]}]
    for _ in range(20):
        patch = graph_patches._next_patch(3, patch, big_op)
    assert patch["seq"] == 20 and patch["steps"][-1][0] == 20
    assert _size(patch["steps"][:-1]) <= graph_patches.HISTORY_BYTES
    for _ in range(20):
        patch = graph_patches._next_patch(3, patch, [{"op": "remove", "edge": "a"}])
    assert len(patch["steps"]) == graph_patches.HISTORY_STEPS
    assert graph_patches._next_patch(4, patch, [])["seq"] == 1  # a patch after a reset counts from 1
