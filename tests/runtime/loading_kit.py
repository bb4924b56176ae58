"""The sample spec and the problem helpers shared by the spec-loading tests (test_loading*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import InvalidSpec, load_spec, parse_spec

__all__ = ["SPEC", "problems", "load_problems", "only"]

SPEC = {
    "name": "summarise",
    "description": "Echo a query",
    "nodes": [
        {"id": "query", "component": "io.input", "params": {"type": "string"}},
        {"id": "echo", "component": "demo.echo", "version": 1, "params": {"prefix": "> "},
         "policy": {"retries": 2, "timeout_s": 5}, "label": "Echo it"},
        {"id": "out", "component": "io.output"},
    ],
    "edges": [
        {"source": {"node": "query", "port": "value"}, "target": {"node": "echo", "port": "value"}},
        {"source": {"node": "echo", "port": "value"}, "target": {"node": "out", "port": "value"}},
    ],
    "layout": {"query": {"x": 0, "y": 10.5}},
}


def problems(data, **kwargs) -> list:
    """The issues `parse_spec` raises (failing the test if it parses)."""
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(data, **kwargs)
    return caught.value.issues


def load_problems(path: Path) -> list:
    with pytest.raises(InvalidSpec) as caught:
        load_spec(path)
    return caught.value.issues


def only(issues: list):
    assert len(issues) == 1, [i.message for i in issues]
    return issues[0]
