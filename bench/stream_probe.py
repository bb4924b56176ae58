"""A plugin for bench/openai_overhead.py: a "model" whose tokens carry the time they were emitted.

`bench.clock_stream` emits `tokens` chunks `gap_s` apart, each the `time.time()` of its emission followed by a
space, and returns their concatenation: the client subtracts to get the serving path's own latency.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, Field

from runtime import Component, RunContext, component


class ClockParams(BaseModel):
    tokens: int = Field(default=5, ge=1, description="How many tokens to stream")
    gap_s: float = Field(default=0.05, ge=0, description="Seconds between tokens")


class Prompt(BaseModel):
    value: str = Field(description="Ignored")


class Reply(BaseModel):
    value: str = Field(description="The tokens, concatenated")


@component(id="bench.clock_stream", version=1, title="Clock stream", category="Testing")
class ClockStream(Component):
    """Stream tokens that hold their own emission time."""

    params: ClockParams

    async def run(self, inputs: Prompt, ctx: RunContext) -> Reply:
        sent = []
        for i in range(self.params.tokens):
            if i:
                await asyncio.sleep(self.params.gap_s)
            token = f"{time.time():.6f} "
            ctx.emit_chunk(token)
            sent.append(token)
        return Reply(value="".join(sent))
