"""`flow.subflow`, `flow.map` and `flow.loop`: run a named subflow once, per item, or until a condition holds.

Their ports are the subflow's (`flow_ports`, given the spec's `FlowScope` by validation); compiling binds
each node to the subflow's compiled plan (`bind_flow`), shared by every item and iteration.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..component import Component, PortInfo, component
from ..context import RunContext
from ..types import is_assignable, type_label
from .ports import names, ports_model, subflow_ports
from .scope import FlowError, FlowScope
from .subrun import SubflowFailed, run_subflow, wants_inner_events
from .until import Until, holds

__all__ = ["SubflowNode", "MapNode", "LoopNode", "FLOW_COMPONENTS"]


class SubflowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subflow: str = Field(description="Name of the subflow to run (one of the spec's `subflows`)")


class MapParams(SubflowParams):
    over: str = Field(description="The subflow input that receives one item of `items`")
    concurrency: int = Field(8, ge=1, le=1000, description="How many items run at the same time, at most")
    on_item_error: Literal["fail", "skip", "null"] = Field(
        "fail", description="fail: fail the node; skip: leave the item out of every list; null: None in each")


class LoopParams(SubflowParams):
    max_iterations: int = Field(ge=1, le=1000, description="Runs of the subflow, at most (1–1,000)")
    until: Until | None = Field(None, description="Stop after the first iteration whose output meets this")
    carry: dict[str, str] = Field(default_factory=dict,
                                  description="Subflow output -> subflow input it feeds in the next iteration")


class NoPorts(BaseModel):
    """Ports come from the subflow (shown once `subflow` is set inside a spec)."""


class MapStaticInputs(BaseModel):
    items: list[Any] = Field(description="One sub-run per item, in order")


class MapStaticOutputs(BaseModel):
    errors: list[dict[str, Any]] = Field(default_factory=list, description="{index, node, type, message} per failed item")


class LoopStaticOutputs(BaseModel):
    iterations: int = Field(description="How many times the subflow ran")
    stopped_by: Literal["condition", "max_iterations"] = Field(description="Why the loop stopped")


class _FlowNode(Component):
    """Shared by the three: the bound sub-plan and this node's own port models."""

    plan: Any = None
    outputs_model: type[BaseModel] = NoPorts

    def bind_flow(self, scope: FlowScope, outputs_model: type[BaseModel]) -> None:
        self.plan = scope.plan(self.params.subflow)
        self.outputs_model = outputs_model


@component(id="flow.subflow", version=1, title="Subflow", category="Flow")
class SubflowNode(_FlowNode):
    """Run a named subflow as one node: its inputs and outputs become this node's ports."""

    params: SubflowParams

    @classmethod
    def flow_ports(cls, params: Any, scope: FlowScope | None) -> tuple[type[BaseModel], type[BaseModel]]:
        ports = subflow_ports(params.subflow, scope)
        return (ports_model(f"{params.subflow}Inputs", list(ports.inputs.values())),
                ports_model(f"{params.subflow}Outputs", list(ports.outputs.values())))

    async def run(self, inputs: NoPorts, ctx: RunContext) -> NoPorts:
        outputs = await run_subflow(self.plan, _given(inputs), ctx, 0, "run")
        return self.outputs_model.model_construct(**outputs)  # only the outputs that fired


@component(id="flow.map", version=1, title="Map", category="Flow")
class MapNode(_FlowNode):
    """Run a subflow once per item of `items`, `concurrency` at a time; its outputs as lists in item order."""

    params: MapParams
    list_inputs = frozenset({"items"})  # a list wired into `items` is the list of items (see `plan._list_mode`)

    @classmethod
    def flow_ports(cls, params: Any, scope: FlowScope | None) -> tuple[type[BaseModel], type[BaseModel]]:
        ports = subflow_ports(params.subflow, scope)
        over = ports.inputs.get(params.over)
        if over is None:
            raise FlowError("invalid_over", f"`over` names `{params.over}`, which is not an input of subflow "
                            f"`{params.subflow}`. Its inputs: {names(ports.inputs)}.",
                            "Set `over` to the subflow input that receives one item.", "params.over")
        _refuse_clash(ports.inputs, ("items",), "input", params.subflow)
        _refuse_clash(ports.outputs, ("errors",), "output", params.subflow)
        shared = [p for name, p in ports.inputs.items() if name != params.over]
        items = PortInfo("items", list[over.type], True, f"One sub-run per item ({type_label(over.type)})")
        outputs = [PortInfo(p.name, list[p.type], False, p.description, []) for p in ports.outputs.values()]
        errors = PortInfo("errors", list[dict[str, Any]], False, "{index, node, type, message} per failed item", [])
        return (ports_model(f"{params.subflow}MapInputs", [items, *shared]),
                ports_model(f"{params.subflow}MapOutputs", [*outputs, errors]))

    async def run(self, inputs: MapStaticInputs, ctx: RunContext) -> MapStaticOutputs:
        given = _given(inputs)
        items, over, mode = given.pop("items"), self.params.over, self.params.on_item_error
        names = [name for name in self.outputs_model.model_fields if name != "errors"]
        columns: dict[str, list[Any]] = {name: [None] * len(items) for name in names}  # filled as items end
        errors: list[dict[str, Any]] = []
        counts = {"total": len(items), "done": 0, "failed": 0}
        ctx.record("items", counts)
        pending = iter(range(len(items)))
        wanted = wants_inner_events(ctx.execution)  # asked once per node, not per item

        async def worker() -> None:
            for index in pending:  # one shared iterator: each free worker takes the next item
                try:
                    outputs = await run_subflow(self.plan, {**given, over: items[index]}, ctx, index,
                                                here=True, wanted=wanted)
                except SubflowFailed as exc:
                    counts["failed"] += 1
                    if mode == "fail":
                        raise
                    errors.append(exc.as_error())
                    continue
                counts["done"] += 1
                for name in names:
                    columns[name][index] = outputs.get(name)

        await _in_workers(min(self.params.concurrency, len(items)), worker)
        if counts["done"] + counts["failed"] != len(items):  # never a silent `None` for an item that did not run
            raise RuntimeError(f"{len(items) - counts['done'] - counts['failed']} of {len(items)} items ended "
                               "neither done nor failed (their worker was cancelled): please report this as a bug")
        errors.sort(key=lambda e: e["index"])
        if errors and mode == "skip":
            failed = {e["index"] for e in errors}
            columns = {name: [v for i, v in enumerate(values) if i not in failed] for name, values in columns.items()}
        return self.outputs_model.model_construct(**columns, errors=errors)


@component(id="flow.loop", version=1, title="Loop", category="Flow")
class LoopNode(_FlowNode):
    """Run a subflow again and again (at most `max_iterations`), feeding `carry` outputs back in, until
    `until` holds; the last iteration's outputs."""

    params: LoopParams

    @classmethod
    def flow_ports(cls, params: Any, scope: FlowScope | None) -> tuple[type[BaseModel], type[BaseModel]]:
        ports = subflow_ports(params.subflow, scope)
        _refuse_clash(ports.outputs, ("iterations", "stopped_by"), "output", params.subflow)
        if params.until is not None and params.until.output not in ports.outputs:
            raise FlowError("invalid_until", f"`until.output` names `{params.until.output}`, which is not an "
                            f"output of subflow `{params.subflow}`. Its outputs: {names(ports.outputs)}.",
                            "Set `until.output` to a subflow output.", "params.until.output")
        for out, into in params.carry.items():
            _check_carry(out, into, ports, params.subflow)
        statics = [PortInfo("iterations", int, True, "How many times the subflow ran"),
                   PortInfo("stopped_by", Literal["condition", "max_iterations"], True, "Why the loop stopped")]
        return (ports_model(f"{params.subflow}LoopInputs", list(ports.inputs.values())),
                ports_model(f"{params.subflow}LoopOutputs", [*ports.outputs.values(), *statics]))

    async def run(self, inputs: NoPorts, ctx: RunContext) -> LoopStaticOutputs:
        values, until, outputs = _given(inputs), self.params.until, {}
        stopped_by, iteration = "max_iterations", 0
        for iteration in range(1, self.params.max_iterations + 1):
            outputs = await run_subflow(self.plan, values, ctx, iteration - 1, "iteration")
            if until is not None and holds(until, outputs.get(until.output)):
                stopped_by = "condition"
                break
            for out, into in self.params.carry.items():
                if out in outputs:
                    values[into] = outputs[out]
        ctx.record("loop", {"iterations": iteration, "stopped_by": stopped_by,
                            "until": until.describe() if until else None})
        return self.outputs_model.model_construct(**outputs, iterations=iteration, stopped_by=stopped_by)


async def _in_workers(count: int, worker: Any) -> None:
    """Run `count` workers; the first item failure stops them all and is raised.

    On Python 3.11 a TaskGroup whose child fails while it waits leaves its own task counted as being
    cancelled (fixed in 3.12); the count is put back, so the task (a map item's, running this nested map)
    is not taken for cancelled afterwards."""
    task = asyncio.current_task()
    cancelling = task.cancelling() if task is not None else 0
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(count):
                group.create_task(worker())
    except* SubflowFailed as failures:
        if task is not None and task.cancelling() > cancelling:
            task.uncancel()
        raise failures.exceptions[0] from None


def _given(inputs: BaseModel) -> dict[str, Any]:
    """The values that arrived (the subflow applies its own defaults to the others)."""
    return {name: getattr(inputs, name) for name in inputs.model_fields_set}


def _refuse_clash(ports: dict[str, Any], taken: tuple[str, ...], kind: str, subflow: str) -> None:
    for name in taken:
        if name in ports:
            raise FlowError("invalid_subflow_port", f"subflow `{subflow}` has an {kind} named `{name}`, which this "
                            "node uses for its own port.", f"Rename that {kind} in the subflow.")


def _check_carry(out: str, into: str, ports: Any, subflow: str) -> None:
    where = f"params.carry.{out}"
    if out not in ports.outputs:
        raise FlowError("invalid_carry", f"`carry` reads `{out}`, which is not an output of subflow `{subflow}`. "
                        f"Its outputs: {names(ports.outputs)}.", "Use subflow output names as `carry` keys.", where)
    if into not in ports.inputs:
        raise FlowError("invalid_carry", f"`carry` feeds `{into}`, which is not an input of subflow `{subflow}`. "
                        f"Its inputs: {names(ports.inputs)}.", "Use subflow input names as `carry` values.", where)
    source, target = ports.outputs[out], ports.inputs[into]
    if not is_assignable(source.type, target.type):
        raise FlowError("type_mismatch", f"`carry` feeds output `{out}` ({source.type_label}) into input "
                        f"`{into}` ({target.type_label}).", "Carry an output of the input's type.", where)


FLOW_COMPONENTS = [SubflowNode, MapNode, LoopNode]
