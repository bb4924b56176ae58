"""The one type rule for wires: which output types an input accepts as they are.

`is_assignable(source, target)` is used by validation, the editor and the executor.
A value is accepted without coercion when its type is the same, a subclass, a member
of a union/Optional target, `Any`, `int` into `float` (the one numeric widening), or —
for a list-typed target — the item type (fan-in: each edge adds one item).
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

__all__ = ["is_assignable", "accepts_whole", "list_item_type", "type_label", "unwrap_optional"]

_UNION_ORIGINS = (Union, types.UnionType)
_SEQUENCE_ORIGINS = (list, typing.Sequence, tuple)


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return Any if tp is object else tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in _UNION_ORIGINS


def unwrap_optional(tp: Any) -> Any:
    """`X | None` -> `X`; other types unchanged."""
    tp = _strip(tp)
    if _is_union(tp):
        members = [m for m in get_args(tp) if m is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


def list_item_type(tp: Any) -> Any | None:
    """The item type of a list-typed port (`list[T]`, `list[T] | None`), else None."""
    try:
        return _cached_item_type(tp)
    except TypeError:  # unhashable type objects
        return _item_type(tp)


@functools.lru_cache(maxsize=4096)
def _cached_item_type(tp: Any) -> Any | None:
    return _item_type(tp)


def _item_type(tp: Any) -> Any | None:
    tp = unwrap_optional(tp)
    if tp is list:
        return Any
    if get_origin(tp) is list:
        args = get_args(tp)
        return _strip(args[0]) if args else Any
    return None


@functools.lru_cache(maxsize=4096)
def _cached_whole(source: Any, target: Any) -> bool:
    return _whole(source, target)


def accepts_whole(source: Any, target: Any) -> bool:
    """True when a value of `source` type fits `target` as it is (no fan-in)."""
    try:
        return _cached_whole(source, target)
    except TypeError:  # unhashable type objects
        return _whole(source, target)


def is_assignable(source: Any, target: Any) -> bool:
    """True when a `source`-typed output may feed a `target`-typed input.

    Either the value fits as it is, or the target is `list[T]` and the source fits `T`
    (fan-in: the edge contributes one item).
    """
    if accepts_whole(source, target):
        return True
    item = list_item_type(target)
    return item is not None and accepts_whole(source, item)


def _whole(source: Any, target: Any) -> bool:
    source, target = _strip(source), _strip(target)
    if source is Any or target is Any or source == target:
        return True
    if _is_union(source):
        return all(_whole(member, target) for member in get_args(source))
    if _is_union(target):
        return any(_whole(source, member) for member in get_args(target))
    if get_origin(target) is Literal:
        return get_origin(source) is Literal and set(get_args(source)) <= set(get_args(target))
    if get_origin(source) is Literal:
        return all(_whole(type(value), target) for value in get_args(source))
    if source is type(None) or target is type(None):
        return False
    return _generic_fits(source, target)


def _generic_fits(source: Any, target: Any) -> bool:
    s_origin, t_origin = get_origin(source) or source, get_origin(target) or target
    if not (isinstance(s_origin, type) and isinstance(t_origin, type)):
        return False
    if t_origin is float and _class_fits(s_origin, int):  # int, and bool as its subclass, widen to float
        return True
    if not _class_fits(s_origin, t_origin):
        return False
    t_args = get_args(target)
    if not t_args:
        return True  # bare `list`, `dict`, a plain class
    s_args = get_args(source)
    if not s_args:
        return all(_strip(arg) is Any for arg in t_args if arg is not Ellipsis)
    if t_origin is tuple or s_origin is tuple:
        return _tuple_fits(s_args, t_args)
    if len(s_args) != len(t_args):
        return False
    return all(_whole(s, t) for s, t in zip(s_args, t_args, strict=True))


def _class_fits(source: type, target: type) -> bool:
    try:
        return issubclass(source, target)
    except TypeError:
        return False


def _tuple_fits(s_args: tuple, t_args: tuple) -> bool:
    if len(t_args) == 2 and t_args[1] is Ellipsis:
        items = s_args[:1] if len(s_args) == 2 and s_args[1] is Ellipsis else s_args
        return all(_whole(s, t_args[0]) for s in items)
    if len(s_args) != len(t_args) or Ellipsis in s_args:
        return False
    return all(_whole(s, t) for s, t in zip(s_args, t_args, strict=True))


def type_label(tp: Any) -> str:
    """A short readable name for a port type: `list[Document]`, `str | None`, `Any`."""
    try:
        return _cached_label(tp)
    except TypeError:  # unhashable type objects
        return _label(tp)


@functools.lru_cache(maxsize=4096)
def _cached_label(tp: Any) -> str:
    return _label(tp)


def _label(tp: Any) -> str:
    tp = _strip(tp)
    if tp is Any:
        return "Any"
    if tp is type(None):
        return "None"
    if _is_union(tp):
        return " | ".join(type_label(member) for member in get_args(tp))
    origin = get_origin(tp)
    if origin is Literal:
        return "Literal[" + ", ".join(repr(v) for v in get_args(tp)) + "]"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        args = ", ".join("..." if a is Ellipsis else type_label(a) for a in get_args(tp))
        return f"{name}[{args}]"
    return getattr(tp, "__name__", str(tp))
