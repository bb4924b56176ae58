"""A foldable JSON tree (`assets/json_tree.jsx`) for values in the inspector and the run summary."""

from __future__ import annotations

from typing import Any

import reflex as rx

__all__ = ["JsonTree", "json_tree"]


class JsonTree(rx.Component):
    library = rx.asset("json_tree.jsx").importable_path
    tag = "JsonTree"

    value: rx.Var[Any]
    testid: rx.Var[str]
    open_depth: rx.Var[int]


def json_tree(value: Any, testid: Any, open_depth: int = 2) -> rx.Component:
    return JsonTree.create(value=value, testid=testid, open_depth=open_depth)
