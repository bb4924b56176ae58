"""The gate in front of everything `patchwire serve` answers.

Pure ASGI and wrapped around the whole app, so every route, the OpenAPI docs and whatever is mounted
later are covered by construction. In order:

1. Public paths (`/healthz`) pass: load balancers probe them with any `Host` and no token.
2. With a token: a request must send `Authorization: Bearer <token>` (401 otherwise). A request that does
   is accepted under any `Host` and from any origin: a web page cannot attach the token, so the token is
   the whole guard (and an operator behind a load balancer need not list its public names).
3. Without a token (serve then listens on loopback only): the `Host` must be a loopback name or one in
   `PATCHWIRE_ALLOWED_HOSTS` (400, a DNS-rebinding guard), and a request a browser marks as sent by a page
   on another origin (`Sec-Fetch-Site: cross-site` or `same-site`, or a foreign `Origin`) is refused (403).
4. A request with a body must say `Content-Type: application/json` (415).

A refusal is `{"detail": message}`, or what `refusal_body(path, status, message)` makes of it (the
OpenAI-compatible routes answer in OpenAI's error shape).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from ..http_guard import LOOPBACK_NAMES, allowed_hosts, bearer_token, host_refusal, tokens_match

__all__ = ["ServeGuard", "PUBLIC_PATHS"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RefusalBody = Callable[[str, int, str], dict[str, Any]]

PUBLIC_PATHS = ("/healthz",)
DEFAULT_PORTS = {"http": 80, "https": 443}
FOREIGN_FETCH_SITES = ("cross-site", "same-site")  # same-site: another port or subdomain of this host
TOKEN_ENV = "PATCHWIRE_API_TOKEN"


class ServeGuard:
    def __init__(self, app: ASGIApp, *, token: str | None, extra_hosts: Collection[str] = (),
                 public_paths: Collection[str] = PUBLIC_PATHS, refusal_body: RefusalBody | None = None):
        self.app = app
        self.refusal_body = refusal_body or _detail
        self.token = token or None
        self.extra_hosts = tuple(h.lower() for h in extra_hosts)
        self.names = (*LOOPBACK_NAMES, *self.extra_hosts)
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.public_paths:
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        refusal = self._auth_refusal(headers) if self.token else self._origin_refusal(scope, headers)
        if refusal is None and scope["type"] == "http":
            refusal = _content_type_refusal(headers)
        if refusal is None:
            return await self.app(scope, receive, send)
        status, message, extra = refusal
        await _deny(scope, send, status, self.refusal_body(scope["path"], status, message), extra)

    def _auth_refusal(self, headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
        given = bearer_token(headers.get("authorization", ""))
        if tokens_match(given, self.token):
            return None
        challenge = {"www-authenticate": "Bearer"}
        if given is None:
            return 401, ("Authentication required: send `Authorization: Bearer <token>` (the token the service "
                         f"was started with, {TOKEN_ENV})."), challenge
        return 401, "Invalid bearer token.", challenge

    def _origin_refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 else None
        host = headers.get("host", "")
        if host.lower() not in allowed_hosts(self.names, port):
            return 400, host_refusal(host), {}
        site = headers.get("sec-fetch-site", "").lower()
        if site in FOREIGN_FETCH_SITES:
            return 403, (f"Refused a request sent by a web page on another site (`Sec-Fetch-Site: {site}`): this "
                         f"service has no token, so only programs and its own pages may call it. {_TOKEN_FIX}"), {}
        origin = headers.get("origin")
        if origin is not None and not self._own_origin(origin, port):
            return 403, (f"Refused a request from the web page at `Origin: {origin}`, which is not this service. "
                         f"{_TOKEN_FIX}"), {}
        return None

    def _own_origin(self, origin: str, port: int | None) -> bool:
        """`scheme://host[:port]` of this service: a loopback or listed name on its port (bare on a default
        port), or a listed name bare (reached through a proxy)."""
        scheme, sep, netloc = origin.strip().lower().partition("://")
        if not sep or scheme not in DEFAULT_PORTS:
            return False
        own = {f"{name}:{port}" for name in self.names} if port else set()
        if port == DEFAULT_PORTS[scheme]:
            own.update(self.names)
        return netloc in own or netloc in self.extra_hosts


_TOKEN_FIX = (f"Call it from a program or from its own pages, or set {TOKEN_ENV} and send "
              "`Authorization: Bearer <token>`.")


def _content_type_refusal(headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
    given = headers.get("content-type")
    has_body = headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers
    if (given is None and not has_body) or (given is not None and _is_json(given)):
        return None
    what = f"Content-Type `{given}`" if given is not None else "a body without a Content-Type"
    return 415, f"Unsupported media type: got {what}; send Content-Type: application/json with a JSON body.", {}


def _is_json(content_type: str) -> bool:
    """`application/json`, optionally with `charset=utf-8` (JSON is UTF-8: RFC 8259)."""
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    if media != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() != "charset" or value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _headers(scope: Scope) -> dict[str, str]:
    result: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        result.setdefault(raw_name.decode("latin-1").lower(), raw_value.decode("latin-1"))
    return result


def _detail(path: str, status: int, message: str) -> dict[str, Any]:
    return {"detail": message}


async def _deny(scope: Scope, send: Send, status: int, body: dict[str, Any], extra: dict[str, str]) -> None:
    if scope["type"] == "websocket":  # closing before accept: the server answers the upgrade with 403
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
               *((name.encode(), value.encode()) for name, value in extra.items())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
