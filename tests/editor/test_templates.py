"""Templates and imported spec files: parsed and validated, never executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editor import templates
from runtime import InvalidSpec

ROOT = Path(__file__).resolve().parents[2]


def test_templates_are_listed_by_file_stem(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_TEMPLATES_DIR", str(tmp_path))
    (tmp_path / "b_two.json").write_text(json.dumps({"name": "Two", "description": "d", "nodes": [{"id": "x"}]}))
    (tmp_path / "a_one.json").write_text("{not json")
    listed = templates.list_templates()
    assert [t["name"] for t in listed] == ["a_one", "b_two"]
    assert listed[0]["error"].startswith("Cannot read `a_one.json`")
    assert (listed[1]["title"], listed[1]["description"], listed[1]["nodes"]) == ("Two", "d", 1)
    with pytest.raises(InvalidSpec) as exc:
        templates.load_template("../b_two")
    assert exc.value.issues[0].message == "There is no template `../b_two`."


def test_the_shipped_templates_parse():
    for entry in templates.list_templates():
        assert entry["error"] == ""
        assert templates.load_template(entry["name"]).nodes


def test_import_json_and_yaml_with_their_issues(registry):
    data = json.dumps({"name": "imp", "nodes": [{"id": "a", "component": "demo.echo"}]}).encode()
    spec, issues = templates.import_spec(data, "x.json", registry)
    assert spec.name == "imp" and any(i.code == "required_input_unconnected" for i in issues)
    spec, _ = templates.import_spec(b"name: y\nnodes: []\n", "x.yml", registry)
    assert spec.name == "y"


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"{}", "spec.txt", "`spec.txt` is not a .json, .yaml or .yml file."),
    (b'{"name": "x", "nodes": [{"id": "1a", "component": "c.d"}]}', "s.json", "Spec field `nodes.0.id`"),
    (b"name: [", "s.yaml", "`s.yaml` is not valid YAML"),
    (b"", "s.json", "`s.json` is empty."),
])
def test_import_refuses_what_is_not_a_spec(registry, data, name, message):
    with pytest.raises(InvalidSpec) as exc:
        templates.import_spec(data, name, registry)
    assert message in exc.value.issues[0].message


def test_import_size_limit(registry):
    with pytest.raises(InvalidSpec, match="imports are limited"):
        templates.import_spec(b" " * (templates.MAX_IMPORT_BYTES + 1), "big.json", registry)


def test_import_refuses_a_yaml_alias_bomb(registry):
    """Before, a 587-byte file like this one was imported and 80 MB of JSON was written to the store."""
    lines = ["      a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    data = ("name: bomb\nnodes:\n- id: echo\n  component: demo.echo\n  params:\n    prefix: x\n    extra:\n"
            + "\n".join(lines) + "\n").encode()
    with pytest.raises(InvalidSpec) as exc:
        templates.import_spec(data, "bomb.yaml", registry)
    assert [(i.code, i.message) for i in exc.value.issues] == [(
        "yaml_alias", "YAML anchors and aliases (`&name`/`*name`) are not allowed in a spec (`bomb.yaml`, line 8): "
                      "write the value out in full.")]
