"""The component contract: one class, typed params/inputs/outputs, an async `run`.

```python
@component(id="demo.delay", version=1, title="Delay", category="Utility")
class Delay(Component):
    params: DelayParams
    async def run(self, inputs: DelayIn, ctx: RunContext) -> DelayOut: ...
```
Input ports are the fields of the inputs model (no default = required), output ports the
fields of the outputs model. An output port fires only when its field was set.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from .context import RunContext
from .errors import ComponentDefinitionError
from .types import type_label

__all__ = ["Component", "component", "ComponentInfo", "PortInfo", "NoParams", "ParamWarning", "RESERVED_PORTS",
           "port_infos"]

RESERVED_PORTS = frozenset({"error"})
_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)+$")


class NoParams(BaseModel):
    """Params of a component that has none."""


@dataclass(frozen=True, slots=True)
class ParamWarning:
    """Something about a node's params worth a look before it runs (valid, but risky or surprising).

    Returned by `Component.param_warnings`; validation reports it as a `warning` issue pinned to the
    node and to `params.<param>`."""

    param: str
    message: str
    hint: str = ""
    code: str = "param_warning"


@dataclass(frozen=True, slots=True)
class PortInfo:
    name: str
    type: Any
    required: bool
    description: str = ""
    default: Any = None

    @property
    def type_label(self) -> str:
        return type_label(self.type)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type_label, "required": self.required,
                "description": self.description}


def port_infos(model: type[BaseModel]) -> list[PortInfo]:
    """One `PortInfo` per field of an inputs or outputs model, in declaration order."""
    return list(_port_infos(model))


@functools.lru_cache(maxsize=1024)  # validating a 5,000-node spec reads the same few models again and again
def _port_infos(model: type[BaseModel]) -> tuple[PortInfo, ...]:
    ports = []
    for name, info in model.model_fields.items():
        required = info.is_required()
        default = None if required else info.get_default(call_default_factory=True)
        ports.append(PortInfo(name, info.annotation, required, info.description or "", default))
    return tuple(ports)


@dataclass(slots=True)
class ComponentInfo:
    """What the registry knows of a component class, read from its type hints."""

    id: str
    version: int
    title: str
    category: str
    description: str
    cls: type[Component]
    params_model: type[BaseModel]
    inputs_model: type[BaseModel]
    outputs_model: type[BaseModel]
    cacheable: bool = False
    source: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def ports(self, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        return self.cls.ports(params)

    def default_params(self) -> BaseModel | None:
        """Params built from defaults alone, or None when some param is required."""
        try:
            return self.params_model()
        except Exception:  # noqa: BLE001 - required params: no default ports
            return None

    def to_dict(self, params: BaseModel | None = None) -> dict[str, Any]:
        """The palette/inspector view: metadata, params JSON Schema and ports (for `params`)."""
        params = params if params is not None else self.default_params()
        ins, outs = self.ports(params) if params is not None else (self.inputs_model, self.outputs_model)
        return {
            "id": self.id, "version": self.version, "title": self.title, "category": self.category,
            "description": self.description, "source": self.source, "cacheable": self.cacheable,
            "params_schema": self.params_model.model_json_schema(),
            "inputs": [p.to_dict() for p in port_infos(ins)],
            "outputs": [p.to_dict() for p in port_infos(outs)],
        }


class Component:
    """Base class of every component. Subclass it and decorate the subclass with `@component`."""

    info: ClassVar[ComponentInfo]
    params: Any  # subclasses annotate their own params model
    cacheable: ClassVar[bool] = False

    def __init__(self, params: BaseModel):
        self.params = params

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        """The inputs and outputs models for these params; override when ports depend on params."""
        return cls.info.inputs_model, cls.info.outputs_model

    @classmethod
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        """Warnings about valid params (shown by `validate` and the editor); override to add some."""
        return []

    async def run(self, inputs: Any, ctx: RunContext) -> BaseModel:  # pragma: no cover - abstract
        raise NotImplementedError


def component(
    *, id: str, version: int = 1, title: str | None = None, category: str = "Other",
    description: str | None = None, tags: tuple[str, ...] = (),
) -> Callable[[type[Component]], type[Component]]:
    """Register a class's contract: params, inputs and outputs are read from its type hints."""

    def decorate(cls: type[Component]) -> type[Component]:
        name = getattr(cls, "__name__", repr(cls))
        if not (isinstance(cls, type) and issubclass(cls, Component)):
            raise ComponentDefinitionError(
                f"@component(id={id!r}) decorates `{name}`, which is not a Component subclass. "
                f"Fix: `class {name}(Component): ...`.")
        if not _ID_PATTERN.match(id):
            raise ComponentDefinitionError(
                f"Component `{name}`: id {id!r} is not valid. Use dotted lowercase names like `text.template`.")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ComponentDefinitionError(f"Component `{name}`: version must be an int >= 1, got {version!r}.")
        params_model = _params_model(cls, name)
        inputs_model, outputs_model = _run_models(cls, name)
        doc = inspect.cleandoc(cls.__doc__ or "")
        if "ports" in cls.__dict__:
            cls.ports = _memoized_ports(cls.__dict__["ports"])  # type: ignore[method-assign]
        cls.info = ComponentInfo(
            id=id, version=version, title=title or name, category=category,
            description=description if description is not None else doc,
            cls=cls, params_model=params_model, inputs_model=inputs_model, outputs_model=outputs_model,
            cacheable=bool(getattr(cls, "cacheable", False)), source=cls.__module__, tags=tuple(tags))
        return cls

    return decorate


def _memoized_ports(ports: Any) -> classmethod:
    """Dynamic ports built once per distinct params, so every caller gets the very same model classes."""
    fn = ports.__func__ if isinstance(ports, classmethod) else ports
    cache: dict[tuple[type, str], tuple[type[BaseModel], type[BaseModel]]] = {}

    @functools.wraps(fn)
    def memoized(cls: type, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        key = (type(params), params.model_dump_json())
        models = cache.get(key)
        if models is None:
            if len(cache) >= _PORTS_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            models = cache[key] = fn(cls, params)
        return models

    return classmethod(memoized)


_PORTS_CACHE_SIZE = 1024


def _params_model(cls: type, name: str) -> type[BaseModel]:
    hint = _hints(cls, name).get("params", Any)
    if hint is Any or hint is BaseModel:
        return NoParams
    if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
        raise ComponentDefinitionError(
            f"Component `{name}`: `params` is annotated as `{type_label(hint)}`; it must be a pydantic BaseModel "
            f"subclass. Fix: `params: {name}Params` with `class {name}Params(BaseModel): ...`.")
    return hint


def _run_models(cls: type, name: str) -> tuple[type[BaseModel], type[BaseModel]]:
    run = getattr(cls, "run", None)
    if run is None or run is Component.run:
        raise ComponentDefinitionError(
            f"Component `{name}` has no `run` method. Fix: `async def run(self, inputs: {name}Inputs, "
            f"ctx: RunContext) -> {name}Outputs: ...`.")
    if not inspect.iscoroutinefunction(run):
        raise ComponentDefinitionError(
            f"Component `{name}`: `run` must be `async def`. Blocking work goes through "
            "`await ctx.to_thread(fn, *args)`.")
    hints = _hints(run, name)
    models: list[type[BaseModel]] = []
    for what, key in (("the `inputs` parameter", "inputs"), ("the return value", "return")):
        model = hints.get(key)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ComponentDefinitionError(
                f"Component `{name}`: {what} of `run` must be annotated with a pydantic BaseModel subclass, "
                f"got {_annotation(model)}. Fix: `async def run(self, inputs: {name}Inputs, ctx: RunContext) "
                f"-> {name}Outputs`.")
        models.append(model)
    inputs_model, outputs_model = models
    for model in models:
        reserved = RESERVED_PORTS & set(model.model_fields)
        if reserved:
            raise ComponentDefinitionError(
                f"Component `{name}`: port name `{sorted(reserved)[0]}` is reserved for error branches. "
                "Rename that field.")
    return inputs_model, outputs_model


def _annotation(hint: Any) -> str:
    return "no annotation" if hint is None else f"`{type_label(hint)}`"


def _hints(obj: Any, name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception as exc:
        raise ComponentDefinitionError(
            f"Component `{name}`: cannot resolve type hints ({exc}). Import the models used in annotations "
            "at module level.") from exc
