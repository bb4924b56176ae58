"""Warm start: after the editor starts, load in one background thread what the first run would otherwise
load inside its nodes (litellm, the embedding model, the embedded Chroma: `components_catalog.warmup`).

The thread never blocks the event loop or a page; a step that fails is logged and skipped (the node
that needs it reports the error when it runs). `PATCHWIRE_WARMUP=0` turns it off; `PATCHWIRE_WARMUP_DELAY_S`
starts it later (leaves a slow machine's CPU to the first page load). The CLI never warms up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

__all__ = ["WarmupStatus", "status", "start", "warm_start", "ENV_OFF", "ENV_DELAY"]

log = logging.getLogger("editor")
ENV_OFF = "PATCHWIRE_WARMUP"
ENV_DELAY = "PATCHWIRE_WARMUP_DELAY_S"
WarmupStatus = Literal["off", "warming", "ready"]

_state: dict[str, object] = {"status": "off", "seconds": None}
_lock = threading.Lock()


def status() -> WarmupStatus:
    """"warming" from `start()` until every step has run, then "ready"; "off" when never started."""
    return _state["status"]  # type: ignore[return-value]


def _steps() -> list[tuple[str, Callable[[], None]]]:
    try:
        from components_catalog.warmup import warm_up_steps
    except ImportError:  # the catalog is not installed: nothing to warm
        return []
    return warm_up_steps()


def _delay() -> float:
    raw = os.environ.get(ENV_DELAY, "").strip()
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        log.warning("%s must be a number of seconds, got %r; warming up now", ENV_DELAY, raw)
        return 0.0


def _run(delay: float) -> None:
    time.sleep(delay)
    started = time.perf_counter()
    for name, step in _steps():
        try:
            step()
        except Exception:  # best effort: the node that needs it reports the error itself
            log.warning("warm-up step %r failed; the first run that needs it will load it", name, exc_info=True)
    _state["seconds"] = round(time.perf_counter() - started, 2)
    _state["status"] = "ready"
    log.info("warm-up done in %.1f s", _state["seconds"])


def start() -> WarmupStatus:
    """Start warming up in a daemon thread (once per process); returns the status."""
    with _lock:
        if _state["status"] != "off":
            return status()
        if os.environ.get(ENV_OFF, "1").strip().lower() in ("0", "false", "no", "off"):
            _state["status"] = "ready"  # nothing will be loaded ahead: the run bar does not wait for it
            return status()
        _state["status"] = "warming"
        threading.Thread(target=_run, args=(_delay(),), name="patchwire-warmup", daemon=True).start()
    return status()


@contextlib.asynccontextmanager
async def warm_start() -> AsyncIterator[None]:
    """The editor app's lifespan task: start warming up and serve at once (nothing here is awaited)."""
    start()
    yield
