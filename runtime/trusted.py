"""Building a component's inputs model from values the wiring already type-checked.

What `BaseModel.model_construct` does (defaults filled, nothing validated), prepared once per model:
`model_construct` re-reads every field's aliases on every call, which cost more than the component
call itself on the executor's hot path. Models it cannot prepare (aliases, `extra="allow"`, private
attributes or a post-init hook, root models) use `model_construct` as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["trusted_constructor"]

_IMMUTABLE = frozenset({type(None), bool, int, float, complex, str, bytes})  # a default shared, never copied
_MISSING: Any = object()
_new = object.__new__
_set = object.__setattr__


@functools.lru_cache(maxsize=1024)
def trusted_constructor(model: type[BaseModel]) -> Callable[[dict[str, Any]], BaseModel]:
    """A function `values -> model instance` equal to `model.model_construct(**values)`."""
    fields = model.__pydantic_fields__
    if not _preparable(model):
        return lambda values: model.model_construct(**values)
    names = frozenset(fields)
    defaults = [(name, *_default_of(info)) for name, info in fields.items()]  # in declaration order

    def construct(values: dict[str, Any]) -> BaseModel:
        data: dict[str, Any] = {}
        for name, shared, make in defaults:
            if name in values:
                data[name] = values[name]
            elif shared is not _MISSING:
                data[name] = shared
            elif make is not None:
                data[name] = make(data)
        instance = _new(model)
        _set(instance, "__dict__", data)
        given = set(values)
        _set(instance, "__pydantic_fields_set__", given if given <= names else given & names)
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance

    return construct


def _default_of(info: FieldInfo) -> tuple[Any, Callable[[dict[str, Any]], Any] | None]:
    """(a default every instance may share, or _MISSING; else how to make one, or None if required)."""
    factory = info.default_factory
    if factory is not None:
        if info.default_factory_takes_validated_data:
            return _MISSING, factory  # type: ignore[return-value]
        return _MISSING, lambda _data: factory()  # type: ignore[call-arg]
    if info.is_required():
        return _MISSING, None
    if info.default.__class__ in _IMMUTABLE:
        return info.default, None
    return _MISSING, lambda _data: info.get_default(call_default_factory=False)  # a copy per instance


def _preparable(model: type[BaseModel]) -> bool:
    return (not model.__pydantic_root_model__ and not model.__pydantic_post_init__
            and model.model_config.get("extra") != "allow"
            and all(f.alias is None and f.validation_alias is None for f in model.__pydantic_fields__.values()))
