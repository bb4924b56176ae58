"""What every entry point attaches to a run's event stream: the run recorder, progress lines, tracing.

The CLI's `run` and `batch`, `serve` and the editor all build their consumers here, so a run is recorded
(with where it came from) the same way whichever front end started it:

    factories = default_consumers("cli", record=not args.no_record, progress=sys.stderr)
    result = await run_with_consumers(plan, inputs, factories)

Consumers are made per run by factories, `(plan, run_id) -> consumer`: a service runs the same plans many
times, and a factory can reuse what it prepared for a plan (the recorder dumps a plan's spec once).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TextIO

from .events import Consumer

if TYPE_CHECKING:
    from .plan import Plan
    from .results import RunResult

__all__ = ["RunSource", "ConsumerFactory", "default_consumers", "for_run", "run_with_consumers", "flush_records"]

# Where a run was started; stored on its record and shown in the editor's History tab. `serve`, `openai`
# and `mcp` are `patchwire serve`'s route families (and `patchwire mcp`); `api`: `runtime.run` from Python.
RunSource = Literal["cli", "batch", "serve", "openai", "mcp", "editor", "api", "eval"]
ConsumerFactory = Callable[["Plan", str], Consumer]


def default_consumers(source: RunSource, *, record: bool = True, pipeline_id: str | None = None,
                      progress: TextIO | None = None) -> list[ConsumerFactory]:
    """The consumer factories for runs started by `source`.

    `record`: store each run in the run history (`DATABASE_URL`, default SQLite), with its `source` and
    `pipeline_id`. `progress`: print one line per node event to this stream. Traces go to an OTLP
    endpoint when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set (`runtime.tracing`).
    """
    from .tracing import tracing_enabled, tracing_factory

    factories: list[ConsumerFactory] = []
    if record:
        factories.append(_recorder(source, pipeline_id))
    if progress is not None:
        factories.append(_progress(progress))
    if tracing_enabled():  # else nothing of OpenTelemetry is imported
        factories.append(tracing_factory())
    if source in ("serve", "openai", "mcp"):  # the Prometheus metrics `/metrics` answers with
        from .metrics import metrics_factory

        factories.append(metrics_factory())
    return factories


def for_run(factories: Sequence[ConsumerFactory], plan: Plan, run_id: str) -> list[Consumer]:
    """The consumers of one run."""
    return [make(plan, run_id) for make in factories]


async def run_with_consumers(plan: Plan, inputs: dict[str, Any], factories: Sequence[ConsumerFactory], *,
                             pinned: dict[str, dict[str, Any]] | None = None) -> RunResult:
    """Run to completion, feeding every event to the factories' consumers; the run's result.

    `pinned`: node id -> outputs used instead of running the node (an eval suite's mocks)."""
    from .api import execute
    from .budget import guard_for
    from .results import ResultCollector

    execution = execute(plan, inputs, pinned=pinned)
    collector = ResultCollector()
    guard = guard_for(execution)  # None: the pipeline has no budget
    await execution.consume(collector, *for_run(factories, plan, execution.run_id), *([guard] if guard else []))
    assert collector.result is not None
    return collector.result


def _recorder(source: RunSource, pipeline_id: str | None) -> ConsumerFactory:
    """The one place a run recorder is made: whatever the database needs before the first record is
    prepared here, once per entry point (raises `DatabaseUnavailable` when it cannot be used)."""
    from .store import prepare_database
    from .store.recorder import RunRecorder

    prepare_database()  # reachable, migrated under a lock, orphaned runs closed; a set lookup when done
    return RunRecorder.factory(source, pipeline_id=pipeline_id)


def _progress(stream: TextIO) -> ConsumerFactory:
    from .progress import ProgressPrinter

    def make(plan: Any, run_id: str) -> Consumer:
        return ProgressPrinter(stream)

    return make


def flush_records(timeout: float = 10.0) -> None:
    """Wait until every recorded event is stored: a short-lived process calls this before it exits."""
    recorder = sys.modules.get("runtime.store.recorder")
    if recorder is not None:  # else this process recorded nothing
        recorder.RunRecorder.flush(timeout)
