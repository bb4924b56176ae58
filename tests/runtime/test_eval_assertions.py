"""Every assertion type of `patchwire eval`, passing and failing, with its message."""

from __future__ import annotations

import pytest

from runtime.eval.assertions import RunView, check, json_path_get
from runtime.eval.suite import Assertion
from runtime.results import NodeResult


def view(**nodes: NodeResult) -> RunView:
    return RunView(status="succeeded", latency_ms=120.0, nodes=nodes, run_id="r1")


def ok(**outputs) -> NodeResult:
    return NodeResult(status="succeeded", latency_ms=5.0, outputs=outputs)


DOCS = [{"id": "chunk1", "text": "a", "metadata": {"source_id": "spec-format"}}, {"id": "x2", "text": "b"}]
RUN = view(answer=ok(value="Patchwire is an ORCHESTRATOR."), retrieve=ok(documents=DOCS),
           score=ok(score=0.7), gate=ok(grounded="text"), skipped=NodeResult(status="skipped", skip_reason="no input"),
           js=ok(text='{"items": [{"name": "a"}], "n": 2}'),
           model=ok(text="hi", usage={"total_tokens": 300, "cost_usd": 0.004, "calls": 1}))


def run(kind: str, expected=None, **fields):
    return check(Assertion(name="t", type=kind, **fields), RUN, expected)


@pytest.mark.parametrize("kind, fields, expected, passed, message", [
    ("fired", {"node": "answer"}, None, True, ""),
    ("fired", {"node": "skipped"}, None, False, "`skipped` did not fire (the node skipped: no input)."),
    ("skipped", {"node": "skipped"}, None, True, ""),
    ("skipped", {"node": "answer"}, None, False, "`answer` was not skipped: it succeeded."),
    ("status", {"node": "answer"}, "succeeded", True, ""),
    ("status", {}, "failed", False, "the run status is `succeeded`, expected `failed`."),
    ("branch", {"node": "gate"}, "grounded", True, ""),
    ("branch", {"node": "gate"}, "needs_review", False, "router `gate` took `grounded`, expected `needs_review`."),
    ("equals", {"node": "score", "port": "score"}, 0.7, True, ""),
    ("equals", {"node": "score", "port": "score"}, "0.7", True, ""),
    ("equals", {"node": "score", "port": "score"}, 0.8, False, "`score.score` is 0.7, expected 0.8."),
    ("contains", {"node": "answer", "port": "value"}, "ORCHESTRATOR", True, ""),
    ("contains", {"node": "answer", "port": "value"}, "orchestrator", False,
     "`answer.value` does not contain 'orchestrator': got 'Patchwire is an ORCHESTRATOR.'."),
    ("icontains", {"node": "answer", "port": "value"}, "orchestrator", True, ""),
    ("icontains", {"node": "answer", "port": "value"}, "router", False,
     "`answer.value` does not contain (ignoring case) 'router': got 'Patchwire is an ORCHESTRATOR.'."),
    ("regex", {"node": "answer", "port": "value"}, r"^Patch\w+", True, ""),
    ("regex", {"node": "answer", "port": "value"}, r"\d+", False,
     "`answer.value` does not match /\\d+/: got 'Patchwire is an ORCHESTRATOR.'."),
    ("is_json", {"node": "js", "port": "text"}, None, True, ""),
    ("is_json", {"node": "answer", "port": "value"}, None, False,
     "`answer.value` is not valid JSON (Expecting value at line 1 column 1)."),
    ("is_json", {"node": "js", "port": "text", "schema": {"type": "object", "required": ["n"]}}, None, True, ""),
    ("is_json", {"node": "js", "port": "text", "schema": {"properties": {"n": {"type": "string"}}}}, None, False,
     "`js.text` is JSON that does not match the schema at `n`: 2 is not of type 'string'."),
    ("json_path", {"node": "js", "port": "text", "path": "$.items[0].name"}, "a", True, ""),
    ("json_path", {"node": "js", "port": "text", "path": "n"}, 3, False, "`js.text` at `n` is 2, expected 3."),
    ("json_path", {"node": "js", "port": "text", "path": "missing.x"}, 3, False, "`js.text` has nothing at `missing.x`."),
    ("contains_id", {"node": "retrieve", "port": "documents"}, "spec-format", True, ""),
    ("contains_id", {"node": "retrieve", "port": "documents"}, "x2|chunk1", True, ""),
    ("contains_id", {"node": "retrieve", "port": "documents"}, "cli-run", False,
     "`retrieve.documents` has no document with id `cli-run`; it has `chunk1`, `spec-format`, `x2`."),
    ("gte", {"node": "score", "port": "score"}, 0.6, True, ""),
    ("gte", {"node": "score", "port": "score"}, "0.9", False, "`score.score` is 0.7, expected ≥ 0.9."),
    ("lte", {"node": "score", "port": "score"}, 0.7, True, ""),
    ("lte", {"node": "score", "port": "score"}, 0.5, False, "`score.score` is 0.7, expected ≤ 0.5."),
    ("length_between", {"node": "answer", "port": "value", "min": 5, "max": 100}, None, True, ""),
    ("length_between", {"node": "answer", "port": "value", "max": 10}, None, False,
     "`answer.value` has length 29, expected between - and 10."),
    ("latency_ms_lte", {}, 500, True, ""),
    ("latency_ms_lte", {"node": "answer"}, 1, False, "latency of `answer` (ms) is 5, expected ≤ 1."),
    ("cost_lte", {}, 0.01, True, ""),
    ("cost_lte", {}, 0.002, False, "cost of the run (USD) is 0.004, expected ≤ 0.002."),
    ("tokens_lte", {"node": "model"}, 300, True, ""),
    ("tokens_lte", {}, 100, False, "tokens of the run is 300, expected ≤ 100."),
])
def test_assertion(kind, fields, expected, passed, message):
    outcome = run(kind, expected, **fields)
    assert (outcome.passed, outcome.message) == (passed, message)


def test_a_value_assertion_on_a_skipped_node_says_why_it_has_no_value():
    outcome = run("icontains", "x", node="skipped", port="value")
    assert not outcome.passed
    assert outcome.message == "`skipped.value` (the node skipped: no input) does not contain (ignoring case) 'x': got None."


def test_cost_of_a_run_without_model_calls_is_zero():
    bare = RunView(status="succeeded", latency_ms=1.0, nodes={"a": ok(value="x")})
    assert check(Assertion(name="c", type="cost_lte", value=0), bare, 0).passed


def test_json_path_reads_lists_and_dicts():
    assert json_path_get({"a": [{"b": 1}]}, "a.0.b") == (True, 1)
    assert json_path_get({"a": [1]}, "$.a[5]") == (False, None)


def test_similar_defaults_its_threshold():
    assert Assertion(name="s", type="similar", node="a", value="x").threshold == 0.8


def test_icontains_reports_the_value_as_it_was():
    assert run("icontains", "orchestrator", node="answer", port="value").actual == "Patchwire is an ORCHESTRATOR."
