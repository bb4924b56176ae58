"""The run bar's "warming up…" / "ready": follows `editor.warmup` (the background warm start)."""

from __future__ import annotations

import asyncio

import reflex as rx

from .. import warmup

__all__ = ["WarmupState", "POLL_S"]

POLL_S = 0.1


class WarmupState(rx.State):
    status: str = ""  # "" until the page has asked, then "warming" or "ready"

    @rx.event(background=True)
    async def watch(self):
        """on_load: show the warm-up's status, and "ready" the moment it is done."""
        current = warmup.status()
        async with self:
            self.status = "warming" if current == "warming" else "ready"
        while current == "warming":
            await asyncio.sleep(POLL_S)
            current = warmup.status()
        async with self:
            self.status = "ready"
