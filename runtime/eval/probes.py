"""Assertions that run a registered component: `similar`, `llm_rubric` and `component`.

The seam that keeps `runtime/` free of model libraries: each such assertion is compiled into a tiny pipeline
(one `io.input` per input port -> the component -> an `io.output` on the compared port) and run through the
executor like any pipeline, so a judge's prompt, reply, tokens and cost are recorded in the run history
(source `eval`) exactly like a model call inside the pipeline. Evaluation libraries plug in the way
components do: `similar` is the built-in `eval.similarity`, `llm_rubric` is `eval.score` (method `judge`),
and `component` names any registered component with a numeric output port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..consumers import ConsumerFactory, run_with_consumers
from ..spec import PipelineSpec
from .assertions import Outcome, RunView, compare
from .suite import Assertion

__all__ = ["Probe", "probe_for", "PROBE_TYPES", "SIMILARITY_COMPONENT", "RUBRIC_COMPONENT", "probe_spec"]

PROBE_TYPES = {"similar", "llm_rubric", "component"}
SIMILARITY_COMPONENT = "eval.similarity"
RUBRIC_COMPONENT = "eval.score"
DEFAULT_RUBRIC_THRESHOLD = 0.5


@dataclass(slots=True)
class ProbeShape:
    component: str
    params: dict[str, Any]
    inputs: dict[str, str]  # component input port -> "node.port", "column:NAME", "expected" or "actual"
    output: str


def probe_shape(a: Assertion) -> ProbeShape:
    """What component an assertion runs, with which params and inputs."""
    if a.type == "similar":
        return ProbeShape(SIMILARITY_COMPONENT, {}, {"text": "actual", "reference": "expected"}, "score")
    if a.type == "llm_rubric":
        params = {"method": "judge", "criteria": "expected", **({"model": a.model} if a.model else {})}
        return ProbeShape(RUBRIC_COMPONENT, params, {"answer": "actual", **a.inputs}, "score")
    return ProbeShape(a.component or "", dict(a.params), dict(a.inputs), a.output)


def probe_spec(a: Assertion, criteria: str | None = None) -> PipelineSpec:
    shape = probe_shape(a)
    params = dict(shape.params)
    if params.get("criteria") == "expected":
        params["criteria"] = criteria or a.rubric or ""
    nodes: list[dict[str, Any]] = [{"id": "probe", "component": shape.component, "params": params},
                                   {"id": "result", "component": "io.output"}]
    edges = [{"source": {"node": "probe", "port": shape.output}, "target": {"node": "result", "port": "value"}}]
    for port in shape.inputs:
        nodes.append({"id": f"in_{port}", "component": "io.input", "params": {"name": port, "type": "json"}})
        edges.append({"source": {"node": f"in_{port}", "port": "value"}, "target": {"node": "probe", "port": port}})
    return PipelineSpec.model_validate({"schema_version": 1, "name": f"eval-{a.type}-{a.name}", "nodes": nodes,
                                        "edges": edges})


class Probe:
    """One compiled probe pipeline, run once per row (and repeat)."""

    def __init__(self, a: Assertion, registry: Any):
        self.assertion = a
        self.shape = probe_shape(a)
        self._registry = registry
        self._plans: dict[str, Any] = {}  # llm_rubric criteria from a column: one plan per distinct rubric
        self._plan(None)  # compiled now: an unknown component or bad params fail before any row runs

    def _plan(self, criteria: str | None) -> Any:
        from ..api import compile

        key = criteria or ""
        if key not in self._plans:
            self._plans[key] = compile(probe_spec(self.assertion, criteria), self._registry)
        return self._plans[key]

    def _inputs(self, view: RunView, row: dict[str, Any], expected: Any) -> dict[str, Any]:
        a, values = self.assertion, {}
        for port, source in self.shape.inputs.items():
            if source == "actual":
                values[port] = view.value(a.node, a.port)  # type: ignore[arg-type]
            elif source == "expected":
                values[port] = expected
            elif source.startswith("column:"):
                values[port] = row.get(source.removeprefix("column:"))
            else:
                node, _, port_name = source.partition(".")
                values[port] = view.value(node, port_name or None)
        return values

    async def run(self, view: RunView, row: dict[str, Any], expected: Any,
                  consumers: Sequence[ConsumerFactory]) -> tuple[Outcome, str | None]:
        """The outcome and the probe run's id (recorded in the run history)."""
        a = self.assertion
        criteria = expected if a.type == "llm_rubric" and a.column else None
        plan = self._plan(None if criteria is None else str(criteria))
        if a.type in ("similar", "llm_rubric") and view.nodes[a.node].status not in ("succeeded", "cached"):  # type: ignore[index]
            status = view.nodes[a.node].status  # type: ignore[index]
            return Outcome(False, None, expected, f"`{a.node}` has no value to score: it {status}."), None
        try:
            result = await run_with_consumers(plan, self._inputs(view, row, expected), consumers)
        except Exception as exc:  # noqa: BLE001 - bad inputs for the component: the assertion fails, saying why
            return Outcome(False, None, expected, f"`{self.shape.component}` could not run: {exc}"), None
        if result.status != "succeeded":
            why = (result.error or {}).get("message", result.status)
            return Outcome(False, None, expected, f"`{self.shape.component}` failed: {why}"), result.run_id
        score = result.outputs.get("result")
        limit = self._limit(expected)
        what = {"similar": f"similarity of `{a.node}.{a.port}` to the expected text",
                "llm_rubric": f"rubric score of `{a.node}.{a.port}`"}.get(a.type, f"`{self.shape.component}`.{self.shape.output}")
        outcome = compare(score, limit, "gte", what)
        if a.type != "component":
            outcome.expected = expected if a.type == "similar" else limit
        return outcome, result.run_id

    def _limit(self, expected: Any) -> Any:
        a = self.assertion
        if a.type == "similar":
            return a.threshold
        if a.type == "llm_rubric":
            return a.threshold if a.threshold is not None else DEFAULT_RUBRIC_THRESHOLD
        return expected if expected is not None else a.threshold


def probe_for(a: Assertion, registry: Any) -> Probe:
    return Probe(a, registry)
