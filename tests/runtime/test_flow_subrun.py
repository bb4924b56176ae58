"""Sub-runs: inner events reach only consumers that look inside; items run in the map's worker tasks."""

from __future__ import annotations

import time

import pytest

from runtime import api
from runtime.events import EventFold
from runtime.progress import ProgressLines
from runtime.results import ResultCollector
from runtime.testing.flows import flow_registry, sub_spec, with_subflows


@pytest.fixture
def registry():
    return flow_registry()


def inner(name: str, step: tuple) -> dict:
    return sub_spec(name, {"doc": ("io.input", {}), "work": step, "tag": ("demo.echo", {"prefix": "s:"}),
                           "summary": ("io.output", {})},
                    [("doc.value", "work.value"), ("work.value", "tag.value"), ("tag.value", "summary.value")])


def mapped(sub: dict, policy: dict | None = None, **params) -> object:
    node: tuple = ("flow.map", {"subflow": "each", "over": "doc", **params}, *([policy] if policy else []))
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}), "m": node,
                             "out": ("io.output", {}), "errors": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value"), ("m.errors", "errors.value")])
    return with_subflows(main, each=sub)


class TopLevelOnly:
    """A consumer that says it does not look inside flow nodes."""

    wants_inner_events = False

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)


async def consume(spec, registry, inputs, *consumers):
    collector = ResultCollector()
    await api.execute(api.compile(spec, registry), inputs).consume(collector, *consumers)
    return collector.result


def test_folds_want_inner_events_only_when_they_override_inner_event():
    class Looking(ResultCollector):
        def inner_event(self, event) -> None:
            return None

    class Declared(ResultCollector):
        wants_inner_events = True

    assert ResultCollector.wants_inner_events is False
    assert ProgressLines.wants_inner_events is True and Looking.wants_inner_events is True
    assert Declared.wants_inner_events is True and EventFold.wants_inner_events is False


async def test_consumers_that_ignore_inner_events_get_none_and_the_same_results(registry):
    spec = mapped(inner("each", ("demo.fail_on", {"value": "bad"})), on_item_error="skip")
    quiet = TopLevelOnly()
    result = await consume(spec, registry, {"docs": ["a", "bad", "c"]}, quiet)
    assert [e for e in quiet.events if getattr(e, "node_path", None) is not None] == []
    assert {e.node_id for e in quiet.events if hasattr(e, "node_id")} == {"docs", "m", "out", "errors"}
    assert result.outputs["out"] == ["s:a", "s:c"]
    assert result.outputs["errors"] == [{"index": 1, "node": "work", "type": "ValueError",
                                         "message": "refusing 'bad'"}]
    listening: list = []
    await consume(spec, registry, {"docs": ["a", "bad", "c"]}, quiet, listening.append)  # one consumer looks
    assert any(e.node_path == ["m", 1, "work"] for e in listening if getattr(e, "node_path", None))


async def test_a_failure_deep_inside_nested_maps_is_named_by_its_path_when_nothing_looks_inside(registry):
    leaf = inner("leaf", ("demo.fail_on", {"value": "b"}))
    middle = sub_spec("middle", {"doc": ("io.input", {"type": "json"}),
                                 "m2": ("flow.map", {"subflow": "leaf", "over": "doc"}), "summary": ("io.output", {})},
                      [("doc.value", "m2.items"), ("m2.summary", "summary.value")])
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                             "m": ("flow.map", {"subflow": "middle", "over": "doc", "on_item_error": "null"}),
                             "out": ("io.output", {}), "errors": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value"), ("m.errors", "errors.value")])
    spec = with_subflows(main, middle=middle, leaf=leaf)
    expected = [{"index": 0, "node": "m2/1/work", "type": "ValueError", "message": "refusing 'b'"}]
    quiet = await api.run(spec, {"docs": [["a", "b"], ["c"]]}, registry=registry)
    assert quiet.outputs == {"out": [None, ["s:c"]], "errors": expected}
    listening = await consume(spec, registry, {"docs": [["a", "b"], ["c"]]}, [].append)
    assert listening.outputs == quiet.outputs


async def test_an_item_stopped_by_its_failing_branch_leaves_its_worker_running_the_next(registry):
    # `slow` is the first branch: it runs in the worker's own task; `check` fails beside it and stops the item
    branchy = sub_spec("each", {"doc": ("io.input", {}), "slow": ("demo.delay", {"seconds": 0.3}),
                                "check": ("demo.fail_on", {"value": "bad"}), "summary": ("io.output", {}),
                                "checked": ("io.output", {})},
                       [("doc.value", "slow.value"), ("doc.value", "check.value"), ("slow.value", "summary.value"),
                        ("check.value", "checked.value")])
    started = time.perf_counter()
    result = await api.run(mapped(branchy, on_item_error="skip", concurrency=1), {"docs": ["bad", "bad", "ok"]},
                           registry=registry)
    assert result.status == "succeeded", result.error
    assert result.outputs["out"] == ["ok"]
    assert [e["index"] for e in result.outputs["errors"]] == [0, 1]
    assert time.perf_counter() - started < 0.3 * 3  # the failed items did not wait for their slow branch


async def test_a_map_node_timeout_is_a_timeout_and_its_retry_runs(registry):
    spec = mapped(inner("each", ("demo.probe", {"key": "map-timeout", "seconds": 5})),
                  {"timeout_s": 0.2, "retries": 1, "retry_backoff_s": 0}, concurrency=4)
    started = time.perf_counter()
    events: list = []
    result = await consume(spec, registry, {"docs": ["a", "b", "c", "d", "e"]}, events.append)
    assert result.status == "failed"
    assert result.nodes["m"].attempts == 2
    assert result.nodes["m"].error["type"] == "TimeoutError"
    assert [e.attempt for e in events if e.kind == "node_retrying" and e.node_id == "m"] == [2]
    assert time.perf_counter() - started < 3.0


async def test_the_default_time_limit_stops_an_inner_node_running_in_the_workers_task(registry, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", "0.2")
    spec = mapped(inner("each", ("demo.probe", {"key": "inner-deadline", "seconds": 30})), on_item_error="skip",
                  concurrency=1)
    started = time.perf_counter()
    result = await api.run(spec, {"docs": ["a", "b"]}, registry=registry)
    assert result.status == "succeeded", result.error
    assert [(e["index"], e["node"], e["type"]) for e in result.outputs["errors"]] == [
        (0, "work", "TimeoutError"), (1, "work", "TimeoutError")]
    assert time.perf_counter() - started < 0.2 * 2 + 2.0  # one limit per item, each in turn


async def test_the_default_time_limit_stops_hanging_items_started_at_different_times_and_in_nested_maps(
        registry, monkeypatch):
    """Sub-runs share their run's one deadline timer (no timer per item): each hanging attempt is still stopped
    one limit after it started, whenever its item started and however deep its map sits."""
    from runtime.testing.flows import SLOW_RUNS

    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", "0.3")
    SLOW_RUNS.pop("staggered", None)
    step = ("demo.slow_first_runs", {"key": "staggered", "slow_runs": 3, "seconds": 30})
    spec = mapped(inner("each", step), on_item_error="null", concurrency=2)
    started = time.perf_counter()
    result = await api.run(spec, {"docs": ["a", "b", "c", "d", "e"]}, registry=registry)
    assert result.status == "succeeded", result.error
    assert [(e["index"], e["type"]) for e in result.outputs["errors"]] == [(0, "TimeoutError"), (1, "TimeoutError"),
                                                                          (2, "TimeoutError")]
    assert result.outputs["out"] == [None, None, None, "s:d", "s:e"]
    assert time.perf_counter() - started < 0.3 * 2 + 3.0  # items 0-1 together, then 2 beside 3 and 4

    SLOW_RUNS.pop("deep", None)
    leaf = inner("leaf", ("demo.slow_first_runs", {"key": "deep", "slow_runs": 1, "seconds": 30}))
    middle = sub_spec("middle", {"doc": ("io.input", {"type": "json"}),
                                 "m2": ("flow.map", {"subflow": "leaf", "over": "doc", "on_item_error": "null"}),
                                 "summary": ("io.output", {})}, [("doc.value", "m2.items"), ("m2.summary", "summary.value")])
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                             "m": ("flow.map", {"subflow": "middle", "over": "doc"}), "out": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value")])
    nested = await api.run(with_subflows(main, middle=middle, leaf=leaf), {"docs": [["a"], ["b"]]},
                           registry=registry)
    assert nested.status == "succeeded", nested.error
    assert nested.outputs["out"] in ([[None], ["s:b"]], [["s:a"], [None]])  # whichever leaf ran first hung


async def test_a_sub_runs_deadline_has_no_timer_of_its_own_and_is_let_go_when_it_ends():
    import asyncio

    from runtime.deadlines import DefaultDeadline

    async def hang() -> None:
        await asyncio.sleep(30)

    root = DefaultDeadline(0.05, {})
    task = asyncio.create_task(hang())
    child = DefaultDeadline(0.05, {0: task}, root)
    child.watch(0, time.perf_counter())
    assert root._timer is not None and root._adopted == {child}  # the run's timer, armed for the sub-run
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert child.finish(0) is True and task.cancelled()  # stopped by the run's timer, as its own would have
    done = DefaultDeadline(0.05, {}, root)
    done.watch(1, time.perf_counter())
    done.finish(1)
    done.close()
    assert done not in root._adopted
    root.close()
    assert root._timer is None
