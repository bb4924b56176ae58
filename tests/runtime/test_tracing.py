"""The tracing consumer: one OpenTelemetry trace per run, its structure and attributes (in-memory exporter),
W3C trace context in and out, and tracing off costing nothing (no OpenTelemetry import, no exporter)."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from runtime import Component, NodeRetrying, RunContext, component
from runtime.events import TERMINAL_NODE_EVENTS, NodeSkipped, NodeStarted, RunFinished, RunStarted
from runtime.serving.app import create_app
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.specs import make_spec
from runtime.testing.tracing import InMemoryTraces
from runtime.tracing import continue_trace, traceparent
from runtime.tracing.attributes import node_operation
from tests.runtime.otel_env import no_otel_settings  # noqa: F401  (autouse)

REGISTRY = sample_registry()


def router_spec():
    """q -> route; route.a -> left -> out_a; route.b -> right -> out_b (skipped for input "a")."""
    return make_spec({"q": ("io.input", {}), "route": ("demo.router", {}), "left": ("demo.echo", {"prefix": "L:"}),
                      "right": ("demo.echo", {}), "out_a": ("io.output", {}), "out_b": ("io.output", {})},
                     [("q", "value", "route", "value"), ("route", "a", "left", "value"),
                      ("route", "b", "right", "value"), ("left", "value", "out_a", "value"),
                      ("right", "value", "out_b", "value")], name="routing")


async def test_a_run_is_one_trace_a_root_span_and_one_child_span_per_node():
    traces, spec = InMemoryTraces(), router_spec()
    result = await traces.run(spec, {"q": "a"}, registry=REGISTRY)
    root = traces.root()
    assert root.name == "invoke_workflow routing"
    assert root.parent is None
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert dict(root.attributes) == {
        "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "routing",
        "patchwire.pipeline.name": "routing", "patchwire.spec.hash": hashlib.sha256(canonical.encode()).hexdigest(),
        "patchwire.run.id": result.run_id, "patchwire.run.status": "succeeded", "openinference.span.kind": "CHAIN"}
    children = {s.attributes["patchwire.node.id"]: s for s in traces.children(root)}
    assert sorted(children) == sorted(n.id for n in spec.nodes)
    assert {s.context.trace_id for s in traces.spans()} == {root.context.trace_id}
    left = children["left"]
    assert left.name == "left"
    assert {k: left.attributes[k] for k in ("patchwire.component.id", "patchwire.component.version",
                                            "patchwire.node.status", "patchwire.node.attempts",
                                            "patchwire.cache.hit")} == {
        "patchwire.component.id": "demo.echo", "patchwire.component.version": 1, "patchwire.node.status": "succeeded",
        "patchwire.node.attempts": 1, "patchwire.cache.hit": False}
    skipped = children["right"]
    assert skipped.attributes["patchwire.node.status"] == "skipped"
    assert "did not fire" in skipped.attributes["patchwire.node.skip_reason"]
    assert skipped.status.is_ok


async def test_span_times_are_the_events_times():
    traces = InMemoryTraces()
    await traces.run(router_spec(), {"q": "b"}, registry=REGISTRY)
    ns = {type(e): int(e.ts * 1e9) for e in traces.events if isinstance(e, RunStarted | RunFinished)}
    root = traces.root()
    assert (root.start_time, root.end_time) == (ns[RunStarted], ns[RunFinished])
    started = {e.node_id: int(e.ts * 1e9) for e in traces.events if isinstance(e, NodeStarted)}
    ended = {e.node_id: int(e.ts * 1e9) for e in traces.events if isinstance(e, TERMINAL_NODE_EVENTS)}
    for span in traces.children(root):
        node_id = span.attributes["patchwire.node.id"]
        assert span.end_time == ended[node_id]
        # a skipped node never starts: its span is the instant it was skipped
        assert span.start_time == started.get(node_id, ended[node_id])
    assert any(isinstance(e, NodeSkipped) for e in traces.events)


async def test_a_failed_node_carries_error_type_and_the_run_fails():
    traces = InMemoryTraces()
    spec = make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "it broke", "permanent": True}),
                      "out": ("io.output", {})}, [("q", "value", "boom", "value"), ("boom", "value", "out", "value")])
    result = await traces.run(spec, {"q": "x"}, registry=REGISTRY)
    assert result.status == "failed"
    boom = traces.named("boom")
    assert boom.attributes["error.type"] == "PermanentError"
    assert boom.attributes["patchwire.node.status"] == "failed"
    assert not boom.status.is_ok and "it broke" in boom.status.description
    root = traces.root()
    assert root.attributes["patchwire.run.status"] == "failed"
    assert root.attributes["error.type"] == "PermanentError"
    assert traces.named("out").attributes["patchwire.node.status"] == "cancelled"


async def test_retries_are_counted_and_each_retry_is_a_span_event():
    traces = InMemoryTraces()
    spec = make_spec({"q": ("io.input", {}), "flaky": ("demo.fail_n_times", {"failures": 2},
                                                       {"retries": 2, "retry_backoff_s": 0}),
                      "out": ("io.output", {})}, [("q", "value", "flaky", "value"), ("flaky", "value", "out", "value")])
    await traces.run(spec, {"q": "x"}, registry=REGISTRY)
    flaky = traces.named("flaky")
    assert flaky.attributes["patchwire.node.attempts"] == 3
    retries = [e for e in flaky.events if e.name == "retry"]
    assert [e.attributes["patchwire.node.attempt"] for e in retries] == [2, 3]
    retrying = [e for e in traces.events if isinstance(e, NodeRetrying)]
    assert [e.timestamp for e in retries] == [int(e.ts * 1e9) for e in retrying]


async def test_a_node_served_from_pinned_or_cached_outputs_is_a_cache_hit():
    traces = InMemoryTraces()
    await traces.run(router_spec(), {"q": "a"}, registry=REGISTRY, pinned={"left": {"value": "mocked"}})
    left = traces.named("left")
    assert left.attributes["patchwire.cache.hit"] is True
    assert left.attributes["patchwire.cache.source"] == "pinned"
    assert left.attributes["patchwire.node.status"] == "cached"


async def test_an_incoming_traceparent_makes_the_run_a_child_of_the_callers_span():
    traces = InMemoryTraces()
    from runtime import execute

    execution = execute(router_spec(), {"q": "a"}, registry=REGISTRY)
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    assert continue_trace(execution.run_id, f"00-{caller_trace}-{caller_span}-01", "vendor=1")
    await execution.consume(traces.factory(execution.plan, execution.run_id))
    root = traces.root()
    assert root.parent is not None and root.parent.is_remote
    assert f"{root.parent.span_id:016x}" == caller_span
    assert f"{root.context.trace_id:032x}" == caller_trace
    assert root.context.trace_state.get("vendor") == "1"


@pytest.mark.parametrize("header", ["garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                                    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""])
async def test_an_invalid_traceparent_starts_a_trace_of_its_own(header: str):
    traces = InMemoryTraces()
    assert continue_trace("some-run", header) is False
    await traces.run(router_spec(), {"q": "a"}, registry=REGISTRY, run_id="some-run")
    assert traces.root().parent is None


async def test_serve_continues_the_callers_trace():
    traces = InMemoryTraces()
    app = create_app([router_spec()], REGISTRY, consumers=[traces.factory])
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        response = await client.post("/v1/pipelines/routing/run", json={"inputs": {"q": "a"}},
                                     headers={"traceparent": caller})
    assert response.status_code == 200, response.text
    root = traces.root()
    assert root.attributes["patchwire.run.id"] == response.json()["run_id"]
    assert f"{root.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{root.parent.span_id:016x}" == "b7ad6b7169203331"


async def test_the_running_nodes_span_is_published_for_outgoing_calls_and_withdrawn_after():
    traces = InMemoryTraces()
    seen: dict[str, str | None] = {}
    from runtime import execute

    execution = execute(router_spec(), {"q": "a"}, registry=REGISTRY)
    consumer = traces.factory(execution.plan, execution.run_id)

    def look(event) -> None:  # after the trace consumer: what a component in the node would see
        if isinstance(event, NodeStarted):
            seen[event.node_id] = traceparent(event.run_id, event.node_id)

    await execution.consume(consumer, look)
    left = traces.named("left")
    assert seen["left"] == f"00-{left.context.trace_id:032x}-{left.context.span_id:016x}-01"
    assert traceparent(execution.run_id, "left") is None
    assert traceparent(execution.run_id) is None


def test_a_retrieval_record_makes_the_node_a_retrieval_span():
    record = {"retrieval": {"query": "what?", "collection": "docs", "top_k": 4, "results": [{"id": "a"}]}}
    assert node_operation("find", record, capture=False) == ("retrieval docs", {
        "gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "docs", "gen_ai.retrieval.top_k": 4,
        "patchwire.retrieval.results": 1, "openinference.span.kind": "RETRIEVER"})
    assert node_operation("find", record, capture=True)[1]["gen_ai.retrieval.query.text"] == "what?"


def flow_spec():
    """docs -> m (a map of `each`: work -> tag) -> out; q -> s (flow.subflow of `each`) -> one; nested -> deep."""
    from runtime.testing.flows import nested_flows_spec

    return nested_flows_spec()


async def test_spans_of_nodes_inside_flow_nodes_carry_their_path_and_nest_under_the_flow_nodes_span():
    from runtime import execute
    from runtime.results import ResultCollector
    from runtime.testing.flows import flow_registry

    traces = InMemoryTraces()
    execution = execute(flow_spec(), {"docs": ["a", "b", "c"], "q": "x"}, registry=flow_registry())
    collector = ResultCollector()  # beside it only the trace consumer, which looks inside the flow nodes
    await execution.consume(collector, traces.factory(execution.plan, execution.run_id))
    assert collector.result.status == "succeeded", collector.result.error
    by_path = {s.attributes.get("patchwire.node.path") or s.attributes["patchwire.node.id"]: s
               for s in traces.spans() if "patchwire.node.id" in s.attributes}
    root = traces.root()
    assert by_path["m"].parent.span_id == root.context.span_id
    tag = by_path["m/1/tag"]
    assert tag.name == "tag" and tag.parent.span_id == by_path["m"].context.span_id
    assert {k: tag.attributes[k] for k in ("patchwire.node.id", "patchwire.component.id", "patchwire.node.status")} \
        == {"patchwire.node.id": "tag", "patchwire.component.id": "demo.echo", "patchwire.node.status": "succeeded"}
    assert {p for p in by_path if p.startswith("m/")} == {f"m/{i}/{n}" for i in range(3)
                                                           for n in ("doc", "work", "tag", "summary")}
    assert by_path["s/0/work"].parent.span_id == by_path["s"].context.span_id
    deep = by_path["nested/1/m2/0/work"]
    assert deep.parent.span_id == by_path["nested/1/m2"].context.span_id
    assert by_path["nested/1/m2"].parent.span_id == by_path["nested"].context.span_id
    assert deep.attributes["patchwire.component.id"] == "demo.echo"
    assert "patchwire.node.path" not in by_path["m"].attributes  # top-level nodes are their own path
    assert {s.context.trace_id for s in traces.spans()} == {root.context.trace_id}


SENT: dict[str, str | None] = {}  # node path -> the traceparent a call made by that node would send


@component(id="test.sends_traceparent", version=1, title="Sends traceparent", category="Testing")
class SendsTraceparent(Component):
    """What an outgoing call of this node would carry (as `action.http` asks for it); the value passes on."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        SENT[ctx.node_path] = traceparent(ctx.run_id, ctx.node_path)
        return TextValue(value=inputs.value)


async def test_a_node_inside_a_flow_node_calls_out_with_its_own_span_at_any_depth():
    from runtime import execute
    from runtime.testing.flows import flow_registry

    registry = flow_registry()
    registry.add(SendsTraceparent)
    spec = flow_spec()
    for node in spec.subflows["each"].nodes:  # `work` (also a top-level id nowhere) reports what it would send
        if node.id == "work":
            node.component, node.params = "test.sends_traceparent", {}
    SENT.clear()
    traces = InMemoryTraces()
    execution = execute(spec, {"docs": ["a", "b"], "q": "x"}, registry=registry)
    await execution.consume(traces.factory(execution.plan, execution.run_id))
    spans = {s.attributes.get("patchwire.node.path"): s for s in traces.spans()}
    assert set(SENT) == {"m/0/work", "m/1/work", "s/0/work", "nested/0/m2/0/work", "nested/1/m2/0/work"}
    for path, header in SENT.items():
        span = spans[path].context
        assert header == f"00-{span.trace_id:032x}-{span.span_id:016x}-01", path
        assert traceparent(execution.run_id, path) is None  # withdrawn when the node ended


class CountingProcessor:
    """A span processor that keeps what it is handed."""

    def __init__(self) -> None:
        self.spans: list = []

    def on_end(self, span) -> None:
        self.spans.append(span)


async def test_a_runs_spans_reach_the_processor_when_it_ends_or_a_handoff_batch_at_a_time():
    from opentelemetry.sdk.trace import TracerProvider

    from runtime import execute
    from runtime.testing.specs import chain_spec
    from runtime.tracing.consumer import TraceConsumer
    from runtime.tracing.provider import TraceSink

    for handoff, expected in ((1000, [0] * 12), (5, [0, 0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10])):
        processor = CountingProcessor()
        factory = TraceConsumer.factory(TraceSink(TracerProvider(), processor, handoff_spans=handoff, handoff_s=60))
        execution = execute(chain_spec(10), {"query": "x"}, registry=REGISTRY)
        seen: list[int] = []

        def note(event, seen=seen, processor=processor) -> None:
            if event.kind == "node_finished":
                seen.append(len(processor.spans))

        await execution.consume(factory(execution.plan, execution.run_id), note)
        assert seen == expected  # while the run goes on, nothing (or whole hand-off batches) reaches it
        assert len(processor.spans) == 12 + 1  # all of them once it ended, the root included
