"""action.http redirects against the loopback server: not followed by default, each hop checked again by
the egress guard, bodies dropped or kept by status, limits."""

from __future__ import annotations

import socket

import pytest

from runtime import NodeFailed, run
from runtime.errors import PermanentError
from tests.components_catalog.http_kit import (
    REGISTRY,
    call_direct,
    call_direct_url,
    events_of,
    http_spec,
    node_event,
)


async def test_redirects_are_not_followed_by_default(server):
    out, _ = await call_direct(server, url="/redirect?to=/items/x")
    assert out.status == 302 and out.headers["location"] == "/items/x"
    assert len(server.requests) == 1


async def test_followed_redirects_are_checked_again_and_post_becomes_get(server):
    out, ctx = await call_direct(server, method="POST", url="/redirect?to=/items/next&status=303",
                                 json_body={"a": 1}, follow_redirects=True)
    assert (out.status, out.body["method"], out.body["path"], out.body["json"]) == (200, "GET", "/items/next", None)
    assert [h["status"] for h in ctx.trace["http"]["hops"]] == [303, 200]


@pytest.mark.parametrize(("method", "status", "next_method"), [
    ("POST", 302, "GET"), ("POST", 301, "GET"), ("PUT", 303, "GET"), ("PATCH", 303, "GET"), ("PUT", 307, "PUT")])
async def test_a_redirect_to_get_drops_the_body_and_a_307_keeps_it(server, method, status, next_method):
    out, _ = await call_direct(server, method=method, url=f"/redirect?to=/items/next&status={status}",
                               json_body={"a": 1}, follow_redirects=True)
    assert (out.status, out.body["method"], out.body["json"]) == (200, next_method,
                                                                  None if next_method == "GET" else {"a": 1})
    assert [r["body"] for r in server.requests] == [b'{"a":1}', b"" if next_method == "GET" else b'{"a":1}']
    if next_method == "GET":
        assert "Content-Length" not in server.requests[1]["headers"]
        assert "Content-Type" not in server.requests[1]["headers"]


@pytest.mark.parametrize(("target", "subject", "allow"), [
    ("http://127.0.0.1:{other}/admin", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("http://localhost:{other}/items/x", "localhost resolves to {localhost}, a loopback address", "localhost"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address", "169.254.169.254"),
    ("file:///etc/passwd", None, None),
])
async def test_a_redirect_to_a_private_address_is_refused(server, target, subject, allow):
    port = server.server_address[1]  # the allow-list names 127.0.0.1:<port>: not another port, not `localhost`
    target = target.format(other=port + 1 if port < 65535 else port - 1)
    if subject is not None:
        subject = subject.format(localhost=socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)[0][4][0])
    spec = http_spec({"url": f"{server.base}/redirect?to={target}", "follow_redirects": True},
                     policy={"retries": 2, "retry_backoff_s": 0})
    events = await events_of(spec)
    failed = node_event(events, NodeFailed)
    expected = (f"Refused to fetch {target}: the scheme `file:` is not allowed. Only http:// and https:// URLs can "
                "be fetched." if subject is None else
                f"Refused to fetch {target}: {subject}. Outbound HTTP to private networks is blocked; allow it with "
                f"PATCHWIRE_HTTP_ALLOW={allow} if this is intended.")
    assert failed.error.message == expected
    assert failed.attempts == 1  # BlockedURLError is permanent
    assert len(server.requests) == 1  # only the first hop reached the server
    assert [h["status"] for h in failed.trace["http"]["hops"]] == [302]


async def test_a_host_name_rule_does_not_open_the_same_server_by_address(server, monkeypatch):
    port = server.server_address[1]
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", f"localhost:{port}")
    with pytest.raises(PermanentError) as err:
        await call_direct_url(f"http://localhost:{port}/redirect?to={server.base}/items/x", follow_redirects=True)
    assert str(err.value) == (f"Refused to fetch {server.base}/items/x: 127.0.0.1 is a loopback address. Outbound "
                              "HTTP to private networks is blocked; allow it with PATCHWIRE_HTTP_ALLOW=127.0.0.1 if "
                              "this is intended.")
    assert [r["path"] for r in server.requests] == [f"/redirect?to={server.base}/items/x"]
    assert server.requests[0]["headers"]["Host"] == f"localhost:{port}"


async def test_too_many_redirects(server):
    with pytest.raises(PermanentError) as err:
        await call_direct(server, url="/redirect?to=/redirect%3Fto%3D/items/x", follow_redirects=True,
                          max_redirects=1)
    assert str(err.value) == (f"GET {server.base}/redirect?to=/redirect%3Fto%3D/items/x redirected more than 1 "
                              f"times (`max_redirects`); last hop: {server.base}/redirect?to=/items/x.")


async def test_the_guard_refuses_an_unlisted_loopback_server(server, monkeypatch):
    monkeypatch.delenv("PATCHWIRE_HTTP_ALLOW")
    result = await run(http_spec({"url": server.base + "/items/x"}), {}, registry=REGISTRY)
    assert result.error["message"] == (
        f"Node `call` failed: Refused to fetch {server.base}/items/x: 127.0.0.1 is a loopback address. Outbound "
        "HTTP to private networks is blocked; allow it with PATCHWIRE_HTTP_ALLOW=127.0.0.1 if this is intended.")
    assert server.requests == []
