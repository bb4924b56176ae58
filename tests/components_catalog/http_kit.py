"""The loopback HTTP server the `action.http` tests call (allow-listed by address and port), and their helpers.

The `server` fixture (tests/components_catalog/conftest.py) starts one `LoopbackServer` per test.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from components_catalog.http_action import HttpInputs, HttpParams, HttpRequest
from runtime import RunContext, execute
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.registry import Registry
from runtime.testing.specs import make_spec

__all__ = ["REGISTRY", "SECRET", "LoopbackServer", "http_spec", "events_of", "node_event", "call_direct",
           "call_direct_url"]

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


async def call_direct(server, url: str, **params):
    """Run the component outside a pipeline; `url` is a path on the test server."""
    return await call_direct_url(server.base + url, **params)


async def call_direct_url(url: str, **params):
    ctx = RunContext(run_id="r", node_id="call", component_id="action.http")
    out = await HttpRequest(HttpParams(url=url, **params)).run(HttpInputs(), ctx)
    return out, ctx
