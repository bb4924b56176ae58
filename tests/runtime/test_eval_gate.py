"""The graph diff between two spec versions, the baseline comparison and the gate rules."""

from __future__ import annotations

from runtime.eval.diff import graph_diff, spec_sha256
from runtime.eval.gate import compare_reports, evaluate_gate
from runtime.eval.suite import Gate

OLD = {"name": "p", "nodes": [
    {"id": "q", "component": "io.input", "version": 1, "params": {"name": "query"}},
    {"id": "prompt", "component": "text.template", "version": 1, "params": {"template": "Answer:\n{{ q }}\nBe brief."}},
    {"id": "retrieve", "component": "retrieval.chroma", "version": 1, "params": {"top_k": 4}},
    {"id": "old", "component": "demo.echo", "version": 1}],
    "edges": [{"source": {"node": "q", "port": "value"}, "target": {"node": "prompt", "port": "q"}}],
    "layout": {"q": {"x": 0, "y": 0}}}
NEW = {"name": "p", "nodes": [
    {"id": "q", "component": "io.input", "version": 1, "params": {"name": "query"}},
    {"id": "prompt", "component": "text.template", "version": 2, "params": {"template": "Answer:\n{{ q }}\nBe long."}},
    {"id": "retrieve", "component": "retrieval.chroma", "version": 1, "params": {"top_k": 1}},
    {"id": "rerank", "component": "demo.echo", "version": 1}],
    "edges": [{"source": {"node": "q", "port": "value"}, "target": {"node": "retrieve", "port": "query"}}],
    "layout": {"q": {"x": 50, "y": 0}}}


def test_graph_diff_names_every_kind_of_change():
    diff = graph_diff(OLD, NEW)
    assert diff["nodes_added"] == ["rerank"] and diff["nodes_removed"] == ["old"]
    assert diff["params_changed"]["retrieve"] == {"top_k": {"old": 4, "new": 1}}
    template = diff["params_changed"]["prompt"]["template"]
    assert template["diff"] == ["--- old", "+++ new", "@@ -2,2 +2,2 @@", " {{ q }}", "-Be brief.", "+Be long."]
    assert diff["edges_added"] == ["q.value -> retrieve.query"]
    assert diff["edges_removed"] == ["q.value -> prompt.q"]
    assert diff["components_changed"] == {"prompt": {"old": "text.template v1", "new": "text.template v2"}}


def test_same_spec_has_an_empty_diff_and_layout_does_not_count():
    moved = {**OLD, "layout": {"q": {"x": 9, "y": 9}}}
    assert not any(graph_diff(OLD, moved).values())
    assert spec_sha256(OLD) == spec_sha256(moved)


def report(eid, rows, p95=100.0, cost=0.01):
    per = {}
    for row in rows.values():
        for name, passed in row.items():
            counts = per.setdefault(name, {"passed": 0, "failed": 0})
            counts["passed" if passed else "failed"] += 1
    for counts in per.values():
        counts["pass_rate"] = counts["passed"] / (counts["passed"] + counts["failed"])
    score = sum(c["passed"] for c in per.values()) / sum(c["passed"] + c["failed"] for c in per.values())
    return {"experiment_id": eid, "summary": {"score": score, "assertions": per, "cost": cost,
                                              "latency_ms": {"p50": p95 / 2, "p95": p95}},
            "rows": [{"id": rid, "assertions": {n: {"passed": p} for n, p in a.items()}} for rid, a in rows.items()]}


BASE = report("base", {"r1": {"a": True}, "r2": {"a": True}, "r3": {"a": False}})
NOW = report("now", {"r1": {"a": True}, "r2": {"a": False}, "r3": {"a": True}}, p95=150.0, cost=0.02)


def test_comparison_lists_regressed_and_improved_rows():
    comparison = compare_reports(NOW, BASE, NEW, OLD)
    assert comparison["regressions"] == ["r2"] and comparison["improvements"] == ["r3"]
    assert comparison["score_delta"] == 0.0 and comparison["latency_p95_delta"] == 50.0
    assert comparison["cost_delta"] == 0.01 and comparison["assertions"] == {"a": {"pass_rate_delta": 0.0}}
    assert comparison["graph_diff"]["params_changed"]["retrieve"]["top_k"] == {"old": 4, "new": 1}


def test_gate_rules_fail_with_the_numbers():
    comparison = compare_reports(NOW, BASE, NEW, OLD)
    gate = Gate(min_pass_rate={"a": 0.9}, min_score=0.8, max_regressions=0, max_latency_p95_increase=0.25,
                max_cost_increase=0.5)
    result = evaluate_gate(gate, NOW["summary"], comparison, BASE["summary"])
    assert result == {"passed": False, "reasons": [
        "`a` pass rate 66.7% is below the required 90.0%", "score 66.7% is below the required 80.0%",
        "1 rows regressed (allowed 0): r2", "latency p95 rose 50.0% (allowed 25.0%)",
        "cost rose 100.0% (allowed 50.0%)"]}


def test_gate_passes_within_limits_and_without_a_baseline_says_what_it_skipped():
    comparison = compare_reports(NOW, BASE, NEW, OLD)
    assert evaluate_gate(Gate(max_regressions=1, max_latency_p95_increase=0.6), NOW["summary"], comparison,
                         BASE["summary"]) == {"passed": True, "reasons": []}
    assert evaluate_gate(Gate(), NOW["summary"], None) == {
        "passed": True, "reasons": ["no baseline: regression and latency rules not checked"]}
