"""Run budgets: a run over `max_tokens`, `max_cost` or `max_latency_s` is stopped as failed, naming the budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from runtime import Component, RunContext, component, run
from runtime.budget import guard_for
from runtime.spec import PipelineSpec
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.specs import make_spec

ROOT = Path(__file__).parents[2]


class SpendParams(BaseModel):
    tokens: int = Field(default=10, description="Tokens the fake call used")
    cost_usd: float = Field(default=0.001, description="What it cost")


class Value(BaseModel):
    value: str = ""


class Spent(BaseModel):
    value: str = ""
    usage: dict[str, Any] | None = None


@component(id="test.spend", version=1, title="Spend", category="Test")
class Spend(Component):
    """Pretend to call a model: pass the value on and report usage."""

    params: SpendParams

    async def run(self, inputs: Value, ctx: RunContext) -> Spent:
        return Spent(value=inputs.value, usage={"prompt_tokens": 0, "completion_tokens": self.params.tokens,
                                                "total_tokens": self.params.tokens, "cost_usd": self.params.cost_usd})


def registry() -> Any:
    reg = sample_registry()
    reg.add(Spend)
    return reg


def spending_chain(budget: dict[str, Any] | None, n: int = 3) -> PipelineSpec:
    nodes: dict[str, tuple] = {"q": ("io.input", {})}
    edges, previous = [], "q"
    for i in range(n):
        nodes[f"m{i}"] = ("test.spend", {"tokens": 40, "cost_usd": 0.01})
        edges.append((previous, "value", f"m{i}", "value"))
        previous = f"m{i}"
    nodes["out"] = ("io.output", {})
    edges.append((previous, "value", "out", "value"))
    spec = make_spec(nodes, edges, name="spender")
    return PipelineSpec.model_validate({**spec.model_dump(), "budget": budget})


async def test_the_token_budget_stops_the_run_at_the_node_that_crossed_it() -> None:
    result = await run(spending_chain({"max_tokens": 100}), {"q": "x"}, registry=registry())
    assert result.status == "failed" and result.error is not None
    assert result.error["type"] == "BudgetExceeded"
    assert result.error["message"].startswith("Budget `max_tokens` exceeded: limit 100 tokens, used 120 after node "
                                              "`m2` (`test.spend`) finished.")
    assert result.nodes["m2"].status == "succeeded" and result.nodes["out"].status == "cancelled"


async def test_the_cost_budget_names_limit_and_spend() -> None:
    result = await run(spending_chain({"max_cost": 0.015}), {"q": "x"}, registry=registry())
    assert result.status == "failed"
    assert result.error["message"].startswith("Budget `max_cost` exceeded: limit $0.015, used $0.02 after node "
                                              "`m1` (`test.spend`) finished.")
    assert result.nodes["m2"].status == "cancelled"


async def test_a_run_within_its_budget_succeeds() -> None:
    result = await run(spending_chain({"max_tokens": 1000, "max_cost": 1, "max_latency_s": 60}), {"q": "x"},
                       registry=registry())
    assert result.status == "succeeded" and result.outputs == {"out": "x"}


async def test_the_latency_budget_stops_a_slow_node_while_it_runs() -> None:
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 30}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("slow", "value", "out", "value")])
    spec = PipelineSpec.model_validate({**spec.model_dump(), "budget": {"max_latency_s": 0.3}})
    t0 = time.monotonic()
    result = await run(spec, {"q": "x"}, registry=sample_registry())
    assert time.monotonic() - t0 < 10
    assert result.status == "failed"
    assert result.error["message"].startswith("Budget `max_latency_s` exceeded: limit 0.3 s, used 0.3 s; still "
                                              "running: `slow` (`demo.delay`).")
    assert result.nodes["slow"].status == "cancelled"


def test_no_budget_means_no_guard() -> None:
    from runtime import execute

    assert guard_for(execute(spending_chain(None), {"q": "x"}, registry=registry())) is None
    assert guard_for(execute(spending_chain({}), {"q": "x"}, registry=registry())) is None


def test_a_bad_budget_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="budget.max_tokens"):
        PipelineSpec.model_validate({"name": "x", "budget": {"max_tokens": 0}})
    with pytest.raises(ValidationError, match="budget.max_dollars"):
        PipelineSpec.model_validate({"name": "x", "budget": {"max_dollars": 1}})


def test_the_cli_exits_1_when_a_model_run_goes_over_its_token_budget(tmp_path: Path) -> None:
    with FakeOpenAI() as srv:
        spec = make_spec({"q": ("io.input", {}), "chat": ("llm.chat", {"model": "openai/gpt-4o-mini",
                                                                      "api_base": srv.base_url}),
                          "out": ("io.output", {})},
                         [("q", "value", "chat", "prompt"), ("chat", "text", "out", "value")], name="budgeted")
        document = {**json.loads(spec.model_dump_json()), "budget": {"max_tokens": 3}}
        path = tmp_path / "budgeted.json"
        path.write_text(json.dumps(document))
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "PATCHWIRE_MODEL_BASES": srv.base_url,
               "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(path), "--no-record", "--input",
                               "q=one two three four five", "--json"], capture_output=True, text=True, timeout=120,
                              env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "failed"
    assert out["nodes"]["chat"]["status"] == "succeeded" and out["nodes"]["out"]["status"] == "cancelled"
    assert "Budget `max_tokens` exceeded: limit 3 tokens, used" in out["error"]["message"]
    assert "node `chat` (`llm.chat`)" in out["error"]["message"]


async def test_every_node_gets_exactly_one_terminal_event_when_a_budget_stops_the_run() -> None:
    from runtime import execute
    from runtime.events import TERMINAL_NODE_EVENTS

    events: list[Any] = []
    execution = execute(spending_chain({"max_tokens": 50}), {"q": "x"}, registry=registry())
    await execution.consume(events.append, guard_for(execution))
    terminal = [e.node_id for e in events if isinstance(e, TERMINAL_NODE_EVENTS)]
    assert sorted(terminal) == sorted(["q", "m0", "m1", "m2", "out"])
    assert events[-1].kind == "run_finished" and events[-1].status == "failed"
    assert [e.kind for e in events if getattr(e, "node_id", None) == "m1"] == ["node_started", "node_finished"]
    assert "after node `m1`" in events[-1].error.message  # m1 crossed 50 tokens
