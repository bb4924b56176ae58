"""The editor's debugger in plain Python: which breakpoints a run gets, the paused inputs as editable JSON,
and what the history says of a run whose inputs were edited at a breakpoint (the states call these)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from runtime.debug import Debugger
from runtime.debug_paths import breakpoints_on
from runtime.results import jsonable

__all__ = ["EDITED_NOTE", "debugger_for", "inputs_text", "parse_inputs_text", "edited_note", "toggled"]

EDITED_NOTE = "inputs edited at breakpoint"


def debugger_for(node_ids: Iterable[str], plan: Any) -> Debugger | None:
    """A debugger with the breakpoints on nodes the plan has, top-level ids or paths into flow nodes
    (`map1/work`); None without any (the executor's hook then costs nothing). Breakpoints on nodes deleted
    since are left out, not refused."""
    present = breakpoints_on(plan, list(node_ids))
    return Debugger(present) if present else None


def toggled(current: Iterable[str], node_ids: list[str]) -> bool:
    """F9 or a click on these nodes: on for all unless all of them have one already (then off)."""
    have = set(current)
    return not all(node_id in have for node_id in node_ids)


def inputs_text(inputs: dict[str, Any]) -> str:
    """A paused node's resolved inputs as the JSON the user edits."""
    return json.dumps(jsonable(inputs), indent=2, ensure_ascii=False)


def parse_inputs_text(node_id: str, text: str) -> dict[str, Any]:
    """The edited JSON; ValueError with a message for the inspector when it is not a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The inputs of `{node_id}` are not valid JSON: {exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}. Fix it and continue again; the node stays paused.") from None
    if not isinstance(value, dict):
        raise ValueError(f"The inputs of `{node_id}` must be a JSON object of port names to values, e.g. "
                         '{"prompt": "..."}; the node stays paused.')
    return value


def edited_note(run: Any) -> str:
    """`EDITED_NOTE` with the nodes, for a run whose inputs were edited at a breakpoint; "" otherwise."""
    nodes = list(getattr(run, "breakpoint_edits", None) or [])
    return f"{EDITED_NOTE} ({', '.join(nodes)})" if nodes else ""
