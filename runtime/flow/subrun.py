"""One sub-run: a compiled subflow run as a nested `Execution`, its events forwarded to the parent run.

Each forwarded event keeps its kind and gains `node_path` (flow node, item or iteration index, inner node;
longer when flows nest) and a `node_id` spelling that path (`map1/3/summarise`), so every consumer of the
parent run sees item 3's inner nodes without keeping anything per item itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..context import RunContext
from ..events import NodeFailed, RunFinished, RunStarted
from ..issues import InvalidInputs

if TYPE_CHECKING:
    from ..plan import Plan

__all__ = ["SubflowFailed", "run_subflow"]


class SubflowFailed(Exception):
    """A sub-run failed: which item or iteration, which inner node, and why."""

    retryable = False

    def __init__(self, index: int, node: str, type_: str, message: str, what: str = "item"):
        self.index, self.node, self.type, self.detail = index, node, type_, message
        super().__init__(f"{what} {index} failed at `{node}`: {type_}: {message}")

    def as_error(self) -> dict[str, Any]:
        return {"index": self.index, "node": self.node, "type": self.type, "message": self.detail}


class _Forward:
    """The sub-run's only consumer: rewrites each node event onto the parent run, keeps the ending."""

    __slots__ = ("parent", "prefix", "prefix_text", "run_id", "failed", "finished")

    def __init__(self, parent: Any, prefix: list[Any], run_id: str):
        self.parent, self.prefix, self.run_id = parent, prefix, run_id
        self.prefix_text = "".join(f"{part}/" for part in prefix)
        self.failed: NodeFailed | None = None
        self.finished: RunFinished | None = None

    def __call__(self, event: Any) -> None:
        cls = event.__class__
        if cls is RunStarted:
            return
        if cls is RunFinished:
            self.finished = event
            return
        if cls is NodeFailed and not event.handled and self.failed is None:
            self.failed = event
        inner = event.node_path
        if inner is None:  # an inner node's own event (a deeper one already spells its path)
            event.node_path, event.node_id = [*self.prefix, event.node_id], self.prefix_text + event.node_id
        else:
            event.node_path, event.node_id = [*self.prefix, *inner], self.prefix_text + event.node_id
        event.run_id = self.run_id
        if self.parent is not None:
            self.parent.forward(event)


async def run_subflow(plan: Plan, inputs: dict[str, Any], ctx: RunContext, index: int,
                      what: str = "item") -> dict[str, Any]:
    """Run `plan` once on `inputs`; its outputs by `io.output` id. Raises `SubflowFailed`."""
    from ..executor import Execution

    parent = ctx.execution
    try:
        values = plan.resolve_inputs(inputs)
    except InvalidInputs as exc:
        raise SubflowFailed(index, "", "InvalidInputs", str(exc), what) from None
    execution = Execution(plan, values, run_id=ctx.run_id, cache=None if parent is None else parent.cache)
    forward = _Forward(parent, [ctx.node_id, index], ctx.run_id)
    await execution.consume(forward)
    finished = forward.finished
    if finished is not None and finished.status == "succeeded":
        return finished.outputs
    failed = forward.failed
    if failed is not None:
        inner = failed.node_path[-1] if failed.node_path else failed.node_id
        inner_id = "/".join(map(str, failed.node_path[2:])) if failed.node_path else str(inner)
        raise SubflowFailed(index, inner_id, failed.error.type, failed.error.message, what)
    error = finished.error if finished is not None else None
    raise SubflowFailed(index, "", error.type if error else "RuntimeError",
                        error.message if error else "the sub-run ended without a result", what)
