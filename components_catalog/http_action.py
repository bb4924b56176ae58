"""`action.http`: one HTTP request through httpx, behind the SSRF guard (`net_guard`).

Every hop (redirects are followed by hand, each re-checked) connects to the address the guard
checked, with the original `Host` header and TLS server name, so DNS cannot be switched under it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from runtime import Component, RunContext, component
from runtime.errors import PermanentError, RetryableError
from runtime.secrets import credential_header_problem, literal_secret_error
from runtime.tracing import traceparent

from .net_guard import check_url, redact_url

__all__ = ["HttpRequest", "HttpParams", "HttpInputs", "HttpOutputs", "fill_url"]

SECRET_REF = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HttpParams(BaseModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field("GET", description="HTTP method")
    url: str = Field(description="URL; `{name}` placeholders are filled from the `variables` input, each value "
                                 "URL-quoted (so a placeholder holds a path segment or query value, not a URL)")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers; reference a secret as "
                                                                      "`Bearer ${secret:MY_API_KEY}` (env var name)")
    json_body: Any = Field(None, description="JSON body to send with POST, PUT, PATCH or DELETE (the `body` input "
                                             "overrides it)")
    timeout_s: float = Field(10, gt=0, le=600, description="Time limit per request (each redirect hop), in seconds")
    max_response_bytes: int = Field(1_000_000, ge=1, description="Refuse responses larger than this")
    follow_redirects: bool = Field(False, description="Follow redirects (each hop is checked again)")
    max_redirects: int = Field(3, ge=0, le=20, description="At most this many redirects are followed")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not url.strip():
            raise ValueError("set the URL to request")
        if not url.lower().startswith(("http://", "https://")):  # placeholders are URL-quoted: never a scheme
            raise ValueError(f"`{redact_url(url)}` must start with http:// or https://")
        return url

    @field_validator("json_body")
    @classmethod
    def _no_body_on_get(cls, body: Any, info: ValidationInfo) -> Any:
        if body is not None and info.data.get("method") == "GET":
            raise ValueError("a GET request carries no body: set `method` to POST, PUT or PATCH to send it, "
                             "or remove `json_body`")
        return body

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not valid")
            if "${secret:" in SECRET_REF.sub("", value) or "\n" in value or "\r" in value:
                raise ValueError(f"header `{name}`: write secrets as `${{secret:ENV_VAR_NAME}}`, on one line")
            problem = credential_header_problem(name, value)
            if problem:
                raise literal_secret_error(problem)
        return headers


class HttpInputs(BaseModel):
    body: Any = Field(None, description="JSON body to send (not on GET); overrides the `json_body` param")
    variables: dict[str, Any] = Field(default_factory=dict, description="Values for the URL's `{name}` "
                                                                        "placeholders")


class HttpOutputs(BaseModel):
    status: int = Field(description="HTTP status code")
    body: Any = Field(description="Parsed JSON when the response is JSON, else the text")
    headers: dict[str, str] = Field(description="Response headers (lower-case names)")


@dataclass(slots=True)
class _Response:
    status: int
    reason: str
    headers: dict[str, str]
    content: bytes
    charset: str | None


@component(id="action.http", version=1, title="HTTP request", category="Actions")
class HttpRequest(Component):
    """Call an HTTP API. Private networks are blocked unless allowed with PATCHWIRE_HTTP_ALLOW."""

    params: HttpParams

    async def run(self, inputs: HttpInputs, ctx: RunContext) -> HttpOutputs:
        import httpx

        p = self.params
        url = fill_url(p.url, inputs.variables)
        headers = {name: _resolve_secrets(value, ctx) for name, value in p.headers.items()}
        if p.method == "GET" and inputs.body is not None:
            raise PermanentError(f"Node `{ctx.node_id}`: a GET request carries no body, but the `body` input got one. "
                                 "Set `method` to POST, PUT or PATCH to send it, or disconnect `body`.")
        body = _jsonable(inputs.body if inputs.body is not None else p.json_body, ctx)
        record: dict[str, Any] = {"method": p.method, "url": redact_url(url), "headers": _redacted(p.headers),
                                  "hops": [], "started_at": time.time()}
        ctx.record("http", record)
        t0 = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=p.timeout_s, follow_redirects=False, trust_env=False) as client:
                response = await self._exchange(client, url, headers, body, record, ctx)
        except httpx.InvalidURL as exc:
            raise PermanentError(f"{p.method} {redact_url(url)}: the URL is not valid ({exc}).") from None
        except (httpx.TimeoutException, TimeoutError):
            raise RetryableError(f"{p.method} {redact_url(url)} timed out after {p.timeout_s:g} s "
                                 "(`timeout_s`).") from None
        except httpx.HTTPError as exc:
            raise RetryableError(f"{p.method} {redact_url(url)} failed: {type(exc).__name__}: "
                                 f"{ctx.redact(str(exc)) or 'connection error'}.") from None
        finally:
            record["latency_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        record.update(status=response.status, bytes=len(response.content))
        _raise_for_status(p.method, record["hops"][-1]["url"], response)
        return HttpOutputs(status=response.status, body=_decode(response, ctx), headers=response.headers)

    async def _exchange(self, client: Any, url: str, headers: dict[str, str], body: Any,
                        record: dict[str, Any], ctx: RunContext) -> _Response:
        """Send the request, following redirects by hand when allowed; every hop passes `check_url`."""
        p, method = self.params, self.params.method
        for hop in range(p.max_redirects + 1):
            target = await check_url(url)
            record["hops"].append({"url": target.redacted, "address": target.address})
            async with asyncio.timeout(p.timeout_s):  # the whole hop: a slow-drip body cannot outlast it
                response = await self._send(client, method, target, _traced(headers, ctx), body)
            record["hops"][-1]["status"] = response.status
            location = response.headers.get("location")
            if not (p.follow_redirects and response.status in _REDIRECTS and location):
                return response
            if hop == p.max_redirects:
                raise PermanentError(f"{p.method} {redact_url(record['url'])} redirected more than "
                                     f"{p.max_redirects} times (`max_redirects`); last hop: {target.redacted}.")
            next_url = urljoin(url, location)
            if _origin(next_url) != _origin(url):  # credentials never follow a redirect to another origin
                headers = {k: v for k, v in headers.items()
                           if k.lower() not in SENSITIVE_HEADERS and not SECRET_REF.search(p.headers.get(k, ""))}
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = next_url
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, client: Any, method: str, target: Any, headers: dict[str, str], body: Any) -> _Response:
        limit = self.params.max_response_bytes
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = client.build_request(method, target.pinned_url(), headers={**headers, "Host": target.host_header},
                                       json=body, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(method, target.redacted, limit, f"it declares {int(declared):,} bytes")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _too_large(method, target.redacted, limit, f"stopped reading after {size:,} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
            client.cookies.clear()  # the jar is keyed by the pinned address: never replay cookies across hops
        return _Response(response.status_code, response.reason_phrase,
                         {k.lower(): v for k, v in response.headers.items()}, b"".join(chunks), response.charset_encoding)


def _traced(headers: dict[str, str], ctx: RunContext) -> dict[str, str]:
    """With tracing on, the node's span as W3C `traceparent` (unless the spec sets one): the called
    service's spans join the run's trace. Asked per hop, when the node's span is surely published; a node
    inside a flow node asks by its path (`map1/3/call`), its span's key."""
    parent = traceparent(ctx.run_id, ctx.node_path)
    if parent is None or any(name.lower() == "traceparent" for name in headers):
        return headers
    return {**headers, "traceparent": parent}


def fill_url(template: str, variables: dict[str, Any]) -> str:
    """Replace each `{name}` with the URL-quoted value of `variables[name]`."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            given = ", ".join(f"`{k}`" for k in variables) or "none"
            raise PermanentError(f"The URL template `{redact_url(template)}` needs the variable `{name}`; the "
                                 f"`variables` input has {given}. Connect a dict with key `{name}`.")
        raw = variables[name]
        return quote(json.dumps(raw) if isinstance(raw, bool) else str(raw), safe="")

    return PLACEHOLDER.sub(value, template)


def _jsonable(body: Any, ctx: RunContext) -> Any:
    """The body as plain JSON data (models such as Document become objects)."""
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    try:
        return to_jsonable_python(body)
    except PydanticSerializationError as exc:
        raise PermanentError(f"Node `{ctx.node_id}`: the request body cannot be sent as JSON: {exc}.") from None


def _resolve_secrets(value: str, ctx: RunContext) -> str:
    return SECRET_REF.sub(lambda m: ctx.secret(m.group(1)), value)


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    """Headers as recorded in the trace: secret references and credential headers shown as `***`."""
    return {name: "***" if name.lower() in SENSITIVE_HEADERS and not SECRET_REF.search(value)
            else SECRET_REF.sub("***", value) for name, value in headers.items()}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _too_large(method: str, url: str, limit: int, detail: str) -> PermanentError:
    return PermanentError(f"The response to {method} {url} is larger than max_response_bytes ({limit:,} bytes): "
                          f"{detail}. Raise `max_response_bytes` if this response is expected.")


def _raise_for_status(method: str, url: str, response: _Response) -> None:
    status = response.status
    if status == 429 or status >= 500:
        retry_after = _retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
        wait = f" (Retry-After: {retry_after:g} s)" if retry_after is not None else ""
        raise RetryableError(f"HTTP {status} {response.reason} from {method} {url}{wait}.", retry_after=retry_after)
    if status >= 400:
        snippet = response.content[:200].decode(response.charset or "utf-8", errors="replace").strip()
        hint = {401: "Check the credentials header.", 403: "Check the credentials and their permissions.",
                404: "Check the URL.", 405: "Check the method."}.get(status, "Check the request.")
        said = f" The server said: {snippet!r}." if snippet else ""
        raise PermanentError(f"HTTP {status} {response.reason} from {method} {url}.{said} {hint}")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _decode(response: _Response, ctx: RunContext) -> Any:
    text = response.content.decode(response.charset or "utf-8", errors="replace")
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            ctx.log(f"The response says it is JSON but does not parse ({exc}); returning it as text.")
    return text
