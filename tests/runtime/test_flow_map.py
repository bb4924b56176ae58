"""`flow.map` and `flow.subflow` at run time: order, the concurrency cap, item errors, nesting, cancel, cache, paths."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import api
from runtime.cache import MemoryCache
from runtime.results import ResultCollector
from runtime.testing.components import CALLS
from runtime.testing.flows import PROBES, flow_registry, sub_spec, with_subflows


@pytest.fixture
def registry():
    return flow_registry()


def inner(name: str, step: tuple) -> dict:
    return sub_spec(name, {"doc": ("io.input", {}), "topic": ("io.input", {"default": ""}), "work": step,
                           "tag": ("demo.echo", {"prefix": "s:"}), "summary": ("io.output", {})},
                    [("doc.value", "work.value"), ("work.value", "tag.value"), ("tag.value", "summary.value")])


def mapped(sub: dict, **params) -> object:
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                             "m": ("flow.map", {"subflow": "each", "over": "doc", **params}),
                             "out": ("io.output", {}), "errors": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value"), ("m.errors", "errors.value")])
    return with_subflows(main, each=sub)


async def run(spec, registry, inputs, **kw):
    collector = ResultCollector()
    events = []
    execution = api.execute(api.compile(spec, registry), inputs, **kw)
    await execution.consume(collector, events.append)
    return collector.result, events


async def test_outputs_keep_item_order_under_random_latencies(registry):
    docs = [f"d{i}" for i in range(40)]
    result, _ = await run(mapped(inner("each", ("demo.random_delay", {"max_seconds": 0.03})), concurrency=10),
                          registry, {"docs": docs})
    assert result.status == "succeeded"
    assert result.outputs["out"] == [f"s:d{i}" for i in range(40)]
    assert result.outputs["errors"] == []


async def test_concurrency_cap_is_reached_and_never_exceeded(registry):
    PROBES.clear()
    result, events = await run(mapped(inner("each", ("demo.probe", {"key": "cap", "seconds": 0.02})), concurrency=5),
                               registry, {"docs": [str(i) for i in range(30)]})
    assert result.status == "succeeded"
    assert PROBES["cap"].runs == 30
    assert PROBES["cap"].peak == 5
    finished = next(e for e in events if e.kind == "node_finished" and e.node_id == "m")
    assert finished.trace["items"] == {"total": 30, "done": 30, "failed": 0}


async def test_default_concurrency_is_eight(registry):
    PROBES.clear()
    await run(mapped(inner("each", ("demo.probe", {"key": "eight", "seconds": 0.02}))), registry,
              {"docs": [str(i) for i in range(20)]})
    assert PROBES["eight"].peak == 8


async def test_on_item_error_fail_fails_the_node_naming_the_item(registry):
    result, events = await run(mapped(inner("each", ("demo.fail_on", {"value": "bad"}))), registry,
                               {"docs": ["a", "bad", "c"]})
    assert result.status == "failed"
    assert result.nodes["m"].error == {
        "type": "SubflowFailed", "message": "item 1 failed at `work`: ValueError: refusing 'bad'"}
    assert any(e.kind == "node_failed" and e.node_path == ["m", 1, "work"] for e in events)


async def test_on_item_error_skip_leaves_the_item_out(registry):
    result, events = await run(mapped(inner("each", ("demo.fail_on", {"value": "bad"})), on_item_error="skip"),
                               registry, {"docs": ["a", "bad", "c"]})
    assert result.status == "succeeded"
    assert result.outputs["out"] == ["s:a", "s:c"]
    assert result.outputs["errors"] == [{"index": 1, "node": "work", "type": "ValueError",
                                         "message": "refusing 'bad'"}]
    finished = next(e for e in events if e.kind == "node_finished" and e.node_id == "m")
    assert finished.trace["items"] == {"total": 3, "done": 2, "failed": 1}


async def test_on_item_error_null_puts_none_in_its_place(registry):
    result, _ = await run(mapped(inner("each", ("demo.fail_on", {"value": "bad"})), on_item_error="null"),
                          registry, {"docs": ["a", "bad", "c"]})
    assert result.outputs["out"] == ["s:a", None, "s:c"]
    assert [e["index"] for e in result.outputs["errors"]] == [1]


async def test_empty_list_gives_empty_lists(registry):
    result, events = await run(mapped(inner("each", ("demo.echo", {}))), registry, {"docs": []})
    assert result.status == "succeeded"
    assert result.outputs == {"out": [], "errors": []}
    assert not [e for e in events if getattr(e, "node_path", None)]


async def test_nested_map_and_paths(registry):
    leaf = inner("leaf", ("demo.echo", {"prefix": "+"}))
    middle = sub_spec("middle", {"doc": ("io.input", {"type": "json"}),
                                 "m2": ("flow.map", {"subflow": "leaf", "over": "doc", "concurrency": 2}),
                                 "summary": ("io.output", {})},
                      [("doc.value", "m2.items"), ("m2.summary", "summary.value")])
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                             "m": ("flow.map", {"subflow": "middle", "over": "doc"}), "out": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value")])
    result, events = await run(with_subflows(main, middle=middle, leaf=leaf), registry,
                               {"docs": [["a", "b"], [], ["c"]]})
    assert result.status == "succeeded"
    assert result.outputs["out"] == [["s:+a", "s:+b"], [], ["s:+c"]]
    paths = {tuple(e.node_path) for e in events if e.kind == "node_finished" and e.node_path}
    assert ("m", 0, "m2", 1, "work") in paths and ("m", 2, "m2", 0, "tag") in paths
    one = next(e for e in events if getattr(e, "node_path", None) == ["m", 0, "m2", 1, "work"])
    assert one.node_id == "m/0/m2/1/work" and one.run_id == result.run_id
    assert set(result.nodes) == {"docs", "m", "out"}  # the result keeps no per-item history


async def test_events_of_item_inner_nodes_carry_paths(registry):
    result, events = await run(mapped(inner("each", ("demo.echo", {}))), registry, {"docs": ["a", "b", "c", "d"]})
    started = [e.node_path for e in events if e.kind == "node_started" and e.node_path and e.node_path[2] == "tag"]
    assert sorted(started) == [["m", i, "tag"] for i in range(4)]
    assert all(e.run_id == result.run_id for e in events if hasattr(e, "run_id"))
    assert not [e for e in events if e.kind in ("run_started", "run_finished") and e is not events[0]
                and e is not events[-1]]


async def test_cancelling_mid_map_cancels_every_item_within_a_second(registry):
    PROBES.clear()
    spec = mapped(inner("each", ("demo.probe", {"key": "cancel", "seconds": 30})), concurrency=20)
    execution = api.execute(api.compile(spec, registry), {"docs": [str(i) for i in range(100)]})
    collector = ResultCollector()
    task = asyncio.create_task(execution.consume(collector))
    while PROBES.get("cancel") is None or PROBES["cancel"].in_flight < 20:
        await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    execution.cancel()
    await asyncio.wait_for(task, 5)
    for _ in range(100):
        if PROBES["cancel"].in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert PROBES["cancel"].in_flight == 0
    assert time.perf_counter() - t0 < 1.0
    assert collector.result.status == "cancelled"
    assert PROBES["cancel"].runs == 20  # no item started after the cancel


async def test_cache_hits_inside_subflows(registry):
    sub = inner("each", ("demo.counter", {"key": "flow-cache"}))
    cache = MemoryCache()
    CALLS.pop("flow-cache", None)
    first, _ = await run(mapped(sub), registry, {"docs": ["a", "b"]}, cache=cache)
    second, events = await run(mapped(sub), registry, {"docs": ["a", "b", "c"]}, cache=cache)
    assert second.outputs["out"] == ["s:a", "s:b", "s:c"]
    assert CALLS["flow-cache"] == 3
    cached = sorted(e.node_path for e in events if e.kind == "node_cached")
    assert cached == [["m", 0, "work"], ["m", 1, "work"]]


async def test_flow_node_cache_key_includes_the_subflows_content(registry):
    from runtime.cache import cache_key

    one = api.compile(mapped(inner("each", ("demo.echo", {"prefix": "1"}))), registry)
    two = api.compile(mapped(inner("each", ("demo.echo", {"prefix": "2"}))), registry)
    m1, m2 = one.nodes[one.by_id["m"]], two.nodes[two.by_id["m"]]
    assert m1.params == m2.params and m1.cache_salt != m2.cache_salt
    key = lambda n: cache_key(n.component_id, n.version, n.params, {"items": ["a"]}, n.cache_salt)  # noqa: E731
    assert key(m1) != key(m2)


async def test_flow_subflow_runs_once_and_fires_what_fired(registry):
    sub = inner("one", ("demo.echo", {"prefix": "!"}))
    main = sub_spec("main", {"q": ("io.input", {}), "s": ("flow.subflow", {"subflow": "one"}),
                             "out": ("io.output", {})}, [("q.value", "s.doc"), ("s.summary", "out.value")])
    result, events = await run(with_subflows(main, one=sub), registry, {"q": "x"})
    assert result.outputs == {"out": "s:!x"}
    assert any(e.node_path == ["s", 0, "work"] for e in events if e.kind == "node_finished")


async def test_retry_policies_work_inside_subflows(registry):
    retried = inner("each", ("demo.fail_n_times", {"failures": 1}, {"retries": 1, "retry_backoff_s": 0}))
    result, events = await run(mapped(retried), registry, {"docs": ["a"]})
    assert result.status == "succeeded", result.error
    assert result.outputs["out"] == ["s:a (attempt 2)"]
    assert any(e.kind == "node_retrying" and e.node_path == ["m", 0, "work"] for e in events)
