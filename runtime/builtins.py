"""The runtime's own components: where values enter (`io.input`) and leave (`io.output`)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .component import Component, component
from .context import RunContext
from .text import shorten

__all__ = ["PipelineInput", "PipelineOutput", "INPUT_TYPES", "coerce_input_text", "check_input_value"]

InputType = Literal["string", "number", "integer", "boolean", "json"]
INPUT_TYPES: dict[str, Any] = {"string": str, "number": float, "integer": int, "boolean": bool, "json": Any}


class InputParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="Input name used by `--input name=value` (default: the node id)")
    type: InputType = Field(default="string", description="How the value is parsed and checked")
    default: Any = Field(default=None, description="Value used when the run gives none (leave unset to require one)")
    description: str = Field(default="", description="Shown next to the input's field in the run panel")


class InputPorts(BaseModel):
    """An input node has no input ports: its value comes from the run."""


class StringValue(BaseModel):
    value: str = Field(description="The value given for this input")


def _value_model(py_type: Any) -> type[BaseModel]:
    return create_model("InputValue", value=(py_type, Field(description="The value given for this input")))


_VALUE_MODELS: dict[str, type[BaseModel]] = {
    name: StringValue if name == "string" else _value_model(tp) for name, tp in INPUT_TYPES.items()
}
_ADAPTERS = {name: TypeAdapter(tp) for name, tp in INPUT_TYPES.items()}


@component(id="io.input", version=1, title="Input", category="Inputs & outputs")
class PipelineInput(Component):
    """A value the pipeline receives when it runs: a user query, a document id, a flag."""

    params: InputParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, InputParams)
        return InputPorts, _VALUE_MODELS[params.type]

    async def run(self, inputs: InputPorts, ctx: RunContext) -> StringValue:
        name = self.params.name or ctx.node_id
        return _VALUE_MODELS[self.params.type](value=ctx.pipeline_inputs[name])  # type: ignore[return-value]


class OutputValue(BaseModel):
    value: Any = Field(description="The result to return under this node's id")


@component(id="io.output", version=1, title="Output", category="Inputs & outputs")
class PipelineOutput(Component):
    """A result of the pipeline, returned under this node's id."""

    async def run(self, inputs: OutputValue, ctx: RunContext) -> OutputValue:
        return inputs


def coerce_input_text(kind: str, text: str) -> Any:
    """Parse `--input name=value` text by the input's `type`; raise ValueError saying what was expected."""
    import json

    if kind == "string":
        return text
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"expected a boolean (true/false), got {text!r}")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {shorten(repr(text), 40)}") from None
        return _finite(number, shorten(repr(text), 40))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected JSON ({exc.msg} at column {exc.colno}), got {text!r}") from None


def check_input_value(kind: str, value: Any) -> Any:
    """Check a value given as-is (API, `--inputs-json`) against the input's `type`, without coercion."""
    if kind == "json":
        return value
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"expected a finite number, got int {shorten(repr(value), 40)}") from None
    try:
        checked = _ADAPTERS[kind].validate_python(value, strict=True)
    except ValidationError:
        article = "an" if kind == "integer" else "a"
        raise ValueError(f"expected {article} {kind}, got {type(value).__name__} {value!r}") from None
    return _finite(checked, f"{type(value).__name__} {value!r}") if kind == "number" else checked


def _finite(number: float, given: str) -> float:
    """NaN and infinity are not JSON: `run --json`, the HTTP API and batch results could not carry them."""
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {given}")
    return number
