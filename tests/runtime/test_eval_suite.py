"""Suite files: the model, its JSON Schema, and validation reporting every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.eval.runner import prepare
from runtime.eval.suite import InvalidSuite, load_suite, parse_suite, suite_json_schema
from runtime.testing.specs import make_spec, yaml_alias_bomb

ISSUE_EXAMPLE = """
name: rag-review-regression
pipeline: pipe.json
dataset: rows.jsonl
inputs: {query: question}
repeat: 1
concurrency: 4
engine: local
mocks: {}
assertions:
  - {name: answered,  node: answer, type: fired}
  - {name: cites,     node: answer, port: value, type: icontains, column: expected_keyword}
  - {name: retrieved, node: retrieve, port: documents, type: contains_id, column: expected_doc}
  - {name: grounded,  node: groundedness, port: score, type: gte, value: 0.6, weight: 2}
  - {name: route,     node: gate, type: branch, value: grounded}
  - {name: fast,      type: latency_ms_lte, value: 1500}
  - {name: cheap,     type: cost_lte, value: 0.002}
gate:
  min_pass_rate: {answered: 1.0, grounded: 0.8}
  max_regressions: 0
  max_latency_p95_increase: 0.25
"""


def test_the_issue_example_parses_with_every_field():
    suite = parse_suite(ISSUE_EXAMPLE)
    assert [a.name for a in suite.assertions] == ["answered", "cites", "retrieved", "grounded", "route", "fast", "cheap"]
    assert suite.assertions[3].weight == 2 and suite.gate.max_latency_p95_increase == 0.25
    assert suite.inputs == {"query": "question"} and suite.engine == "local"


def test_the_json_schema_lists_assertion_types():
    schema = suite_json_schema()
    types = json.dumps(schema)
    assert "llm_rubric" in types and "contains_id" in types and schema["$id"].endswith("eval-suite-v1.json")


def test_an_unknown_type_and_field_are_reported_together():
    with pytest.raises(InvalidSuite) as caught:
        parse_suite("name: s\npipeline: p.json\ndataset: d.jsonl\nassertions:\n"
                    "  - {name: a, type: contain, node: x}\n  - {name: b, type: fired, node: x, colour: red}\n")
    messages = [i.message for i in caught.value.issues]
    assert messages == ["Unknown assertion type 'contain' in assertion `a` field `type`.",
                        "Unknown field in assertion `b` field `colour`."]
    assert "`contains`" in caught.value.issues[0].hint


def test_a_suite_with_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path, registry):
    """Suites are read like specs: a few hundred bytes of nested aliases would grow to gigabytes in the report."""
    suite = write(tmp_path, "name: s\npipeline: pipe.json\ndataset: rows.jsonl\n" + yaml_alias_bomb() +
                  "\nassertions:\n  - {name: a, node: out, type: fired}\nmocks: {out: {value: *a8}}\n", [{"query": "q"}])
    with pytest.raises(InvalidSuite) as caught:
        prepare(suite, registry)
    [issue] = caught.value.issues
    assert (issue.code, issue.message) == (
        "yaml_alias", f"YAML anchors and aliases (`&name`/`*name`) are not allowed in a suite (`{suite}`, line 4): "
                      "write the value out in full.")


def test_a_suite_that_is_not_yaml_names_the_line():
    with pytest.raises(InvalidSuite) as caught:
        parse_suite("name: s\nassertions: [\n", source="s.yaml")
    [issue] = caught.value.issues
    assert issue.code == "suite_syntax" and issue.message.startswith("`s.yaml` is not valid YAML: ")
    assert "line 3" in issue.message


def write(tmp_path: Path, suite: str, rows: list[dict]) -> Path:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "echo": ("demo.echo", {"prefix": "> "}),
                      "router": ("demo.router", {"routes": ["a", "b"]}), "out": ("io.output", {})},
                     [("q", "value", "echo", "value"), ("echo", "value", "out", "value"),
                      ("q", "value", "router", "value")], name="echo")
    (tmp_path / "pipe.json").write_text(spec.model_dump_json())
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "suite.yaml").write_text(suite)
    return tmp_path / "suite.yaml"


def test_every_problem_with_the_pipeline_and_dataset_at_once(tmp_path, registry):
    suite = write(tmp_path, """
name: s
pipeline: pipe.json
dataset: rows.jsonl
inputs: {query: question, nope: question}
mocks: {ghost: {value: x}, echo: {colour: red}}
assertions:
  - {name: a, node: ech, type: fired}
  - {name: b, node: echo, port: text, type: equals, value: x}
  - {name: c, node: echo, type: icontains, column: expected}
  - {name: d, node: router, type: branch, value: c}
  - {name: e, node: echo, type: equals}
  - {name: f, type: component, component: eval.nope, value: 1}
gate: {min_pass_rate: {zz: 1.0}}
""", [{"id": 1, "question": "hi"}])
    with pytest.raises(InvalidSuite) as caught:
        prepare(suite, registry)
    got = [(i.code, i.message) for i in caught.value.issues]
    assert got == [
        ("unknown_input", "`inputs` maps column `question` to `nope`, which is not an input of pipeline `echo`."),
        ("unknown_node", "`mocks` sets outputs of `ghost`, which is not a node of the pipeline."),
        ("unknown_port", "`mocks.echo` sets port `colour`, which `echo` does not have."),
        ("unknown_node", "assertion `a`: pipeline `echo` has no node `ech`."),
        ("unknown_port", "assertion `b`: node `echo` has no output port `text`."),
        ("unknown_column", "assertion `c` reads column `expected`, which the dataset does not have."),
        ("unknown_branch", "assertion `d`: `router` has no branch `c`."),
        ("missing_expected", "assertion `e` (`equals`) has neither `value` nor `column`."),
        ("unknown_component", "assertion `f`: no component `eval.nope` is installed."),
        ("gate_unknown_assertion", "`gate.min_pass_rate` names `zz`, which is not an assertion."),
    ]
    hints = {i.code: i.hint for i in caught.value.issues}
    assert hints["unknown_port"] == "Its output ports: `value`."
    assert "`question`" in hints["unknown_column"]


def test_a_required_input_no_column_gives(tmp_path, registry):
    suite = write(tmp_path, "name: s\npipeline: pipe.json\ndataset: rows.jsonl\nassertions: []\n", [{"text": "x"}])
    with pytest.raises(InvalidSuite) as caught:
        prepare(suite, registry)
    assert caught.value.issues[0].message == "Pipeline input `query` is required, but no dataset column gives it."


def test_bad_row_mocks_are_reported_before_anything_runs(tmp_path, registry):
    suite = write(tmp_path, "name: s\npipeline: pipe.json\ndataset: rows.jsonl\nassertions: []\n",
                  [{"id": "r1", "query": "x", "mocks": {"nobody": {"value": 1}}}])
    with pytest.raises(InvalidSuite) as caught:
        prepare(suite, registry)
    assert caught.value.issues[0].message == "row r1: `mocks` sets `nobody`, which is not a node of the pipeline."


def test_a_suite_file_that_never_ends_is_refused_after_the_cap(tmp_path):
    """Before, the whole file was read and then cut: a device or a huge file filled the memory first."""
    endless = tmp_path / "suite.yaml"
    endless.symlink_to("/dev/zero")
    with pytest.raises(InvalidSuite) as exc:
        load_suite(endless)
    assert exc.value.issues[0].message == f"`{endless}` is over 1,000,000 bytes."
