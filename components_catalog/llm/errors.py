"""How a failed model call reads: provider exceptions mapped to the runtime's two error kinds, with the fix.

`RetryableError`: 429 (with its Retry-After), 5xx, timeouts, connection errors. `PermanentError`: 401,
403, 400, 404, 402, context window, an exhausted quota (a 429 that waiting does not fix) and content-policy
refusals (never retried). API keys never reach the messages: `redactor` masks them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

from components_catalog.llm.providers import provider_key_envs, provider_of
from runtime.context import RunContext
from runtime.errors import ComponentError, PermanentError, RetryableError
from runtime.secrets import redact_text
from runtime.text import shorten

__all__ = ["redactor", "map_model_error", "retry_after_seconds"]


def redactor(ctx: RunContext, api_key: str | None) -> Callable[[str], str]:
    """Masks the key in use, every secret the run has read and every secret value in the environment
    (the one rule: `runtime.secrets`)."""
    extra = {api_key} if api_key else set()
    return lambda text: redact_text(ctx.redact(text), extra)


_QUOTA = re.compile(r"exceeded your current quota|insufficient[ _]quota|credit balance is too low", re.IGNORECASE)
_CONTENT_POLICY = re.compile(r"content[ _]policy|safety system|content[ _]filter|content management policy",
                             re.IGNORECASE)
_MISSING_KEY = re.compile(r"missing .{0,40}(credentials|api[ _-]?key)|api[ _-]?key .{0,60}(not set|must be set|"
                          r"is required)|no (api )?key is set", re.IGNORECASE)


def map_model_error(exc: BaseException, model: str, *, api_key_env: str | None = None,
                    timeout_s: float | None = None, redact: Callable[[str], str] = str) -> ComponentError:
    """A litellm/provider exception as `RetryableError` or `PermanentError`, with what to do about it."""
    from litellm import exceptions as litellm

    status = _status(exc)
    said = redact_text(redact(_detail(exc)), _key_in_use(model, api_key_env))
    where = f"Model `{model}`"
    if isinstance(exc, litellm.ContextWindowExceededError):
        return PermanentError(f"{where}: the prompt does not fit the model's context window (HTTP {status or 400})."
                              f" Shorten the prompt or use a model with a larger context window. Provider: {said}")
    if _MISSING_KEY.search(said):
        return PermanentError(f"{where}: no API key was found. {_key_hint(model, api_key_env)} Provider: {said}")
    if _has_code(exc, "insufficient_quota") or _QUOTA.search(said):
        return PermanentError(f"{where}: quota exhausted (HTTP {status or 429}): the provider account has no credit "
                              "or quota left, so retrying will not help. Add credit or raise the limit in the "
                              f"provider's billing settings, or use another key or model. Provider: {said}")
    if (isinstance(exc, litellm.ContentPolicyViolationError) or _has_code(exc, "content_policy_violation")
            or (status == 400 and _CONTENT_POLICY.search(said))):
        return PermanentError(f"{where}: the provider's content policy refused the request (HTTP {status or 400}); "
                              "the same input would be refused again. Rephrase the prompt or the context (or "
                              f"what feeds them), or use a model with another policy. Provider: {said}")
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
    if api_key_env:
        return f"Check the value of {api_key_env} (named by the node's `api_key_env` param)."
    provider = provider_of(model)
    if not provider:
        return "Set the provider's API key environment variable, or name one in the node's `api_key_env` param."
    return (f"Set {' or '.join(provider_key_envs(provider))} (or name another env var in the node's "
            "`api_key_env` param).")


def _key_in_use(model: str, api_key_env: str | None) -> set[str]:
    """The provider key litellm read itself (no `api_key_env`): masked whatever its length."""
    if api_key_env:
        return set()  # passed to `redactor` as the key in use
    provider = provider_of(model)
    return {os.environ[name] for name in (provider_key_envs(provider) if provider else ()) if os.environ.get(name)}
def _has_code(exc: BaseException, code: str) -> bool:
    """Whether the provider's error body names `code` as its `code` or `type` (OpenAI's error shape)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    return isinstance(body, dict) and code in (body.get("code"), body.get("type"))


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
    return shorten(text, 300)


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
