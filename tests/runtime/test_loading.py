"""Reading spec files: JSON or YAML in, a `PipelineSpec` or every problem (never a traceback) out.

Good specs and malformed files here; schema errors, YAML aliases, size and the JSON Schema in
test_loading_schema.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from runtime import InvalidSpec, PipelineSpec, load_spec, loading, parse_spec, validate
from tests.runtime.loading_kit import SPEC, load_problems, only, problems

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
