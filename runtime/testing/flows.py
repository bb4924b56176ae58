"""Sample components and spec builders for subflow, map and loop tests, docs and benchmarks."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from pydantic import BaseModel, Field

from runtime.component import Component, component
from runtime.context import RunContext
from runtime.spec import PipelineSpec

from .components import TextValue

__all__ = ["nested_flows_spec", "Probe", "RandomDelay", "FailOn", "SlowFirstRuns", "Length", "PROBES", "SLOW_RUNS", "flow_registry",
           "sub_spec", "with_subflows", "edge"]


class ProbeParams(BaseModel):
    key: str = Field(default="default", description="Which probe counts this node's runs")
    seconds: float = Field(default=0.01, ge=0, description="How long each run takes")


class ProbeState:
    def __init__(self) -> None:
        self.in_flight = self.peak = self.runs = 0


PROBES: dict[str, ProbeState] = {}


@component(id="demo.probe", version=1, title="Probe", category="Testing")
class Probe(Component):
    """Count how many runs are in flight at once (the peak is kept per key); pass the value on."""

    params: ProbeParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        state = PROBES.setdefault(self.params.key, ProbeState())
        state.in_flight += 1
        state.runs += 1
        state.peak = max(state.peak, state.in_flight)
        try:
            await asyncio.sleep(self.params.seconds)
        finally:
            state.in_flight -= 1
        return TextValue(value=inputs.value)


class RandomDelayParams(BaseModel):
    max_seconds: float = Field(default=0.05, ge=0, description="Longest wait")


@component(id="demo.random_delay", version=1, title="Random delay", category="Testing")
class RandomDelay(Component):
    """Wait a random time up to `max_seconds`, then pass the value on (order tests)."""

    params: RandomDelayParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        await asyncio.sleep(random.random() * self.params.max_seconds)
        return TextValue(value=inputs.value)


class FailOnParams(BaseModel):
    value: str = Field(description="The value that makes the node fail")


@component(id="demo.fail_on", version=1, title="Fail on", category="Testing")
class FailOn(Component):
    """Fail for one value, pass every other on."""

    params: FailOnParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        if inputs.value == self.params.value:
            raise ValueError(f"refusing {inputs.value!r}")
        return TextValue(value=inputs.value)


class SlowRunsParams(BaseModel):
    key: str = Field(default="default", description="Which counter counts this node's runs")
    slow_runs: int = Field(default=1, ge=0, description="How many runs (counted under `key`) hang")
    seconds: float = Field(default=30.0, ge=0, description="How long a slow run hangs")


SLOW_RUNS: dict[str, int] = {}


@component(id="demo.slow_first_runs", version=1, title="Slow first runs", category="Testing")
class SlowFirstRuns(Component):
    """Hang on the first `slow_runs` runs counted under `key`, then pass the value on at once (a flow node's
    retry after its time limit runs its subflow again)."""

    params: SlowRunsParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        runs = SLOW_RUNS[self.params.key] = SLOW_RUNS.get(self.params.key, 0) + 1
        if runs <= self.params.slow_runs:
            await asyncio.sleep(self.params.seconds)
        return TextValue(value=inputs.value)


class LengthOut(BaseModel):
    n: int = Field(description="The value's length")


@component(id="demo.length", version=1, title="Length", category="Testing")
class Length(Component):
    """The length of a text."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> LengthOut:
        return LengthOut(n=len(inputs.value))


def flow_registry() -> Any:
    """The sample registry plus the flow components and the components above."""
    from runtime.flow import FLOW_COMPONENTS

    from .components import sample_registry

    registry = sample_registry()
    for cls in [*FLOW_COMPONENTS, Probe, RandomDelay, FailOn, SlowFirstRuns, Length]:
        registry.add(cls, source="runtime.testing.flows")
    return registry


def edge(source: str, target: str) -> dict[str, Any]:
    """`"a.value"`, `"b.value"` -> an edge document."""
    (s, sp), (t, tp) = source.split(".", 1), target.split(".", 1)
    return {"source": {"node": s, "port": sp}, "target": {"node": t, "port": tp}}


def sub_spec(name: str, nodes: dict[str, tuple], edges: list[tuple[str, str]]) -> dict[str, Any]:
    """A (sub)pipeline document: `nodes` id -> (component, params[, policy]), edges as `"node.port"` pairs."""
    listed = []
    for node_id, (comp, params, *rest) in nodes.items():
        node: dict[str, Any] = {"id": node_id, "component": comp, "params": params}
        if rest:
            node["policy"] = rest[0]
        listed.append(node)
    return {"name": name, "nodes": listed, "edges": [edge(s, t) for s, t in edges]}


def with_subflows(main: dict[str, Any], **subflows: dict[str, Any]) -> PipelineSpec:
    return PipelineSpec.model_validate({**main, "subflows": subflows})


def nested_flows_spec(work: str = "demo.echo", *, loop: bool = False) -> PipelineSpec:
    """`each`: doc -> work (echo "w:") -> tag (echo "t:") -> summary, run by `m` (a map over `docs`) -> out,
    `s` (a subflow on `q`) -> one, `nested` (a map of `outer`, itself a map `m2` of `each`) -> deep, and with
    `loop`, `lp` (a loop of 2 on `q`) -> looped. `work` replaces the first echo (a component without params)."""
    each = sub_spec("each", {"doc": ("io.input", {}), "work": (work, {"prefix": "w:"} if work == "demo.echo" else {}),
                             "tag": ("demo.echo", {"prefix": "t:"}), "summary": ("io.output", {})},
                    [("doc.value", "work.value"), ("work.value", "tag.value"), ("tag.value", "summary.value")])
    outer = sub_spec("outer", {"docs": ("io.input", {"type": "json"}),
                               "m2": ("flow.map", {"subflow": "each", "over": "doc"}), "summary": ("io.output", {})},
                     [("docs.value", "m2.items"), ("m2.summary", "summary.value")])
    looping = {"lp": ("flow.loop", {"subflow": "each", "max_iterations": 2})} if loop else {}
    nodes = {"docs": ("io.input", {"type": "json"}), "q": ("io.input", {}),
             "m": ("flow.map", {"subflow": "each", "over": "doc"}), "s": ("flow.subflow", {"subflow": "each"}),
             **looping, "nested": ("flow.map", {"subflow": "outer", "over": "docs"}),
             "out": ("io.output", {}), "one": ("io.output", {}), **({"looped": ("io.output", {})} if loop else {}),
             "deep": ("io.output", {})}
    edges = [("docs.value", "m.items"), ("m.summary", "out.value"), ("q.value", "s.doc"), ("s.summary", "one.value"),
             *([("q.value", "lp.doc"), ("lp.summary", "looped.value")] if loop else []),
             ("docs.value", "nested.items"), ("nested.summary", "deep.value")]
    return with_subflows(sub_spec("flows", nodes, edges), each=each, outer=outer)
