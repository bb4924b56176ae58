"""`is_assignable`, the one rule for which output types an input accepts, and `type_label`."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel

from runtime.types import accepts_whole, is_assignable, list_item_type, type_label, unwrap_optional


class Document(BaseModel):
    text: str


class ScoredDocument(Document):
    score: float


class Other(BaseModel):
    text: str


ASSIGNABLE = [
    # (source, target, expected, why)
    (str, str, True, "same type"),
    (int, int, True, "same type"),
    (int, float, True, "int widens to float, the one numeric widening"),
    (bool, float, True, "bool is an int, and int widens to float"),
    (float, int, False, "no narrowing"),
    (int, str, False, "no implicit str()"),
    (str, int, False, "no parsing"),
    (float, str, False, "no implicit str()"),
    (bool, int, True, "bool is a subclass of int"),
    (int, bool, False, "int is not a bool"),
    (ScoredDocument, Document, True, "subclass model into base model"),
    (Document, ScoredDocument, False, "base model lacks the subclass fields"),
    (Other, Document, False, "same shape, unrelated class"),
    (str, str | None, True, "member of an Optional target"),
    (str, Optional[str], True, "typing.Optional spelling"),  # noqa: UP045 - the old spelling on purpose
    (type(None), str | None, True, "None into Optional"),
    (str | None, str, False, "a None could arrive"),
    (type(None), str, False, "None is not a str"),
    (str, int | str, True, "member of a union target"),
    (int | str, str, False, "an int could arrive"),
    (int | float, float, True, "every member fits"),
    (bool | int, int | str, True, "every member fits some target member"),
    (Any, str, True, "Any feeds anything"),
    (str, Any, True, "anything feeds Any"),
    (Document, Any, True, "a model feeds Any"),
    (object, str, True, "object counts as Any"),
    (list[str], list[str], True, "same list type"),
    (list[int], list[float], True, "item-wise int to float"),
    (list[str], list[int], False, "item-wise str to int"),
    (list[ScoredDocument], list[Document], True, "item-wise subclass"),
    (list[Document], list[ScoredDocument], False, "item-wise base into subclass"),
    (str, list[str], True, "fan-in: one edge adds one item"),
    (Document, list[Document], True, "fan-in of models"),
    (int, list[float], True, "fan-in with widening"),
    (int, list[str], False, "fan-in still needs a fitting item"),
    (list[str], list[list[str]], True, "fan-in of lists"),
    (str, list[str] | None, True, "fan-in into an Optional list"),
    (str | None, list[str], False, "fan-in of an Optional item"),
    (list[str], list[Any], True, "any item type"),
    (list[Any], list[str], True, "Any items feed typed items"),
    (list[str], list, True, "bare list target"),
    (list, list[str], False, "a bare list may hold anything"),
    (list, list[Any], True, "a bare list is a list[Any]"),
    (list[str], str, False, "a list is not a str"),
    (list[str], Sequence[str], True, "list is a Sequence"),
    (list[str], typing.Sequence[str], True, "typing.Sequence spelling"),
    (Sequence[str], list[str], False, "not every Sequence is a list"),
    (Literal["a"], str, True, "a str literal is a str"),
    (Literal["a", "b"], str, True, "every literal value is a str"),
    (Literal[1, "a"], str, False, "1 is not a str"),
    (Literal["a"], Literal["a", "b"], True, "subset of the target's values"),
    (Literal["a", "c"], Literal["a", "b"], False, "`c` is not allowed"),
    (str, Literal["a"], False, "any str is wider than one literal"),
    (dict[str, int], dict[str, float], True, "value-wise widening"),
    (dict[str, int], dict[str, str], False, "value-wise mismatch"),
    (dict[str, Any], dict[str, int], True, "Any values"),
    (dict[str, int], dict, True, "bare dict target"),
    (dict, dict[str, int], False, "a bare dict may hold anything"),
    (dict[str, int], list[int], False, "different containers"),
    (tuple[int, str], tuple[int, str], True, "same fixed tuple"),
    (tuple[int, str], tuple[float, str], True, "position-wise widening"),
    (tuple[int, str], tuple[str, int], False, "positions swapped"),
    (tuple[int], tuple[int, str], False, "different length"),
    (tuple[int, int], tuple[int, ...], True, "fixed into variadic"),
    (tuple[int, ...], tuple[float, ...], True, "variadic widening"),
    (tuple[int, ...], tuple[int, int], False, "variadic into fixed"),
    (tuple[str, ...], tuple[int, ...], False, "variadic mismatch"),
    (tuple[int, str], tuple[Any, ...], True, "anything into tuple[Any, ...]"),
    (list[int], tuple[int, ...], False, "a list is not a tuple"),
    (tuple[str, ...], list[str], False, "a tuple is not a list"),
    (Annotated[str, "meta"], str, True, "Annotated metadata is ignored"),
    (str, Annotated[int, "meta"], False, "Annotated metadata is ignored"),
    (Optional[list[str]], list[str] | None, True, "same Optional list"),  # noqa: UP045
    (list[str] | None, list[str], False, "a None could arrive"),
    (list[int] | None, list[float] | None, True, "Optional list with widening"),
    (Union[int, None], float | None, True, "Optional int into Optional float"),  # noqa: UP007
]


@pytest.mark.parametrize(("source", "target", "expected"), [case[:3] for case in ASSIGNABLE],
                         ids=[f"{type_label(s)}->{type_label(t)}" for s, t, *_ in ASSIGNABLE])
def test_is_assignable(source, target, expected):
    assert is_assignable(source, target) is expected


def test_unhashable_annotations_are_still_compared():
    unhashable = Annotated[str, {"ui": "textarea"}]  # dict metadata: not hashable, not cacheable
    assert is_assignable(unhashable, str)
    assert is_assignable(str, unhashable)
    assert not is_assignable(unhashable, int)
    assert type_label(unhashable) == "str"


@pytest.mark.parametrize(("source", "target", "whole", "assignable"), [
    (str, list[str], False, True),           # fits only as one item (fan-in)
    (list[str], list[str], True, True),       # fits as it is
    (str, str, True, True),
    (int, str, False, False),
])
def test_accepts_whole_is_is_assignable_without_fan_in(source, target, whole, assignable):
    assert accepts_whole(source, target) is whole
    assert is_assignable(source, target) is assignable


@pytest.mark.parametrize(("tp", "item"), [
    (list[str], str),
    (list[str] | None, str),
    (Optional[list[Document]], Document),  # noqa: UP045
    (list, Any),
    (list[Annotated[int, "x"]], int),
    (str, None),
    (tuple[str, ...], None),
    (dict[str, int], None),
    (list[str] | int, None),
])
def test_list_item_type(tp, item):
    assert list_item_type(tp) == item


@pytest.mark.parametrize(("tp", "unwrapped"), [
    (str | None, str),
    (Optional[int], int),  # noqa: UP045
    (int | str | None, int | str | None),
    (str, str),
    (Annotated[str | None, "x"], str),
])
def test_unwrap_optional(tp, unwrapped):
    assert unwrap_optional(tp) == unwrapped


LABELS = [
    (str, "str"),
    (int, "int"),
    (Any, "Any"),
    (object, "Any"),
    (type(None), "None"),
    (Document, "Document"),
    (list[Document], "list[Document]"),
    (typing.List[int], "list[int]"),  # noqa: UP006
    (str | None, "str | None"),
    (Optional[str], "str | None"),  # noqa: UP045
    (Union[int, str], "int | str"),  # noqa: UP007
    (list[str] | None, "list[str] | None"),
    (dict[str, Any], "dict[str, Any]"),
    (dict[str, list[int]], "dict[str, list[int]]"),
    (tuple[int, ...], "tuple[int, ...]"),
    (tuple[int, str], "tuple[int, str]"),
    (Literal["a", "b"], "Literal['a', 'b']"),
    (Literal[1], "Literal[1]"),
    (Annotated[int, "meta"], "int"),
    (Sequence[str], "Sequence[str]"),
    (list, "list"),
]


@pytest.mark.parametrize(("tp", "label"), LABELS, ids=[label for _, label in LABELS])
def test_type_label(tp, label):
    assert type_label(tp) == label
