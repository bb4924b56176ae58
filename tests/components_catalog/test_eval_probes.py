"""`similar`, `llm_rubric` and `component` assertions: registered components run as recorded probe pipelines."""

from __future__ import annotations

import asyncio

import pytest

from runtime.eval.assertions import RunView
from runtime.eval.probes import Probe
from runtime.eval.suite import Assertion
from runtime.registry import default_registry
from runtime.results import NodeResult


@pytest.fixture(scope="module")
def registry():
    return default_registry()


RUN = RunView(status="succeeded", latency_ms=1.0, run_id="r", nodes={
    "answer": NodeResult(status="succeeded", outputs={"text": "Patchwire is a visual AI-pipeline orchestrator."}),
    "skipped": NodeResult(status="skipped", skip_reason="no input")})


def probe(registry, **fields):
    return Probe(Assertion(name="p", **fields), registry)


def run(p, expected, row=None):
    return asyncio.run(p.run(RUN, row or {}, expected, []))


def test_similar_passes_for_a_paraphrase_and_fails_for_an_unrelated_text(registry):
    p = probe(registry, type="similar", node="answer", port="text", threshold=0.6)
    outcome, run_id = run(p, "Patchwire orchestrates visual AI pipelines.")
    assert outcome.passed and run_id
    outcome, _ = run(p, "The weather in Lisbon is sunny today.")
    assert not outcome.passed
    assert outcome.message.startswith("similarity of `answer.text` to the expected text is ")
    assert outcome.message.endswith(", expected ≥ 0.6.")


def test_similar_on_a_skipped_node_fails_saying_so(registry):
    p = probe(registry, type="similar", node="skipped", port="value", value="x")
    outcome, run_id = run(p, "x")
    assert (outcome.passed, outcome.message, run_id) == (False, "`skipped` has no value to score: it skipped.", None)


def test_llm_rubric_uses_the_offline_judge_by_default(registry):
    p = probe(registry, type="llm_rubric", node="answer", port="text", rubric="Says what Patchwire is.",
              threshold=0.0)
    outcome, run_id = run(p, None)
    assert outcome.passed and run_id
    strict = probe(registry, type="llm_rubric", node="answer", port="text", rubric="Says what Patchwire is.",
                   threshold=1.01)
    outcome, _ = run(strict, None)
    assert not outcome.passed and outcome.message.startswith("rubric score of `answer.text` is ")


def test_component_assertion_runs_any_registered_component(registry):
    p = probe(registry, type="component", component="eval.score",
              params={"method": "keywords", "keywords": ["orchestrator", "graph"]}, inputs={"answer": "answer.text"})
    outcome, _ = run(p, 0.5)
    assert outcome.passed and outcome.actual == 0.5
    outcome, _ = run(p, 0.9)
    assert not outcome.passed
    assert outcome.message == "`eval.score`.score is 0.5, expected ≥ 0.9."


def test_component_inputs_can_read_a_dataset_column(registry):
    p = probe(registry, type="component", component="eval.similarity",
              inputs={"text": "answer.text", "reference": "column:gold"})
    outcome, _ = run(p, 0.5, row={"gold": "Patchwire is a visual orchestrator for AI pipelines."})
    assert outcome.passed
