"""Deterministic components for the browser tests, loaded through PATCHWIRE_PLUGINS (like a user's plugin)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from runtime import Component, RunContext, component


class SourceOut(BaseModel):
    text: str = Field(description="Some text")
    number: int = Field(description="Some number")


class NoInputs(BaseModel):
    pass


@component(id="e2e.source", version=1, title="E2E source", category="E2E")
class Source(Component):
    """Emit a text and a number."""

    async def run(self, inputs: NoInputs, ctx: RunContext) -> SourceOut:
        return SourceOut(text="hello", number=3)


class ShoutParams(BaseModel):
    suffix: str = Field("!", description="Appended to the text")
    times: int = Field(1, ge=1, le=5, description="How often to repeat the text")
    mode: Literal["upper", "lower"] = Field("upper", description="Which case to use")
    loud: bool = Field(False, description="Add extra exclamation marks")
    template: str = Field("{text}", description="How to format the result")
    options: dict[str, Any] = Field(default_factory=dict, description="Extra options (JSON)")
    model: str = Field("local/extractive", description="Model name", json_schema_extra={"x-widget": "model-picker"})


class TextIn(BaseModel):
    text: str = Field(description="The text to transform")


class TextOut(BaseModel):
    text: str = Field(description="The transformed text")


@component(id="e2e.shout", version=1, title="E2E shout", category="E2E")
class Shout(Component):
    """Change the text's case and repeat it."""

    params: ShoutParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        text = inputs.text.upper() if self.params.mode == "upper" else inputs.text.lower()
        return TextOut(text=(text + self.params.suffix) * self.params.times)


class NumberIn(BaseModel):
    value: float = Field(description="A number")


class NumberOut(BaseModel):
    doubled: float = Field(description="Twice the number")


@component(id="e2e.double", version=1, title="E2E double", category="E2E")
class Double(Component):
    """Double a number."""

    async def run(self, inputs: NumberIn, ctx: RunContext) -> NumberOut:
        return NumberOut(doubled=inputs.value * 2)


class SplitParams(BaseModel):
    routes: list[str] = Field(default_factory=lambda: ["left", "right"], description="One output port per route")


@component(id="e2e.split", version=1, title="E2E split", category="E2E")
class Split(Component):
    """Send the text to the route it names (ports follow the `routes` param)."""

    params: SplitParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, SplitParams)
        return TextIn, create_model("SplitOut", **{name: (str, None) for name in params.routes})

    async def run(self, inputs: TextIn, ctx: RunContext) -> BaseModel:
        _, outputs = self.ports(self.params)
        route = inputs.text if inputs.text in self.params.routes else self.params.routes[0]
        return outputs(**{route: inputs.text})
