"""Durable appends off the event loop: `await commit.append(data)` returns once `data` is on disk.

`patchwire batch` and `patchwire eval` write one fsynced line per finished row. Done on the event loop, every
fsync (milliseconds on a real disk) froze all the rows in flight. Here the write and the fsync run on one
dedicated thread, and the lines that arrive while a flush is under way go out together with the next single
write + fsync (a group commit): still nothing is reported written before it is on disk, lines reach the file
in the order `append` was called, and a busy disk costs one fsync per batch of rows instead of one per row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["GroupCommit"]


class GroupCommit:
    """Appends `bytes` through `write_durably` (a blocking write + fsync) on one thread, in call order."""

    def __init__(self, write_durably: Callable[[bytes], None], name: str = "patchwire-results"):
        self._write_durably = write_durably
        self._name = name
        self._pending: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def append(self, data: bytes) -> None:
        """Return once `data` is on disk; raise what the write raised (e.g. `OSError` on a full disk)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.append(data)
        self._waiters.append(waiter)
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        await waiter

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        while self._pending:
            data, waiters = b"".join(self._pending), self._waiters
            self._pending, self._waiters = [], []
            try:
                await loop.run_in_executor(self._thread, self._write_durably, data)
            except asyncio.CancelledError:  # the loop is going away: nobody is told these lines are written
                for waiter in (*waiters, *self._waiters):
                    waiter.cancel()
                raise
            except BaseException as exc:  # noqa: BLE001 - handed to every row that waited on this write
                _settle(waiters, exc)
            else:
                _settle(waiters, None)

    def close(self) -> None:
        """Wait for the write under way (a cancelled loop may have left one running), then stop the thread."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():  # its row was cancelled while it waited
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
