"""A loopback OpenAI-compatible server for tests: deterministic replies, scriptable failures.

    with FakeOpenAI() as srv:
        srv.script([{"status": 429, "retry_after": 1}])   # the next POST gets a 429, later ones the default
        await litellm.acompletion(model="openai/gpt-4o-mini", messages=msgs,
                                  api_base=srv.base_url, api_key="sk-test", max_retries=0)
        srv.requests[-1]["json"]["messages"]               # what reached the "model"

Standard library only, nothing from `runtime`. `POST /v1/chat/completions` (JSON, or SSE with `stream`,
plus a usage chunk when `stream_options.include_usage` is set), `POST /v1/embeddings` (sha256-based unit
vectors, 16 dims unless `dimensions` is given), `GET /v1/models`. The default reply is
`"ANSWER: " + first 60 chars of the last user message`; usage counts whitespace-separated words.

Behaviours for `script()` (one per POST, in order) and what litellm 1.110 raises for them with
`openai/...` models and `max_retries=0` (asserted in tests/runtime/test_fake_openai.py; all subclass
`openai.APIError`):
- {"status": 429, "retry_after": 1} -> litellm.RateLimitError (status_code 429)
- {"status": 500} -> litellm.InternalServerError (500); {"status": 401} -> litellm.AuthenticationError
- {"status": 403} -> litellm.APIError with status_code 403: litellm's openai mapping has no 403 case,
  so it is *not* litellm.PermissionDeniedError
- {"status": 400} -> litellm.BadRequestError; {"status": 400, "code": "context_length_exceeded"} ->
  litellm.ContextWindowExceededError (a BadRequestError subclass, so catch it first)
- {"malformed": True} -> litellm.InternalServerError (500), "... Expecting value: line 1 column 1
  (char 0)". With stream=True there is no error at all: the stream is just empty.
- {"delay": 2.0} -> no error; with `timeout=0.5` on the call, litellm.Timeout (status_code 408)
- {"drip": 3.0} -> a stream that waits 3 s before each SSE event (role, words, finish, usage): httpx's
  read timeout restarts with every event, so `timeout=5` never fires however long the stream takes
- {"status": 429, "code": "insufficient_quota"} -> litellm.RateLimitError with OpenAI's "You exceeded your
  current quota" body (type `insufficient_quota`): a permanent failure that arrives as a 429
- {"status": 400, "code": "content_policy_violation"} -> litellm.BadRequestError with OpenAI's
  safety-system message and `exc.body["code"] == "content_policy_violation"` (litellm 1.110 raises its
  ContentPolicyViolationError only when the message text names the code, which OpenAI's does not)
- {"reply": "text"} / {"json": {...}} -> the content is the text / `json.dumps(obj)`
- {"chunk_delay": 0.2} -> with stream=True, each content chunk follows the previous one after 0.2 s (a slow
  model: `FakeOpenAI(chunk_delay=...)` sets it for every stream). `requests[i]["chunk_times"]` holds the
  `time.time()` at which each SSE event of that request was sent.
- other statuses map as usual (404 NotFoundError, 503 ServiceUnavailableError); "message" and "code"
  override the error body's fields.
Errors come before a stream starts, so with stream=True they raise from `await acompletion(...)`.

Which credentials arrived: `srv.authorizations` lists the `Authorization` header of every POST ("" when
there was none), so a test can assert that a key was, or was never, sent.

Retry-After: `exc.litellm_response_headers.get("retry-after")` -> "1" (`httpx.Headers`, case-insensitive;
litellm sets it on each mapped exception that had a provider response; `exc.response.headers` carries
the same here). Pass `max_retries=0`, or the openai SDK retries 429/5xx itself, honouring Retry-After.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

__all__ = ["FakeOpenAI", "fake_embedding"]

_KNOWN_KEYS = {"status", "retry_after", "code", "message", "delay", "drip", "malformed", "reply", "json",
               "chunk_delay"}
_INVALID = "invalid_request_error"
_ERRORS: dict[int, tuple[str, str, str | None]] = {  # status -> (message, type, code), as OpenAI sends them
    400: ("Invalid request (scripted 400 from FakeOpenAI).", _INVALID, None),
    401: ("Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/"
          "account/api-keys.", _INVALID, "invalid_api_key"),
    403: ("You are not allowed to sample from this model.", _INVALID, "permission_denied"),
    404: ("The model does not exist or you do not have access to it.", _INVALID, None),
    429: ("Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1. "
          "Please try again in 1s.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
}
_BY_CODE: dict[str, tuple[str, str]] = {  # error code -> (message, type), as OpenAI sends them
    "insufficient_quota": ("You exceeded your current quota, please check your plan and billing details. For more "
                           "information on this error, read the docs: https://platform.openai.com/docs/guides/"
                           "error-codes/api-errors.", "insufficient_quota"),
    "content_policy_violation": ("Your request was rejected as a result of our safety system. Your prompt may "
                                 "contain text that is not allowed by our safety system.", _INVALID),
}
_CONTEXT_LENGTH = ("This model's maximum context length is 128000 tokens. However, your messages resulted in "
                   "130017 tokens. Please reduce the length of the messages.")
Json = dict[str, Any]


def fake_embedding(text: str, dims: int = 16) -> list[float]:
    """A deterministic unit vector for `text` (sha256-based; equal texts give equal vectors)."""
    raw: list[float] = []
    while len(raw) < dims:
        raw.extend(b / 127.5 - 1.0 for b in hashlib.sha256(f"{len(raw)}:{text}".encode()).digest())
    norm = sum(v * v for v in raw[:dims]) ** 0.5 or 1.0
    return [v / norm for v in raw[:dims]]


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _usage(body: Json, reply: str) -> dict[str, int]:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    prompt = sum(len(_text(m.get("content")).split()) for m in messages)
    completion = len(reply.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _error(status: int, behaviour: Mapping[str, Any]) -> Json:
    message, kind, code = _ERRORS.get(status, (f"Scripted error {status}.", "server_error", None))
    code = behaviour.get("code", code)
    param = None
    if code == "context_length_exceeded":
        message, kind, param = _CONTEXT_LENGTH, "invalid_request_error", "messages"
    elif code in _BY_CODE:
        message, kind = _BY_CODE[code]
    message = behaviour.get("message", message)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _reply_text(body: Json, behaviour: Mapping[str, Any]) -> str:
    if "json" in behaviour:
        return json.dumps(behaviour["json"])
    if "reply" in behaviour:
        return str(behaviour["reply"])
    users = [m for m in body.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
    return "ANSWER: " + (_text(users[-1].get("content"))[:60] if users else "")


def _completion(body: Json, reply: str, ident: str) -> Json:
    message = {"role": "assistant", "content": reply, "refusal": None}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    head = {"id": ident, "object": "chat.completion", "created": int(time.time()), "model": body.get("model")}
    return {**head, "system_fingerprint": "fp_fake", "choices": [choice], "usage": _usage(body, reply)}


def _chunks(body: Json, reply: str, ident: str) -> Iterator[Json]:
    """SSE payloads: a role chunk, the reply word by word, a finish chunk, and usage if asked for."""
    base = {"id": ident, "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = body.get("model")
    pieces = [p for p in re.findall(r"\S*\s*", reply) if p]  # joins back to `reply` exactly
    for delta in [{"role": "assistant", "content": ""}, *({"content": p} for p in pieces)]:
        yield {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(body, reply)}


def _embeddings(body: Json) -> Json:
    raw = body.get("input", "")
    texts = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw)
    texts = [t if isinstance(t, str) else json.dumps(t) for t in texts]  # token arrays hash as JSON
    dims = int(body.get("dimensions") or 16)
    data = []
    for i, text in enumerate(texts):
        vector: Any = fake_embedding(text, dims)
        if body.get("encoding_format") == "base64":  # the openai SDK asks for this by default
            vector = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    tokens = sum(len(t.split()) for t in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": body.get("model"), "usage": usage}


@dataclass
class _Response:
    status: int
    json: Any = None
    raw: bytes | None = None
    events: Iterator[Json] | None = None
    drip_s: float = 0.0  # pause before each SSE event
    headers: dict[str, str] = field(default_factory=dict)
    chunk_delay: float = 0.0


def _respond(path: str, body: Any, behaviour: Mapping[str, Any], ident: str) -> _Response:
    """What to send for one POST (pure, apart from the clock in `created`)."""
    if "status" in behaviour:
        status = int(behaviour["status"])
        retry = {"Retry-After": str(behaviour["retry_after"])} if "retry_after" in behaviour else {}
        return _Response(status, _error(status, behaviour), headers=retry)
    if behaviour.get("malformed"):
        return _Response(200, raw=b"this is not JSON {")
    if not isinstance(body, dict):
        return _Response(400, _error(400, {"message": "The request body is not a JSON object."}))
    if path == "/v1/embeddings":
        return _Response(200, _embeddings(body))
    if path != "/v1/chat/completions":
        return _Response(404, _error(404, {"message": f"Unknown URL (POST {path})", "code": "unknown_url"}))
    reply = _reply_text(body, behaviour)
    if body.get("stream"):
        return _Response(200, events=_chunks(body, reply, ident), drip_s=float(behaviour.get("drip") or 0),
                         chunk_delay=float(behaviour.get("chunk_delay", 0)))
    return _Response(200, _completion(body, reply, ident))


class FakeOpenAI:
    """A threaded HTTP server on 127.0.0.1 (a free port) speaking enough of the OpenAI API for litellm."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, model: str = "gpt-4o-mini",
                 chunk_delay: float = 0.0) -> None:
        """`port=0` picks a free port; `model` is what `GET /v1/models` lists; `chunk_delay`: seconds between
        streamed content chunks (a slow model), unless a scripted behaviour says otherwise."""
        self.model = model
        self.chunk_delay = chunk_delay
        self._lock = threading.Lock()
        self._script: list[Json] = []
        self._requests: list[Json] = []
        self.stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[Json]:
        """Every request so far as `{method, path, headers, json}` (header names in lower case)."""
        with self._lock:
            return list(self._requests)

    @property
    def authorizations(self) -> list[str]:
        """The `Authorization` header of every POST so far, in order ("" when it had none)."""
        return [r["headers"].get("authorization", "") for r in self.requests if r["method"] == "POST"]

    def script(self, behaviours: Iterable[Mapping[str, Any]]) -> None:
        """Queue behaviours for the next POST requests, one each, in order; then the default reply."""
        queued = [dict(b) for b in behaviours]
        if unknown := {key for b in queued for key in b} - _KNOWN_KEYS:
            raise ValueError(f"Unknown behaviour keys {sorted(unknown)}; known: {sorted(_KNOWN_KEYS)}.")
        with self._lock:
            self._script.extend(queued)

    def reset(self) -> None:
        """Forget recorded requests and pending behaviours."""
        with self._lock:
            self._script, self._requests = [], []

    def start(self) -> FakeOpenAI:
        if self._thread is None:
            fast_stop = {"poll_interval": 0.02}
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs=fast_stop, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down and free the port; requests still in a scripted delay are abandoned."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    __enter__ = start

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> tuple[Json, int]:
        """Record a request; return the behaviour it gets (POSTs consume the script) and its number."""
        headers = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self._requests.append({"method": method, "path": path, "headers": headers, "json": body})
            behaviour = self._script.pop(0) if method == "POST" and self._script else {}
            if self.chunk_delay and "chunk_delay" not in behaviour:
                behaviour = {**behaviour, "chunk_delay": self.chunk_delay}
            return behaviour, len(self._requests)

    def note_chunk(self, number: int, at: float) -> None:
        """Record when an SSE event of request `number` (1-based) was written."""
        with self._lock:
            if number <= len(self._requests):  # not forgotten by a `reset()` since
                self._requests[number - 1].setdefault("chunk_times", []).append(at)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a request in a scripted delay
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # drop idle keep-alive connections

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def setup(self) -> None:
        super().setup()
        # Each SSE event goes out at once, as from a real provider: without this, Nagle's algorithm holds a
        # small write until the previous one is acknowledged (up to 40 ms with delayed ACKs).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def fake(self) -> FakeOpenAI:
        return cast(_Server, self.server).fake

    def do_GET(self) -> None:
        self.fake.record("GET", self.path, dict(self.headers.items()), None)
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake-openai"}]
            return self._send(_Response(200, {"object": "list", "data": models}))
        self._send(_Response(404, _error(404, {"message": f"Unknown URL (GET {self.path})"})))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        behaviour, number = self.fake.record("POST", self.path, dict(self.headers.items()), body)
        if behaviour.get("delay"):
            self.fake.stopping.wait(float(behaviour["delay"]))
        self._send(_respond(self.path.rstrip("/"), body, behaviour, f"chatcmpl-fake-{number}"), number)

    def _send(self, response: _Response, number: int = 0) -> None:
        """A JSON (or raw) body with Content-Length, or SSE events in chunked encoding."""
        body = response.raw if response.raw is not None else json.dumps(response.json).encode()
        sse = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}
        plain = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        self.send_response(response.status)
        for key, value in {**response.headers, **(plain if response.events is None else sse)}.items():
            self.send_header(key, value)
        self.end_headers()
        if response.events is None:
            self.wfile.write(body)
            return
        for i, payload in enumerate([*(json.dumps(e) for e in response.events), "[DONE]"]):
            if response.drip_s and self.fake.stopping.wait(response.drip_s):
                return  # stopping: abandon the stream
            if response.chunk_delay and i > 1 and '"content"' in payload:  # content chunks after the first
                self.fake.stopping.wait(response.chunk_delay)
            data = f"data: {payload}\n\n".encode()
            if number:  # noted just before the write: a client may have the event before this line would run
                self.fake.note_chunk(number, time.time())
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
