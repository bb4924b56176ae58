"""Deterministic components for the browser tests, loaded through PATCHWIRE_PLUGINS (like a user's plugin)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from runtime import Component, RunContext, component


class SourceOut(BaseModel):
    text: str = Field(description="Some text")
    number: int = Field(description="Some number")


class NoInputs(BaseModel):
    pass


@component(id="e2e.source", version=1, title="E2E source", category="E2E")
class Source(Component):
    """Emit a text and a number."""

    async def run(self, inputs: NoInputs, ctx: RunContext) -> SourceOut:
        return SourceOut(text="hello", number=3)


class ShoutParams(BaseModel):
    suffix: str = Field("!", description="Appended to the text")
    times: int = Field(1, ge=1, le=5, description="How often to repeat the text")
    mode: Literal["upper", "lower"] = Field("upper", description="Which case to use")
    loud: bool = Field(False, description="Add extra exclamation marks")
    template: str = Field("{text}", description="How to format the result")
    options: dict[str, Any] = Field(default_factory=dict, description="Extra options (JSON)")
    model: str = Field("local/extractive", description="Model name", json_schema_extra={"x-widget": "model-picker"})


class TextIn(BaseModel):
    text: str = Field(description="The text to transform")


class TextOut(BaseModel):
    text: str = Field(description="The transformed text")


@component(id="e2e.shout", version=1, title="E2E shout", category="E2E")
class Shout(Component):
    """Change the text's case and repeat it."""

    params: ShoutParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        text = inputs.text.upper() if self.params.mode == "upper" else inputs.text.lower()
        return TextOut(text=(text + self.params.suffix) * self.params.times)


class NumberIn(BaseModel):
    value: float = Field(description="A number")


class NumberOut(BaseModel):
    doubled: float = Field(description="Twice the number")


@component(id="e2e.double", version=1, title="E2E double", category="E2E")
class Double(Component):
    """Double a number."""

    async def run(self, inputs: NumberIn, ctx: RunContext) -> NumberOut:
        return NumberOut(doubled=inputs.value * 2)


class SplitParams(BaseModel):
    routes: list[str] = Field(default_factory=lambda: ["left", "right"], description="One output port per route")


@component(id="e2e.split", version=1, title="E2E split", category="E2E")
class Split(Component):
    """Send the text to the route it names (ports follow the `routes` param)."""

    params: SplitParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, SplitParams)
        return TextIn, create_model("SplitOut", **{name: (str, None) for name in params.routes})

    async def run(self, inputs: TextIn, ctx: RunContext) -> BaseModel:
        _, outputs = self.ports(self.params)
        route = inputs.text if inputs.text in self.params.routes else self.params.routes[0]
        return outputs(**{route: inputs.text})


# --- for runs (issue 5): a slow node, a failing node, a flaky one, a streaming one -----------------------------

class SleepParams(BaseModel):
    seconds: float = Field(0.5, ge=0, le=600, description="How long to wait before passing the text on")


@component(id="e2e.sleep", version=1, title="E2E sleep", category="E2E")
class Sleep(Component):
    """Wait, then pass the text on (a slow node to stop, or to reload the page during)."""

    params: SleepParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        import asyncio

        await asyncio.sleep(self.params.seconds)
        return TextOut(text=inputs.text)


class FailParams(BaseModel):
    message: str = Field("the e2e component failed on purpose", description="The error message")
    fail_attempts: int = Field(99, ge=0, description="Fail this many attempts, then succeed")


@component(id="e2e.fail", version=1, title="E2E fail", category="E2E")
class Fail(Component):
    """Raise ValueError(message) on the first `fail_attempts` attempts, then pass the text on."""

    params: FailParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        if ctx.attempt <= self.params.fail_attempts:
            raise ValueError(f"{self.params.message} (attempt {ctx.attempt})")
        return TextOut(text=inputs.text)


class StreamParams(BaseModel):
    words: int = Field(6, ge=1, le=1000, description="How many words to stream")
    delay: float = Field(0.2, ge=0, le=10, description="Seconds between words")


@component(id="e2e.stream", version=1, title="E2E stream", category="E2E")
class StreamWords(Component):
    """Stream `word-0 word-1 ...` one word at a time (like a model writing), then return the text."""

    params: StreamParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        import asyncio

        words = []
        for i in range(self.params.words):
            word = f"{inputs.text}-{i}"
            ctx.emit_chunk(word + " ")
            words.append(word)
            await asyncio.sleep(self.params.delay)
        return TextOut(text=" ".join(words))


# --- for live runs inside subflows: a node the test lets go ----------------------------------------------------

class GateParams(BaseModel):
    key: str = Field("gate", description="The file `e2e-gates/<key>` in the data directory opens the gate")
    once: bool = Field(False, description="Let one run through per file (the run deletes it)")


@component(id="e2e.gate", version=1, title="E2E gate", category="E2E")
class Gate(Component):
    """Wait until the test opens the gate (writes its file), then pass the text on: a slow node whose end the
    test decides, so a live state is watched as long as the test needs, with no fixed sleeps."""

    params: GateParams

    async def run(self, inputs: TextIn, ctx: RunContext) -> TextOut:
        import asyncio
        import os
        from pathlib import Path

        gate = Path(os.environ["PATCHWIRE_DATA_DIR"]) / "e2e-gates" / self.params.key
        while True:
            if self.params.once:
                try:
                    gate.unlink()
                    break
                except FileNotFoundError:
                    pass
            elif gate.exists():
                break
            await asyncio.sleep(0.05)
        return TextOut(text=inputs.text)
