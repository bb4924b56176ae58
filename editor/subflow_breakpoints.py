"""Breakpoints on the nodes of a subflow open on the canvas: the path they are stored under, the dots shown at
the open level, and which inner nodes of a run are paused there. Pure functions; no Reflex here.

A subflow is opened through a flow node (the breadcrumbs); the flow path of that level is the flow nodes' ids
joined by `/` (`map1`, `outer/m`, `SubflowNavState.open_flow`). A breakpoint on its inner node `work` is stored
as `map1/work`, the `runtime.debug_paths` form that pauses `work` in every item or iteration of `map1`, in the
same table as the pipeline's own breakpoints (which are plain node ids: their flow path is "").
"""

from __future__ import annotations

from collections.abc import Iterable

from runtime.debug_paths import parse_path

__all__ = ["stored_id", "shown_at", "paused_at", "paused_for"]


def stored_id(flow: str, node_id: str) -> str:
    """The id a breakpoint on `node_id`, shown at the level of the flow path `flow`, is stored under."""
    return f"{flow}/{node_id}" if flow else node_id


def shown_at(ids: Iterable[str], flow: str) -> dict[str, bool]:
    """The canvas's `breakpoints` prop ({node id: True}) at the level of `flow` ("": the pipeline itself)."""
    if not flow:
        return {node_id: True for node_id in ids if "/" not in node_id}
    prefix = flow + "/"
    return {node_id[len(prefix):]: True for node_id in ids
            if node_id.startswith(prefix) and "/" not in node_id[len(prefix):]}


def _flow_and_node(run_id: str) -> tuple[str, str]:
    """(flow path without indices, node id) of a run's node id: `outer/1/m/0/work` -> (`outer/m`, `work`)."""
    path = parse_path(run_id)
    if path is None:
        return "", run_id
    return "/".join(flow_id for flow_id, _ in path.levels), path.node


def paused_at(paused: Iterable[str], flow: str) -> set[str]:
    """The nodes of the level of `flow` that wait at a breakpoint in some item, from the run's paused ids."""
    found = set()
    for run_id in paused:
        where, node_id = _flow_and_node(run_id)
        if where == flow:
            found.add(node_id)
    return found


def paused_for(paused: Iterable[str], flow: str, node_id: str) -> str | None:
    """The first of the run's paused ids that is `node_id` at the level of `flow` (None: it is not paused)."""
    return next((run_id for run_id in paused if _flow_and_node(run_id) == (flow, node_id)), None)
