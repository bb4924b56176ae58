"""`runtime.secrets`: the one rule for secret names, redaction at the executor's seam, and secret hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from runtime import Component, RunContext, component, execute, run
from runtime.events import NodeChunk, NodeFailed, NodeFinished, NodeLog, RunFinished, RunStarted
from runtime.export import REDACTED, export_spec
from runtime.export.python import generate_python
from runtime.secrets import (
    MIN_SECRET_LENGTH,
    SECRET_NAME_PATTERNS,
    Redactor,
    env_redactor,
    is_allowed_secret_name,
    is_secret_name,
    secret_env_values,
)
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.specs import make_spec
from runtime.validation import validate

ROOT = Path(__file__).parents[2]
GITHUB = "ghp_canary51e0b3d9a7c2"
AWS = "canary/aws+secret/9Qz7Lm2X"


@pytest.fixture(autouse=True)
def no_secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test from an environment holding no secret (the developer's own keys stay out)."""
    import os

    for name in list(os.environ):
        if is_secret_name(name):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PATCHWIRE_SECRETS", raising=False)


# --- the rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CLIENT_SECRET",
                                  "DB_PASSWORD", "PGPASSWORD", "DATABASE_URL", "PATCHWIRE_API_TOKEN",
                                  "aws_secret_access_key"])
def test_secret_looking_names_hold_secret_values(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["HOME", "PATH", "PATCHWIRE_DATA_DIR", "PATCHWIRE_SECRETS", "TOKENIZERS_PARALLELISM"])
def test_ordinary_names_do_not(name: str) -> None:
    assert not is_secret_name(name)


def test_patchwire_secrets_globs_are_secret_names_and_the_only_ones_components_may_read(monkeypatch) -> None:
    assert is_allowed_secret_name("OPENAI_API_KEY") and not is_allowed_secret_name("GITHUB_TOKEN")
    assert not is_secret_name("ACME_CREDENTIAL")
    monkeypatch.setenv("PATCHWIRE_SECRETS", "*_API_KEY, ACME_*")
    assert is_secret_name("ACME_CREDENTIAL") and is_allowed_secret_name("ACME_CREDENTIAL")
    assert not is_allowed_secret_name("DATABASE_URL")


def test_values_shorter_than_eight_characters_are_never_redacted(monkeypatch) -> None:
    assert MIN_SECRET_LENGTH == 8
    monkeypatch.setenv("SHORT_TOKEN", "1234567")
    monkeypatch.setenv("LONG_TOKEN", "12345678")
    assert secret_env_values() == {"12345678": "LONG_TOKEN"}
    assert env_redactor().text("a 1234567 b 12345678") == "a 1234567 b ***"


def test_the_cached_set_follows_the_environment_and_is_none_when_empty(monkeypatch) -> None:
    assert env_redactor() is None
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    assert env_redactor().values == (GITHUB,)
    assert env_redactor() is env_redactor()  # cached while the environment is unchanged
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB + "-rotated")
    assert env_redactor().values == (GITHUB + "-rotated",)
    monkeypatch.delenv("GITHUB_TOKEN")
    assert env_redactor() is None


class Doc(BaseModel):
    text: str
    meta: dict[str, Any] = {}


def test_nested_values_are_redacted_in_copies_and_untouched_values_are_kept_as_they_are() -> None:
    redact = Redactor(["sk-canary-123456", "sk-canary-123456-longer"])
    doc = Doc(text="key sk-canary-123456-longer", meta={"k": ["sk-canary-123456", 3]})
    clean = Doc(text="nothing here")
    value = {"docs": [doc, clean], "pair": ("sk-canary-123456", 1), "n": 5}
    out = redact.value(value)
    assert out["docs"][0] == Doc(text="key ***", meta={"k": ["***", 3]})
    assert out["docs"][0].model_fields_set == doc.model_fields_set
    assert out["docs"][1] is clean and out["pair"] == ("***", 1) and out["n"] == 5
    assert doc.text == "key sk-canary-123456-longer" and doc.meta == {"k": ["sk-canary-123456", 3]}  # not mutated
    untouched = {"a": ["b", {"c": 1}]}
    assert redact.value(untouched) is untouched


# --- the executor's seam ---------------------------------------------------------------------------
HELD: list[Doc] = []


class LeakOutputs(BaseModel):
    value: str
    docs: list[Doc]


@component(id="test.leak", version=1, title="Leak", category="Testing")
class Leak(Component):
    """Read GITHUB_TOKEN from the environment, as a library would, and put it everywhere."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> LeakOutputs:
        import os

        token = os.environ["GITHUB_TOKEN"]
        ctx.emit_chunk(f"chunk {token}")
        ctx.log(f"log {token}", extra=token)
        ctx.record("request", {"headers": {"Authorization": f"Bearer {token}"}})
        doc = Doc(text=f"doc {token}")
        HELD.append(doc)
        return LeakOutputs(value=f"{inputs.value} {token}", docs=[doc])


@component(id="test.fail_with_token", version=1, title="Fail", category="Testing")
class FailWithToken(Component):
    """Fail with the token in the message (a library quoting its request)."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        import os

        raise RuntimeError(f"request failed: token={os.environ['GITHUB_TOKEN']}")


def leak_registry() -> Any:
    registry = sample_registry()
    registry.add(Leak)
    registry.add(FailWithToken)
    return registry


def leak_spec(fail_policy: dict[str, Any] | None = None) -> Any:
    fail = ("test.fail_with_token", {}, fail_policy) if fail_policy else ("test.fail_with_token", {})
    return make_spec(
        {"q": ("io.input", {"name": "query"}), "leak": ("test.leak", {}), "next": ("demo.echo", {"prefix": "> "}),
         "fail": fail, "out": ("io.output", {})},
        [("q", "value", "leak", "value"), ("leak", "value", "next", "value"), ("q", "value", "fail", "value"),
         ("next", "value", "out", "value")])


async def test_outputs_chunks_logs_traces_and_downstream_values_are_redacted(monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    HELD.clear()
    events = [e async for e in execute(leak_spec({"on_error": "continue"}), {"query": f"hi {GITHUB}"},
                                       registry=leak_registry())]
    assert GITHUB not in repr(events)
    by_kind = {type(e): e for e in events if getattr(e, "node_id", "leak") in ("leak", "fail")}
    assert by_kind[RunStarted].inputs == {"query": "hi ***"}
    assert by_kind[NodeChunk].text == "chunk ***"
    assert by_kind[NodeLog].record == {"message": "log ***", "extra": "***"}
    leaked = by_kind[NodeFinished]
    assert leaked.outputs["value"] == "hi *** ***" and leaked.outputs["docs"] == [Doc(text="doc ***")]
    assert leaked.trace == {"request": {"headers": {"Authorization": "Bearer ***"}}}
    assert by_kind[NodeFailed].error.message == "request failed: token=***"
    assert by_kind[RunFinished].outputs == {"out": "> hi *** ***"}  # the downstream node got the masked value
    assert HELD[0].text == f"doc {GITHUB}"  # the component's own object was not changed


async def test_a_github_token_never_reaches_an_executor_error_message(monkeypatch) -> None:
    """Regression: the executor masked only `*_API_KEY` values, while export masked `*_TOKEN` ones too."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    events = [e async for e in execute(leak_spec(), {"query": "hi"}, registry=leak_registry())]
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert failed.error.message == "request failed: token=***" and "token=***" in failed.error.traceback
    assert events[-1].error.message == "Node `fail` failed: request failed: token=***"
    assert GITHUB not in repr(events)


async def test_with_no_secret_in_the_environment_nothing_is_masked() -> None:
    result = await run(make_spec({"q": ("io.input", {}), "e": ("demo.echo", {}), "out": ("io.output", {})},
                                 [("q", "value", "e", "value"), ("e", "value", "out", "value")]),
                       {"q": "ghp_canary51e0b3d9a7c2"}, registry=sample_registry())
    assert result.outputs == {"out": "ghp_canary51e0b3d9a7c2"}


async def test_model_errors_mask_every_secret_value_not_only_api_keys(monkeypatch) -> None:
    from components_catalog.llm.errors import redactor

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS)
    ctx = RunContext(run_id="r", node_id="n", component_id="llm.chat")
    assert redactor(ctx, "sk-in-use")(f"bedrock said {AWS} with sk-in-use") == "bedrock said *** with ***"


# --- exports --------------------------------------------------------------------------------------
def pasted_spec() -> Any:
    spec = make_spec(
        {"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": f"{GITHUB} "}),
         "h": ("action.http", {"url": "http://user:sk-LITERALPASS123456@example.com/x",
                               "headers": {"X-Note": "http://${secret:A_API_KEY}:${secret:B_API_KEY}@h/"}}),
         "out": ("io.output", {})},
        [("q", "value", "e", "value"), ("e", "value", "out", "value"), ("q", "value", "h", "body")])
    spec.description = f"uses {AWS}"
    return spec


def test_export_removes_url_credentials_and_every_secret_looking_value(monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS)
    exported = export_spec(pasted_spec())
    document = json.loads(exported.data)
    for secret in (GITHUB, AWS, "sk-LITERALPASS123456"):
        assert secret.encode() not in exported.data
    assert document["description"] == "uses ${secret:AWS_SECRET_ACCESS_KEY}"
    assert document["nodes"][1]["params"]["prefix"] == "${secret:GITHUB_TOKEN} "
    assert document["nodes"][2]["params"]["url"] == f"http://{REDACTED}@example.com/x"
    assert document["nodes"][2]["params"]["headers"] == {"X-Note": "http://${secret:A_API_KEY}:${secret:B_API_KEY}@h/"}
    assert (f"Node `h` param `url` held credentials in a URL (`user:password@`); exported as `{REDACTED}@`. Send "
            "credentials in a header that references a secret, e.g. `${secret:NAME}`." in exported.warnings)


def test_export_python_copies_the_rule_and_writes_no_secret_value(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS)
    warnings: list[str] = []
    spec = pasted_spec()
    spec.nodes = [n for n in spec.nodes if n.id != "h"]
    spec.edges = [e for e in spec.edges if e.target.node != "h"]
    code = generate_python(spec, sample_registry(), source="pasted.json", warnings=warnings)
    assert GITHUB not in code and AWS not in code
    assert any("held the value of secret env var `GITHUB_TOKEN`" in w for w in warnings)
    namespace: dict[str, Any] = {}
    exec(compile(code, "pipeline.py", "exec"), namespace)
    assert namespace["SECRET_NAME_PATTERNS"] == SECRET_NAME_PATTERNS
    assert namespace["MIN_SECRET_LENGTH"] == MIN_SECRET_LENGTH
    assert namespace["env_secrets"]() == set(secret_env_values())
    module = tmp_path / "pipeline.py"
    module.write_text(code)
    done = subprocess.run([sys.executable, str(module), "--input", f"query=hi {GITHUB}"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"out": "${secret:GITHUB_TOKEN} hi ***"}  # the exported run masks too


# --- validation and saving --------------------------------------------------------------------------
def chat_spec(**params: Any) -> Any:
    return make_spec({"q": ("io.input", {}), "c": ("llm.chat", {"model": "openai/gpt-4o-mini", **params}),
                      "out": ("io.output", {})}, [("q", "value", "c", "prompt"), ("c", "text", "out", "value")])


def catalog_registry() -> Any:
    from components_catalog.http_action import HttpRequest
    from components_catalog.llm.chat import ChatCompletion

    registry = sample_registry()
    registry.add(ChatCompletion)
    registry.add(HttpRequest)
    return registry


def test_an_api_key_env_that_components_may_not_read_fails_validation(monkeypatch) -> None:
    (issue,) = validate(chat_spec(api_key_env="DATABASE_URL"), catalog_registry())
    assert (issue.node_id, issue.path) == ("c", "params.api_key_env")
    assert issue.message == (
        "Node `c` (`llm.chat` v1): param `api_key_env` is invalid: `DATABASE_URL` is not an env var components may "
        "read. Allowed: *_API_KEY (PATCHWIRE_SECRETS). Use a name that matches, or add `DATABASE_URL` to "
        "PATCHWIRE_SECRETS (comma-separated globs) where the pipeline runs (got 'DATABASE_URL').")
    assert validate(chat_spec(api_key_env="TEAM_API_KEY"), catalog_registry()) == []
    monkeypatch.setenv("PATCHWIRE_SECRETS", "*_API_KEY,AWS_*")
    assert validate(chat_spec(api_key_env="AWS_SECRET_ACCESS_KEY"), catalog_registry()) == []


def http_spec(headers: dict[str, str]) -> Any:
    return make_spec({"h": ("action.http", {"url": "https://api.example.com/x", "headers": headers}),
                      "out": ("io.output", {})}, [("h", "status", "out", "value")])


@pytest.mark.parametrize("name", ["Authorization", "proxy-authorization", "X-Api-Key"])
def test_a_literal_credential_header_fails_validation_without_echoing_it(name: str) -> None:
    (issue,) = validate(http_spec({name: "Bearer sk-literal-5d1c0e9a"}), catalog_registry())
    assert (issue.node_id, issue.path) == ("h", "params.headers")
    assert issue.message == (
        f"Node `h` (`action.http` v1): param `headers` is invalid: header `{name}` holds a literal credential, "
        f"which would be saved in plain text. Reference the secret by env-var name instead, e.g. `{name}: Bearer "
        "${secret:MY_API_KEY}`.")
    assert "sk-literal" not in issue.message + issue.hint


@pytest.mark.parametrize("value", ["Bearer ${secret:OPENAI_API_KEY}", "${secret:OPENAI_API_KEY}", "",
                                   "Basic ${secret:USER_API_KEY}"])
def test_secret_references_in_credential_headers_are_fine(value: str) -> None:
    assert validate(http_spec({"Authorization": value, "X-Trace": "literal is fine here"}), catalog_registry()) == []


def test_the_store_refuses_to_write_a_literal_credential(fresh_database) -> None:
    from runtime.store import pipelines as store

    good = json.loads(http_spec({"Authorization": "Bearer ${secret:OPENAI_API_KEY}"}).model_dump_json())
    bad = json.loads(http_spec({"Authorization": "Bearer sk-literal-5d1c0e9a"}).model_dump_json())
    record = store.create_pipeline(good)
    message = ("Node `h`: header `Authorization` holds a literal credential, which would be saved in plain text. "
               "Reference the secret by env-var name instead, e.g. `Authorization: Bearer ${secret:MY_API_KEY}`.")
    with pytest.raises(store.LiteralCredentialError) as refused:
        store.save_pipeline(record.id, bad, expected_revision=record.revision)
    assert str(refused.value) == message
    with pytest.raises(store.LiteralCredentialError):
        store.create_pipeline(bad)
    with pytest.raises(store.LiteralCredentialError):
        store.save_version(record.id, "v1", bad)
    assert store.get_pipeline(record.id).spec == good  # nothing was written
    assert store.pipeline_count() == 1
