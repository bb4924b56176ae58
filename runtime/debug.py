"""Breakpoints: hold a run before chosen nodes, show their resolved inputs, then continue, step or stop.

    debugger = Debugger(breakpoints={"summarise"})
    execution = execute(spec, inputs, debugger=debugger)   # or LiveRuns.start(..., debugger=debugger)
    ...                                                     # a `NodePaused` event: `summarise` waits
    debugger.resume("summarise", {"prompt": "shorter"})     # edited inputs, checked against the port types
    debugger.step("summarise")                              # run it, then pause at what it makes ready
    debugger.stop()                                         # cancel the run

A breakpoint on a node inside a flow node is its path (`runtime.debug_paths`): `sub1/inner`, `map1/summarise`
(every item of `map1` pauses there, each under its own path: `map1/0/summarise`, `map1/1/summarise`, ...)
or `map1/3/summarise` (item 3 only). Such a node is paused, edited, continued and stepped by that path (the
`node_id` of its `NodePaused`); a step pauses at what it makes ready in the same item.

Only the paused node waits: nodes that do not depend on it keep running. The executor asks the debugger
about a node only when its index is in `stops`, so a run without a debugger pays one `is None` test per
node and a run with one a set lookup; each sub-run of a debugged run gets a `SubRunStops` of its own (its
nodes' indexes), a run without a debugger none. Call `resume` / `step` / `stop` on the run's event loop
(from another thread they are handed to it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .debug_paths import NodePath, breakpoints_on, parse_path, path_problem
from .events import NodePaused, NodeResumed
from .results import jsonable
from .text import short_repr
from .types import is_assignable, type_label

if TYPE_CHECKING:
    from .executor import Execution
    from .plan import PlanNode

__all__ = ["Debugger", "PausedNode", "SubRunStops", "InputEditError", "NotPaused", "DebugAction", "apply_edits"]

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
    """A node held at a breakpoint: the inputs it would start with, waiting for a decision. Inside a flow
    node, `node_id` is its path (`map1/3/summarise`) and `node_path` that path as a list."""

    node_id: str
    component_id: str
    inputs: dict[str, Any]
    reason: Literal["breakpoint", "step"]
    since: float
    node: PlanNode = field(repr=False)
    decided: asyncio.Future[_Decision] = field(repr=False)
    scope: Any = field(default=None, repr=False)  # the Debugger or SubRunStops whose run it is in
    node_path: list[Any] | None = None


class Debugger:
    """Breakpoints and the paused nodes of one run. Breakpoints are node ids, or paths of nodes inside flow
    nodes (`map1/summarise`); they may change mid-run."""

    def __init__(self, breakpoints: Iterable[str] = ()):
        self.breakpoints: frozenset[str] = frozenset(breakpoints)
        self.stops: frozenset[int] = frozenset()  # node indexes to pause before: breakpoints and step targets
        self.paused: dict[str, PausedNode] = {}  # by node id or path, in the order they paused
        self._steps: set[int] = set()  # nodes made ready by a stepped node: pause there too
        self._paths: tuple[NodePath, ...] = ()  # the breakpoints inside flow nodes
        self._scopes: set[SubRunStops] = set()  # the sub-runs going on, told when the breakpoints change
        self._execution: Execution | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the run's, known from its first pause

    def attach(self, execution: Execution) -> None:
        """Called by the executor for the run it debugs; raises ValueError naming a breakpoint on no node."""
        if self._execution is not None and self._execution is not execution:
            raise ValueError("this debugger already debugs another run: make one Debugger per run")
        self._execution = execution
        self.set_breakpoints(self.breakpoints)

    def set_breakpoints(self, node_ids: Iterable[str], *, skip_unknown: bool = False) -> None:
        """Replace the breakpoints (nodes already paused stay paused until decided; sub-runs going on follow).
        A node id or path the run does not have is refused (ValueError, all at once), or left out with
        `skip_unknown`."""
        node_ids = frozenset(node_ids)
        if self._execution is not None:
            plan = self._execution.plan
            unknown = sorted(n for n in node_ids if "/" not in n and n not in plan.by_id)
            problems = [found for n in sorted(node_ids) if "/" in n and (found := path_problem(plan, n))]
            if skip_unknown:
                node_ids = frozenset(breakpoints_on(plan, node_ids))
            elif unknown or problems:
                if unknown:
                    problems.insert(0, f"Cannot set a breakpoint on {', '.join(f'`{n}`' for n in unknown)}: the "
                                       f"pipeline has no such node. Its nodes: {', '.join(f'`{n}`' for n in plan.by_id)}.")
                raise ValueError(" ".join(problems))
        self.breakpoints = node_ids
        self._paths = tuple(path for n in sorted(node_ids) if "/" in n and (path := parse_path(n)) is not None)
        self._refresh()
        for scope in self._scopes:
            scope._refresh()

    def _refresh(self) -> None:
        by_id = self._execution.plan.by_id if self._execution is not None else {}
        self.stops = frozenset({by_id[n] for n in self.breakpoints if n in by_id} | self._steps)

    def enter(self, execution: Execution) -> SubRunStops:
        """The breakpoints of a sub-run of this run (`execution.node_prefix` says which): set as its
        `debugger` until it ends (`SubRunStops.leave`)."""
        scope = SubRunStops(self, execution)
        self._scopes.add(scope)
        return scope

    # --- the executor's side ------------------------------------------------------------------
    async def pause(self, node: PlanNode, inputs: dict[str, Any]) -> dict[str, Any]:
        """Hold `node` until a decision; return the inputs it starts with. Cancelling the run cancels the wait."""
        execution = self._execution
        assert execution is not None, "attach() the debugger to its run first"
        reason: Literal["breakpoint", "step"] = "breakpoint" if node.id in self.breakpoints else "step"
        if node.index in self._steps:
            self._steps.discard(node.index)
            self._refresh()
        return await self._hold(self, execution, node, inputs, reason, None)

    async def _hold(self, scope: Any, execution: Execution, node: PlanNode, inputs: dict[str, Any],
                    reason: Literal["breakpoint", "step"], path: list[Any] | None) -> dict[str, Any]:
        """Pause `node` of `execution` (this run or one of its sub-runs, the node at `path` then), announced
        on this run whether or not its consumers look inside flow nodes."""
        if node.index in execution._presets:  # pinned or reused: it will not run, nothing to look at
            return inputs
        run = self._execution
        assert run is not None
        emit = run._emit if path is None else run.forward
        key = node.id if path is None else "/".join(map(str, path))
        self._loop = loop = asyncio.get_running_loop()
        decided: asyncio.Future[_Decision] = loop.create_future()
        self.paused[key] = PausedNode(key, node.component_id, inputs, reason, time.time(), node, decided, scope, path)
        emit(NodePaused(run_id=run.run_id, node_id=key, ts=time.time(), inputs=inputs, reason=reason,
                        node_path=path))
        try:
            decision = await decided
        finally:
            self.paused.pop(key, None)
        emit(NodeResumed(run_id=run.run_id, node_id=key, ts=time.time(), action=decision.action,
                         edited=execution._masked(decision.edited), original=decision.original,
                         node_path=None if path is None else list(path)))
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
        values, edited, original = apply_edits(paused.node, paused.inputs, inputs or {}, name=paused.node_id)
        if action == "step":  # its successors in its own run (a sub-run: the same item or iteration)
            scope = paused.scope or self
            scope._steps.update(edge.target for edge in paused.node.out)
            scope._refresh()
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


class SubRunStops:
    """The debugger of one sub-run of a debugged run (a map item, a loop iteration, a subflow): the indexes of
    its nodes that a breakpoint path names or a step reaches, `stops` as the executor reads it."""

    __slots__ = ("debugger", "execution", "prefix", "breaks", "stops", "_steps")

    def __init__(self, debugger: Debugger, execution: Execution):
        self.debugger, self.execution, self.prefix = debugger, execution, tuple(execution.node_prefix)
        self._steps: set[int] = set()
        self._refresh()

    def _refresh(self) -> None:
        by_id = self.execution.plan.by_id
        self.breaks = frozenset(by_id[path.node] for path in self.debugger._paths
                                if path.node in by_id and path.matches(self.prefix))
        self.stops = self.breaks | self._steps

    def enter(self, execution: Execution) -> SubRunStops:
        """A sub-run of this sub-run (flows nest): told by the run's debugger too."""
        return self.debugger.enter(execution)

    def leave(self) -> None:
        """The sub-run ended: breakpoint changes need not reach it any more."""
        self.debugger._scopes.discard(self)

    async def pause(self, node: PlanNode, inputs: dict[str, Any]) -> dict[str, Any]:
        reason: Literal["breakpoint", "step"] = "breakpoint" if node.index in self.breaks else "step"
        if node.index in self._steps:
            self._steps.discard(node.index)
            self._refresh()
        return await self.debugger._hold(self, self.execution, node, inputs, reason, [*self.prefix, node.id])


def _settle(future: asyncio.Future[_Decision], decision: _Decision) -> None:
    if not future.done():
        future.set_result(decision)


def apply_edits(node: PlanNode, current: dict[str, Any], given: dict[str, Any], *, name: str | None = None,
                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The node's inputs with `given` applied: (all values, the edited ports' new values, their old values).
    `name`: how errors name the node (its path inside a flow node; its id unless given).

    A port whose given value equals the current one (as JSON) is not an edit. Every other value is checked
    against the port's type (`is_assignable`, else pydantic's strict validation of it as JSON, which also
    builds models from objects); every problem is reported at once in one `InputEditError`.
    """
    if not isinstance(given, dict):
        raise InputEditError(f"Node `{name or node.id}`: the edited inputs must be a JSON object of port names to values, "
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
        raise InputEditError(f"Node `{name or node.id}` (`{node.component_id}` v{node.version}): " + "; ".join(problems)
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
