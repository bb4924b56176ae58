"""What the service tells its callers about the database: a run whose record was lost answers 503 (never a
silent 200), and `/healthz` reports each check (the database the runs are recorded in).

A consumer that keeps records may have `stored(run_id) -> awaitable`: called before the run starts, the
awaitable fails when some of the run's records could not be stored (`RunRecorder.stored`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..consumers import RunSource

__all__ = ["RECORD_WAIT_S", "receipt", "unrecorded", "record_consumers_for", "health_checks", "health_report"]

RECORD_WAIT_S = 10.0  # how long a finished run waits for its record to be confirmed stored
HealthCheck = Callable[[], str]  # blocking; "ok" or the problem, in words


def receipt(consumer: Any, run_id: str) -> Awaitable[None] | None:
    """The consumer's promise that `run_id` is stored, if it keeps records."""
    stored = getattr(consumer, "stored", None)
    return stored(run_id) if stored is not None else None


async def unrecorded(receipts: list[Awaitable[None]]) -> str | None:
    """None once every record-keeping consumer has confirmed the run is stored; otherwise why it is not."""
    for promise in receipts:
        try:
            await asyncio.wait_for(promise, RECORD_WAIT_S)
        except TimeoutError:
            return f"the database did not confirm it within {RECORD_WAIT_S:g} s"
        except Exception as exc:  # noqa: BLE001 - whatever the store raised is the message
            return str(exc)
    return None


def record_consumers_for(record: bool) -> Callable[[RunSource], list]:
    """Per route family (`serve`, `openai`, `mcp`): the default consumers, run records stored with that source."""
    from ..consumers import default_consumers

    return lambda source: default_consumers(source, record=record)


def health_checks(record: bool) -> dict[str, HealthCheck]:
    """What /healthz reports besides the service itself: the database, when runs are recorded in it."""
    if not record:
        return {}
    from ..store.health import database_status

    return {"database": database_status}


async def health_report(checks: Mapping[str, HealthCheck], pipelines: int) -> tuple[dict[str, Any], int]:
    """The /healthz body and status: 200 when every check says "ok", else 503 with what each said."""
    report = {name: await asyncio.to_thread(check) for name, check in checks.items()}
    healthy = all(value == "ok" for value in report.values())
    return {"status": "ok" if healthy else "error", "pipelines": pipelines, **report}, 200 if healthy else 503
