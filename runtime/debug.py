"""Breakpoints: hold a run before chosen nodes, show their resolved inputs, then continue, step or stop.

    debugger = Debugger(breakpoints={"summarise"})
    execution = execute(spec, inputs, debugger=debugger)   # or LiveRuns.start(..., debugger=debugger)
    ...                                                     # a `NodePaused` event: `summarise` waits
    debugger.resume("summarise", {"prompt": "shorter"})     # edited inputs, checked against the port types
    debugger.step("summarise")                              # run it, then pause at what it makes ready
    debugger.stop()                                         # cancel the run

Only the paused node waits: nodes that do not depend on it keep running. The executor asks the debugger
about a node only when its index is in `stops`, so a run without a debugger pays one `is None` test per
node and a run with one a set lookup. Call `resume` / `step` / `stop` on the run's event loop (from another
thread they are handed to it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .events import NodePaused, NodeResumed
from .results import jsonable
from .text import short_repr
from .types import is_assignable, type_label

if TYPE_CHECKING:
    from .executor import Execution
    from .plan import PlanNode

__all__ = ["Debugger", "PausedNode", "InputEditError", "NotPaused", "DebugAction", "apply_edits"]

DebugAction = Literal["continue", "step"]


class InputEditError(ValueError):
    """Inputs edited at a breakpoint do not fit the node's input ports; the node stays paused."""


class NotPaused(LookupError):
    """A decision for a node that is not paused at a breakpoint (any more)."""


@dataclass(slots=True)
class _Decision:
    action: DebugAction
    inputs: dict[str, Any]
    edited: dict[str, Any]
    original: dict[str, Any]


@dataclass(slots=True)
class PausedNode:
    """A node held at a breakpoint: the inputs it would start with, waiting for a decision."""

    node_id: str
    component_id: str
    inputs: dict[str, Any]
    reason: Literal["breakpoint", "step"]
    since: float
    node: PlanNode = field(repr=False)
    decided: asyncio.Future[_Decision] = field(repr=False)


class Debugger:
    """Breakpoints and the paused nodes of one run. Breakpoints are node ids; they may change mid-run."""

    def __init__(self, breakpoints: Iterable[str] = ()):
        self.breakpoints: frozenset[str] = frozenset(breakpoints)
        self.stops: frozenset[int] = frozenset()  # node indexes to pause before: breakpoints and step targets
        self.paused: dict[str, PausedNode] = {}  # in the order they paused
        self._steps: set[int] = set()  # nodes made ready by a stepped node: pause there too
        self._execution: Execution | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the run's, known from its first pause

    def attach(self, execution: Execution) -> None:
        """Called by the executor for the run it debugs; raises ValueError naming a breakpoint on no node."""
        if self._execution is not None and self._execution is not execution:
            raise ValueError("this debugger already debugs another run: make one Debugger per run")
        self._execution = execution
        self.set_breakpoints(self.breakpoints)

    def set_breakpoints(self, node_ids: Iterable[str], *, skip_unknown: bool = False) -> None:
        """Replace the breakpoints (nodes already paused stay paused until decided). A node the run does not
        have is refused (ValueError), or left out with `skip_unknown`."""
        node_ids = frozenset(node_ids)
        if self._execution is not None:
            by_id = self._execution.plan.by_id
            unknown = sorted(node_ids - by_id.keys())
            if unknown and skip_unknown:
                node_ids -= set(unknown)
            elif unknown:
                raise ValueError(f"Cannot set a breakpoint on {', '.join(f'`{n}`' for n in unknown)}: the pipeline "
                                 f"has no such node. Its nodes: {', '.join(f'`{n}`' for n in by_id)}.")
        self.breakpoints = node_ids
        self._refresh()

    def _refresh(self) -> None:
        by_id = self._execution.plan.by_id if self._execution is not None else {}
        self.stops = frozenset({by_id[n] for n in self.breakpoints if n in by_id} | self._steps)

    # --- the executor's side ------------------------------------------------------------------
    async def pause(self, node: PlanNode, inputs: dict[str, Any]) -> dict[str, Any]:
        """Hold `node` until a decision; return the inputs it starts with. Cancelling the run cancels the wait."""
        execution = self._execution
        assert execution is not None, "attach() the debugger to its run first"
        reason: Literal["breakpoint", "step"] = "breakpoint" if node.id in self.breakpoints else "step"
        if node.index in self._steps:
            self._steps.discard(node.index)
            self._refresh()
        if node.index in execution._presets:  # pinned or reused: it will not run, nothing to look at
            return inputs
        self._loop = loop = asyncio.get_running_loop()
        decided: asyncio.Future[_Decision] = loop.create_future()
        self.paused[node.id] = PausedNode(node.id, node.component_id, inputs, reason, time.time(), node, decided)
        execution._emit(NodePaused(run_id=execution.run_id, node_id=node.id, ts=time.time(), inputs=inputs,
                                   reason=reason))
        try:
            decision = await decided
        finally:
            self.paused.pop(node.id, None)
        execution._emit(NodeResumed(run_id=execution.run_id, node_id=node.id, ts=time.time(), action=decision.action,
                                    edited=execution._masked(decision.edited), original=decision.original))
        # Edited values join the run like upstream outputs do: with the run's secret values masked, so a key
        # typed at a breakpoint reaches neither the node, its events and records, nor anything downstream.
        return execution._masked(decision.inputs) if decision.edited else decision.inputs

    # --- the user's side ----------------------------------------------------------------------
    def resume(self, node_id: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Continue: let the paused node run (with `inputs` replacing some of its input values) and go on to
        the next breakpoint. Returns the edited ports' new values; raises `InputEditError` (the node stays
        paused) or `NotPaused`."""
        return self._decide(node_id, "continue", inputs)

    def step(self, node_id: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the paused node, then pause at the nodes it makes ready (its direct successors)."""
        return self._decide(node_id, "step", inputs)

    def stop(self, reason: str = "stopped at a breakpoint") -> None:
        """Cancel the run (paused nodes included)."""
        if self._execution is not None:
            self._call_on_loop(self._execution.cancel, reason)

    def _decide(self, node_id: str, action: DebugAction, inputs: dict[str, Any] | None) -> dict[str, Any]:
        paused = self.paused.get(node_id)
        if paused is None or paused.decided.done():
            where = ", ".join(f"`{n}`" for n in self.paused) or "none"
            raise NotPaused(f"Node `{node_id}` is not paused at a breakpoint (paused now: {where}).")
        values, edited, original = apply_edits(paused.node, paused.inputs, inputs or {})
        if action == "step":
            self._steps.update(edge.target for edge in paused.node.out)
            self._refresh()
        self._call_on_loop(_settle, paused.decided, _Decision(action, values, edited, original))
        return edited

    def _call_on_loop(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if loop is None or here is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)


def _settle(future: asyncio.Future[_Decision], decision: _Decision) -> None:
    if not future.done():
        future.set_result(decision)


def apply_edits(node: PlanNode, current: dict[str, Any], given: dict[str, Any],
                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The node's inputs with `given` applied: (all values, the edited ports' new values, their old values).

    A port whose given value equals the current one (as JSON) is not an edit. Every other value is checked
    against the port's type (`is_assignable`, else pydantic's strict validation of it as JSON, which also
    builds models from objects); every problem is reported at once in one `InputEditError`.
    """
    if not isinstance(given, dict):
        raise InputEditError(f"Node `{node.id}`: the edited inputs must be a JSON object of port names to values, "
                             f"not {type(given).__name__}.")
    fields = node.inputs_model.model_fields
    values, edited, original, problems = dict(current), {}, {}, []
    for port, value in given.items():
        if port not in fields:
            ports = ", ".join(f"`{name}` ({type_label(f.annotation)})" for name, f in fields.items()) or "none"
            problems.append(f"it has no input `{port}` (its inputs: {ports})")
            continue
        if port in current and jsonable(current[port]) == value:
            continue
        expected = fields[port].annotation
        try:
            values[port] = _fit(expected, value)
        except ValueError:
            problems.append(f"input `{port}` expects {type_label(expected)}, but the edit gives "
                            f"{type(value).__name__} {short_repr(value, 80)}")
            continue
        edited[port] = jsonable(value)
        if port in current:
            original[port] = jsonable(current[port])
    if problems:
        raise InputEditError(f"Node `{node.id}` (`{node.component_id}` v{node.version}): " + "; ".join(problems)
                             + ". Fix the value and continue again; the node stays paused until then.")
    return values, edited, original


def _fit(expected: Any, value: Any) -> Any:
    """`value` as the port receives it; ValueError when it does not fit `expected`."""
    if is_assignable(type(value), expected):
        return value
    from pydantic import TypeAdapter, ValidationError

    adapter: TypeAdapter[Any] = TypeAdapter(expected)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = None
    try:
        if text is None:
            return adapter.validate_python(value, strict=True)
        return adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
