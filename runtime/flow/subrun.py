"""One sub-run: a compiled subflow run as a nested `Execution`, its events forwarded to the parent run.

Each forwarded event keeps its kind and gains `node_path` (flow node, item or iteration index, inner node;
longer when flows nest) and a `node_id` spelling that path (`map1/3/summarise`), so every consumer of the
parent run sees item 3's inner nodes without keeping anything per item itself. When no consumer of the
parent run looks inside flow nodes (`wants_inner_events`), the sub-run's events stop here.

A map item is run by the map's worker task itself (`SubRun.run_here`): its first node runs in that task,
so an item costs no task and no event-loop turn of its own (what a hand-written `asyncio` map costs).

In a debugged run each sub-run gets the breakpoints that name its nodes (`runtime.debug.SubRunStops`); in
any other run its `debugger` stays None, so its nodes pay the one `is None` test top-level nodes pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..context import RunContext
from ..issues import InvalidInputs

if TYPE_CHECKING:
    from ..plan import Plan
    from .nested import Forward

__all__ = ["SubflowFailed", "run_subflow", "wants_inner_events"]


class SubflowFailed(Exception):
    """A sub-run failed: which item or iteration, which inner node, and why."""

    retryable = False

    def __init__(self, index: int, node: str, type_: str, message: str, what: str = "item"):
        self.index, self.node, self.type, self.detail = index, node, type_, message
        super().__init__(f"{what} {index} failed at `{node}`: {type_}: {message}")

    def as_error(self) -> dict[str, Any]:
        return {"index": self.index, "node": self.node, "type": self.type, "message": self.detail}


def wants_inner_events(execution: Any) -> bool:
    """Whether a consumer of `execution` looks at its flow nodes' inner events: iterating the run gets every
    event; a consumer opts out with `wants_inner_events = False` (an `EventFold` that keeps the default
    `inner_event`, e.g. the result collector and the budget guard)."""
    consumers = getattr(execution, "consumers", None)
    return consumers is None or any(getattr(c, "wants_inner_events", True) for c in consumers)


async def run_subflow(plan: Plan, inputs: dict[str, Any], ctx: RunContext, index: int, what: str = "item",
                      *, here: bool = False, wanted: bool | None = None) -> dict[str, Any]:
    """Run `plan` once on `inputs`; its outputs by `io.output` id. Raises `SubflowFailed`.

    `here`: in the calling task (a task of the flow node's own that nothing else shares, e.g. a map worker).
    `wanted`: whether the parent run's consumers look inside (`wants_inner_events`, asked when None)."""
    from .nested import Forward, SubRun

    parent = ctx.execution
    try:
        values = plan.resolve_inputs(inputs)
    except InvalidInputs as exc:
        raise SubflowFailed(index, "", "InvalidInputs", str(exc), what) from None
    prefix = (*getattr(parent, "node_prefix", ()), ctx.node_id, index)
    execution = SubRun(plan, values, run_id=ctx.run_id, cache=None if parent is None else parent.cache,
                       prefix=prefix, outer=parent)
    forward = Forward(parent, [ctx.node_id, index], ctx.run_id,
                       wants_inner_events(parent) if wanted is None else wanted)
    debugger = getattr(parent, "debugger", None)  # a debugged run: breakpoints may name nodes inside
    if debugger is not None:
        execution.debugger = debugger.enter(execution)
    try:
        if here:
            await execution.run_here(forward)
        else:
            await execution.consume(forward)
    finally:
        if debugger is not None:
            execution.debugger.leave()
    return _outcome(forward, index, what)


def _outcome(forward: Forward, index: int, what: str) -> dict[str, Any]:
    finished = forward.finished
    if finished is not None and finished.status == "succeeded":
        return finished.outputs
    failed = forward.failed
    if failed is not None:  # its path after this flow node and item: `summarise`, `m2/1/work`
        raise SubflowFailed(index, "/".join(map(str, (failed.node_path or [])[2:])), failed.error.type,
                            failed.error.message, what)
    error = finished.error if finished is not None else None
    raise SubflowFailed(index, "", error.type if error else "RuntimeError",
                        error.message if error else "the sub-run ended without a result", what)
