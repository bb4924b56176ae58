"""Reading spec files: JSON or YAML in, a `PipelineSpec` or every problem (never a traceback) out."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from runtime import InvalidSpec, PipelineSpec, load_spec, loading, parse_spec, spec_json_schema, validate
from runtime.testing.specs import chain_spec, yaml_alias_bomb
from tests.timing import fastest

SPEC = {
    "name": "summarise",
    "description": "Echo a query",
    "nodes": [
        {"id": "query", "component": "io.input", "params": {"type": "string"}},
        {"id": "echo", "component": "demo.echo", "version": 1, "params": {"prefix": "> "},
         "policy": {"retries": 2, "timeout_s": 5}, "label": "Echo it"},
        {"id": "out", "component": "io.output"},
    ],
    "edges": [
        {"source": {"node": "query", "port": "value"}, "target": {"node": "echo", "port": "value"}},
        {"source": {"node": "echo", "port": "value"}, "target": {"node": "out", "port": "value"}},
    ],
    "layout": {"query": {"x": 0, "y": 10.5}},
}


def problems(data, **kwargs) -> list:
    """The issues `parse_spec` raises (failing the test if it parses)."""
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(data, **kwargs)
    return caught.value.issues


def load_problems(path: Path) -> list:
    with pytest.raises(InvalidSpec) as caught:
        load_spec(path)
    return caught.value.issues


def only(issues: list):
    assert len(issues) == 1, [i.message for i in issues]
    return issues[0]


# --- good specs -----------------------------------------------------------------------------

def test_a_json_spec_parses_with_defaults_filled_in():
    spec = parse_spec(json.dumps(SPEC))
    assert [n.id for n in spec.nodes] == ["query", "echo", "out"]
    assert spec.nodes[2].version == 1 and spec.nodes[2].params == {}
    assert spec.nodes[1].policy is not None and spec.nodes[1].policy.retries == 2
    assert str(spec.edges[0].source) == "query.value"
    assert spec.layout["query"].y == 10.5


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml", ".YAML"])
def test_json_and_yaml_files_load_to_the_same_spec(tmp_path: Path, suffix: str):
    path = tmp_path / f"pipeline{suffix}"
    text = json.dumps(SPEC) if suffix == ".json" else yaml.safe_dump(SPEC, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    assert load_spec(path) == PipelineSpec.model_validate(SPEC)


def test_yaml_text_and_json_text_parse_to_the_same_spec():
    assert parse_spec(yaml.safe_dump(SPEC), fmt="yaml") == parse_spec(json.dumps(SPEC))


@pytest.mark.parametrize("data", [
    json.dumps(SPEC).encode("utf-8"),
    b"\xef\xbb\xbf" + json.dumps(SPEC).encode("utf-8"),   # UTF-8 with a byte-order mark
    "\ufeff" + json.dumps(SPEC),                            # the BOM pasted as text
    json.dumps(SPEC).encode("utf-16"),                      # json detects UTF-16
], ids=["utf8-bytes", "utf8-bom-bytes", "bom-text", "utf16"])
def test_encodings_that_parse(data):
    assert parse_spec(data) == PipelineSpec.model_validate(SPEC)


def test_a_dumped_spec_loads_back_unchanged(tmp_path: Path):
    spec = PipelineSpec.model_validate(SPEC)
    path = tmp_path / "round.json"
    path.write_text(spec.model_dump_json(indent=2))
    assert load_spec(path) == spec


def test_a_spec_with_unicode_text_loads(tmp_path: Path):
    path = tmp_path / "unicode.json"
    path.write_text(json.dumps({"name": "résumé ✓ 日本語 \u202e", "nodes": []}, ensure_ascii=False),
                    encoding="utf-8")
    assert load_spec(path).name == "résumé ✓ 日本語 \u202e"


# --- malformed files --------------------------------------------------------------------------

def test_malformed_json_names_the_line_and_column():
    text = '{\n  "name": "x",\n  "nodes": [\n    {"id": "a" "component": "b"}\n  ]\n}'
    issue = only(problems(text, source="flows/p.json"))
    assert issue.code == "malformed_json"
    assert issue.message == "`flows/p.json` is not valid JSON: Expecting ',' delimiter at line 4, column 16."
    assert issue.hint == "Fix the JSON syntax there (a missing comma, quote or bracket is the usual cause)."


def test_invalid_spec_str_lists_the_problems():
    with pytest.raises(InvalidSpec) as caught:
        parse_spec('{"name": ', source="p.json")
    assert str(caught.value) == (
        "The spec is invalid (1 problem):\n"
        "error: `p.json` is not valid JSON: Expecting value at line 1, column 10.\n"
        "  hint: Fix the JSON syntax there (a missing comma, quote or bracket is the usual cause).")


def test_non_utf8_bytes_name_the_byte():
    issue = only(problems(b'{"name": "\xff"}', source="p.json"))
    assert (issue.code, issue.message) == ("malformed_json", "`p.json` is not UTF-8 text (invalid start byte at byte 10).")
    assert issue.hint == "Save the spec as UTF-8 JSON."


def test_deeply_nested_json_is_a_clear_error_not_a_recursion_traceback():
    issue = only(problems("[" * 100_000 + "]" * 100_000, source="deep.json"))
    assert (issue.code, issue.message) == ("malformed_json", "`deep.json` cannot be read as JSON: it is nested too deeply.")


def test_an_absurdly_long_number_is_a_clear_error():
    text = '{"name": "x", "nodes": [{"id": "a", "component": "c", "version": ' + "9" * 5000 + "}]}"
    issue = only(problems(text, source="n.json"))
    assert issue.code == "malformed_json"
    assert issue.message.startswith("`n.json` cannot be read as JSON: Exceeds the limit (4300 digits)")


def test_malformed_yaml_names_the_line_and_column():
    issue = only(problems("name: x\n  nodes: 3\n", fmt="yaml", source="p.yaml"))
    assert issue.code == "malformed_yaml"
    assert issue.message == ("`p.yaml` is not valid YAML: mapping values are not allowed in this context "
                             "at line 2, column 8.")
    assert issue.hint == "Fix the YAML syntax there (indentation is the usual cause)."


def test_yaml_booleans_where_text_belongs_get_a_quoting_hint():
    """YAML 1.1 reads `id: on` as True; "got True" alone leaves the user staring at `on`."""
    text = ("name: no\nnodes:\n  - {id: on, component: io.input, params: {name: yes}}\n"
            "  - {id: out, component: io.output}\nedges: []\n")
    issues = problems(text, fmt="yaml", source="p.yaml")
    assert [(i.path, i.message) for i in issues] == [
        ("name", "Spec field `name` is invalid: Input should be a valid string (got False)."),
        ("nodes.0.id", "Spec field `nodes.0.id` is invalid: Input should be a valid string (got True).")]
    assert {i.hint for i in issues} == {'In YAML, unquoted yes/no/on/off/true/false are booleans, not text: put '
                                        'the value in quotes, e.g. `"on"`.'}
    quoted = parse_spec(text.replace("name: no", 'name: "no"').replace("id: on", 'id: "on"'), fmt="yaml")
    param = [i for i in validate(quoted) if i.path == "params.name"]
    assert [(i.message, i.hint) for i in param] == [(
        "Node `on` (`io.input` v1): param `name` is invalid: Input should be a valid string (got True).",
        'In YAML, unquoted yes/no/on/off/true/false are booleans, not text: put the value in quotes, e.g. `"on"`.')]


def test_yaml_tabs_are_reported_where_they_are():
    issue = only(problems("name: x\n\tnodes: []\n", fmt="yaml", source="p.yaml"))
    assert issue.message == ("`p.yaml` is not valid YAML: found a tab character that violates indentation "
                             "at line 2, column 1.")


def test_yaml_python_tags_are_refused_not_executed():
    issue = only(problems("!!python/object/apply:os.system ['true']", fmt="yaml", source="p.yaml"))
    assert issue.code == "malformed_yaml"
    assert "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'" \
        in issue.message


def test_binary_yaml_is_one_clean_line():
    issue = only(problems(bytes(range(256)), fmt="yaml", source="p.yaml"))
    assert issue.code == "malformed_yaml"
    assert issue.message.startswith("`p.yaml` is not valid YAML: unacceptable character #x0000")
    assert "\n" not in issue.message
    assert issue.hint == "Save the spec as UTF-8 YAML text."


@pytest.mark.parametrize(("suffix", "code"), [(".json", "malformed_json"), (".yaml", "malformed_yaml")])
def test_a_garbage_file_is_a_clear_error(tmp_path: Path, suffix: str, code: str):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(random.Random(7).randbytes(200_000))
    issue = only(load_problems(path))
    assert issue.code == code
    assert issue.message.startswith(f"`{path}` ")


def test_yaml_in_a_json_file_is_reported_as_malformed_json(tmp_path: Path):
    path = tmp_path / "p.json"
    path.write_text("name: x\nnodes: []\n")
    assert only(load_problems(path)).code == "malformed_json"


@pytest.mark.parametrize("data", ["", "   \n\t  ", b"", b"\n\n"])
def test_an_empty_spec_is_reported_as_empty(data):
    issue = only(problems(data, source="blank.json"))
    assert (issue.code, issue.message) == ("empty_file", "`blank.json` is empty.")
    assert issue.hint == "A spec is a JSON or YAML object with `name` and `nodes`."


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_an_empty_file_is_reported_with_its_path(tmp_path: Path, suffix: str):
    path = tmp_path / f"empty{suffix}"
    path.write_text("")
    issue = only(load_problems(path))
    assert (issue.code, issue.message) == ("empty_file", f"`{path}` is empty.")


def test_a_missing_file_is_unreadable(tmp_path: Path):
    path = tmp_path / "nope.json"
    issue = only(load_problems(path))
    assert issue.code == "unreadable_file"
    assert issue.message == f"Cannot read `{path}`: No such file or directory."
    assert issue.hint == "Check the path: it must name a readable spec file."


def test_a_directory_is_unreadable_not_a_traceback(tmp_path: Path):
    issue = only(load_problems(tmp_path))
    assert (issue.code, issue.message) == ("unreadable_file", f"Cannot read `{tmp_path}`: Is a directory.")


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_SPEC_BYTES", 2_000_000)
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 3_000_000)
    issue = only(load_problems(path))
    assert issue.code == "file_too_large"
    assert issue.message == f"`{path}` is 3.0 MB; specs are limited to 2 MB."
    assert issue.hint == ("Keep data out of specs (index it into a collection), or raise "
                          "PATCHWIRE_MAX_SPEC_BYTES.")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_refused_at_the_limit(monkeypatch):
    monkeypatch.setattr(loading, "MAX_SPEC_BYTES", 1_000_000)
    issue = only(load_problems(Path("/dev/zero")))  # reports size 0, never ends
    assert (issue.code, issue.message) == ("file_too_large", "`/dev/zero` is 1.0 MB; specs are limited to 1 MB.")


def test_text_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(loading, "MAX_SPEC_BYTES", 1_000_000)
    issue = only(problems("x" * 1_500_000, source="pasted"))
    assert (issue.code, issue.message) == ("file_too_large", "`pasted` is 1.5 MB; specs are limited to 1 MB.")


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
