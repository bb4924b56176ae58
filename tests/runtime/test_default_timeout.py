"""The default time limit per attempt (`PATCHWIRE_DEFAULT_TIMEOUT_S`) for nodes without `policy.timeout_s`."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import Component, NodeFailed, NodeRetrying, RunContext, component, execute, run
from runtime.registry import Registry
from runtime.settings import default_timeout_s
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.events import collect, terminal_once
from runtime.testing.specs import make_spec

MESSAGE = ("timed out after 0.2 s (default timeout; set policy.timeout_s to give this node more time, "
           "or PATCHWIRE_DEFAULT_TIMEOUT_S for every node)")


@component(id="test.slow_first", version=1, title="Slow first", category="Testing")
class SlowFirst(Component):
    """Hang on the first attempt, answer at once on the next."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        if ctx.attempt == 1:
            await asyncio.sleep(30)
        return TextValue(value=f"attempt {ctx.attempt}: {inputs.value}")


@component(id="test.masks_cancel", version=1, title="Masks cancellation", category="Testing")
class MasksCancel(Component):
    """Turn being cancelled into an error of its own, as some client libraries do."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("connection closed") from None
        return inputs


REGISTRY = Registry([*(info.cls for info in sample_registry()), SlowFirst, MasksCancel])


def one_node(component_id: str, params: dict | None = None, policy: dict | None = None):
    node = (component_id, params or {}, policy) if policy else (component_id, params or {})
    return make_spec({"q": ("io.input", {}), "n": node, "out": ("io.output", {})},
                     [("q", "value", "n", "value"), ("n", "value", "out", "value")])


@pytest.fixture
def short_default(monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", "0.2")


async def test_a_node_without_a_policy_limit_fails_after_the_default(short_default):
    started = time.perf_counter()
    result = await run(one_node("demo.delay", {"seconds": 30}), {"q": "x"}, registry=REGISTRY)
    assert time.perf_counter() - started < 5
    assert result.status == "failed"
    assert result.nodes["n"].error == {"type": "TimeoutError", "message": MESSAGE}
    assert result.error["message"] == f"Node `n` failed: {MESSAGE}"


async def test_a_default_timeout_is_retried_like_any_timeout(short_default):
    spec = one_node("test.slow_first", policy={"retries": 1, "retry_backoff_s": 0})
    events = await collect(spec, {"q": "x"}, registry=REGISTRY)
    retry = next(e for e in events if isinstance(e, NodeRetrying))
    assert (retry.node_id, retry.attempt, retry.error.type, retry.error.message) == ("n", 2, "TimeoutError", MESSAGE)
    assert events[-1].status == "succeeded" and events[-1].outputs == {"out": "attempt 2: x"}


async def test_a_component_that_turns_the_cancellation_into_its_own_error_still_reports_the_timeout(short_default):
    result = await run(one_node("test.masks_cancel"), {"q": "x"}, registry=REGISTRY)
    assert result.nodes["n"].error == {"type": "TimeoutError", "message": MESSAGE}


async def test_policy_timeout_s_replaces_the_default(short_default):
    result = await run(one_node("demo.delay", {"seconds": 0.5}, {"timeout_s": 5}), {"q": "x"}, registry=REGISTRY)
    assert result.status == "succeeded"


async def test_only_the_slow_node_times_out_and_the_rest_of_the_run_goes_on(short_default):
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 30}, {"on_error": "continue"}),
                      "a": ("demo.echo", {"prefix": "a:"}), "b": ("demo.delay", {"seconds": 0.4}, {"timeout_s": 5}),
                      "out": ("io.output", {}), "late": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "a", "value"), ("a", "value", "b", "value"),
                      ("b", "value", "out", "value"), ("slow", "value", "late", "value")])
    events = await collect(spec, {"q": "x"}, registry=REGISTRY)
    assert terminal_once(events) == {"q", "slow", "a", "b", "out", "late"}
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert (failed.node_id, failed.handled, failed.error.message) == ("slow", True, MESSAGE)
    assert events[-1].status == "succeeded" and events[-1].outputs == {"out": "a:x"}


@pytest.mark.parametrize("setting", ["0", "none", "None"])
async def test_the_default_can_be_turned_off(monkeypatch, setting):
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", setting)
    assert default_timeout_s() is None
    result = await run(one_node("demo.delay", {"seconds": 0.4}), {"q": "x"}, registry=REGISTRY)
    assert result.status == "succeeded"
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", "0.2")
    result = await run(one_node("demo.delay", {"seconds": 0.4}), {"q": "x"}, registry=REGISTRY)
    assert result.nodes["n"].error == {"type": "TimeoutError", "message": MESSAGE}


def test_the_default_is_300_s(monkeypatch):
    monkeypatch.delenv("PATCHWIRE_DEFAULT_TIMEOUT_S", raising=False)
    assert default_timeout_s() == 300
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", "12.5")
    assert default_timeout_s() == 12.5


@pytest.mark.parametrize("setting", ["soon", "-1", "nan"])
def test_a_malformed_setting_is_a_clear_error(monkeypatch, setting):
    monkeypatch.setenv("PATCHWIRE_DEFAULT_TIMEOUT_S", setting)
    with pytest.raises(ValueError, match=rf"PATCHWIRE_DEFAULT_TIMEOUT_S must be a number of seconds, `0` or `none` "
                                         rf"\(got '{setting}'\)\. Fix it, or unset it for the default of 300 s\."):
        execute(one_node("demo.echo"), {"q": "x"}, registry=REGISTRY)


async def test_a_finished_run_leaves_no_timer_behind(short_default):
    execution = execute(one_node("demo.echo"), {"q": "x"}, registry=REGISTRY)
    await execution.consume(lambda event: None)
    assert execution.status == "succeeded"
    assert execution._deadline is not None and execution._deadline._timer is None
    assert not execution._deadline.running and not execution._deadline.expired
