"""Human-readable progress for `patchwire run`: one line per node as it happens, then the outputs."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .egress import summary_line
from .events import EventFold, NodeChunk, NodeLog, NodeStarted, RunFinished, RunStarted
from .results import RunResult, jsonable

__all__ = ["ProgressPrinter", "print_outputs", "describe_event"]


class ProgressLines(EventFold):
    """One progress line per node event worth a line (None for the others)."""

    IGNORES = (RunStarted, NodeStarted, NodeChunk, NodeLog, RunFinished)

    def inner_event(self, event: Any) -> str | None:
        return self.dispatch(event)  # `node_id` spells the path: `map1/3/summarise`

    def on_node_finished(self, event: Any) -> str:
        return f"  ok       {event.node_id:<24} {event.latency_ms:9.1f} ms"

    def on_node_cached(self, event: Any) -> str:
        return f"  cached   {event.node_id:<24} {'':>9}    (reused earlier outputs)"

    def on_node_skipped(self, event: Any) -> str:
        return f"  skipped  {event.node_id:<24} {'':>9}    {event.reason}"

    def on_node_failed(self, event: Any) -> str:
        handled = " (handled)" if event.handled else ""
        return (f"  FAILED   {event.node_id:<24} {event.latency_ms:9.1f} ms {event.error.type}: "
                f"{event.error.message}{handled}")

    def on_node_retrying(self, event: Any) -> str:
        return (f"  retry    {event.node_id:<24} attempt {event.attempt} in {event.delay_s:g} s after "
                f"{event.error.type}: {event.error.message}")

    def on_node_paused(self, event: Any) -> str:
        return f"  paused   {event.node_id:<24} {'':>9}    at a {event.reason}"

    def on_node_resumed(self, event: Any) -> str | None:
        if not event.edited:
            return None
        return f"  edited   {event.node_id:<24} {'':>9}    inputs edited at breakpoint: {', '.join(event.edited)}"

    def on_node_cancelled(self, event: Any) -> str:
        return f"  cancelled {event.node_id:<23} {'':>9}    {event.reason}"


describe_event = ProgressLines()  # `describe_event(event) -> str | None`


class ProgressPrinter:
    """A consumer printing each progress line to `stream` as it happens."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __call__(self, event: Any) -> None:
        line = describe_event(event)
        if line:
            print(line, file=self.stream, flush=True)


def print_outputs(result: RunResult, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    latency = f"{result.latency_ms:.1f} ms" if result.latency_ms is not None else "-"
    print(f"run {result.run_id}: {result.status} in {latency}", file=sys.stderr)
    if result.error:
        print(f"error: {result.error['message']}", file=sys.stderr)
    print(summary_line(result.egress), file=sys.stderr)
    for node_id, value in result.outputs.items():
        text = value if isinstance(value, str) else json.dumps(jsonable(value), indent=2, ensure_ascii=False)
        print(f"{node_id}: {text}", file=out)
