"""`patchwire serve`'s gate: Host allow-list, cross-site refusal, JSON-only bodies, the token, disconnects.

TestClient where no server is needed (its `Host` is `testserver`, allowed through `allowed_hosts`), and a
real uvicorn server on loopback for the `Host` header as a client sends it and for a client that leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.cli import main
from runtime.http_guard import allowed_hosts, bearer_token, extra_hosts, host_names, is_loopback, tokens_match
from runtime.serving.app import ServeConfigError, create_app
from runtime.serving.guard import ServeGuard
from runtime.testing.components import sample_registry
from runtime.testing.servers import serve_app
from runtime.testing.specs import make_spec

TOKEN = "serve-token-8d2f6b1a9c3e5f70"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
BODY = {"inputs": {"query": "x"}}
RUN = "/v1/pipelines/echo/run"


def pipeline(name: str = "echo", *, seconds: float = 0.0) -> object:
    step = ("demo.delay", {"seconds": seconds}) if seconds else ("demo.echo", {"prefix": "E:"})
    return make_spec({"q": ("io.input", {"name": "query"}), "s0": step, "out": ("io.output", {})},
                     [("q", "value", "s0", "value"), ("s0", "value", "out", "value")], name=name)


def client(token: str = "", hosts: tuple[str, ...] = ("testserver",), **options) -> TestClient:
    return TestClient(create_app([pipeline()], sample_registry(), api_token=token, allowed_hosts=hosts, **options))


@contextlib.contextmanager
def serving(app) -> Iterator[int]:
    """A real uvicorn server on 127.0.0.1 in a thread; yields its port."""
    with serve_app(app) as url:
        yield int(url.rsplit(":", 1)[1])


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


# --- Host: the DNS-rebinding guard (no token, loopback) ------------------------------------------------
def test_a_rebinding_host_is_refused_on_a_real_server_and_the_run_never_starts(monkeypatch):
    monkeypatch.setenv("PATCHWIRE_ALLOWED_HOSTS", "pw.internal, Alias.Example")
    events: list = []
    app = create_app([pipeline()], sample_registry(), api_token="", consumers=[lambda plan, run_id: events.append])
    with serving(app) as port:
        base = f"http://127.0.0.1:{port}"
        # The F2 repro: a page on rebind.evil.example, text/plain, cross-site: refused before anything runs.
        attack = httpx.post(base + RUN, content=b'{"inputs":{"query":"csrf"}}', headers={
            "Host": f"rebind.evil.example:{port}", "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"})
        assert attack.status_code == 400
        assert attack.json()["detail"] == (
            f"The `Host` header `rebind.evil.example:{port}` is not allowed here (a guard against DNS rebinding). "
            "If this is how you reach Patchwire, add the name to PATCHWIRE_ALLOWED_HOSTS (comma separated).")
        for path in ("/v1/pipelines", "/v1/pipelines/echo", "/docs", "/redoc", "/openapi.json", "/nowhere"):
            assert httpx.get(base + path, headers={"Host": "rebind.evil.example"}).status_code == 400, path
        assert httpx.get(base + "/v1/pipelines", headers={"Host": f"127.0.0.1:{port + 1}"}).status_code == 400
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", "127.0.0.1",
                     "pw.internal", f"pw.internal:{port}", f"alias.example:{port}", f"LOCALHOST:{port}"):
            assert httpx.get(base + "/v1/pipelines", headers={"Host": host}).status_code == 200, host
        ok = httpx.post(base + RUN, json=BODY, headers={"Host": f"localhost:{port}"})
        assert ok.status_code == 200 and ok.json()["outputs"] == {"out": "E:x"}
        assert httpx.get(base + "/healthz", headers={"Host": "10.1.2.3:8080"}).json()["status"] == "ok"
    assert len({e.run_id for e in events}) == 1  # only the allowed request ran


def test_routes_mounted_later_are_behind_the_same_gate():
    async def mcp(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"mcp"})

    test = client()
    test.app.mount("/mcp", mcp)
    assert test.post("/mcp", json={}).text == "mcp"
    assert test.post("/mcp", json={}, headers={"Host": "evil.example"}).status_code == 400
    assert test.post("/mcp", json={}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert test.post("/mcp", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415


# --- cross-site browser requests ----------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://127.0.0.1:9999"}, {"Origin": "http://testserver.evil"},
                                     {"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"}])
def test_cross_site_requests_are_refused_without_a_token(headers: dict[str, str]):
    test = client()
    response = test.post(RUN, json=BODY, headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Refused a request ")
    assert response.json()["detail"].endswith("set PATCHWIRE_API_TOKEN and send `Authorization: Bearer <token>`.")
    assert test.get("/v1/pipelines", headers=headers).status_code == 403  # reading too (rebinding, CSRF)


def test_cross_site_refusals_name_the_header():
    test = client()
    site = test.post(RUN, json=BODY, headers={"Sec-Fetch-Site": "cross-site"}).json()["detail"]
    assert site.startswith("Refused a request sent by a web page on another site (`Sec-Fetch-Site: cross-site`)")
    origin = test.post(RUN, json=BODY, headers={"Origin": "http://evil.example"}).json()["detail"]
    assert origin.startswith("Refused a request from the web page at `Origin: http://evil.example`, which is not "
                             "this service.")


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
                                     {"Sec-Fetch-Site": "none"}, {"Origin": "https://testserver"}])
def test_programs_and_the_services_own_pages_are_let_in(headers: dict[str, str]):
    response = client().post(RUN, json=BODY, headers=headers)
    assert response.status_code == 200 and response.json()["outputs"] == {"out": "E:x"}


def test_a_presented_token_lets_cross_site_and_any_host_in():
    """Beyond loopback (token required), a load balancer's public name needs no PATCHWIRE_ALLOWED_HOSTS."""
    test = client(TOKEN, hosts=())
    foreign = {"Host": "pipelines.example.com", "Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}
    response = test.post(RUN, json=BODY, headers={**foreign, **BEARER})
    assert response.status_code == 200 and response.json()["outputs"] == {"out": "E:x"}
    refused = test.post(RUN, json=BODY, headers=foreign)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert test.post(RUN, json=BODY, headers={**foreign, "Authorization": "Bearer wrong"}).status_code == 401


# --- Content-Type ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("content_type", "shown"), [
    ("text/plain", "Content-Type `text/plain`"),
    ("application/x-www-form-urlencoded", "Content-Type `application/x-www-form-urlencoded`"),
    ("multipart/form-data; boundary=x", "Content-Type `multipart/form-data; boundary=x`"),
    ("application/json; charset=latin-1", "Content-Type `application/json; charset=latin-1`"),
    ("application/jsonp", "Content-Type `application/jsonp`"),
    (None, "a body without a Content-Type"),
])
def test_bodies_that_are_not_declared_json_get_415(content_type: str | None, shown: str):
    headers = {"Content-Type": content_type} if content_type else {}
    test = client()
    response = test.post(RUN, content=b'{"inputs": {"query": "x"}}', headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"] == (f"Unsupported media type: got {shown}; send Content-Type: "
                                         "application/json with a JSON body.")
    # with a token too: 401 first for a stranger, 415 for the token holder
    gated = client(TOKEN)
    assert gated.post(RUN, content=b"{}", headers=headers).status_code == 401
    assert gated.post(RUN, content=b"{}", headers={**headers, **BEARER}).status_code == 415


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON", "application/json; charset=utf-8",
                                          'application/json;charset="UTF-8"'])
def test_json_bodies_are_accepted(content_type: str):
    response = client().post(RUN, content=b'{"inputs": {"query": "x"}}', headers={"Content-Type": content_type})
    assert response.status_code == 200 and response.json()["outputs"] == {"out": "E:x"}


# --- the token: docs behind it, its length ------------------------------------------------------------
def test_docs_and_the_schema_need_the_token_when_one_is_set():
    test = client(TOKEN)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/v1/pipelines", "/nowhere"):
        response = test.get(path)
        assert response.status_code == 401, path
        assert response.json()["detail"] == ("Authentication required: send `Authorization: Bearer <token>` (the "
                                             "token the service was started with, PATCHWIRE_API_TOKEN).")
        assert test.get(path, headers={"Authorization": "Bearer"}).status_code == 401, path
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert test.get(path, headers=BEARER).status_code == 200, path
    schema = test.get("/openapi.json", headers=BEARER).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert test.get("/healthz").json()["status"] == "ok"  # health checks stay public
    assert test.get("/healthz", headers={"Host": "10.0.0.7:8080"}).status_code == 200


def test_without_a_token_the_docs_are_open_to_loopback_clients():
    test = client()
    assert test.get("/docs").status_code == 200 and test.get("/openapi.json").status_code == 200


SHORT = ("PATCHWIRE_API_TOKEN is 9 characters long; use at least 16 (e.g. `python3 -c 'import secrets; "
         "print(secrets.token_urlsafe(32))'`).")


def test_a_token_under_16_characters_is_refused(capsys, monkeypatch, tmp_path):
    with pytest.raises(ServeConfigError) as refused:
        create_app([pipeline()], sample_registry(), api_token="too-short")
    assert str(refused.value) == SHORT
    monkeypatch.setenv("PATCHWIRE_API_TOKEN", "too-short")
    with pytest.raises(ServeConfigError):
        create_app([pipeline()], sample_registry())
    spec_file = tmp_path / "echo.json"
    spec_file.write_text(pipeline().model_dump_json())
    assert main(["serve", str(spec_file), "--plugin", "runtime.testing.components"]) == 2
    assert capsys.readouterr().err == f"error: {SHORT}\n"
    create_app([pipeline()], sample_registry(), api_token="x" * 16)  # 16 is enough


# --- the gate alone: websockets and lifespan ---------------------------------------------------------
def _through_guard(guard: ServeGuard, scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent


async def _accepting(scope, receive, send):
    await send({"type": "websocket.accept"} if scope["type"] == "websocket" else {"type": "lifespan.startup.complete"})


def test_websockets_get_the_same_rules_and_lifespan_passes():
    def ws(host: str, *headers: tuple[bytes, bytes]) -> dict:
        return {"type": "websocket", "path": "/ws", "server": ("127.0.0.1", 8080),
                "headers": [(b"host", host.encode()), *headers]}

    open_guard = ServeGuard(_accepting, token=None)
    assert _through_guard(open_guard, ws("127.0.0.1:8080")) == [{"type": "websocket.accept"}]
    closed = [{"type": "websocket.close", "code": 1008}]
    assert _through_guard(open_guard, ws("evil.example:8080")) == closed
    assert _through_guard(open_guard, ws("localhost:8080", (b"origin", b"http://evil.example"))) == closed
    assert _through_guard(open_guard, ws("localhost:8080", (b"origin", b"http://localhost:8080"))) == [
        {"type": "websocket.accept"}]
    gated = ServeGuard(_accepting, token=TOKEN)
    assert _through_guard(gated, ws("127.0.0.1:8080")) == closed
    assert _through_guard(gated, ws("any.example", (b"authorization", f"Bearer {TOKEN}".encode()))) == [
        {"type": "websocket.accept"}]
    assert _through_guard(gated, {"type": "lifespan"}) == [{"type": "lifespan.startup.complete"}]


# --- a client that goes away cancels its run ------------------------------------------------------------
def test_a_non_streaming_client_that_disconnects_cancels_its_run(fresh_database):
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    events: list = []
    app = create_app([pipeline("slow", seconds=30)], sample_registry(), api_token="", request_timeout_s=120,
                     consumers=[RunRecorder.factory("serve"), lambda plan, run_id: events.append])
    with serving(app) as port:
        body = b'{"inputs": {"query": "bye"}}'
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"POST /v1/pipelines/slow/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                         b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (port, len(body), body))
            wait_for(lambda: any(e.kind == "node_started" and e.node_id == "s0" for e in events), 10,
                     "the run did not start")
        left = time.monotonic()
        wait_for(lambda: any(e.kind == "run_finished" for e in events), 10, "the run was not cancelled")
        cancelled_after = time.monotonic() - left
    finished = next(e for e in events if e.kind == "run_finished")
    assert finished.status == "cancelled"
    assert cancelled_after < 3  # ~immediately; generous for a loaded machine (the component sleeps 30 s)
    reasons = {(e.node_id, e.reason) for e in events if e.kind == "node_cancelled"}
    assert ("s0", "the client disconnected") in reasons  # the component's task was cancelled
    wait_for(lambda: (get_run(finished.run_id) or (None,))[0] is not None
             and get_run(finished.run_id)[0].status != "running", 10, "the run record was not written")
    record, nodes = get_run(finished.run_id)
    assert (record.source, record.status, nodes["s0"].status) == ("serve", "cancelled", "cancelled")


# --- the shared rule (runtime/http_guard.py, used by the editor too) ---------------------------------------
def test_the_shared_host_and_token_rules():
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "::1", "[::1]", "0.0.0.0", "10.0.0.1", "pw")] == [
        True, True, True, True, False, False, False]
    assert host_names("127.0.0.1", extra_hosts({"PATCHWIRE_ALLOWED_HOSTS": " PW.example , ,b:9"})) == (
        "127.0.0.1", "localhost", "[::1]", "pw.example", "b:9")
    assert "192.0.2.7" in host_names("192.0.2.7") and "[2001:db8::1]" in host_names("2001:db8::1")
    assert allowed_hosts(("localhost",), 8080) == {"localhost", "localhost:8080"}
    assert allowed_hosts(("localhost",), None) == {"localhost"}
    assert [bearer_token(v) for v in (f"Bearer {TOKEN}", f"bearer  {TOKEN} ", "Bearer", "Basic abc", "")] == [
        TOKEN, TOKEN, None, None, None]
    assert tokens_match(TOKEN, TOKEN) and not tokens_match(TOKEN[:-1], TOKEN)
    assert not tokens_match("", "") and not tokens_match(None, None) and not tokens_match(TOKEN, None)
