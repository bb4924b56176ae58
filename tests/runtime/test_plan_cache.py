"""`run(spec)` reuses the compiled plan of the same spec content; anything else compiles anew."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from runtime import Component, InvalidSpec, RunContext, component, execute, run
from runtime import plan_cache as plan_cache_module
from runtime.plan_cache import PlanCache, plan_cache
from runtime.registry import Registry
from runtime.spec import NodePolicy
from runtime.testing import components as samples
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.specs import chain_spec, make_spec

REGISTRY = sample_registry()


@pytest.fixture
def compiles(monkeypatch):
    """Counts how often the plan cache validates and compiles; starts from an empty cache."""
    calls = []
    real = plan_cache_module.compile_plan

    def counting(spec, registry):
        calls.append(spec.name)
        return real(spec, registry)

    monkeypatch.setattr(plan_cache_module, "compile_plan", counting)
    plan_cache().clear()
    yield calls
    plan_cache().clear()


def echo_spec(prefix: str = "a:", name: str = "cached"):
    return make_spec({"q": ("io.input", {}), "e": ("demo.echo", {"prefix": prefix}), "out": ("io.output", {})},
                     [("q", "value", "e", "value"), ("e", "value", "out", "value")], name=name)


async def test_the_same_content_reuses_one_plan(compiles):
    first, second = echo_spec(), echo_spec()  # two objects, one content
    a = execute(first, {"q": "x"}, registry=REGISTRY)
    b = execute(second, {"q": "x"}, registry=REGISTRY)
    assert a.plan is b.plan
    assert compiles == ["cached"]
    assert (await run(second, {"q": "y"}, registry=REGISTRY)).outputs == {"out": "a:y"}
    assert compiles == ["cached"]


async def test_changed_content_compiles_a_new_plan(compiles):
    a = execute(echo_spec("a:"), {"q": "x"}, registry=REGISTRY)
    b = execute(echo_spec("b:"), {"q": "x"}, registry=REGISTRY)
    assert a.plan is not b.plan
    assert len(compiles) == 2
    assert (await run(echo_spec("b:"), {"q": "x"}, registry=REGISTRY)).outputs == {"out": "b:x"}


async def test_mutating_a_spec_after_its_run_neither_reuses_nor_changes_the_cached_plan(compiles):
    spec = echo_spec("a:")
    assert (await run(spec, {"q": "x"}, registry=REGISTRY)).outputs == {"out": "a:x"}
    spec.nodes[1].params["prefix"] = "changed:"
    assert (await run(spec, {"q": "x"}, registry=REGISTRY)).outputs == {"out": "changed:x"}
    spec.nodes[1].params["prefix"] = "a:"
    spec.nodes.append(spec.nodes[1].model_copy(update={"id": "extra"}))
    spec.edges.append(spec.edges[0].model_copy(update={"target": spec.edges[0].target.model_copy(
        update={"node": "extra"})}))
    assert set((await run(spec, {"q": "x"}, registry=REGISTRY)).nodes) == {"q", "e", "out", "extra"}
    untouched = await run(echo_spec("a:"), {"q": "x"}, registry=REGISTRY)
    assert untouched.outputs == {"out": "a:x"} and set(untouched.nodes) == {"q", "e", "out"}
    assert len(compiles) == 3  # "a:", "changed:", "a:" plus a node; the untouched content was reused


async def test_a_cached_plan_keeps_its_own_copy_of_the_spec(compiles):
    spec = echo_spec()
    plan = execute(spec, {"q": "x"}, registry=REGISTRY).plan
    assert plan.spec == spec and plan.spec is not spec
    spec.name = "renamed"
    assert plan.spec.name == "cached"


async def test_another_registry_or_a_component_added_later_compiles_a_new_plan(compiles):
    other = sample_registry()
    a = execute(echo_spec(), {"q": "x"}, registry=REGISTRY).plan
    b = execute(echo_spec(), {"q": "x"}, registry=other).plan
    assert a is not b and a.nodes[1].component is not b.nodes[1].component
    assert execute(echo_spec(), {"q": "x"}, registry=other).plan is b
    generation = other.generation
    other.add(samples.Echo)  # already there: nothing changes
    assert other.generation == generation
    assert execute(echo_spec(), {"q": "x"}, registry=other).plan is b
    registry = Registry([info.cls for info in REGISTRY])  # the same classes; then one removed and re-added
    first = execute(echo_spec(), {"q": "x"}, registry=registry).plan
    del registry._by_key[samples.Counter.info.key]
    registry.add(samples.Counter)
    assert execute(echo_spec(), {"q": "x"}, registry=registry).plan is not first
    assert len(compiles) == 4


async def test_an_invalid_spec_is_reported_every_time_and_never_cached(compiles):
    bad = make_spec({"e": ("demo.nope", {})}, [])
    for _ in range(2):
        with pytest.raises(InvalidSpec, match="Unknown component `demo.nope`"):
            execute(bad, {}, registry=REGISTRY)
    assert len(compiles) == 2 and len(plan_cache()) == 0


class HoldParams(BaseModel):
    value: Any = None


@component(id="test.hold", version=1, title="Hold", category="Testing")
class Hold(Component):
    """Return the repr of its param (a param of any type)."""

    params: HoldParams

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        return TextValue(value=repr(self.params.value))


async def test_a_spec_json_cannot_hold_faithfully_is_run_as_it_is_uncached(compiles):
    registry = Registry([*(info.cls for info in REGISTRY), Hold])

    def hold(value):
        return make_spec({"q": ("io.input", {}), "h": ("test.hold", {"value": value}), "out": ("io.output", {})},
                         [("q", "value", "h", "value"), ("h", "value", "out", "value")])

    for value in ((1, 2), b"\xff"):  # JSON would make the tuple a list; it cannot hold the bytes at all
        for _ in range(2):
            assert (await run(hold(value), {"q": "x"}, registry=registry)).outputs == {"out": repr(value)}
    endless = echo_spec()
    endless.nodes[1].policy = NodePolicy(timeout_s=float("inf"))  # JSON would say null: no policy limit
    assert execute(endless, {"q": "x"}, registry=REGISTRY).plan.nodes[1].policy.timeout_s == float("inf")
    assert len(compiles) == 5 and len(plan_cache()) == 0
    assert (await run(hold([1, 2]), {"q": "x"}, registry=registry)).outputs == {"out": "[1, 2]"}
    assert len(plan_cache()) == 1  # JSON holds a list as it is


def test_the_cache_is_bounded_and_keeps_the_most_recently_used():
    cache = PlanCache(max_plans=2)
    a, b, c = (chain_spec(n) for n in (1, 2, 3))
    plan_a = cache.plan(a, REGISTRY)
    cache.plan(b, REGISTRY)
    assert cache.plan(a, REGISTRY) is plan_a  # a is now the most recent
    cache.plan(c, REGISTRY)  # evicts b
    assert len(cache) == 2
    assert cache.plan(a, REGISTRY) is plan_a
    assert cache.plan(b, REGISTRY) is not None and len(cache) == 2
    assert cache.plan(c, REGISTRY) is not None
    assert cache.plan(a, REGISTRY) is not plan_a  # evicted by b, then c
