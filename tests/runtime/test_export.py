"""Spec export: byte-stable JSON/YAML, lossless round trips, no secrets, layout optional, import validates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import Component, InvalidSpec, RunContext, component, run
from runtime.export import REDACTED, export_spec, import_spec
from runtime.loading import load_spec, parse_spec
from runtime.registry import default_registry
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.specs import make_spec

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted((ROOT / "templates").glob("*.json"))
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))


def patchwire(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATCHWIRE, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_there_are_templates_to_export():
    assert {p.stem for p in TEMPLATES} >= {"rag_review", "router", "best_of_two"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_round_trips_byte_stable_and_validates_on_import(path: Path):
    spec = load_spec(path)
    as_json = export_spec(spec, "json")
    as_yaml = export_spec(spec, "yaml")
    assert as_json.warnings == [] and as_yaml.warnings == []
    assert export_spec(spec, "json").data == as_json.data  # twice: the same bytes
    assert export_spec(spec, "yaml").data == as_yaml.data
    assert as_json.data.endswith(b"}\n") and not as_json.data.endswith(b"\n\n")
    assert as_yaml.data.endswith(b"\n") and not as_yaml.data.endswith(b"\n\n")
    # JSON -> YAML -> JSON gives back the very same bytes, and the very same spec.
    from_yaml = import_spec(as_yaml.data, fmt="yaml", registry=default_registry())
    assert export_spec(from_yaml, "json").data == as_json.data
    assert import_spec(as_json.data, registry=default_registry()) == spec
    assert from_yaml == spec


def test_export_is_canonical_whatever_the_key_order_of_the_source():
    spec = make_spec({"q": ("io.input", {"name": "query", "description": "d"}), "out": ("io.output", {})},
                     [("q", "value", "out", "value")])
    shuffled = json.loads(spec.model_dump_json())
    shuffled["nodes"][0]["params"] = {"description": "d", "name": "query"}
    shuffled = dict(reversed(list(shuffled.items())))
    other = parse_spec(json.dumps(shuffled))
    assert export_spec(other, "json").data == export_spec(spec, "json").data
    text = export_spec(spec, "json").data.decode()
    assert text.splitlines()[1] == '  "description": "",'  # sorted keys, two-space indentation


def test_multi_line_prompts_are_readable_yaml_blocks_and_come_back_exactly():
    template = "Answer from the context.\n\nContext:\n{{ context }}\n"
    spec = make_spec({"p": ("demo.echo", {"prefix": template}), "t": ("demo.echo", {"prefix": "line \nx\t"})}, [])
    text = export_spec(spec, "yaml").data.decode()
    assert "prefix: |\n" in text  # a block, not an escaped one-liner
    back = parse_spec(text, fmt="yaml")
    assert back.nodes[0].params["prefix"] == template and back.nodes[1].params["prefix"] == "line \nx\t"


TRICKY = ["yes", "no", "on", "off", "null", "~", "1e3", "0x10", "010", "1_000", "2001-12-14", " lead", "trail ",
          "a: b", "- x", "#c", "\u2028x", "tab\tin", "multi\nline ", "", "'", '"', "\\", "é", "😀", "<<", "!tag",
          "%x", "@x", "True", ".inf", "\r\n", "x\n\n", "\n", "  \nx"]


def test_yaml_round_trip_is_lossless_for_values_yaml_would_misread():
    params = {f"s{i}": value for i, value in enumerate(TRICKY)}
    params.update(small=1e-7, large=1e20, negative_zero=-0.0, big=2**70, empty_list=[], empty_dict={},
                  nested=[{"a": [1, {"b": None}]}], yes=True, 日本="x")
    spec = make_spec({"n": ("demo.echo", params)}, [])
    back = parse_spec(export_spec(spec, "yaml").data, fmt="yaml")
    assert back == spec
    assert export_spec(back, "json").data == export_spec(spec, "json").data


def test_no_layout_drops_positions_only():
    spec = load_spec(TEMPLATES[0])
    assert spec.layout
    data = export_spec(spec, "json", layout=False).data
    assert "layout" not in json.loads(data)
    assert parse_spec(data) == spec.model_copy(update={"layout": {}})


@component(id="test.secret_reader", version=1, title="Secret reader", category="Testing")
class SecretReader(Component):
    """Read a secret at run time (the right way) and say how long it was."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        return TextValue(value=f"{inputs.value}:{len(ctx.secret('OPENAI_API_KEY'))}")


async def test_exported_json_holds_no_canary_secret_even_when_pasted_into_params(monkeypatch, tmp_path):
    openai_key, service_token = "sk-canary-7f3a9c2e1b", "canary-service-token-51d0"
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("PATCHWIRE_SECRETS", "OPENAI_API_KEY,MY_SERVICE_TOKEN")
    monkeypatch.setenv("MY_SERVICE_TOKEN", service_token)
    registry = sample_registry()
    registry.add(SecretReader)
    spec = make_spec(
        {"q": ("io.input", {"name": "query"}), "read": ("test.secret_reader", {}),
         # A user pasted secrets into params: a header value, an `api_key`, a description.
         "e": ("demo.echo", {"prefix": f"Bearer {service_token} "}), "out": ("io.output", {})},
        [("q", "value", "read", "value"), ("read", "value", "e", "value"), ("e", "value", "out", "value")])
    spec.description = f"uses {openai_key}"
    spec.nodes[1].params = {}
    result = await run(spec, {"query": "hi"}, registry=registry)
    # The run's outputs never carry a secret value (issue #10 item 5): the pasted token is masked.
    assert result.status == "succeeded" and result.outputs["out"] == f"Bearer *** hi:{len(openai_key)}"

    spec.nodes[2].params["api_key"] = "a-pasted-key-that-is-no-env-var"
    exported = export_spec(spec, "json")
    for secret in (openai_key, service_token, "a-pasted-key-that-is-no-env-var"):
        assert secret.encode() not in exported.data
    document = json.loads(exported.data)
    assert document["description"] == "uses ${secret:OPENAI_API_KEY}"
    assert document["nodes"][2]["params"]["prefix"] == "Bearer ${secret:MY_SERVICE_TOKEN} "
    assert document["nodes"][2]["params"]["api_key"] == REDACTED
    assert "hi:" not in exported.data.decode() and result.run_id not in exported.data.decode()  # no run data
    assert ("Node `e` param `prefix` held the value of secret env var `MY_SERVICE_TOKEN`; exported as "
            "`${secret:MY_SERVICE_TOKEN}`. Specs never hold secret values: reference the env var by name."
            in exported.warnings)
    assert any(w.startswith("Node `e` param `api_key` looks like a secret value") for w in exported.warnings)


def test_cli_exports_yaml_and_json_and_the_files_import_back(tmp_path: Path):
    source = TEMPLATES[0]
    out_yaml, out_json = tmp_path / "p.yaml", tmp_path / "p.json"
    proc = patchwire("export", str(source), "--format", "yaml", "-o", str(out_yaml), "--no-layout")
    assert proc.returncode == 0, proc.stderr
    assert f"ok: wrote `{out_yaml}` (yaml" in proc.stderr
    proc = patchwire("export", str(out_yaml), "-o", str(out_json))  # the format follows the suffix
    assert proc.returncode == 0, proc.stderr
    expected = export_spec(load_spec(source), "json", layout=False).data
    assert out_json.read_bytes() == expected
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


def test_cli_export_refuses_an_invalid_spec_with_every_problem(tmp_path: Path):
    bad = tmp_path / "bad.json"
    spec = make_spec({"q": ("io.input", {}), "x": ("no.such_component", {})}, [("q", "value", "x", "value")])
    bad.write_text(spec.model_dump_json())
    proc = patchwire("export", str(bad), "-o", str(tmp_path / "out.json"))
    assert proc.returncode == 2
    assert "Unknown component `no.such_component` on node `x`" in proc.stderr
    assert not (tmp_path / "out.json").exists()
    assert "Traceback" not in proc.stderr


def test_import_spec_reports_validation_errors():
    spec = make_spec({"q": ("io.input", {}), "e": ("demo.echo", {})}, [])
    with pytest.raises(InvalidSpec) as caught:
        import_spec(export_spec(spec, "json").data, registry=sample_registry())
    assert any("required input `value` is not connected" in i.message for i in caught.value.issues)


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown export format 'toml': expected one of json, yaml"):
        export_spec(make_spec({"q": ("io.input", {})}, []), "toml")  # type: ignore[arg-type]



def test_cli_says_when_it_cannot_write(tmp_path: Path, capsys):
    from runtime.cli import main

    target = tmp_path / "missing" / "out.json"
    assert main(["export", str(TEMPLATES[0]), "-o", str(target)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: cannot write `{target}`: No such file or directory. Check that the directory exists and is "
        "writable.")

    assert main(["export", str(TEMPLATES[0]), "--format", "yaml", "-o", str(tmp_path / "out.json")]) == 2
    assert capsys.readouterr().err == (f"error: --format yaml but `{tmp_path / 'out.json'}` ends in .json: the file "
                                       f"would not load back. Name it `{tmp_path / 'out.yaml'}`, or use --format "
                                       "json.\n")
