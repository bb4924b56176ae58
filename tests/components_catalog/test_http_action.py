"""action.http against a loopback http.server (allow-listed by address and port), through `runtime.run`:
requests, responses, errors and params (redirects and the egress guard: test_http_redirects.py)."""

from __future__ import annotations

import json
import time

import pytest

from components_catalog.http_action import HttpInputs, HttpParams, HttpRequest, fill_url
from components_catalog.types import Document
from runtime import NodeFinished, RunContext, run, validate
from runtime.errors import PermanentError, RetryableError
from tests.components_catalog.http_kit import (
    REGISTRY,
    SECRET,
    call_direct,
    events_of,
    http_spec,
    node_event,
)


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
