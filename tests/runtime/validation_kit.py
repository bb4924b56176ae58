"""Test-only components and helpers shared by the `validate()` tests (test_validation*.py).

Each of those files overrides the `registry` fixture with `with_test_components(registry)`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runtime import Component, PipelineSpec, RunContext, component
from runtime.registry import Registry

__all__ = ["build", "only", "codes", "with_test_components", "Empty", "Out", "EchoV2"]


def build(nodes: list[tuple], edges: list[tuple[str, str, str, str]] = ()) -> PipelineSpec:
    """Like `make_spec`, but `nodes` is a list of (id, component[, params[, version]]), so ids may repeat."""
    node_list = [{"id": n[0], "component": n[1], "params": n[2] if len(n) > 2 else {},
                  "version": n[3] if len(n) > 3 else 1} for n in nodes]
    edge_list = [{"source": {"node": s, "port": sp}, "target": {"node": t, "port": tp}} for s, sp, t, tp in edges]
    return PipelineSpec.model_validate({"name": "t", "nodes": node_list, "edges": edge_list})


def only(issues: list, code: str):
    """The one issue with `code` (failing with every message when there is not exactly one)."""
    found = [i for i in issues if i.code == code]
    assert len(found) == 1, [f"{i.code}: {i.message}" for i in issues]
    return found[0]


def codes(issues: list) -> list[str]:
    return [i.code for i in issues]


# --- test-only components ----------------------------------------------------------------------

class TextAndCount(BaseModel):
    text: str = Field(description="Some text")
    count: int = Field(1, description="How many")


class Numbers(BaseModel):
    ratio: float = Field(description="A float input")


class Empty(BaseModel):
    pass


class Out(BaseModel):
    value: str = ""


@component(id="test.text_and_count", version=1)
class TakesTextAndCount(Component):
    async def run(self, inputs: TextAndCount, ctx: RunContext) -> Out:
        return Out()


@component(id="test.ratio", version=1)
class TakesRatio(Component):
    async def run(self, inputs: Numbers, ctx: RunContext) -> Out:
        return Out()


class RequiredParams(BaseModel):
    url: str = Field(description="Where to send it")
    lo: int = 0
    hi: int = 10

    @model_validator(mode="after")
    def _ordered(self) -> RequiredParams:
        if self.lo > self.hi:
            raise ValueError("lo must not exceed hi")
        return self


@component(id="test.required_params", version=1)
class NeedsParams(Component):
    params: RequiredParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class AliasedParams(BaseModel):
    max_tokens: int = Field(16, alias="maxTokens")


@component(id="test.aliased", version=1)
class Aliased(Component):
    params: AliasedParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class OpenParams(BaseModel):
    model_config = ConfigDict(extra="allow")


@component(id="test.open", version=1)
class OpenComponent(Component):
    params: OpenParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class PortParams(BaseModel):
    mode: str = "ok"


@component(id="test.bad_ports", version=1)
class BadPorts(Component):
    params: PortParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, PortParams)
        if params.mode == "broken":
            return dict, dict  # type: ignore[return-value] - a component bug, not a spec problem
        if params.mode != "ok":
            raise ValueError(f"mode `{params.mode}` has no ports\nsecond line of detail")
        return Empty, Out

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


@component(id="demo.echo", version=2)
class EchoV2(Component):
    async def run(self, inputs: Out, ctx: RunContext) -> Out:
        return inputs


def with_test_components(registry: Registry) -> Registry:
    """The runtime tests' registry plus the test-only components above."""
    for cls in (TakesTextAndCount, TakesRatio, NeedsParams, Aliased, OpenComponent, BadPorts):
        registry.add(cls, source="tests")
    return registry
