"""A check shared by the template tests: a render that was stopped does not keep running in its thread."""

from __future__ import annotations

import asyncio
import threading
import time

__all__ = ["assert_render_stopped"]


async def assert_render_stopped() -> None:
    """Wait (up to 2 s) for the `patchwire-template` thread to end, then check no CPU is spent any more."""
    deadline = time.perf_counter() + 2
    while any(t.name == "patchwire-template" for t in threading.enumerate()) and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
    cpu = time.process_time()
    await asyncio.sleep(0.5)
    assert time.process_time() - cpu < 0.25, "the render is still running in a thread"
