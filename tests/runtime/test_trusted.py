"""`trusted_constructor(model)(values)` builds what `model.model_construct(**values)` builds."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel

from runtime.trusted import trusted_constructor


class Plain(BaseModel):
    text: str
    count: int = 3
    note: str | None = None


class Mutable(BaseModel):
    items: list[int] = []
    made: list[int] = Field(default_factory=list)
    tags: dict[str, int] = Field(default_factory=lambda: {"a": 1})
    derived: str = Field(default_factory=lambda data: f"from {data.get('items')}")


class Aliased(BaseModel):
    text: str = Field(alias="Text")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str = ""


class WithPrivate(BaseModel):
    text: str = ""
    _seen: int = PrivateAttr(default=7)


class Root(RootModel[list[int]]):
    pass


def same(model: type[BaseModel], values: dict[str, Any]) -> tuple[BaseModel, BaseModel]:
    built = trusted_constructor(model)(dict(values))
    expected = model.model_construct(**values)
    assert built == expected
    assert built.model_fields_set == expected.model_fields_set
    assert list(built.__dict__) == list(expected.__dict__)  # the same field order (repr, iteration)
    return built, expected


@pytest.mark.parametrize("values", [{"text": "x"}, {"text": "x", "count": 5, "note": "n"}, {"count": 1},
                                    {"text": "x", "unknown": 1}])
def test_plain_models(values):
    built, _ = same(Plain, values)
    assert "unknown" not in built.__dict__


@pytest.mark.parametrize("values", [{}, {"items": [1]}, {"made": [2], "tags": {}}])
def test_defaults_that_must_not_be_shared_are_made_per_instance(values):
    first, _ = same(Mutable, values)
    second = trusted_constructor(Mutable)(dict(values))
    for name in ("items", "made", "tags"):
        if name not in values:
            assert getattr(first, name) is not getattr(second, name)
    assert first.derived == f"from {first.items}"


@pytest.mark.parametrize(("model", "values"), [(Aliased, {"Text": "x"}), (Open, {"text": "x", "more": 1}),
                                               (WithPrivate, {"text": "x"})])
def test_models_it_cannot_prepare_use_model_construct(model, values):
    built, _ = same(model, values)
    if model is Open:
        assert built.__pydantic_extra__ == {"more": 1}
    if model is WithPrivate:
        assert built._seen == 7


def test_root_models_use_model_construct():
    assert trusted_constructor(Root)({"root": [1, 2]}) == Root.model_construct(root=[1, 2])
