"""The ASGI gate and the server settings, without a server."""

from __future__ import annotations

import asyncio

import pytest

from editor.security import Gate
from editor.settings import ServerSettings, server_settings

TOKEN = "t" * 32


def _run(gate: Gate, scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(gate(scope, receive, send))
    return sent


async def _app(scope, receive, send):
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _scope(path="/", *, kind="http", host="127.0.0.1:3000", query=b"", headers=()):
    return {"type": kind, "method": "GET", "path": path, "query_string": query,
            "headers": [(b"host", host.encode()), *headers]}


def _gate(token: str | None = TOKEN) -> Gate:
    return Gate(_app, ServerSettings(port=3000, host="127.0.0.1", token=token))


def test_without_a_token_only_the_host_is_checked():
    assert _run(_gate(None), _scope())[0]["status"] == 200
    denied = _run(_gate(None), _scope(host="evil.example:3000"))
    assert denied[0]["status"] == 400 and b"PATCHWIRE_ALLOWED_HOSTS" in denied[1]["body"]


def test_token_by_cookie_bearer_or_login_link():
    gate = _gate()
    assert _run(gate, _scope())[0]["status"] == 401
    assert _run(gate, _scope(headers=[(b"authorization", f"Bearer {TOKEN}".encode())]))[0]["status"] == 200
    cookie = f"other=1; patchwire_auth_3000={TOKEN}".encode()
    assert _run(gate, _scope(headers=[(b"cookie", cookie)]))[0]["status"] == 200
    login = _run(gate, _scope("/pipelines/x", query=f"a=1&access_token={TOKEN}".encode()))[0]
    headers = dict(login["headers"])
    assert login["status"] == 303 and headers[b"location"] == b"/pipelines/x?a=1"
    assert headers[b"set-cookie"] == f"patchwire_auth_3000={TOKEN}; Path=/; HttpOnly; SameSite=Strict".encode()
    assert _run(gate, _scope(query=b"access_token=wrong"))[0]["status"] == 401
    assert _run(gate, _scope(headers=[(b"cookie", b"garbage;;==")]))[0]["status"] == 401


def test_websockets_without_the_token_are_closed_before_accept():
    assert _run(_gate(), _scope("/_event", kind="websocket")) == [{"type": "websocket.close", "code": 1008}]
    ok = _run(_gate(), _scope("/_event", kind="websocket", headers=[(b"cookie", f"patchwire_auth_3000={TOKEN}".encode())]))
    assert ok == [{"type": "websocket.accept"}]


def test_lifespan_passes_through():
    async def app(scope, receive, send):
        await send({"type": "lifespan.startup.complete"})

    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(Gate(app, ServerSettings(port=1, host="127.0.0.1", token=TOKEN))({"type": "lifespan"}, None, send))
    assert sent == [{"type": "lifespan.startup.complete"}]


def test_settings_from_the_environment():
    s = server_settings({"PORT": "4000"})
    assert (s.port, s.host, s.token, s.exposed, s.problems()) == (4000, "127.0.0.1", None, False, [])
    assert s.origins() == ["http://127.0.0.1:4000", "http://localhost:4000", "http://[::1]:4000"]
    assert "127.0.0.1:4000" in s.allowed_hosts() and "localhost" in s.allowed_hosts()
    assert server_settings({"PATCHWIRE_PORT": "5", "PORT": "6"}).port == 5
    exposed = server_settings({"PATCHWIRE_HOST": "0.0.0.0"})
    assert exposed.exposed and "needs a login token" in exposed.problems()[0]
    assert "at least 16" in server_settings({"PATCHWIRE_AUTH_TOKEN": "short"}).problems()[0]
    named = server_settings({"PATCHWIRE_HOST": "0.0.0.0", "PATCHWIRE_AUTH_TOKEN": TOKEN,
                             "PATCHWIRE_ALLOWED_HOSTS": "pw.example.com"})
    assert named.problems() == [] and "pw.example.com:3000" in named.allowed_hosts()
    assert "https://pw.example.com:3000" in named.origins()
    with pytest.raises(SystemExit, match="must be a port number"):
        server_settings({"PORT": "abc"})
