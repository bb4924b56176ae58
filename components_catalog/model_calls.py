"""The one way catalog components call a model: `litellm.acompletion`, one retry layer, all recorded.

litellm's own retries are off (`num_retries=0`, `max_retries=0`): the node policy is the only retry
layer. Provider failures become `RetryableError` (429 with its Retry-After, 5xx, timeouts, connection
errors, malformed replies) or `PermanentError` (401, 403, 400, 404, context window: never retried).
Every call, failed ones included, is appended to the node's `model_calls` record. API keys never reach
params, records, logs or error messages.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from components_catalog.types import TokenUsage
from runtime.context import RunContext
from runtime.errors import ComponentError, PermanentError, RetryableError

__all__ = ["ModelRequest", "ModelReply", "call_model", "load_litellm", "map_model_error", "json_schema_format",
           "parse_json_reply", "is_local_model", "sum_usage"]

LOCAL_PREFIX = "local/"


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


def is_local_model(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)


def load_litellm() -> ModuleType:
    """Import litellm with the bundled cost map (else it fetches one online) and quiet error banners."""
    if "litellm" not in sys.modules:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm: Any = importlib.import_module("litellm")
    litellm.suppress_debug_info = True
    return litellm


async def call_model(ctx: RunContext, request: ModelRequest) -> ModelReply:
    """Call `request.model`, then each fallback on a `RetryableError`; `PermanentError`s fail at once.

    Fallbacks are done here, not with litellm's `acompletion(fallbacks=...)`: that one tries the next model
    after any error (a bad key included), raises a bare `Exception` when all fail, and records nothing per call.
    """
    api_key = ctx.secret(request.api_key_env) if request.api_key_env else None
    redact = redactor(ctx, api_key)
    litellm = sys.modules.get("litellm") or await ctx.to_thread(load_litellm)
    usages: list[TokenUsage] = []
    models = [request.model, *request.fallbacks]
    for index, model in enumerate(models):
        try:
            text, usage = await _call_one(ctx, litellm, request, model, api_key, redact, index > 0)
        except RetryableError as exc:
            usages.append(TokenUsage(model=model, calls=1))
            if index + 1 == len(models):
                raise
            ctx.log(f"Model `{model}` failed ({exc}); falling back to `{models[index + 1]}`.")
            continue
        usages.append(usage)
        return ModelReply(text, model, sum_usage(usages, model), index > 0)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


async def _call_one(ctx: RunContext, litellm: Any, request: ModelRequest, model: str, api_key: str | None,
                    redact: Callable[[str], str], fallback_used: bool) -> tuple[str, TokenUsage]:
    if is_local_model(model):
        from components_catalog.local_model import ensure_registered

        await ctx.to_thread(ensure_registered)
    params = request.params()
    entry: dict[str, Any] = {"model": model, "messages": request.messages, "params": params, "response": None,
                             "usage": None, "cost_usd": None, "latency_ms": None, "attempt": ctx.attempt,
                             "fallback_used": fallback_used}
    _append_call(ctx, entry)
    kwargs = _litellm_kwargs(request, model, api_key)
    started = time.perf_counter()
    try:
        if request.stream:
            response = await litellm.acompletion(**kwargs)
            text, response = await _consume_stream(ctx, litellm, response, request.messages, model)
        else:
            response = await litellm.acompletion(**kwargs)
            text = _reply_text(response, model)
    except Exception as exc:  # noqa: BLE001 - every failure is mapped to the runtime's two kinds
        error = exc if isinstance(exc, ComponentError) else map_model_error(
            exc, model, api_key_env=request.api_key_env, timeout_s=request.timeout_s, redact=redact)
        entry.update(latency_ms=_ms(started), error=str(error))
        raise error from None  # the provider's exception may quote the key: never chain it
    usage = _usage(litellm, response, model)
    entry.update(response=text, usage=usage.model_dump(exclude={"model", "cost_usd", "calls"}),
                 cost_usd=usage.cost_usd, latency_ms=_ms(started))
    return text, usage


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
                          model: str) -> tuple[str, Any]:
    """Forward each content delta as a chunk; return the joined text and the assembled response."""
    chunks, parts = [], []
    async for chunk in stream:
        chunks.append(chunk)
        choices = getattr(chunk, "choices", None) or []
        delta = getattr(getattr(choices[0], "delta", None), "content", None) if choices else None
        if delta:
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


# --- errors ----------------------------------------------------------------------------------------

def redactor(ctx: RunContext, api_key: str | None) -> Callable[[str], str]:
    """Masks the key in use, every secret the run has read and every `*_API_KEY` value in the environment."""
    values = {v for k, v in os.environ.items() if k.endswith("_API_KEY") and len(v) >= 4}
    if api_key:
        values.add(api_key)
    ordered = sorted(values, key=len, reverse=True)

    def redact(text: str) -> str:
        for value in ordered:
            text = text.replace(value, "***")
        return ctx.redact(text)

    return redact


_MISSING_KEY = re.compile(r"missing .{0,40}(credentials|api[ _-]?key)|api[ _-]?key .{0,60}(not set|must be set|"
                          r"is required)|no (api )?key is set", re.IGNORECASE)


def map_model_error(exc: BaseException, model: str, *, api_key_env: str | None = None,
                    timeout_s: float | None = None, redact: Callable[[str], str] = str) -> ComponentError:
    """A litellm/provider exception as `RetryableError` or `PermanentError`, with what to do about it."""
    from litellm import exceptions as litellm

    status = _status(exc)
    said = redact(_detail(exc))
    where = f"Model `{model}`"
    if isinstance(exc, litellm.ContextWindowExceededError):
        return PermanentError(f"{where}: the prompt does not fit the model's context window (HTTP {status or 400})."
                              f" Shorten the prompt or use a model with a larger context window. Provider: {said}")
    if _MISSING_KEY.search(said):
        return PermanentError(f"{where}: no API key was found. {_key_hint(model, api_key_env)} Provider: {said}")
    if isinstance(exc, litellm.RateLimitError) or status == 429:
        wait = retry_after_seconds(exc)
        hint = f"the provider asks to retry after {wait:g} s" if wait is not None else "retrying after a pause"
        return RetryableError(f"{where} is rate limited (HTTP 429); {hint}. Provider: {said}", retry_after=wait)
    if isinstance(exc, litellm.Timeout):
        limit = f" within {timeout_s:g} s (the node's `timeout_s` param)" if timeout_s else ""
        return RetryableError(f"{where} did not answer{limit}. Provider: {said}")
    if isinstance(exc, litellm.APIConnectionError):
        return RetryableError(f"{where}: could not reach the provider (connection error). Check `api_base` and "
                              f"the network. Provider: {said}")
    permanent = _permanent_hint(exc, status, model, api_key_env)
    if permanent is not None:
        return PermanentError(f"{where} failed with HTTP {status}: {permanent} Provider: {said}")
    if status is not None and status >= 500:
        return RetryableError(f"{where}: the provider had a server error (HTTP {status}). Provider: {said}")
    return RetryableError(f"{where} call failed ({type(exc).__name__}): {said}")


def _permanent_hint(exc: BaseException, status: int | None, model: str, api_key_env: str | None) -> str | None:
    from litellm import exceptions as litellm

    if isinstance(exc, litellm.AuthenticationError) or status == 401:
        return f"the API key was rejected. {_key_hint(model, api_key_env)}"
    if isinstance(exc, litellm.PermissionDeniedError) or status == 403:
        return ("the API key is not allowed to use this model. Check the key's project or organisation access, "
                "or pick another model.")
    if isinstance(exc, litellm.NotFoundError) or status == 404:
        return ("unknown model (or wrong `api_base`). Check the model name, e.g. `openai/gpt-4o-mini`; "
                "the model picker lists the models usable here.")
    if status == 402:
        return "the provider account needs payment or credit."
    if isinstance(exc, litellm.BadRequestError) or status in (400, 422):
        return ("the provider rejected the request. Check the node's params (response_schema, max_tokens, "
                "temperature) against what this model supports.")
    return None


def _key_hint(model: str, api_key_env: str | None) -> str:
    """Which env var to set. By name only: litellm's own lookups can start a device login for some providers."""
    from components_catalog.models import provider_key_envs, provider_of

    if api_key_env:
        return f"Check the value of {api_key_env} (named by the node's `api_key_env` param)."
    provider = provider_of(model)
    if not provider:
        return "Set the provider's API key environment variable, or name one in the node's `api_key_env` param."
    return (f"Set {' or '.join(provider_key_envs(provider))} (or name another env var in the node's "
            "`api_key_env` param).")


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+Error:\s*|\w+Exception\s*-\s*)+")


def _detail(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    text = _PREFIXES.sub("", text.strip())  # "litellm.X: Y: OpenAIException - " adds nothing
    return text if len(text) <= 300 else text[:297] + "..."


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds from the `retry-after-ms` / `retry-after` response headers (a number or an HTTP date)."""
    headers = getattr(exc, "litellm_response_headers", None) or getattr(exc, "headers", None)
    if headers is None:
        try:
            headers = exc.response.headers  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - no response attached
            return None
    try:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    except Exception:  # noqa: BLE001 - not a mapping
        return None
    if "retry-after-ms" in lowered:
        return _seconds(lowered["retry-after-ms"], scale=1000)
    return _seconds(lowered["retry-after"]) if "retry-after" in lowered else None


def _seconds(raw: str, scale: float = 1) -> float | None:
    try:
        return max(float(raw) / scale, 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(round(parsedate_to_datetime(raw).timestamp() - time.time(), 3), 0.0)
        except (TypeError, ValueError):
            return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """litellm's (OpenAI's) structured-output `response_format` for `schema`."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": safe, "schema": schema, "strict": True}}


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_json_reply(text: str, schema: dict[str, Any] | None, model: str) -> Any:
    """The reply parsed as JSON and checked against `schema`; a bad reply is a `RetryableError`."""
    fenced = _FENCE.match(text)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except ValueError as exc:
        raise RetryableError(f"Model `{model}` was asked for JSON matching the response schema but replied "
                             f"with text that is not JSON ({exc}): {text[:120]!r}.") from None
    problem = _schema_problem(data, schema) if schema else None
    if problem:
        raise RetryableError(f"Model `{model}` replied with JSON that does not match the response schema: "
                             f"{problem}. Reply: {text[:120]!r}.")
    return data


def _schema_problem(data: Any, schema: dict[str, Any]) -> str | None:
    """What is wrong with `data` under `schema` (jsonschema if installed, else a basic check)."""
    try:
        import jsonschema
    except ImportError:
        if schema.get("type") == "object":
            if not isinstance(data, dict):
                return f"expected an object, got {type(data).__name__}"
            missing = [key for key in schema.get("required", []) if key not in data]
            return f"missing required keys {missing}" if missing else None
        return None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"{exc.message}" + (f" (at `{where}`)" if where else "")
    except jsonschema.SchemaError as exc:
        raise PermanentError(f"The response schema itself is not a valid JSON Schema: {exc.message}. "
                             "Fix the node's `response_schema` param.") from None
    return None
