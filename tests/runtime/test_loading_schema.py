"""Reading spec files: schema errors named by field, YAML anchors and aliases refused, big specs fast, and
the JSON Schema of the format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime import load_spec, loading, parse_spec, spec_json_schema, validate
from runtime.testing.specs import chain_spec, yaml_alias_bomb
from tests.runtime.loading_kit import SPEC, load_problems, only, problems
from tests.timing import fastest

# --- schema errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "holds"), [
    ("[]", "a list"), ("null", "null"), ('"pipeline"', "a string"), ("42", "a number"), ("true", "a boolean"),
])
def test_a_top_level_that_is_not_an_object(text: str, holds: str):
    issue = only(problems(text, source="p.json"))
    assert (issue.code, issue.path) == ("schema", "")
    assert issue.message == f"`p.json` holds {holds}, not a pipeline object."
    assert issue.hint == "A spec is an object with `name`, `nodes` and `edges`."


def test_yaml_that_is_a_plain_string_is_not_a_pipeline():
    issue = only(problems("just some words", fmt="yaml", source="p.yaml"))
    assert issue.message == "`p.yaml` holds a string, not a pipeline object."


SCHEMA_CASES = [
    # (spec, path, node_id, message, hint)
    ({"nodes": []}, "name", None, "Spec field `name` is invalid: Field required.", "Add `name`."),
    ({"name": "x", "nodez": []}, "nodez", None,
     "Spec field `nodez` is invalid: Extra inputs are not permitted (got []).",
     "Remove `nodez`; it is not part of the spec format (see `patchwire schema`)."),
    ({"name": "x", "schema_version": 2}, "schema_version", None,
     "Spec field `schema_version` is invalid: Input should be 1 (got 2).", "See `patchwire schema` for the spec format."),
    ({"name": "x", "nodes": [{"id": "1st", "component": "demo.echo"}]}, "nodes.0.id", "1st",
     "Spec field `nodes.0.id` (node `1st`) is invalid: String should match pattern "
     "'^[A-Za-z_][A-Za-z0-9_\\-]{0,63}$' (got '1st').",
     "Node ids start with a letter or _ and use letters, digits, _ and - (at most 64)."),
    ({"name": "x", "nodes": [{"id": "a"}]}, "nodes.0.component", "a",
     "Spec field `nodes.0.component` (node `a`) is invalid: Field required.", "Add `component`."),
    ({"name": "x", "nodes": [{"id": "a", "component": "demo.echo", "version": 0}]}, "nodes.0.version", "a",
     "Spec field `nodes.0.version` (node `a`) is invalid: Input should be greater than or equal to 1 (got 0).",
     "See `patchwire schema` for the spec format."),
    ({"name": "x", "nodes": [{"id": "a", "component": "demo.echo", "policy": {"retries": -1}}]},
     "nodes.0.policy.retries", "a",
     "Spec field `nodes.0.policy.retries` (node `a`) is invalid: Input should be greater than or equal to 0 "
     "(got -1).", "See `patchwire schema` for the spec format."),
    ({"name": "x", "nodes": [["a", "demo.echo"]]}, "nodes.0", None,
     "Spec field `nodes.0` is invalid: Input should be a valid dictionary (got ['a', 'demo.echo']).",
     'Each node is an object: {"id": "summarise", "component": "llm.chat", "params": {}}.'),
    ({"name": "x", "nodes": [{"id": "a", "component": "demo.echo", "params": [1]}]}, "nodes.0.params", "a",
     "Spec field `nodes.0.params` (node `a`) is invalid: Input should be a valid dictionary (got [1]).",
     "See `patchwire schema` for the spec format."),
    ({"name": "x", "edges": [["a.value", "b.value"]]}, "edges.0", None,
     "Spec field `edges.0` is invalid: Input should be a valid dictionary (got ['a.value', 'b.value']).",
     'Each edge is an object: {"source": {"node": "a", "port": "value"}, "target": {"node": "b", "port": "value"}}.'),
    ({"name": "x", "edges": [{"source": "a.value", "target": {"node": "b", "port": "value"}}]}, "edges.0.source", None,
     "Spec field `edges.0.source` is invalid: Input should be a valid dictionary (got 'a.value').",
     'Each edge is an object: {"source": {"node": "a", "port": "value"}, "target": {"node": "b", "port": "value"}}.'),
    ({"name": "x", "edges": [{"source": {"node": "a"}, "target": {"node": "b", "port": "value"}}]},
     "edges.0.source.port", None, "Spec field `edges.0.source.port` is invalid: Field required.", "Add `port`."),
    ({"name": "x", "layout": {"a": [1, 2]}}, "layout.a", None,
     "Spec field `layout.a` is invalid: Input should be a valid dictionary (got [1, 2]).",
     "See `patchwire schema` for the spec format."),
    ({"name": "\ud800"}, "name", None,
     "Spec field `name` is invalid: Input should be a valid string, unable to parse raw data as a unicode string "
     "(got '\\ud800').", "See `patchwire schema` for the spec format."),
]


@pytest.mark.parametrize(("raw", "path", "node_id", "message", "hint"), SCHEMA_CASES,
                         ids=[case[1] or "top" for case in SCHEMA_CASES])
def test_schema_errors_name_the_field(raw, path, node_id, message, hint):
    issue = only(problems(json.dumps(raw)))
    assert (issue.code, issue.path, issue.node_id) == ("schema", path, node_id)
    assert issue.message == message
    assert issue.hint == hint


def test_every_schema_error_is_reported_at_once():
    raw = {"nodes": [{"id": "a b", "component": ""}, "oops"], "edges": [{"source": {}}], "extra": 1}
    issues = problems(json.dumps(raw))
    assert {i.code for i in issues} == {"schema"}
    assert [i.path for i in issues] == ["name", "nodes.0.id", "nodes.0.component", "nodes.1", "edges.0.source.node",
                                        "edges.0.source.port", "edges.0.target", "extra"]


def test_long_values_are_cut_short_in_messages():
    issue = only(problems(json.dumps({"name": "x", "nodes": [{"id": "x" * 5000, "component": "c"}]})))
    assert (issue.path, issue.node_id) == ("nodes.0.id", "x" * 5000)  # the full id, to find the node
    assert issue.message.startswith(f"Spec field `nodes.0.id` (node `{'x' * 61}...`) is invalid: String should")
    assert issue.message.endswith(f"(got '{'x' * 27}...{'x' * 28}').")


ALIAS_MESSAGE = ("YAML anchors and aliases (`&name`/`*name`) are not allowed in a spec (`bomb.yaml`, line 1): "
                 "write the value out in full.")


def test_a_yaml_alias_bomb_is_reported_quickly():
    text = "\n".join([yaml_alias_bomb(), "name: bomb", "nodes: [*a8]"])
    issues, elapsed = fastest(lambda: problems(text, fmt="yaml", source="bomb.yaml"), bound=2)
    assert elapsed < 2, f"{elapsed:.2f}s"
    assert all(len(i.message) < 300 for i in issues)
    assert [(i.code, i.message) for i in issues] == [("yaml_alias", ALIAS_MESSAGE)]


def test_a_valid_spec_with_an_alias_bomb_in_a_param_is_refused():
    """Before, this validated in half a second and `export` then grew past 4 GB copying the shared lists."""
    body = "\n".join("      " + line for line in yaml_alias_bomb().splitlines())
    text = ("name: bomb\nnodes:\n- id: call\n  component: action.http\n  params:\n    url: http://example.com/\n"
            f"    json_body:\n{body}\n")
    issue = only(problems(text, fmt="yaml", source="bomb.yaml"))
    assert (issue.code, issue.message) == ("yaml_alias", ALIAS_MESSAGE.replace("line 1", "line 8"))
    assert issue.hint == "Replace each `*name` with a copy of the value marked `&name`, and remove the `&name`."


def test_a_yaml_anchor_alone_is_refused_too():
    issue = only(problems("name: x\nnodes: []\ndescription: &d hello\n", fmt="yaml", source="p.yaml"))
    assert issue.code == "yaml_alias" and "(`p.yaml`, line 3)" in issue.message


def test_a_yaml_alias_without_an_anchor_is_a_yaml_error():
    issue = only(problems("name: x\nnodes: []\nlayout: {<<: *base}\n", fmt="yaml", source="p.yaml"))
    assert issue.message == "`p.yaml` is not valid YAML: found undefined alias at line 3, column 14."


def test_yaml_text_with_ampersands_and_stars_still_loads():
    text = ('name: "R&D * 2"\ndescription: "a & b, *not an alias*"\nnodes:\n- id: q\n  component: io.input\n'
            '  params: {default: "x&y"}\n')
    spec = parse_spec(text, fmt="yaml")
    assert (spec.name, spec.description, spec.nodes[0].params) == ("R&D * 2", "a & b, *not an alias*",
                                                                   {"default": "x&y"})


# --- size and speed --------------------------------------------------------------------------

def test_a_20_mb_spec_loads_and_validates_in_under_2_s(tmp_path: Path, registry):
    spec = chain_spec(5000, params={"prefix": "p" * 4000})  # long prompt-like params on every node
    path = tmp_path / "big.json"
    path.write_text(spec.model_dump_json())
    assert path.stat().st_size > 20_000_000
    def load_and_validate():
        loaded = load_spec(path)
        return loaded, validate(loaded, registry)

    (loaded, issues), elapsed = fastest(load_and_validate, bound=2)
    assert issues == []
    assert len(loaded.nodes) == 5002
    assert elapsed < 2, f"{elapsed:.2f}s"


def test_a_20_mb_spec_of_broken_nodes_reports_the_first_200_in_under_2_s(tmp_path: Path):
    raw = {"name": "broken", "nodes": [{"id": f"{i}-starts-with-a-digit", "component": ""} for i in range(400_000)]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(raw))
    assert path.stat().st_size > 20_000_000
    issues, elapsed = fastest(lambda: load_problems(path), bound=2)
    assert elapsed < 2, f"{elapsed:.2f}s"
    assert len(issues) == loading.MAX_SCHEMA_ISSUES
    assert [i.path for i in issues[:3]] == ["nodes.0.id", "nodes.0.component", "nodes.1.id"]
    assert issues[0].message.startswith("Spec field `nodes.0.id` (node `0-starts-with-a-digit`) is invalid")


def test_a_big_spec_with_few_errors_still_finds_the_last_one(tmp_path: Path):
    nodes = [{"id": f"n{i}", "component": "demo.echo"} for i in range(50_000)]
    nodes += [{"id": "late", "component": ""}] * 300
    issues = problems(json.dumps({"name": "x", "nodes": nodes}))
    assert len(issues) == loading.MAX_SCHEMA_ISSUES
    assert issues[0].path == "nodes.50000.component"


# --- the JSON Schema ----------------------------------------------------------------------------

def test_spec_json_schema_describes_the_format():
    schema = spec_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://patchwire.dev/schema/pipeline-v1.json"
    assert schema["type"] == "object"
    assert {"name", "nodes", "edges", "layout", "schema_version"} <= set(schema["properties"])
    assert schema["required"] == ["name"]
    assert schema["properties"]["nodes"]["type"] == "array"
    node = schema["$defs"]["NodeSpec"]
    assert {"id", "component", "version", "params", "policy"} <= set(node["properties"])
    assert node["additionalProperties"] is False
    json.dumps(schema)  # plain JSON


def test_spec_json_schema_is_a_valid_schema_that_accepts_a_spec_and_rejects_junk():
    import jsonschema  # a chromadb dependency, always installed
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(SPEC)) == []
    assert list(validator.iter_errors({"name": "x", "nodes": [{"id": "1bad", "component": "c"}]}))
    assert list(validator.iter_errors({"nodes": []}))
