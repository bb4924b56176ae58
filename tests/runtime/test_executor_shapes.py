"""The executor on a table of named graph shapes: statuses, outputs and event order."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import (
    MemoryCache,
    NodeCancelled,
    NodeChunk,
    NodeFailed,
    NodeFinished,
    NodeRetrying,
    NodeStarted,
    RunFinished,
    RunStarted,
    execute,
    run,
)
from runtime.testing import components as samples
from runtime.testing.components import sample_registry
from runtime.testing.events import collect as collect_events
from runtime.testing.events import terminal_once, trace
from runtime.testing.specs import fan_out_spec, make_spec

REGISTRY = sample_registry()


async def collect(spec, inputs, **kwargs):
    return await collect_events(spec, inputs, registry=REGISTRY, **kwargs)


def statuses(result):
    return {node_id: node.status for node_id, node in result.nodes.items()}


async def test_linear_runs_in_order_and_returns_the_output():
    spec = make_spec({"q": ("io.input", {}), "a": ("demo.echo", {"prefix": "a:"}),
                      "b": ("demo.echo", {"prefix": "b:"}), "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("a", "value", "b", "value"), ("b", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    assert trace(events) == [
        ("run_started", None),
        ("node_started", "q"), ("node_finished", "q"),
        ("node_started", "a"), ("node_finished", "a"),
        ("node_started", "b"), ("node_finished", "b"),
        ("node_started", "out"), ("node_finished", "out"),
        ("run_finished", None),
    ]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "succeeded"
    assert finished.outputs == {"out": "b:a:x"}
    assert all(e.run_id == events[0].run_id for e in events)
    assert all(e.ts >= events[0].ts for e in events)


async def test_diamond_runs_both_branches_and_joins_them():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 0.05}),
                      "fast": ("demo.echo", {"prefix": "f:"}), "join": ("demo.join", {}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "fast", "value"),
                      ("slow", "value", "join", "a"), ("fast", "value", "join", "b"),
                      ("join", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    order = trace(events)
    assert order.index(("node_finished", "fast")) < order.index(("node_finished", "slow"))
    assert order.index(("node_finished", "slow")) < order.index(("node_started", "join"))
    assert events[-1].outputs == {"out": "x+f:x"}


async def test_fan_out_of_fifty_overlaps_fully():
    spec = fan_out_spec(50, 0.1)
    started = time.perf_counter()
    result = await run(spec, {"query": "x"}, registry=REGISTRY)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded"
    assert result.outputs["out"] == "|".join(["x"] * 50)
    assert elapsed < 0.25, f"50 parallel 0.1 s nodes took {elapsed:.3f} s: branches did not overlap"


async def test_skew_fast_branch_does_not_wait_for_the_slow_one():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 0.3}),
                      "fast1": ("demo.delay", {"seconds": 0.01}), "fast2": ("demo.echo", {"prefix": "2:"}),
                      "out_slow": ("io.output", {}), "out_fast": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "fast1", "value"),
                      ("fast1", "value", "fast2", "value"), ("slow", "value", "out_slow", "value"),
                      ("fast2", "value", "out_fast", "value")])
    events = await collect(spec, {"q": "x"})
    by_kind = {(e.kind, getattr(e, "node_id", None)): e for e in events}
    fast_done = by_kind[("node_finished", "out_fast")].ts
    slow_done = by_kind[("node_finished", "slow")].ts
    assert slow_done - fast_done > 0.2, "the fast branch waited for the slow one"
    assert events[-1].outputs == {"out_slow": "x", "out_fast": "2:x"}


def router_spec(join_b_optional: bool = False):
    nodes = {"q": ("io.input", {}), "route": ("demo.router", {"routes": ["a", "b"]}),
             "on_a": ("demo.echo", {"prefix": "A:"}), "on_b": ("demo.echo", {"prefix": "B:"}),
             "after_b": ("demo.echo", {}), "out_a": ("io.output", {}), "out_b": ("io.output", {})}
    edges = [("q", "value", "route", "value"), ("route", "a", "on_a", "value"), ("route", "b", "on_b", "value"),
             ("on_b", "value", "after_b", "value"), ("on_a", "value", "out_a", "value"),
             ("after_b", "value", "out_b", "value")]
    if join_b_optional:
        nodes["join"] = ("demo.join", {})
        nodes["out_join"] = ("io.output", {})
        edges += [("on_a", "value", "join", "a"), ("after_b", "value", "join", "b"),
                  ("join", "value", "out_join", "value")]
    return make_spec(nodes, edges)


async def test_router_skips_the_branch_not_taken_and_everything_below_it():
    result = await run(router_spec(), {"q": "a"}, registry=REGISTRY)
    assert result.status == "succeeded"
    assert statuses(result) == {"q": "succeeded", "route": "succeeded", "on_a": "succeeded", "on_b": "skipped",
                                "after_b": "skipped", "out_a": "succeeded", "out_b": "skipped"}
    assert result.outputs == {"out_a": "A:a"}
    assert result.nodes["on_b"].skip_reason == "no upstream value arrived (`route.b` did not fire)"
    assert result.nodes["after_b"].skip_reason == "no upstream value arrived (upstream `on_b` was skipped)"
    assert result.nodes["route"].outputs == {"a": "a"}


async def test_optional_input_join_after_a_router_runs_on_its_defaults():
    result = await run(router_spec(join_b_optional=True), {"q": "a"}, registry=REGISTRY)
    assert result.nodes["join"].status == "succeeded"
    assert result.outputs["out_join"] == "A:a"  # `b` fell back to its default None
    other = await run(router_spec(join_b_optional=True), {"q": "b"}, registry=REGISTRY)
    assert other.nodes["join"].status == "skipped"  # required `a` did not arrive
    assert other.nodes["join"].skip_reason.startswith("required input `a` received no value")
    assert other.outputs == {"out_b": "B:b"}


async def test_all_upstream_dead_skips_a_node_even_if_all_inputs_are_optional():
    spec = make_spec({"q": ("io.input", {}), "route": ("demo.router", {"routes": ["a", "b"]}),
                      "concat": ("demo.concat", {}), "out": ("io.output", {})},
                     [("q", "value", "route", "value"), ("route", "b", "concat", "values"),
                      ("concat", "value", "out", "value")])
    result = await run(spec, {"q": "a"}, registry=REGISTRY)
    assert result.nodes["concat"].status == "skipped"
    assert result.outputs == {}


async def test_error_branch_fires_the_error_port_instead_of_failing_the_run():
    spec = make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "kaput"}),
                      "handler": ("io.output", {}), "normal": ("io.output", {})},
                     [("q", "value", "boom", "value"), ("boom", "error", "handler", "value"),
                      ("boom", "value", "normal", "value")])
    result = await run(spec, {"q": "x"}, registry=REGISTRY)
    assert result.status == "succeeded"
    assert result.nodes["boom"].status == "failed"
    assert result.nodes["boom"].error == {"type": "ValueError", "message": "kaput"}
    assert result.outputs["handler"] == {"node": "boom", "component": "demo.raise", "type": "ValueError",
                                         "message": "kaput", "attempts": 1}
    assert result.nodes["normal"].status == "skipped"


async def test_retry_then_success_reports_each_retry():
    spec = make_spec({"q": ("io.input", {}),
                      "flaky": ("demo.fail_n_times", {"failures": 2}, {"retries": 3, "retry_backoff_s": 0.01}),
                      "out": ("io.output", {})},
                     [("q", "value", "flaky", "value"), ("flaky", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    retries = [e for e in events if isinstance(e, NodeRetrying)]
    assert [r.attempt for r in retries] == [2, 3]
    assert [r.delay_s for r in retries] == [0.01, 0.02]  # exponential backoff
    assert retries[0].error.message == "attempt 1 failed on purpose"
    finished = next(e for e in events if isinstance(e, NodeFinished) and e.node_id == "flaky")
    assert finished.attempts == 3
    assert events[-1].outputs == {"out": "x (attempt 3)"}


async def test_retry_after_overrides_a_shorter_backoff():
    spec = make_spec({"q": ("io.input", {}),
                      "flaky": ("demo.fail_n_times", {"failures": 1, "retry_after": 0.2},
                                {"retries": 1, "retry_backoff_s": 0.01}),
                      "out": ("io.output", {})},
                     [("q", "value", "flaky", "value"), ("flaky", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    retry = next(e for e in events if isinstance(e, NodeRetrying))
    assert retry.delay_s == 0.2


async def test_retries_exhausted_fails_the_run_and_cancels_the_rest():
    spec = make_spec({"q": ("io.input", {}),
                      "flaky": ("demo.fail_n_times", {"failures": 5}, {"retries": 2, "retry_backoff_s": 0}),
                      "slow": ("demo.delay", {"seconds": 5}), "after": ("demo.echo", {}),
                      "out": ("io.output", {}), "out_slow": ("io.output", {})},
                     [("q", "value", "flaky", "value"), ("q", "value", "slow", "value"),
                      ("flaky", "value", "after", "value"), ("after", "value", "out", "value"),
                      ("slow", "value", "out_slow", "value")])
    started = time.perf_counter()
    events = await collect(spec, {"q": "x"})
    assert time.perf_counter() - started < 1.0, "the failure did not cancel the slow node"
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert (failed.node_id, failed.attempts, failed.handled) == ("flaky", 3, False)
    cancelled = {e.node_id: e for e in events if isinstance(e, NodeCancelled)}
    assert cancelled["slow"].started is True and cancelled["after"].started is False
    assert cancelled["slow"].reason == "node `flaky` failed"
    run_finished = events[-1]
    assert run_finished.status == "failed"
    assert run_finished.error.message == "Node `flaky` failed: attempt 3 failed on purpose"
    assert terminal_once(events) == {"q", "flaky", "slow", "after", "out", "out_slow"}


async def test_permanent_errors_are_not_retried():
    spec = make_spec({"q": ("io.input", {}),
                      "bad": ("demo.raise", {"permanent": True, "message": "bad key"}, {"retries": 5}),
                      "out": ("io.output", {})},
                     [("q", "value", "bad", "value"), ("bad", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    assert not [e for e in events if isinstance(e, NodeRetrying)]
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert (failed.attempts, failed.error.type, failed.error.message) == (1, "PermanentError", "bad key")


async def test_timeout_fails_the_attempt_with_a_clear_message():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 2}, {"timeout_s": 0.05}),
                      "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("slow", "value", "out", "value")])
    started = time.perf_counter()
    result = await run(spec, {"q": "x"}, registry=REGISTRY)
    assert time.perf_counter() - started < 0.5
    assert result.status == "failed"
    assert result.nodes["slow"].error == {"type": "TimeoutError",
                                          "message": "timed out after 0.05 s (policy.timeout_s)"}


async def test_on_error_continue_skips_dependents_and_lets_the_rest_finish():
    spec = make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {}, {"on_error": "continue"}),
                      "after": ("demo.echo", {}), "other": ("demo.delay", {"seconds": 0.05}),
                      "out": ("io.output", {}), "out_other": ("io.output", {})},
                     [("q", "value", "boom", "value"), ("boom", "value", "after", "value"),
                      ("after", "value", "out", "value"), ("q", "value", "other", "value"),
                      ("other", "value", "out_other", "value")])
    events = await collect(spec, {"q": "x"})
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert failed.handled is True
    result = await run(spec, {"q": "x"}, registry=REGISTRY)
    assert result.status == "succeeded"
    assert statuses(result) == {"q": "succeeded", "boom": "failed", "after": "skipped", "out": "skipped",
                                "other": "succeeded", "out_other": "succeeded"}
    assert result.nodes["after"].skip_reason == "no upstream value arrived (upstream `boom` failed)"
    assert result.outputs == {"out_other": "x"}


async def test_cancellation_reports_in_flight_nodes_within_a_second():
    spec = make_spec({"q": ("io.input", {}), "slow1": ("demo.delay", {"seconds": 30}),
                      "slow2": ("demo.delay", {"seconds": 30}), "after": ("demo.echo", {}),
                      "out": ("io.output", {})},
                     [("q", "value", "slow1", "value"), ("q", "value", "slow2", "value"),
                      ("slow1", "value", "after", "value"), ("after", "value", "out", "value")])
    execution = execute(spec, {"q": "x"}, registry=REGISTRY)
    events = []
    async with execution:
        async for event in execution:
            events.append(event)
            if isinstance(event, NodeStarted) and event.node_id == "slow2":
                await asyncio.sleep(0.05)
                cancelled_at = time.perf_counter()
                execution.cancel()
    assert time.perf_counter() - cancelled_at < 1.0
    cancelled = {e.node_id: e.started for e in events if isinstance(e, NodeCancelled)}
    assert cancelled == {"slow1": True, "slow2": True, "after": False, "out": False}
    assert events[-1].status == "cancelled"
    assert terminal_once(events) == {"q", "slow1", "slow2", "after", "out"}


async def test_cache_hit_on_rerun_skips_the_work():
    samples.CALLS.clear()
    cache = MemoryCache()
    spec = make_spec({"q": ("io.input", {}), "count": ("demo.counter", {"key": "k"}),
                      "echo": ("demo.echo", {"prefix": "e:"}, {"cache": True}), "out": ("io.output", {})},
                     [("q", "value", "count", "value"), ("count", "value", "echo", "value"),
                      ("echo", "value", "out", "value")])
    first = await collect(spec, {"q": "x"}, cache=cache)
    second = await collect(spec, {"q": "x"}, cache=cache)
    third = await collect(spec, {"q": "y"}, cache=cache)
    assert samples.CALLS["k"] == 2  # the repeat was served from the cache, the new input was not
    assert ("node_cached", "count") in trace(second) and ("node_cached", "echo") in trace(second)
    assert ("node_started", "count") not in trace(second)
    assert second[-1].outputs == first[-1].outputs == {"out": "e:x"}
    assert ("node_cached", "count") not in trace(third) and third[-1].outputs == {"out": "e:y"}


async def test_fan_in_list_collects_values_in_edge_order_not_arrival_order():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 0.05}),
                      "fast": ("demo.echo", {"prefix": "fast:"}), "route": ("demo.router", {"routes": ["a", "b"]}),
                      "concat": ("demo.concat", {}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "fast", "value"),
                      ("q", "value", "route", "value"),
                      ("slow", "value", "concat", "values"), ("route", "b", "concat", "values"),
                      ("fast", "value", "concat", "values"), ("concat", "value", "out", "value")])
    result = await run(spec, {"q": "a"}, registry=REGISTRY)
    assert result.outputs == {"out": "a|fast:a"}  # slow first (edge order); route.b did not fire


async def test_streamed_chunks_arrive_between_start_and_finish():
    spec = make_spec({"q": ("io.input", {}), "s": ("demo.stream", {"words": 3}), "out": ("io.output", {})},
                     [("q", "value", "s", "value"), ("s", "value", "out", "value")])
    events = await collect(spec, {"q": "w"})
    kinds = [e.kind for e in events if getattr(e, "node_id", None) == "s"]
    assert kinds == ["node_started", "node_chunk", "node_chunk", "node_chunk", "node_finished"]
    assert [e.text for e in events if isinstance(e, NodeChunk)] == ["w-0 ", "w-1 ", "w-2 "]


async def test_a_run_that_returns_the_wrong_type_fails_naming_node_and_model():
    spec = make_spec({"q": ("io.input", {}), "bad": ("demo.bad_return", {}, {"retries": 3}),
                      "out": ("io.output", {})},
                     [("q", "value", "bad", "value"), ("bad", "value", "out", "value")])
    result = await run(spec, {"q": "x"}, registry=REGISTRY)
    assert result.nodes["bad"].attempts == 1  # a contract bug is not retried
    assert result.nodes["bad"].error == {
        "type": "NodeOutputTypeError",
        "message": "Node `bad` (`demo.bad_return`): `run` must return TextValue, but it returned dict: "
                   "{'value': 'x'}."}


async def test_a_json_input_is_checked_against_the_port_it_feeds():
    spec = make_spec({"q": ("io.input", {"type": "json"}), "echo": ("demo.echo", {}), "out": ("io.output", {})},
                     [("q", "value", "echo", "value"), ("echo", "value", "out", "value")])
    ok = await run(spec, {"q": "text"}, registry=REGISTRY)
    assert ok.outputs == {"out": "text"}
    bad = await run(spec, {"q": 42}, registry=REGISTRY)
    assert bad.nodes["echo"].error == {"type": "InputTypeError",
                                       "message": "input `value` expects str, but received int 42"}


async def test_run_started_lists_every_node_and_the_inputs():
    spec = make_spec({"q": ("io.input", {"name": "query"}), "out": ("io.output", {})},
                     [("q", "value", "out", "value")])
    events = await collect(spec, {"query": "x"})
    assert isinstance(events[0], RunStarted)
    assert events[0].node_ids == ["q", "out"] and events[0].inputs == {"query": "x"}


@pytest.mark.parametrize("max_concurrency, minimum", [(None, 0.0), (2, 0.2)])
async def test_max_concurrency_is_explicit_and_unlimited_by_default(max_concurrency, minimum):
    started = time.perf_counter()
    result = await run(fan_out_spec(8, 0.05), {"query": "x"}, registry=REGISTRY, max_concurrency=max_concurrency)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded"
    assert elapsed >= minimum
    if max_concurrency is None:
        assert elapsed < 0.15


async def test_a_list_into_a_list_of_any_is_one_item_per_edge():
    """`list[T]` fan-in: a source assignable to `T` adds one item, even when it is itself a list."""
    spec = make_spec({"l1": ("demo.list_source", {}), "l2": ("demo.list_source", {}),
                      "one": ("demo.count_items", {}), "two": ("demo.count_items", {}),
                      "out1": ("io.output", {}), "out2": ("io.output", {})},
                     [("l1", "items", "one", "values"), ("l1", "items", "two", "values"),
                      ("l2", "items", "two", "values"), ("one", "count", "out1", "value"),
                      ("two", "count", "out2", "value")])
    result = await run(spec, {}, registry=REGISTRY)
    assert result.outputs == {"out1": 1, "out2": 2}  # lists stay whole: one item per edge


async def test_lists_of_items_fan_in_to_one_flat_list_in_edge_order():
    spec = make_spec({"l1": ("demo.list_source", {"items": ["a", "b"]}), "c": ("demo.constant", {"value": "c"}),
                      "l2": ("demo.list_source", {"items": ["d"]}), "concat": ("demo.concat", {}),
                      "solo": ("demo.concat", {}), "out": ("io.output", {}), "out_solo": ("io.output", {})},
                     [("l1", "items", "concat", "values"), ("c", "value", "concat", "values"),
                      ("l2", "items", "concat", "values"), ("l1", "items", "solo", "values"),
                      ("concat", "value", "out", "value"), ("solo", "value", "out_solo", "value")])
    result = await run(spec, {}, registry=REGISTRY)
    assert result.outputs == {"out": "a|b|c|d", "out_solo": "a|b"}
