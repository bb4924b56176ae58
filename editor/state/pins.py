"""The open pipeline's pins (node id -> where the pinned output came from): the canvas marks them, the
inspector shows a node's, a run uses them."""

from __future__ import annotations

import reflex as rx

from . import run_data

__all__ = ["PinsState"]


class PinsState(rx.State):
    pins: dict[str, str] = {}

    async def reload(self, pipeline_id: str) -> None:
        pins = await run_data.read_pins(pipeline_id)
        if pins != self.pins:
            self.pins = pins
