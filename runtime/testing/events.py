"""Helpers for asserting on event streams, shared by the executor tests."""

from __future__ import annotations

from typing import Any

from runtime import execute
from runtime.events import TERMINAL_NODE_EVENTS

__all__ = ["collect", "trace", "terminal_once"]


async def collect(spec: Any, inputs: dict[str, Any], **kwargs: Any) -> list[Any]:
    """Every event of one run, in order (`kwargs` go to `runtime.execute`, e.g. `registry=`)."""
    return [event async for event in execute(spec, inputs, **kwargs)]


def trace(events: list[Any]) -> list[tuple[str, str | None]]:
    """(kind, node_id) pairs; run-level events have node_id None."""
    return [(e.kind, getattr(e, "node_id", None)) for e in events]


def terminal_once(events: list[Any]) -> set[str]:
    """The nodes that ended, asserting none got two terminal events."""
    terminal = [e.node_id for e in events if isinstance(e, TERMINAL_NODE_EVENTS)]
    assert sorted(terminal) == sorted(set(terminal)), "a node got two terminal events"
    return set(terminal)
