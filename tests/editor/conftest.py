"""Fixtures for the editor's pure logic: a registry of sample components plus a few typed ones."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from runtime import Component, PipelineSpec, RunContext, component
from runtime.registry import Registry
from runtime.testing.components import sample_registry


class NumberOut(BaseModel):
    count: int = Field(description="A count")
    ratio: float = Field(description="A ratio")


class NoInputs(BaseModel):
    pass


@component(id="t.numbers", version=1, title="Numbers", category="Test")
class Numbers(Component):
    """Emit an int and a float."""

    async def run(self, inputs: NoInputs, ctx: RunContext) -> NumberOut:
        return NumberOut(count=1, ratio=0.5)


class ScaleIn(BaseModel):
    factor: float = Field(description="A float input")


class ScaleOut(BaseModel):
    value: float


class ScaleParams(BaseModel):
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature")
    mode: Literal["fast", "slow"] = Field("fast", description="Speed")
    enabled: bool = Field(True, description="On or off")
    template: str = Field("{x}", description="A template")
    tags: list[str] = Field(default_factory=list, description="Tags")
    limit: int | None = Field(None, ge=1, description="Optional limit")
    model: str = Field("local/extractive", description="Model", json_schema_extra={"x-widget": "model-picker"})
    notes: str = Field("", description="Notes", json_schema_extra={"x-widget": "textarea"})
    extra: Any = Field(None, description="Anything")


@component(id="t.scale", version=1, title="Scale", category="Test")
class Scale(Component):
    """Scale a number."""

    params: ScaleParams

    async def run(self, inputs: ScaleIn, ctx: RunContext) -> ScaleOut:
        return ScaleOut(value=inputs.factor)


@pytest.fixture
def registry() -> Registry:
    reg = sample_registry()
    reg.add(Numbers, source="tests")
    reg.add(Scale, source="tests")
    return reg


@pytest.fixture
def empty() -> PipelineSpec:
    return PipelineSpec(name="test")
