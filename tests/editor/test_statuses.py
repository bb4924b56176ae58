"""Node and run statuses: one source (`runtime.events`), read by the results, the editor and the canvas's JS."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from editor import run_views, statuses
from editor.components.run_panel import STATUS_TEXT
from runtime.events import NodeStatus, RunStatus
from runtime.results import NodeResult, RunResult

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def test_the_editor_reads_the_runtime_literals() -> None:
    assert typing.get_args(NodeStatus) == statuses.NODE_STATUSES
    assert typing.get_args(RunStatus) == statuses.RUN_STATUSES
    assert "interrupted" in statuses.RUN_STATUSES  # set by the store when the process died mid-run
    assert {"succeeded", "failed", "skipped", "cached", "cancelled"} == statuses.TERMINAL_NODE_STATUSES
    assert {"succeeded", "failed", "cancelled", "interrupted"} == statuses.ENDED_RUN_STATUSES
    assert run_views.TERMINAL == statuses.TERMINAL_NODE_STATUSES


def test_the_results_use_the_same_literals() -> None:
    hints = typing.get_type_hints(NodeResult)
    assert hints["status"] == NodeStatus
    assert {f.name for f in dataclasses.fields(NodeResult)} >= {"status"}
    assert RunResult.model_fields["status"].annotation == RunStatus


def test_the_js_status_module_is_generated_from_the_literals() -> None:
    assert statuses.JS_MODULE == ASSETS / "run_statuses.js"
    assert statuses.JS_MODULE.read_text() == statuses.js_module(), \
        "assets/run_statuses.js is out of date: run `python -m editor.statuses`"


def test_the_canvas_reads_its_statuses_from_the_generated_module() -> None:
    for name in ("flow_format.js", "flow_nodes.jsx", "flow_canvas.jsx", "node_run.jsx", "far_zoom.jsx"):
        source = (ASSETS / name).read_text()
        lists = re.findall(r"\[[^\]]*\"(?:succeeded|cancelled|skipped)\"[^\]]*\]", source)
        assert not lists, f"{name} spells its own status list {lists}: import it from ./run_statuses.js"
    assert 'from "./run_statuses.js"' in (ASSETS / "flow_format.js").read_text()


def test_every_status_has_its_colours() -> None:
    canvas_css = (ASSETS / "flow_canvas.css").read_text()
    page_css = (ASSETS / "patchwire.css").read_text()
    for status in statuses.NODE_STATUSES:
        assert f".pw-run-{status} " in canvas_css, f"no canvas colour for node status `{status}`"
    for status in statuses.RUN_STATUSES:
        assert f".pw-run-status-{status}" in page_css, f"no run bar colour for run status `{status}`"
        assert f".pw-chip-{status}" in page_css, f"no history chip colour for run status `{status}`"


def test_the_run_bar_has_a_text_for_every_run_status() -> None:
    assert [status for status, _ in STATUS_TEXT] == [statuses.IDLE, *statuses.RUN_STATUSES]
