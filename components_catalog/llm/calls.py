"""The one way catalog components call a model: `litellm.acompletion`, one retry layer, all recorded.

litellm's own retries are off (`num_retries=0`, `max_retries=0`): the node policy is the only retry
layer. Provider failures become `RetryableError` or `PermanentError` (see `errors`); a malformed
reply is a `RetryableError`. Every call, failed ones included, is appended to the node's `model_calls`
record. API keys never reach params, records, logs or error messages, and keys from the environment go
only where `bases.check_model_base` allows. `timeout_s` is a deadline for the whole call, streaming
included: httpx's read timeout restarts with every chunk, so a provider dripping chunks never trips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from components_catalog.llm.bases import NO_KEY, ModelBase, check_model_base
from components_catalog.llm.errors import map_model_error, redactor
from components_catalog.llm.providers import is_local_model, litellm_ready, load_litellm, provider_of
from components_catalog.types import TokenUsage
from runtime.context import RunContext
from runtime.errors import ComponentError, PermanentError, RetryableError

__all__ = ["ModelRequest", "ModelReply", "call_model", "sum_usage"]

@dataclass(frozen=True)
class ModelRequest:
    """One chat completion to make; `fallbacks` are tried in order when a call fails transiently."""

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    timeout_s: float | None = None
    stream: bool = False
    api_base: str | None = None
    api_key_env: str | None = None
    fallbacks: Sequence[str] = field(default_factory=tuple)

    def params(self) -> dict[str, Any]:
        """The generation params as recorded and sent (never a key)."""
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens,
                                  "response_format": self.response_format, "timeout": self.timeout_s,
                                  "stream": self.stream, "api_base": self.api_base}
        return {k: v for k, v in params.items() if v is not None}


@dataclass(frozen=True)
class ModelReply:
    text: str
    model: str  # the model that answered (a fallback, when `fallback_used`)
    usage: TokenUsage  # summed over every call made, failed fallbacks included
    fallback_used: bool


async def call_model(ctx: RunContext, request: ModelRequest) -> ModelReply:
    """Call `request.model`, then each fallback on a `RetryableError`; `PermanentError`s fail at once.

    Fallbacks are done here, not with litellm's `acompletion(fallbacks=...)`: that one tries the next model
    after any error (a bad key included), raises a bare `Exception` when all fail, and records nothing per call.
    """
    models = [request.model, *request.fallbacks]
    # Where each call may go, before reading a key, loading litellm or connecting anywhere.
    bases = [await check_model_base(model, request.api_base, request.api_key_env) for model in models]
    api_key = ctx.secret(request.api_key_env) if request.api_key_env else None
    redact = redactor(ctx, api_key)
    # Every call: load_litellm also quiets the banners that whoever imported litellm first may have left on.
    litellm = load_litellm() if litellm_ready() else await ctx.to_thread(load_litellm)
    usages: list[TokenUsage] = []
    for index, model in enumerate(models):
        try:
            text, usage = await _call_one(ctx, litellm, request, model, bases[index], api_key, redact, index > 0)
        except RetryableError as exc:
            usages.append(TokenUsage(model=model, calls=1))
            if index + 1 == len(models):
                raise
            ctx.log(f"Model `{model}` failed ({exc}); falling back to `{models[index + 1]}`.")
            continue
        usages.append(usage)
        return ModelReply(text, model, sum_usage(usages, model), index > 0)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


async def _call_one(ctx: RunContext, litellm: Any, request: ModelRequest, model: str, base: ModelBase,
                    api_key: str | None, redact: Callable[[str], str], fallback_used: bool) -> tuple[str, TokenUsage]:
    if is_local_model(model):
        from components_catalog.llm.local_model import ensure_registered

        await ctx.to_thread(ensure_registered)
    params = request.params()
    entry: dict[str, Any] = {"model": model, "provider": provider_of(model, litellm) or None,
                             "messages": request.messages, "params": params, "response": None, "usage": None,
                             "cost_usd": None, "latency_ms": None, "attempt": ctx.attempt,
                             "fallback_used": fallback_used, "started_at": time.time()}
    _append_call(ctx, entry)
    kwargs = _litellm_kwargs(request, model, api_key or (None if base.trusted else NO_KEY))
    started = time.perf_counter()
    try:
        text, response = await _request(ctx, litellm, request, model, kwargs, entry)
    except Exception as exc:  # noqa: BLE001 - every failure is mapped to the runtime's two kinds
        error = exc if isinstance(exc, ComponentError) else map_model_error(
            exc, model, api_key_env=request.api_key_env, timeout_s=request.timeout_s, redact=redact)
        error = _with_base_note(error, exc, base, model)
        entry.update(latency_ms=_ms(started), error=str(error), error_type=type(error).__name__)
        raise error from None  # the provider's exception may quote the key: never chain it
    usage = _usage(litellm, response, model)
    entry.update(response=text, usage=usage.model_dump(exclude={"model", "cost_usd", "calls"}),
                 cost_usd=usage.cost_usd, latency_ms=_ms(started), **_response_facts(response))
    return text, usage


async def _request(ctx: RunContext, litellm: Any, request: ModelRequest, model: str,
                   kwargs: dict[str, Any], entry: dict[str, Any]) -> tuple[str, Any]:
    """One litellm call, the stream read to its end, within `request.timeout_s` in all."""
    deadline = asyncio.timeout(request.timeout_s)
    try:
        async with deadline:
            response = await litellm.acompletion(**kwargs)
            if not request.stream:
                return _reply_text(response, model), response
            try:
                return await _consume_stream(ctx, litellm, response, request.messages, model, entry)
            except BaseException:
                await _close_stream(response)  # cut off (deadline, cancelled run): free the connection now
                raise
    except TimeoutError:
        if not deadline.expired():
            raise
        raise RetryableError(f"Model `{model}` did not answer within {request.timeout_s:g} s (the node's `timeout_s` "
                             "param). It is a deadline for the whole call, streaming included.") from None


async def _close_stream(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


def _with_base_note(error: ComponentError, exc: BaseException, base: ModelBase, model: str) -> ComponentError:
    """After an auth failure at an untrusted base, say that the env key was withheld and how to send it."""
    note = base.withheld_note(model) if getattr(exc, "status_code", None) in (401, 403) else ""
    return PermanentError(f"{error} {note}") if note and isinstance(error, PermanentError) else error


def _append_call(ctx: RunContext, entry: dict[str, Any]) -> None:
    """Append (the same dict object is updated in place when the call ends)."""
    ctx.record("model_calls", [*ctx.trace.get("model_calls", []), entry])


def _litellm_kwargs(request: ModelRequest, model: str, api_key: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": model, "messages": request.messages, "num_retries": 0, "max_retries": 0}
    for name, value in request.params().items():
        if name not in ("stream", "timeout"):
            kwargs[name] = value
    if request.timeout_s is not None:
        kwargs["timeout"] = request.timeout_s
    if request.stream:
        kwargs.update(stream=True, stream_options={"include_usage": True})
    if api_key:
        kwargs["api_key"] = api_key
    return kwargs


async def _consume_stream(ctx: RunContext, litellm: Any, stream: Any, messages: list[dict[str, Any]],
                          model: str, entry: dict[str, Any]) -> tuple[str, Any]:
    """Forward each content delta as a chunk; return the joined text and the assembled response.
    The first delta's time goes to the call's record (`first_chunk_at`: time to first chunk)."""
    chunks, parts = [], []
    async for chunk in stream:
        chunks.append(chunk)
        choices = getattr(chunk, "choices", None) or []
        delta = getattr(getattr(choices[0], "delta", None), "content", None) if choices else None
        if delta:
            if not parts:
                entry["first_chunk_at"] = time.time()
            ctx.emit_chunk(delta)
            parts.append(delta)
    if not parts and not any(getattr(c, "usage", None) for c in chunks):
        raise RetryableError(f"Model `{model}` returned a malformed stream: no text and no usage. "
                             "This is usually transient; the node's retry policy tries again.")
    try:
        built = litellm.stream_chunk_builder(chunks, messages=messages)
    except Exception:  # noqa: BLE001 - usage then comes from the chunks themselves
        built = None
    return "".join(parts), built if built is not None else chunks[-1]


def _response_facts(response: Any) -> dict[str, Any]:
    """What the provider said about its answer: the model that answered and why each choice ended."""
    choices = getattr(response, "choices", None) or []
    reasons = [str(r) for r in (getattr(choice, "finish_reason", None) for choice in choices) if r]
    answered = getattr(response, "model", None)
    return {"response_model": answered if isinstance(answered, str) else None, "finish_reasons": reasons}


def _reply_text(response: Any, model: str) -> str:
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if choices else None
    content = getattr(message, "content", None)
    if not isinstance(content, str):
        raise RetryableError(f"Model `{model}` returned a malformed response: expected a message with text "
                             f"content, got {type(response).__name__} without it. Retrying usually helps.")
    return content


def _usage(litellm: Any, response: Any, model: str) -> TokenUsage:
    raw = getattr(response, "usage", None)
    prompt, completion = (int(getattr(raw, name, 0) or 0) for name in ("prompt_tokens", "completion_tokens"))
    total = int(getattr(raw, "total_tokens", 0) or 0) or prompt + completion
    return TokenUsage(model=model, prompt_tokens=prompt, completion_tokens=completion, total_tokens=total,
                      cost_usd=_cost(litellm, response, model), calls=1)


def _cost(litellm: Any, response: Any, model: str) -> float | None:
    """litellm's price for the call; None for models it has no price for (never an error)."""
    try:
        cost = litellm.completion_cost(completion_response=response, model=model)
    except Exception:  # noqa: BLE001 - unknown model or odd response: cost unknown
        return None
    return float(cost) if isinstance(cost, int | float) else None


def sum_usage(usages: Sequence[TokenUsage], model: str) -> TokenUsage:
    """Tokens and calls added up; the cost is the sum of the known costs (None if none is known)."""
    costs = [u.cost_usd for u in usages if u.cost_usd is not None]
    return TokenUsage(model=model, prompt_tokens=sum(u.prompt_tokens for u in usages),
                      completion_tokens=sum(u.completion_tokens for u in usages),
                      total_tokens=sum(u.total_tokens for u in usages),
                      cost_usd=sum(costs) if costs else None, calls=sum(u.calls for u in usages))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
