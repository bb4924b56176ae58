"""The `@component` contract: a broken component fails at definition with the fix; a good one exposes
its ports, params and text."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from runtime import Component, ComponentDefinitionError, RunContext, component


class Value(BaseModel):
    value: str = ""


# --- the @component contract --------------------------------------------------------------------

class GoodParams(BaseModel):
    n: int = 1


def define(**namespace) -> type:
    """A Component subclass named `Widget` with these class attributes."""
    return type("Widget", (Component,), {"__module__": __name__, **namespace})


async def _run_ok(self, inputs: Value, ctx: RunContext) -> Value:
    return inputs


async def _run_no_inputs_hint(self, inputs, ctx: RunContext) -> Value:
    return inputs


async def _run_no_return_hint(self, inputs: Value, ctx: RunContext):
    return inputs


async def _run_str_inputs(self, inputs: str, ctx: RunContext) -> Value:
    return Value()


async def _run_returns_none(self, inputs: Value, ctx: RunContext) -> None:
    return None


def _run_sync(self, inputs: Value, ctx: RunContext) -> Value:
    return inputs


class ErrorIn(BaseModel):
    error: str = ""


async def _run_error_input(self, inputs: ErrorIn, ctx: RunContext) -> Value:
    return Value()


async def _run_error_output(self, inputs: Value, ctx: RunContext) -> ErrorIn:
    return ErrorIn()


async def _run_unresolvable(self, inputs: NotDefinedAnywhere, ctx: RunContext) -> Value:  # noqa: F821
    return Value()


FIX = "Fix: `async def run(self, inputs: WidgetInputs, ctx: RunContext) -> WidgetOutputs`."
DEFINITION_ERRORS = [
    ({"id": "acme.widget"}, {}, "Component `Widget` has no `run` method. Fix: `async def run(self, inputs: "
     "WidgetInputs, ctx: RunContext) -> WidgetOutputs: ...`."),
    ({"id": "acme.widget"}, {"run": _run_sync}, "Component `Widget`: `run` must be `async def`. Blocking work goes "
     "through `await ctx.to_thread(fn, *args)`."),
    ({"id": "acme.widget"}, {"run": _run_no_inputs_hint}, "Component `Widget`: the `inputs` parameter of `run` must "
     f"be annotated with a pydantic BaseModel subclass, got no annotation. {FIX}"),
    ({"id": "acme.widget"}, {"run": _run_str_inputs}, "Component `Widget`: the `inputs` parameter of `run` must be "
     f"annotated with a pydantic BaseModel subclass, got `str`. {FIX}"),
    ({"id": "acme.widget"}, {"run": _run_no_return_hint}, "Component `Widget`: the return value of `run` must be "
     f"annotated with a pydantic BaseModel subclass, got no annotation. {FIX}"),
    ({"id": "acme.widget"}, {"run": _run_returns_none}, "Component `Widget`: the return value of `run` must be "
     f"annotated with a pydantic BaseModel subclass, got `None`. {FIX}"),
    ({"id": "acme.widget"}, {"run": _run_ok, "__annotations__": {"params": "dict[str, int]"}},
     "Component `Widget`: `params` is annotated as `dict[str, int]`; it must be a pydantic BaseModel subclass. "
     "Fix: `params: WidgetParams` with `class WidgetParams(BaseModel): ...`."),
    ({"id": "acme.widget"}, {"run": _run_error_input}, "Component `Widget`: port name `error` is reserved for error "
     "branches. Rename that field."),
    ({"id": "acme.widget"}, {"run": _run_error_output}, "Component `Widget`: port name `error` is reserved for error "
     "branches. Rename that field."),
    ({"id": "acme.widget"}, {"run": _run_unresolvable}, "Component `Widget`: cannot resolve type hints (name "
     "'NotDefinedAnywhere' is not defined). Import the models used in annotations at module level."),
    ({"id": "widget"}, {"run": _run_ok}, "Component `Widget`: id 'widget' is not valid. Use dotted lowercase names "
     "like `text.template`."),
    ({"id": "acme.widget", "version": 0}, {"run": _run_ok}, "Component `Widget`: version must be an int >= 1, got 0."),
    ({"id": "acme.widget", "version": True}, {"run": _run_ok}, "Component `Widget`: version must be an int >= 1, "
     "got True."),
    ({"id": "acme.widget", "version": "1"}, {"run": _run_ok}, "Component `Widget`: version must be an int >= 1, "
     "got '1'."),
]


@pytest.mark.parametrize(("decorator_args", "namespace", "message"), DEFINITION_ERRORS,
                         ids=["no-run", "sync-run", "no-inputs-hint", "str-inputs", "no-return-hint", "returns-none",
                              "dict-params", "error-input", "error-output", "unresolvable", "bad-id", "version-0",
                              "version-bool", "version-str"])
def test_a_broken_component_fails_at_definition_with_the_fix(decorator_args, namespace, message):
    cls = define(**namespace)
    with pytest.raises(ComponentDefinitionError) as caught:
        component(**decorator_args)(cls)
    assert str(caught.value) == message
    assert isinstance(caught.value, TypeError)


def test_decorating_something_that_is_not_a_component():
    class Plain:
        pass

    with pytest.raises(ComponentDefinitionError) as caught:
        component(id="acme.plain")(Plain)
    assert str(caught.value) == ("@component(id='acme.plain') decorates `Plain`, which is not a Component subclass. "
                                 "Fix: `class Plain(Component): ...`.")


def test_a_good_component_exposes_its_contract():
    cls = component(id="acme.widget", version=3, title="Widget", category="Acme", tags=("x",))(
        define(run=_run_ok, __annotations__={"params": "GoodParams"}, __doc__="  Does widget things.\n  Well.\n  "))
    info = cls.info
    assert (info.id, info.version, info.title, info.category, info.tags) == ("acme.widget", 3, "Widget", "Acme", ("x",))
    assert info.description == "Does widget things.\nWell."
    assert (info.params_model, info.inputs_model, info.outputs_model) == (GoodParams, Value, Value)
    view = info.to_dict()
    assert view["inputs"] == [{"name": "value", "type": "str", "required": False, "description": ""}]
    assert view["params_schema"]["properties"]["n"]["default"] == 1


def test_a_component_without_params_gets_an_empty_params_model():
    info = component(id="acme.widget")(define(run=_run_ok)).info
    assert info.params_model.model_fields == {}
    assert info.default_params() is not None
