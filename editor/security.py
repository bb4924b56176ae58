"""The ASGI gate in front of everything the server answers: page, assets, websocket, API routes.

- Always: the `Host` header must name this app (a DNS-rebinding guard for a loopback server).
- With `PATCHWIRE_AUTH_TOKEN`: a request needs the token, as the cookie that `/?access_token=...` sets
  (303 to the same URL without the token) or as `Authorization: Bearer ...`.

Pure ASGI, because it must see websocket scopes (Starlette's BaseHTTPMiddleware only sees http).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from runtime.http_guard import bearer_token, host_refusal, tokens_match

from .settings import ServerSettings, server_settings

__all__ = ["Gate", "gate", "LOGIN_PARAM"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGIN_PARAM = "access_token"  # not "token": Reflex's websocket URL carries ?token=<session id>


class Gate:
    def __init__(self, app: ASGIApp, settings: ServerSettings):
        self.app = app
        self.token = settings.token
        self.cookie = f"patchwire_auth_{settings.port}"  # cookies are not port-scoped
        self.allowed_hosts = settings.allowed_hosts()

    def _ok(self, value: str | None) -> bool:
        return tokens_match(value, self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)  # lifespan
        headers = _headers(scope)
        host = headers.get("host", "")
        if host.lower() not in self.allowed_hosts:
            return await _deny(scope, send, 400, host_refusal(host))
        if not self.token:
            return await self.app(scope, receive, send)
        bearer = bearer_token(headers.get("authorization", ""))
        if self._ok(_cookie(headers.get("cookie", ""), self.cookie)) or self._ok(bearer):
            return await self.app(scope, receive, send)
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            given = [v for k, v in query if k == LOGIN_PARAM]
            if given and self._ok(given[0]):
                return await self._login(scope, send, [(k, v) for k, v in query if k != LOGIN_PARAM])
        return await _deny(scope, send, 401, "Patchwire needs its login token: open the link with "
                                             f"?{LOGIN_PARAM}=<PATCHWIRE_AUTH_TOKEN>, or send "
                                             "`Authorization: Bearer <token>`.")

    async def _login(self, scope: Scope, send: Send, rest: list[tuple[str, str]]) -> None:
        location = scope.get("root_path", "") + scope["path"] + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", location.encode()), (b"set-cookie", cookie.encode()),
            (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]})
        await send({"type": "http.response.body", "body": b""})


def _headers(scope: Scope) -> dict[str, str]:
    result: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        result[name] = f"{result[name]}; {value}" if name == "cookie" and name in result else value
    return result


def _cookie(header: str, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    return jar[name].value if name in jar else None


async def _deny(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":  # closing before accept: the server answers the upgrade with 403
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": message.encode()})


def gate(app: ASGIApp) -> ASGIApp:
    """The `api_transformer` callable; list it LAST so it wraps everything, API routes included."""
    from .upload_limit import UploadLimit  # uploads bigger than any cap: 413 while they arrive

    return Gate(UploadLimit(app), server_settings())
