"""action.http against a loopback http.server (allow-listed by address and port), through `runtime.run`."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from components_catalog.http_action import HttpInputs, HttpParams, HttpRequest, fill_url
from components_catalog.types import Document
from runtime import NodeFailed, NodeFinished, RunContext, execute, run, validate
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.errors import PermanentError, RetryableError
from runtime.registry import Registry
from runtime.testing.specs import make_spec

REGISTRY = Registry([PipelineInput, PipelineOutput, HttpRequest])
SECRET = "s3cr3t-token-value"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": body})
        route = getattr(self, "route_" + url.path.strip("/").split("/")[0].replace("-", "_"), self.route_missing)
        route(url, body)

    def reply(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def route_items(self, url, body) -> None:
        payload = {"method": self.command, "path": url.path, "query": parse_qs(url.query),
                   "json": json.loads(body) if body else None}
        self.reply(200, json.dumps(payload).encode(), X_Served_By="loopback")

    def route_text(self, url, body) -> None:
        self.reply(200, "héllo".encode(), "text/plain; charset=utf-8")

    def route_missing(self, url, body) -> None:
        self.reply(404, b"no such item", "text/plain")

    def route_flaky(self, url, body) -> None:
        self.server.flaky_calls += 1
        if self.server.flaky_calls == 1:
            self.reply(500, b"try again", "text/plain")
        else:
            self.reply(200, b'{"ok": true}')

    def route_busy(self, url, body) -> None:
        self.reply(429, b"slow down", "text/plain", Retry_After="7")

    def route_big(self, url, body) -> None:
        self.reply(200, b"x" * 5000, "text/plain")

    def route_stream(self, url, body) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(10):
            self.wfile.write(b"200\r\n" + b"y" * 0x200 + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def route_slow(self, url, body) -> None:
        time.sleep(1.0)
        self.reply(200, b"{}")

    def route_drip(self, url, body) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "50")
        self.end_headers()
        try:
            for _ in range(50):  # each byte well within httpx's per-read timeout; the whole body is not
                self.wfile.write(b"z")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client gave up

    def route_redirect(self, url, body) -> None:
        target = parse_qs(url.query)["to"][0]
        self.reply(int(parse_qs(url.query).get("status", ["302"])[0]), b"", "text/plain", Location=target)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.flaky_calls = 0

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients that stop reading on purpose
            super().handle_error(request, client_address)


@pytest.fixture
def server(monkeypatch):
    """A loopback server; PATCHWIRE_HTTP_ALLOW opens exactly its address and port, nothing else."""
    httpd = LoopbackServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", f"127.0.0.1:{port}")
    httpd.base = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def http_spec(params: dict, policy: dict | None = None, with_inputs: bool = False):
    nodes: dict[str, tuple] = {"call": ("action.http", params, policy) if policy else ("action.http", params)}
    nodes |= {"status": ("io.output", {}), "body": ("io.output", {}), "headers": ("io.output", {})}
    edges = [("call", "status", "status", "value"), ("call", "body", "body", "value"),
             ("call", "headers", "headers", "value")]
    if with_inputs:
        nodes |= {"vars": ("io.input", {"type": "json"}), "payload": ("io.input", {"type": "json"})}
        edges += [("vars", "value", "call", "variables"), ("payload", "value", "call", "body")]
    return make_spec(nodes, edges)


async def events_of(spec, inputs=None):
    return [event async for event in execute(spec, inputs or {}, registry=REGISTRY)]


def node_event(events, kind):
    return next(e for e in events if isinstance(e, kind) and e.node_id == "call")


async def test_post_json_with_url_variables(server):
    spec = http_spec({"method": "POST", "url": server.base + "/items/{name}?lang={lang}", "json_body": {"a": 0}},
                     with_inputs=True)
    result = await run(spec, {"vars": {"name": "a b/c", "lang": "de"}, "payload": {"question": "Wo?"}},
                       registry=REGISTRY)
    assert result.status == "succeeded"
    assert result.outputs["status"] == 200
    assert result.outputs["body"] == {"method": "POST", "path": "/items/a%20b%2Fc", "query": {"lang": ["de"]},
                                      "json": {"question": "Wo?"}}
    assert result.outputs["headers"]["x-served-by"] == "loopback"
    assert server.requests[0]["headers"]["Host"] == server.base.removeprefix("http://")


async def test_model_bodies_are_sent_as_json_and_others_refused(server):
    ctx = RunContext(run_id="r", node_id="call", component_id="action.http")
    component = HttpRequest(HttpParams(method="PUT", url=server.base + "/items/docs"))
    out = await component.run(HttpInputs(body=[Document(id="d1", text="t")]), ctx)
    assert out.body["json"] == [{"id": "d1", "text": "t", "metadata": {}, "score": None}]
    with pytest.raises(PermanentError) as err:
        await component.run(HttpInputs(body={"x": object()}), ctx)
    assert str(err.value) == ("Node `call`: the request body cannot be sent as JSON: Unable to serialize unknown "
                              "type: <class 'object'>.")
    assert len(server.requests) == 1


async def test_get_text_and_trace(server):
    events = await events_of(http_spec({"url": server.base + "/text", "headers": {"Accept": "text/plain"}}))
    finished = node_event(events, NodeFinished)
    assert finished.outputs["body"] == "héllo"
    trace = finished.trace["http"]
    assert {k: trace[k] for k in ("method", "url", "headers", "status", "bytes")} == {
        "method": "GET", "url": server.base + "/text", "headers": {"Accept": "text/plain"}, "status": 200,
        "bytes": 6}
    assert trace["hops"] == [{"url": server.base + "/text", "address": "127.0.0.1", "status": 200}]
    assert trace["latency_ms"] > 0


async def test_secret_header_is_sent_but_never_recorded(server, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", SECRET)
    params = {"url": server.base + "/items/x", "headers": {"Authorization": "Bearer ${secret:SEARCH_API_KEY}",
                                                           "X-Trace": "plain"}}
    events = await events_of(http_spec(params))
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    finished = node_event(events, NodeFinished)
    assert finished.trace["http"]["headers"] == {"Authorization": "Bearer ***", "X-Trace": "plain"}
    assert SECRET not in json.dumps([repr(e) for e in events])


async def test_a_secret_that_is_not_allowed_fails_before_any_request(server):
    spec = http_spec({"url": server.base + "/items/x", "headers": {"X-Home": "${secret:HOME}"}})
    result = await run(spec, {}, registry=REGISTRY)
    assert result.error["message"] == ("Node `call` asked for secret `HOME`, which is not allowed. Allowed: "
                                       "*_API_KEY. Add it to PATCHWIRE_SECRETS to allow it.")
    assert server.requests == []


async def test_404_is_permanent_and_not_retried(server):
    spec = http_spec({"url": server.base + "/missing"}, policy={"retries": 3, "retry_backoff_s": 0})
    result = await run(spec, {}, registry=REGISTRY)
    assert result.status == "failed"
    assert result.error["message"] == (f"Node `call` failed: HTTP 404 Not Found from GET {server.base}/missing. "
                                       "The server said: 'no such item'. Check the URL.")
    assert result.nodes["call"].attempts == 1 and len(server.requests) == 1


async def test_500_is_retried_by_the_node_policy_then_succeeds(server):
    spec = http_spec({"url": server.base + "/flaky"}, policy={"retries": 2, "retry_backoff_s": 0})
    events = await events_of(spec)
    retrying = [e for e in events if e.kind == "node_retrying"]
    assert [e.error.message for e in retrying] == [
        f"HTTP 500 Internal Server Error from GET {server.base}/flaky."]
    finished = node_event(events, NodeFinished)
    assert (finished.attempts, finished.outputs["status"], finished.outputs["body"]) == (2, 200, {"ok": True})


async def call_direct(server, url: str, **params):
    """Run the component outside a pipeline; `url` is a path on the test server."""
    return await call_direct_url(server.base + url, **params)


async def call_direct_url(url: str, **params):
    ctx = RunContext(run_id="r", node_id="call", component_id="action.http")
    out = await HttpRequest(HttpParams(url=url, **params)).run(HttpInputs(), ctx)
    return out, ctx


async def test_429_carries_retry_after(server):
    with pytest.raises(RetryableError) as err:
        await call_direct(server, url="/busy")
    assert err.value.retry_after == 7.0
    assert str(err.value) == f"HTTP 429 Too Many Requests from GET {server.base}/busy (Retry-After: 7 s)."


@pytest.mark.parametrize(("path", "detail"), [
    ("/big", "it declares 5,000 bytes"),
    ("/stream", "stopped reading after 1,024 bytes"),
])
async def test_oversized_responses_are_refused(server, path, detail):
    result = await run(http_spec({"url": server.base + path, "max_response_bytes": 1000}), {}, registry=REGISTRY)
    assert result.error["message"] == (
        f"Node `call` failed: The response to GET {server.base}{path} is larger than max_response_bytes "
        f"(1,000 bytes): {detail}. Raise `max_response_bytes` if this response is expected.")


async def test_timeouts_are_retryable(server):
    with pytest.raises(RetryableError) as err:
        await call_direct(server, url="/slow", timeout_s=0.2)
    assert str(err.value) == f"GET {server.base}/slow timed out after 0.2 s (`timeout_s`)."


async def test_a_slow_drip_body_cannot_outlast_the_timeout(server):
    started = time.perf_counter()
    with pytest.raises(RetryableError) as err:
        await call_direct(server, url="/drip", timeout_s=0.3)
    assert str(err.value) == f"GET {server.base}/drip timed out after 0.3 s (`timeout_s`)."
    assert time.perf_counter() - started < 1.5


async def test_redirects_are_not_followed_by_default(server):
    out, _ = await call_direct(server, url="/redirect?to=/items/x")
    assert out.status == 302 and out.headers["location"] == "/items/x"
    assert len(server.requests) == 1


async def test_followed_redirects_are_checked_again_and_post_becomes_get(server):
    out, ctx = await call_direct(server, method="POST", url="/redirect?to=/items/next&status=303",
                                 json_body={"a": 1}, follow_redirects=True)
    assert (out.status, out.body["method"], out.body["path"], out.body["json"]) == (200, "GET", "/items/next", None)
    assert [h["status"] for h in ctx.trace["http"]["hops"]] == [303, 200]


def test_a_json_body_on_get_is_a_validation_error():
    """Before, the body was sent with the GET (and again after a 302)."""
    issues = validate(http_spec({"url": "https://example.com/items", "json_body": {"a": 1}}), REGISTRY)
    assert [(i.code, i.path, i.message) for i in issues] == [(
        "invalid_params", "params.json_body",
        "Node `call` (`action.http` v1): param `json_body` is invalid: a GET request carries no body: set `method` "
        "to POST, PUT or PATCH to send it, or remove `json_body` (got {'a': 1}).")]
    assert validate(http_spec({"method": "DELETE", "url": "https://example.com/items", "json_body": {"a": 1}}),
                    REGISTRY) == []


async def test_a_body_input_on_get_is_refused_before_sending(server):
    ctx = RunContext(run_id="r", node_id="call", component_id="action.http")
    with pytest.raises(PermanentError) as err:
        await HttpRequest(HttpParams(url=server.base + "/items/x")).run(HttpInputs(body={"a": 1}), ctx)
    assert str(err.value) == ("Node `call`: a GET request carries no body, but the `body` input got one. Set "
                              "`method` to POST, PUT or PATCH to send it, or disconnect `body`.")
    assert server.requests == []


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


def test_fill_url_quotes_values_and_names_missing_ones():
    assert fill_url("https://x.test/{a}?q={b}&f={c}", {"a": "ü/ß", "b": "x&y=z", "c": True}) == \
        "https://x.test/%C3%BC%2F%C3%9F?q=x%26y%3Dz&f=true"
    with pytest.raises(PermanentError) as err:
        fill_url("https://x.test/{id}", {"name": 1})
    assert str(err.value) == ("The URL template `https://x.test/{id}` needs the variable `id`; the `variables` input "
                              "has `name`. Connect a dict with key `id`.")


@pytest.mark.parametrize(("params", "message"), [
    ({"url": "ftp://x.test/{a}"}, "param `url` is invalid: `ftp://x.test/{a}` must start with http:// "
                                  "or https://"),
    # without a scheme it validated, then every run failed with "it has no scheme"
    ({"url": "127.0.0.1:8080/hook"}, "param `url` is invalid: `127.0.0.1:8080/hook` must start with http:// or "
                                     "https://"),
    ({"url": "api.example.com/v1/{id}"}, "param `url` is invalid: `api.example.com/v1/{id}` must start with "
                                         "http:// or https://"),
    ({"url": "{base}/v1"}, "param `url` is invalid: `{base}/v1` must start with http:// or https://"),
    ({"url": "https://x.test", "headers": {"Bad Name": "v"}},
     "param `headers` is invalid: header name 'Bad Name' is not valid"),
    ({"url": "https://x.test", "headers": {"Authorization": "Bearer ${secret:lower-case}"}},
     "param `headers` is invalid: header `Authorization`: write secrets as `${secret:ENV_VAR_NAME}`, "
     "on one line"),
    ({"url": "https://x.test", "timeout_s": 0}, "param `timeout_s` is invalid: Input should be greater than 0"),
])
def test_bad_params_are_reported_at_validation(params, message):
    issues = [i.message for i in validate(http_spec(params), REGISTRY) if i.code == "invalid_params"]
    assert len(issues) == 1 and issues[0].startswith(f"Node `call` (`action.http` v1): {message}")

