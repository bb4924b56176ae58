"""What an input port receives when its node starts: one edge's value, or a fan-in list in edge order.

Values from outputs typed `Any` were not type-checked at compile time; they are checked here,
with the same rule (`is_assignable`), falling back to pydantic's strict validation for containers.
"""

from __future__ import annotations

from typing import Any

from .plan import EdgeMode, InPort, PlanNode
from .text import short_repr
from .types import is_assignable, type_label

__all__ = ["MISSING", "InputTypeError", "collect", "gather", "why_skipped", "short_repr"]

MISSING: Any = object()
_ITEM = EdgeMode.ITEM  # a module global: looking the member up on the enum class costs ~7× more per slot


class InputTypeError(TypeError):
    """A value from an `Any`-typed output does not fit the input it was wired to."""

    retryable = False


def why_skipped(node: PlanNode, values: dict[str, Any], alive: bool, dead_reason: str | None) -> str | None:
    """Why a node whose upstream all ended does not run (`values`: what its ports received), or None."""
    if not alive:
        return f"no upstream value arrived ({dead_reason})"
    for port in node.in_ports:
        if port.required and port.name not in values:
            return f"required input `{port.name}` received no value ({dead_reason})"
    return None


def gather(node: PlanNode, values: dict[str, Any]) -> tuple[dict[str, Any], InputTypeError | None]:
    """The node's input values by port, and the error of a value that does not fit its port (the node
    then fails when it starts)."""
    kwargs: dict[str, Any] = {}
    error = None
    for port in node.in_ports:
        try:
            value = collect(port, values.get(port.name, MISSING))
        except InputTypeError as exc:
            error = exc
            continue
        if value is not MISSING:
            kwargs[port.name] = value
    return kwargs, error


def collect(port: InPort, raw: Any) -> Any:
    """The value an input port receives: one edge's value, or the fan-in list in edge order."""
    if raw is MISSING:
        return MISSING
    if not port.fan_in:
        if port.checks[0] is not None:
            _check(port, port.checks[0], raw)
        return raw
    items: list[Any] = []
    for slot, mode in enumerate(port.modes):
        value = raw.get(slot, MISSING)
        if value is MISSING:
            continue
        if port.checks[slot] is not None:
            _check(port, port.checks[slot], value)
        if mode is _ITEM:
            items.append(value)
        else:
            items.extend(value)
    return items


def _check(port: InPort, expected: Any, value: Any) -> None:
    if is_assignable(type(value), expected):
        return
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(expected).validate_python(value, strict=True)
    except ValidationError:
        raise InputTypeError(f"input `{port.name}` expects {type_label(expected)}, but received "
                             f"{type(value).__name__} {short_repr(value, 80)}") from None


