"""Graph edits as patches: what the canvas is sent when the shown graph changes.

Reflex re-sends a changed var whole, so at 1,000 nodes re-sending the `nodes`/`edges` lists on every
edit costs 50-150 KB. Instead, the editor keeps what the browser was last sent (`Shown`) and sends the
difference as a small list of ops in one var, `graph_patch`:

    {"base": <graph_key>, "seq": n, "steps": [[seq, [op, ...]], ...]}

with ops `{"op": "upsert", "node": <entry>, "position": [x, y]}`, `{"op": "remove", "node": <id>}`,
`{"op": "move", "node": <id>, "position": [x, y]}`, `{"op": "upsert", "edge": <wire>}` and
`{"op": "remove", "edge": <edge id>}` (entries and wires in `editor.views`' wire format).

The full vars (`nodes`, `positions`, `edges`) are a snapshot sent only on a reset: a load, a change too big
for a patch (an undo far back, a layout of the whole graph, another graph shown), or the browser asking
for one (`resync`). A reset bumps `graph_key`; patches name the key they apply to and count from 1.
`steps` repeats the last few steps (a few hundred bytes), so a browser that rendered two deltas at once
still applies every step; one that misses a step asks for a reset. See `assets/flow_patches.js`.

Scope: given the pipeline shown (`update(..., pipeline=id)`, as the editor always does), every reset opens
a new `epoch` (increasing across states and server restarts) and the reset and its patches carry
`"pipeline"` and `"epoch"`. A `Shown` of another pipeline is never diffed (the next send is a reset), and
the browser applies a snapshot or patch only when it names the pipeline the editor shows and an epoch no
older than the one it holds: a late answer about the pipeline this tab just left is dropped, never applied
to the new one. Pure functions: no Reflex here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

__all__ = ["Shown", "shown_graph", "diff", "update", "next_epoch", "is_reset", "made_on_another_pipeline", "SNAPSHOT_VARS", "MAX_PATCH_OPS",
           "HISTORY_BYTES", "HISTORY_STEPS"]

MAX_PATCH_OPS = 200  # more ops than this and a reset of the vars that changed is about as small
HISTORY_BYTES = 1500  # earlier steps repeated in each patch, at most this much JSON ...
HISTORY_STEPS = 8  # ... and at most this many steps
SNAPSHOT_VARS = ("nodes", "positions", "edges", "graph_key", "graph_patch")  # what a reset sends, always whole

_last_epoch = 0


class Shown(TypedDict):
    """What the browser holds: node entries, positions and wires by id (and of which pipeline, since which reset)."""

    nodes: dict[str, dict[str, Any]]
    positions: dict[str, list[float]]
    edges: dict[str, list[Any]]
    pipeline: NotRequired[str]
    epoch: NotRequired[int]


def next_epoch() -> int:
    """A number larger than any epoch handed out before, in this process or an earlier one (microseconds)."""
    global _last_epoch
    _last_epoch = max(_last_epoch + 1, time.time_ns() // 1000)
    return _last_epoch


def is_reset(graph_vars: Mapping[str, Any]) -> bool:
    """Whether `update`'s vars are a reset (a new snapshot), not a patch or nothing."""
    return "graph_key" in graph_vars


def made_on_another_pipeline(payload: Mapping[str, Any], shown_pipeline: str) -> bool:
    """A canvas edit sent from a pipeline the tab has since left (it names the pipeline it was made on):
    applied to the pipeline shown now, it would move or delete that pipeline's nodes of the same ids."""
    made_on = payload.get("pipeline")
    return made_on is not None and made_on != shown_pipeline


def wire_id(wire: list[Any]) -> str:
    """The id the canvas gives a wire (`graph.edge_id` of its edge)."""
    return f"{wire[0]}.{wire[1]}->{wire[2]}.{wire[3]}"


def shown_graph(nodes: list[dict[str, Any]], positions: Mapping[str, list[float]], edges: list[list[Any]]) -> Shown:
    return {"nodes": {n["id"]: n for n in nodes}, "positions": dict(positions), "edges": {wire_id(w): w for w in edges}}


def diff(old: Shown, new: Shown) -> list[dict[str, Any]]:
    """The ops that turn `old` into `new`: wire removals first, then nodes, then new wires."""
    ops: list[dict[str, Any]] = [{"op": "remove", "edge": i} for i in old["edges"] if i not in new["edges"]]
    ops += [{"op": "remove", "node": i} for i in old["nodes"] if i not in new["nodes"]]
    for node_id, entry in new["nodes"].items():
        position = new["positions"].get(node_id, [0, 0])
        if old["nodes"].get(node_id) != entry:
            ops.append({"op": "upsert", "node": entry, "position": position})
        elif old["positions"].get(node_id) != position:
            ops.append({"op": "move", "node": node_id, "position": position})
    ops += [{"op": "upsert", "edge": w} for i, w in new["edges"].items() if old["edges"].get(i) != w]
    return ops


def update(shown: Shown | None, graph_key: int, last_patch: Mapping[str, Any], nodes: list[dict[str, Any]],
           positions: Mapping[str, list[float]], edges: list[list[Any]], *,
           pipeline: str | None = None) -> tuple[Shown, dict[str, Any]]:
    """What the browser must be sent to show `nodes`/`positions`/`edges`, having been sent `shown`.

    Returns the new `Shown` and the state vars to set: a patch (`graph_patch`), a reset (the full vars,
    a new `graph_key` and an empty patch), or nothing when the graph did not change. `shown=None`, or a
    `shown` of another `pipeline`, forces a reset. `node_count`/`edge_count` are always included (cheap;
    the inspector shows them). With `pipeline`, the reset opens a new epoch and patch and reset name both.
    """
    new = shown_graph(nodes, positions, edges)
    counts = {"node_count": len(nodes), "edge_count": len(edges)}
    ops = diff(shown, new) if shown is not None and _same_scope(shown, pipeline) else None
    if shown is not None and ops is not None and len(ops) <= MAX_PATCH_OPS:
        new.update(_scope(shown))
        if not ops:
            return new, counts
        return new, {**counts, "graph_patch": {**_next_patch(graph_key, last_patch, ops), **_scope(shown)}}
    key = graph_key + 1
    if pipeline is not None:
        new.update(pipeline=pipeline, epoch=next_epoch())
    return new, {**counts, "nodes": nodes, "positions": dict(positions), "edges": edges, "graph_key": key,
                 "graph_patch": {"base": key, "seq": 0, "steps": [], **_scope(new)}}


def _same_scope(shown: Shown, pipeline: str | None) -> bool:
    """`shown` is of the pipeline shown now (or no pipeline is named): a diff from it is meaningful."""
    return pipeline is None or (shown.get("pipeline") == pipeline and "epoch" in shown)


def _scope(shown: Shown) -> dict[str, Any]:
    return {k: shown[k] for k in ("pipeline", "epoch") if k in shown}  # type: ignore[literal-required]


def _next_patch(graph_key: int, last_patch: Mapping[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    same_base = last_patch.get("base") == graph_key
    seq = int(last_patch.get("seq", 0)) + 1 if same_base else 1
    kept: list[Any] = []
    budget = HISTORY_BYTES
    for step in reversed(_plain(last_patch.get("steps", [])) if same_base else []):
        budget -= len(json.dumps(step, separators=(",", ":")))
        if budget < 0 or len(kept) >= HISTORY_STEPS - 1:
            break
        kept.insert(0, step)
    return {"base": graph_key, "seq": seq, "steps": [*kept, [seq, ops]]}


def _plain(value: Any) -> Any:
    """A copy made of plain dicts and lists (state vars come wrapped in Reflex's change-tracking proxies)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
