"""What the server sends the canvas names its pipeline and reset epoch; another pipeline is never a diff.

(editor.graph_patches with `pipeline=`; the browser side is tests/e2e/test_pipeline_switch.py.)
"""

from __future__ import annotations

import time

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


def test_a_reset_opens_an_epoch_that_its_patches_name(reg: Registry) -> None:
    spec = PipelineSpec.model_validate(layered_spec(40, 50, layers=5))
    shown, reset = graph_patches.update(None, 0, {}, *canvas_view(spec, reg), pipeline="pa")
    assert graph_patches.is_reset(reset) and set(graph_patches.SNAPSHOT_VARS) <= set(reset)
    epoch = reset["graph_patch"]["epoch"]
    assert reset["graph_patch"] == {"base": 1, "seq": 0, "steps": [], "pipeline": "pa", "epoch": epoch}
    assert (shown["pipeline"], shown["epoch"]) == ("pa", epoch)

    moved = graph.move(spec, {"n1_1": (5.0, 6.0)})
    shown, out = graph_patches.update(shown, 1, reset["graph_patch"], *canvas_view(moved, reg), pipeline="pa")
    assert not graph_patches.is_reset(out)
    assert {k: out["graph_patch"][k] for k in ("base", "seq", "pipeline", "epoch")} == {
        "base": 1, "seq": 1, "pipeline": "pa", "epoch": epoch}
    assert (shown["pipeline"], shown["epoch"]) == ("pa", epoch)  # the epoch lasts until the next reset
    same, nothing = graph_patches.update(shown, 1, out["graph_patch"], *canvas_view(moved, reg), pipeline="pa")
    assert set(nothing) == {"node_count", "edge_count"} and same == shown


def test_what_was_shown_of_another_pipeline_is_never_diffed(reg: Registry) -> None:
    """Even the very same graph under another pipeline is a reset (a new epoch), not a patch or nothing."""
    spec = PipelineSpec.model_validate(layered_spec(40, 50, layers=5))
    shown, first = graph_patches.update(None, 0, {}, *canvas_view(spec, reg), pipeline="pa")
    _, other = graph_patches.update(shown, 1, first["graph_patch"], *canvas_view(spec, reg), pipeline="pb")
    assert graph_patches.is_reset(other) and other["graph_key"] == 2
    patch = other["graph_patch"]
    assert (patch["base"], patch["seq"], patch["steps"], patch["pipeline"]) == (2, 0, [], "pb")
    assert patch["epoch"] > first["graph_patch"]["epoch"]
    assert len(other["nodes"]) == 40  # the snapshot goes whole


def test_a_shown_graph_without_a_pipeline_is_reset_once_a_pipeline_is_named(reg: Registry) -> None:
    spec = PipelineSpec.model_validate(layered_spec(40, 50, layers=5))
    untagged, first = graph_patches.update(None, 0, {}, *canvas_view(spec, reg))  # e.g. kept from before an upgrade
    assert "pipeline" not in untagged and "epoch" not in first["graph_patch"]
    _, out = graph_patches.update(untagged, 1, first["graph_patch"], *canvas_view(spec, reg), pipeline="pa")
    assert graph_patches.is_reset(out) and out["graph_patch"]["pipeline"] == "pa"


def test_the_first_patch_after_a_switch_repeats_no_step_of_the_pipeline_left(reg: Registry) -> None:
    spec = PipelineSpec.model_validate(layered_spec(40, 50, layers=5))
    shown, out = graph_patches.update(None, 0, {}, *canvas_view(spec, reg), pipeline="pa")
    patch, key = out["graph_patch"], out["graph_key"]
    for i in range(3):  # a few edits on pa: its patch repeats their steps
        spec = graph.move(spec, {"n0_0": (100.0 + i, 7.0)})
        shown, out = graph_patches.update(shown, key, patch, *canvas_view(spec, reg), pipeline="pa")
        patch = out["graph_patch"]
    assert [s[0] for s in patch["steps"]] == [1, 2, 3]
    other = PipelineSpec.model_validate(layered_spec(20, 24, layers=4))
    shown, out = graph_patches.update(shown, key, patch, *canvas_view(other, reg), pipeline="pb")
    key, patch = out["graph_key"], out["graph_patch"]
    other = graph.move(other, {"n0_0": (109.0, 9.0)})
    _, out = graph_patches.update(shown, key, patch, *canvas_view(other, reg), pipeline="pb")
    assert out["graph_patch"]["seq"] == 1 and [s[0] for s in out["graph_patch"]["steps"]] == [1]
    assert out["graph_patch"]["pipeline"] == "pb" and out["graph_patch"]["epoch"] == patch["epoch"]


def test_epochs_only_grow_and_follow_the_clock() -> None:
    """Larger than any before, in this process and (clock-based) in an earlier one: a canvas that outlived a
    server restart still sees the new server's resets as newer than what it holds."""
    before = time.time_ns() // 1000
    epochs = [graph_patches.next_epoch() for _ in range(2000)]
    assert all(b > a for a, b in zip(epochs, epochs[1:], strict=False))
    assert epochs[0] >= before
    assert epochs[-1] < 2**53  # exact as a JavaScript number


def test_a_canvas_edit_made_on_another_pipeline_is_recognised() -> None:
    """Canvas edits name the pipeline they were made on (assets/flow_canvas.jsx `call`); one still on its way
    when the tab switched must not move or delete the nodes of the same ids in the pipeline shown now."""
    assert graph_patches.made_on_another_pipeline({"pipeline": "p-old", "positions": []}, "p-new")
    assert not graph_patches.made_on_another_pipeline({"pipeline": "p-new", "positions": []}, "p-new")
    assert not graph_patches.made_on_another_pipeline({"positions": []}, "p-new")  # callers from Python
