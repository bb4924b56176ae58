"""Tiny sample components reused by tests, docs and benchmarks (registered for tests only)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, create_model

from runtime import Component, RunContext, component
from runtime.errors import PermanentError, RetryableError

__all__ = ["SAMPLE_COMPONENTS", "sample_registry"]


class TextValue(BaseModel):
    value: str = Field(description="A text value")


class DelayParams(BaseModel):
    seconds: float = Field(default=0.1, ge=0, description="How long to wait")


@component(id="demo.delay", version=1, title="Delay", category="Utility")
class Delay(Component):
    """Wait, then pass the value on."""

    params: DelayParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        await asyncio.sleep(self.params.seconds)
        return TextValue(value=inputs.value)


class EchoParams(BaseModel):
    prefix: str = Field(default="", description="Prepended to the value")


@component(id="demo.echo", version=1, title="Echo", category="Utility")
class Echo(Component):
    """Return the value, optionally prefixed."""

    params: EchoParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        return TextValue(value=self.params.prefix + inputs.value)


class ConstantParams(BaseModel):
    value: str = Field(default="", description="The value to emit")


class NoInputs(BaseModel):
    pass


@component(id="demo.constant", version=1, title="Constant", category="Utility")
class Constant(Component):
    """Emit a fixed value (a node with no inputs)."""

    params: ConstantParams

    async def run(self, inputs: NoInputs, ctx: RunContext) -> TextValue:
        return TextValue(value=self.params.value)


class FailParams(BaseModel):
    failures: int = Field(default=1, ge=0, description="Attempts that fail before one succeeds")
    retry_after: float | None = Field(default=None, description="Ask the runtime to wait this long before retrying")


@component(id="demo.fail_n_times", version=1, title="Fail n times", category="Testing")
class FailNTimes(Component):
    """Fail on the first `failures` attempts (by `ctx.attempt`), then pass the value on."""

    params: FailParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        if ctx.attempt <= self.params.failures:
            raise RetryableError(f"attempt {ctx.attempt} failed on purpose", retry_after=self.params.retry_after)
        return TextValue(value=f"{inputs.value} (attempt {ctx.attempt})")


class RaiseParams(BaseModel):
    message: str = Field(default="boom", description="The error message")
    permanent: bool = Field(default=False, description="Raise a PermanentError (never retried)")


@component(id="demo.raise", version=1, title="Raise", category="Testing")
class Raise(Component):
    """Always fail with the given message."""

    params: RaiseParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        if self.params.permanent:
            raise PermanentError(self.params.message)
        raise ValueError(self.params.message)


class RouterParams(BaseModel):
    routes: list[str] = Field(default_factory=lambda: ["a", "b"], description="Route names (output ports)")


@component(id="demo.router", version=1, title="Router", category="Testing")
class Router(Component):
    """Fire the output port named by the value (or the first route when none matches)."""

    params: RouterParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, RouterParams)
        # Typed `str` with a default: a route that is not set does not fire.
        fields: dict[str, Any] = {name: (str, None) for name in params.routes}
        return TextValue, create_model("RouterOutputs", **fields)

    async def run(self, inputs: TextValue, ctx: RunContext) -> BaseModel:
        _, outputs = self.ports(self.params)
        route = inputs.value if inputs.value in self.params.routes else self.params.routes[0]
        return outputs(**{route: inputs.value})


class JoinInputs(BaseModel):
    a: str = Field(description="Always required")
    b: str | None = Field(default=None, description="Optional")


@component(id="demo.join", version=1, title="Join", category="Testing")
class Join(Component):
    """Join `a` and the optional `b` with a `+`."""

    async def run(self, inputs: JoinInputs, ctx: RunContext) -> TextValue:
        return TextValue(value=inputs.a if inputs.b is None else f"{inputs.a}+{inputs.b}")


class ConcatInputs(BaseModel):
    values: list[str] = Field(description="Values to join (fan-in: one edge per item)")


@component(id="demo.concat", version=1, title="Concat", category="Testing")
class Concat(Component):
    """Join every value it receives, in edge order, with `|`."""

    async def run(self, inputs: ConcatInputs, ctx: RunContext) -> TextValue:
        return TextValue(value="|".join(inputs.values))


class ChunkParams(BaseModel):
    words: int = Field(default=3, ge=1, description="How many chunks to stream")


@component(id="demo.stream", version=1, title="Stream", category="Testing")
class Stream(Component):
    """Stream the value word by word through `ctx.emit_chunk`, then return it."""

    params: ChunkParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        for i in range(self.params.words):
            ctx.emit_chunk(f"{inputs.value}-{i} ")
            await asyncio.sleep(0)
        return TextValue(value=inputs.value)


class CounterParams(BaseModel):
    key: str = Field(default="default", description="Which counter to increment")


CALLS: dict[str, int] = {}


@component(id="demo.counter", version=1, title="Counter", category="Testing")
class Counter(Component):
    """Count how often it really ran (for cache tests); pass the value on."""

    params: CounterParams
    cacheable = True

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        CALLS[self.params.key] = CALLS.get(self.params.key, 0) + 1
        return TextValue(value=inputs.value)


class WrongOutput(BaseModel):
    other: int = 0


@component(id="demo.bad_return", version=1, title="Bad return", category="Testing")
class BadReturn(Component):
    """Breaks the contract: returns a dict instead of its outputs model."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        return {"value": inputs.value}  # type: ignore[return-value]


class ListSourceParams(BaseModel):
    items: list[str] = Field(default_factory=lambda: ["a", "b"], description="The list to emit")


class ListOutputs(BaseModel):
    items: list[str] = Field(description="The list")


@component(id="demo.list_source", version=1, title="List source", category="Testing")
class ListSource(Component):
    """Emit a fixed list of strings."""

    params: ListSourceParams

    async def run(self, inputs: NoInputs, ctx: RunContext) -> ListOutputs:
        return ListOutputs(items=list(self.params.items))


class AnyItems(BaseModel):
    values: list[Any] = Field(description="Anything; one item per edge")


class Count(BaseModel):
    count: int = Field(description="How many items arrived")


@component(id="demo.count_items", version=1, title="Count items", category="Testing")
class CountItems(Component):
    """Count the items of a `list[Any]` fan-in."""

    async def run(self, inputs: AnyItems, ctx: RunContext) -> Count:
        return Count(count=len(inputs.values))


@component(id="demo.cancel_itself", version=1, title="Cancel itself", category="Testing")
class CancelItself(Component):
    """Raise CancelledError from inside `run`, as a misbehaving library might."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        raise asyncio.CancelledError()


SAMPLE_COMPONENTS = [Delay, Echo, Constant, FailNTimes, Raise, Router, Join, Concat, Stream, Counter, BadReturn,
                     ListSource, CountItems, CancelItself]


def sample_registry():
    """The runtime's built-ins plus the sample components."""
    from runtime import builtins
    from runtime.registry import Registry

    registry = Registry([builtins.PipelineInput, builtins.PipelineOutput], source="runtime.builtins")
    for cls in SAMPLE_COMPONENTS:
        registry.add(cls, source="runtime.testing")
    return registry
