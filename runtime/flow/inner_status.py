"""Live statuses of the nodes inside flow nodes, one per inner node of a subflow as the canvas shows it.

A view opened on a subflow shows its nodes once, whatever item or iteration ran them, so the events of a
node inside a flow node (`node_path` `[map1, 3, summarise]`, `[outer, 0, m, 2, work]` when flows nest) are
folded under the flow path without its indices (`map1`, `outer/m`) and the inner node's id. Per inner node:
how many of its runs are in flight, and how many ended each way.

- a `flow.subflow` node has one sub-run: its inner nodes read like the pipeline's own;
- a `flow.map`: an inner node is `running` while any item runs it; once none does, `failed` if it failed in
  some item (unhandled), else `succeeded`, `cached`, `skipped`, `cancelled` (the first one that occurred in
  this order); `counts` says how many runs are in flight, done and failed;
- a `flow.loop`: the same across iterations, so a node shows the iteration that runs it now;
- a loop node inside a subflow (not a top-level one: `runtime.flow.progress.LoopProgress` counts those) also
  has `loop`, [iteration, max_iterations]: the highest iteration its inner nodes ran in since it (re)started,
  then the count its latest run ended with (`trace["loop"]`).

A stored run folds the same way, from its node records (`editor.stored_inner` calls `started` / `ended`).

Only consumers that look inside flow nodes fold these (`runtime.live.LiveRun`): a run nobody watches gets
no inner events at all (`runtime.flow.subrun.wants_inner_events`). Memory is one entry per inner node of
the spec and one per inner node in flight, never per item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..events import NodeCached, NodeCancelled, NodeFailed, NodeFinished, NodeSkipped, NodeStarted
from .scope import FLOW_IDS

__all__ = ["InnerStatuses", "InnerNode", "FlowNode", "flow_key", "inner_ids", "loops_inside", "nested_loops"]

# When no run of the node is in flight: the first of these it has a run of names its status.
_SETTLED = ("failed", "succeeded", "cached", "skipped", "cancelled")
_ENDED = {NodeFinished: "succeeded", NodeCached: "cached", NodeSkipped: "skipped", NodeCancelled: "cancelled"}


def flow_key(path: list[Any]) -> str:
    """The flow path of an inner node's event without item or iteration indices (`outer/m`)."""
    return path[0] if len(path) == 3 else "/".join(path[0:-1:2])


def inner_ids(plan: Any, flow: str) -> list[str]:
    """The node ids of the subflow the flow node at `flow` (`outer/m`) runs in `plan`; [] if there is none."""
    for node_id in flow.split("/"):
        index = plan.by_id.get(node_id) if plan is not None else None
        plan = getattr(plan.nodes[index].component, "plan", None) if index is not None else None
    return [node.id for node in plan.nodes] if plan is not None else []


FlowNode = tuple[str, str, int | None, Any]  # (node id, component id, max_iterations, the level it runs)


def loops_inside(level: Any, flow_nodes: Callable[[Any], Iterable[FlowNode]], above: str = "") -> dict[str, int]:
    """The `max_iterations` of every loop node inside a flow node below `level`, by its flow path (`outer/lp`):
    `flow_nodes(level)` gives each flow node of a level that runs one (a compiled plan's, a spec document's)."""
    loops: dict[str, int] = {}
    for node_id, component_id, bound, inner in flow_nodes(level):
        path = f"{above}/{node_id}" if above else node_id
        if above and component_id == "flow.loop" and bound is not None:
            loops[path] = bound
        loops.update(loops_inside(inner, flow_nodes, path))
    return loops


def nested_loops(plan: Any, above: str = "") -> dict[str, int]:
    """`loops_inside` a compiled plan."""
    return loops_inside(plan, _plan_flow_nodes, above)


def _plan_flow_nodes(plan: Any) -> Iterator[FlowNode]:
    for node in plan.nodes:
        inner = getattr(getattr(node, "component", None), "plan", None)
        if node.component_id in FLOW_IDS and inner is not None:
            loop = node.component_id == "flow.loop"
            yield node.id, node.component_id, int(node.component.params.max_iterations) if loop else None, inner


class InnerNode:
    """One inner node, over every sub-run that ran it."""

    __slots__ = ("running", "ended", "started_at", "latency_ms", "attempts", "fired", "loop")

    def __init__(self, loop_bound: int | None = None) -> None:
        self.running = 0
        self.ended: dict[str, int] = {}  # status -> runs that ended so
        self.started_at: float | None = None  # the latest start
        self.latency_ms: float | None = None  # the latest run that ended
        self.attempts = 0
        self.fired: set[str] = set()  # ports any run fired (the canvas lights their edges)
        self.loop = None if loop_bound is None else [0, loop_bound]  # a loop node: [iteration, max_iterations]

    def status(self, *, run_ended: bool = False) -> str:
        if self.running and not run_ended:
            return "running"
        for status in _SETTLED:
            if self.ended.get(status):
                return status
        return "cancelled" if run_ended and self.running else "queued"

    def view(self, *, run_ended: bool = False) -> dict[str, Any]:
        """Shaped like `runtime.live.NodeView.to_dict` (what `editor.run_views.compact_status` reads), and
        `counts`: [in flight, done, failed] when the node ran in more than one sub-run."""
        status = self.status(run_ended=run_ended)
        running = 0 if run_ended else self.running
        done = self.ended.get("succeeded", 0) + self.ended.get("cached", 0)
        failed = self.ended.get("failed", 0)
        runs = running + sum(self.ended.values())
        return {"status": status, "started_at": self.started_at, "latency_ms": self.latency_ms,
                "attempts": self.attempts, "fired": sorted(self.fired),
                "counts": [running, done, failed] if runs > 1 else None,
                "loop": None if self.loop is None else list(self.loop)}


class InnerStatuses:
    """The live statuses of every inner node of one run, by flow path (see the module docstring)."""

    __slots__ = ("flow_nodes", "_loops", "_flows", "_in_flight")

    def __init__(self, plan: Any, loops: dict[str, int] | None = None):
        """`loops`: the bounds of the loop nodes inside flow nodes (`nested_loops`), read off `plan` when None."""
        nodes = plan.nodes if plan is not None else ()
        self.flow_nodes = frozenset(node.id for node in nodes if node.component_id in FLOW_IDS)
        self._loops = loops if loops is not None else nested_loops(plan) if plan is not None else {}
        self._flows: dict[str, dict[str, InnerNode]] = {}
        self._in_flight: dict[str, InnerNode] = {}  # inner nodes running now, by full id (`map1/3/summarise`)

    def fold(self, event: Any) -> None:
        """One event of a node inside a flow node (`node_path` set)."""
        cls = event.__class__
        if cls is NodeStarted:
            self.started(event.node_id, event.node_path, event.ts, event.attempt)
            return
        status = "failed" if cls is NodeFailed else _ENDED.get(cls)
        if status is None:  # chunks, logs, retries, pauses: the status stays
            return
        if cls is NodeFinished or cls is NodeFailed:
            fired = ("error",) if cls is NodeFailed and event.handled else event.outputs if cls is NodeFinished else ()
            self.ended(event.node_id, event.node_path, status, event.latency_ms, event.attempts, fired, event.trace)
        else:
            self.ended(event.node_id, event.node_path, status, fired=event.outputs if cls is NodeCached else ())

    def started(self, node_id: str, path: list[Any], ts: float | None, attempt: int) -> None:
        """The inner node `node_id` (at `path`) started a run, or a new attempt of the one in flight."""
        node = self._in_flight.get(node_id)
        if node is None:  # not a retry's new attempt: one more run in flight
            node = self._in_flight[node_id] = self._node(path)
            node.running += 1
        node.started_at = ts
        if attempt > node.attempts:
            node.attempts = attempt
        if node.loop is not None:  # a nested loop node (re)starts: no iteration yet
            node.loop[0] = 0
        if self._loops and len(path) > 4:
            self._iteration(path)

    def ended(self, node_id: str, path: list[Any], status: str, latency_ms: float | None = None, attempts: int = 0,
              fired: Any = (), trace: dict[str, Any] | None = None) -> None:
        """A run of the inner node `node_id` ended with `status` (`fired`: the ports it fired)."""
        node = self._in_flight.pop(node_id, None)
        if node is None:  # it never started (cached, skipped, cancelled while queued)
            node = self._node(path)
        else:
            node.running -= 1
        node.ended[status] = node.ended.get(status, 0) + 1
        if latency_ms is not None:
            node.latency_ms = latency_ms
        if attempts > node.attempts:
            node.attempts = attempts
        if fired:
            node.fired.update(fired)
        if node.loop is not None and trace and isinstance((trace.get("loop") or {}).get("iterations"), int):
            node.loop[0] = trace["loop"]["iterations"]

    def restarted(self, node_id: str) -> None:
        """The top-level node `node_id` started (again): what ran inside it before is forgotten."""
        if node_id not in self.flow_nodes:
            return
        for key in [k for k in self._flows if k == node_id or k.startswith(node_id + "/")]:
            del self._flows[key]
        self._in_flight = {n: node for n, node in self._in_flight.items() if not n.startswith(node_id + "/")}

    def views(self, flow: str, *, run_ended: bool = False) -> dict[str, dict[str, Any]]:
        """The inner nodes of the flow node at `flow` (`map1`, `outer/m`), by their ids in its subflow."""
        return {node_id: node.view(run_ended=run_ended) for node_id, node in self._flows.get(flow, {}).items()}

    def _iteration(self, path: list[Any]) -> None:
        """A node started inside an iteration of a nested loop (`[outer, 0, lp, 2, work]`): the loop node's
        iteration is at least that one."""
        if flow_key(path) not in self._loops or not isinstance(index := path[-2], int):
            return
        loop = self._node(path[:-2]).loop
        if loop is not None and index >= loop[0]:
            loop[0] = index + 1

    def _node(self, path: list[Any]) -> InnerNode:
        key = path[0] if len(path) == 3 else "/".join(path[0:-1:2])
        flow = self._flows.get(key)
        if flow is None:
            flow = self._flows[key] = {}
        node = flow.get(path[-1])
        if node is None:
            node = flow[path[-1]] = InnerNode(self._loops.get(f"{key}/{path[-1]}") if self._loops else None)
        return node
