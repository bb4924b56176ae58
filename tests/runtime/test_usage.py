"""One token-usage total: the run record's tokens and cost and a batch row's `usage` come from the same sum."""

from __future__ import annotations

import time

import pytest

from runtime.events import NodeFinished, RunFinished, RunStarted
from runtime.usage import UsageTotal, usage_total

USAGE = {"model": "fake", "prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3, "cost_usd": 0.001}


def test_only_usage_ports_count_so_forwarded_usage_is_not_counted_twice():
    total = usage_total([{"text": "hi", "usage": USAGE}, {"value": USAGE}, None, {"usage": None}])
    assert total == UsageTotal(prompt_tokens=2, completion_tokens=1, total_tokens=3, cost_usd=0.001, counted=1)
    assert total.to_dict() == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3, "cost_usd": 0.001}


def test_costs_are_summed_only_when_priced_and_without_float_noise():
    priced = usage_total([{"usage": {**USAGE, "cost_usd": 0.1}}, {"usage": {**USAGE, "cost_usd": 0.2}}])
    assert (priced.total_tokens, priced.cost_usd) == (6, 0.3)
    unpriced = usage_total([{"usage": {**USAGE, "cost_usd": None}}])
    assert unpriced.cost_usd is None and "cost_usd" not in unpriced.to_dict()
    assert usage_total([{"usage": {"model": "x"}}, {}]).to_dict() == {}


@pytest.mark.usefixtures("fresh_database")
def test_the_run_record_uses_the_same_total():
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    now = time.time()
    recorder = RunRecorder(source="api")
    for event in [RunStarted(run_id="u1", ts=now, pipeline="p", inputs={}, node_ids=["m", "out"]),
                  NodeFinished(run_id="u1", node_id="m", ts=now, latency_ms=1, attempts=1,
                               outputs={"text": "hi", "usage": USAGE}),
                  NodeFinished(run_id="u1", node_id="out", ts=now, latency_ms=1, attempts=1, outputs={"value": USAGE}),
                  RunFinished(run_id="u1", ts=now, status="succeeded", latency_ms=2, outputs={"out": USAGE})]:
        recorder(event)
    recorder.flush()
    record, _ = get_run("u1")
    assert (record.total_tokens, record.cost_usd) == (3, 0.001)  # the usage sent on to `out` is not counted again


def test_usage_models_count_like_their_json():
    from components_catalog.types import TokenUsage

    model = TokenUsage(**USAGE)
    assert usage_total([{"usage": model}]) == usage_total([{"usage": USAGE}])


def test_an_openai_answer_reports_the_run_records_total_not_every_usage_shaped_value():
    """A usage value wired on to an output (or a join) is the same spending: the answer's `usage` is the
    run record's total, not twice it."""
    from components_catalog.types import TokenUsage
    from runtime.serving.chat_interface import run_usage

    spent = TokenUsage(**USAGE)
    outputs = [{"text": "hi", "usage": spent}, {"value": spent}, {"joined": [USAGE]}, None]
    assert run_usage(outputs) == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
    assert run_usage([]) == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def test_an_eval_run_views_tokens_with_the_same_total():
    from components_catalog.types import TokenUsage
    from runtime.eval.assertions import RunView
    from runtime.results import NodeResult

    nodes = {"m": NodeResult(status="succeeded", outputs={"usage": TokenUsage(**USAGE)}),
             "out": NodeResult(status="succeeded", outputs={"value": TokenUsage(**USAGE)})}
    view = RunView(status="succeeded", latency_ms=1.0, nodes=nodes)
    assert (view.usage().total_tokens, view.usage("m").total_tokens, view.usage("out").counted) == (3, 3, 0)
