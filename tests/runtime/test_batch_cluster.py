"""`patchwire batch` against a real `ray start --head` cluster that was started without Patchwire's settings,
and the rerun of rows that failed (`--retry-failed`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.batch.ray_engine import forwarded_env
from runtime.testing.specs import make_spec
from tests.infra.services import free_port

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))

PROBE = '''
import os

from pydantic import BaseModel
from runtime import Component, RunContext, component


class Name(BaseModel):
    value: str


class Found(BaseModel):
    value: str


@component(id="test.env_probe", version=1, title="Env probe")
class EnvProbe(Component):
    """The value of the env var named by the input, where the row runs; fails while PROBE_FAIL names a file."""

    async def run(self, inputs: Name, ctx: RunContext) -> Found:
        flag = os.environ.get("PROBE_FAIL")
        if flag and os.path.exists(flag):
            raise RuntimeError("failing on purpose")
        return Found(value=os.environ.get(inputs.value, "<unset>"))
'''


@pytest.fixture
def probe(tmp_path: Path) -> tuple[Path, Path, Path]:
    plugin = tmp_path / "probe_plugin.py"
    plugin.write_text(PROBE)
    spec = tmp_path / "probe.json"
    spec.write_text(make_spec({"name": ("io.input", {"name": "name"}), "probe": ("test.env_probe", {}),
                               "out": ("io.output", {})},
                              [("name", "value", "probe", "value"), ("probe", "value", "out", "value")],
                              name="probe").model_dump_json())
    dataset = tmp_path / "names.jsonl"
    names = ["PATCHWIRE_DATA_DIR", "CHROMA_HOST", "PROBE_API_KEY", "PATCHWIRE_API_TOKEN", "UNRELATED_SETTING"]
    dataset.write_text("".join(json.dumps({"id": n, "name": n}) + "\n" for n in names))
    return plugin, spec, dataset


def batch(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATCHWIRE, "batch", *args], capture_output=True, text=True, timeout=timeout, env=env)


def outputs(path: Path) -> dict[str, object]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["id"]: r["outputs"].get("out") for r in records}


def test_a_cluster_started_without_the_settings_gets_them_from_the_driver(ray_cluster, probe, tmp_path: Path):
    plugin, spec, dataset = probe
    data_dir = tmp_path / "driver-data"
    env = {**os.environ, "PATCHWIRE_DATA_DIR": str(data_dir), "CHROMA_HOST": "chroma.internal.example",
           "PROBE_API_KEY": "sk-probe-value-123", "PATCHWIRE_API_TOKEN": "a-server-login-token-0123456789",
           "UNRELATED_SETTING": "x"}
    out = tmp_path / "out.jsonl"
    done = batch(str(spec), str(dataset), "-o", str(out), "--engine", "ray", "--ray-address",
                 f"127.0.0.1:{ray_cluster.port}", "--plugin", str(plugin), "--quiet", env=env)
    assert done.returncode == 0, done.stderr + ray_cluster.tail()
    assert outputs(out) == {"PATCHWIRE_DATA_DIR": str(data_dir), "CHROMA_HOST": "chroma.internal.example",
                            "PROBE_API_KEY": "***",  # an allowed secret travels by its name (masked in outputs)
                            "PATCHWIRE_API_TOKEN": "<unset>", "UNRELATED_SETTING": "<unset>"}
    assert "Provider List" not in done.stdout and done.stdout.splitlines()[0] == "rows: 5, succeeded: 5, failed: 0"


def test_forwarded_settings_are_the_documented_names_only():
    env = {"PATCHWIRE_DATA_DIR": "/d", "PATCHWIRE_SECRETS": "*_API_KEY,MY_SECRET", "MY_SECRET": "s",
           "OPENAI_API_KEY": "k", "DATABASE_URL": "sqlite:///x", "CHROMA_PORT": "8000", "HOME": "/root",
           "PATCHWIRE_AUTH_TOKEN": "t", "OTEL_SERVICE_NAME": "svc", "AWS_SECRET_ACCESS_KEY": "not-allowed"}
    os_secrets = os.environ.get("PATCHWIRE_SECRETS")
    os.environ["PATCHWIRE_SECRETS"] = env["PATCHWIRE_SECRETS"]
    try:
        assert forwarded_env(env) == {"PATCHWIRE_DATA_DIR": "/d", "PATCHWIRE_SECRETS": "*_API_KEY,MY_SECRET",
                                      "MY_SECRET": "s", "OPENAI_API_KEY": "k", "DATABASE_URL": "sqlite:///x",
                                      "CHROMA_PORT": "8000", "OTEL_SERVICE_NAME": "svc"}
    finally:
        if os_secrets is None:
            os.environ.pop("PATCHWIRE_SECRETS")
        else:
            os.environ["PATCHWIRE_SECRETS"] = os_secrets


def test_a_wrong_ray_address_fails_in_seconds_with_a_clear_message(probe, tmp_path: Path):
    plugin, spec, dataset = probe
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    done = batch(str(spec), str(dataset), "-o", str(tmp_path / "out.jsonl"), "--engine", "ray", "--ray-address",
                 address, "--plugin", str(plugin), env=dict(os.environ), timeout=120)
    assert time.monotonic() - t0 < 60
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: Cannot reach the Ray cluster at `{address}`: Connection refused after at "
                                  "most 5 s. Check the address"), done.stderr


def test_retry_failed_reruns_only_the_rows_that_did_not_succeed(probe, tmp_path: Path):
    plugin, spec, dataset = probe
    flag = tmp_path / "fail-now"
    flag.touch()
    env = {**os.environ, "PROBE_FAIL": str(flag), "UNRELATED_SETTING": "here"}
    out = tmp_path / "out.jsonl"
    first = batch(str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet", env=env)
    assert first.returncode == 1 and first.stdout.splitlines()[0] == "rows: 5, succeeded: 0, failed: 5"
    flag.unlink()  # whatever made the rows fail is fixed

    again = batch(str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet", env=env)
    assert again.returncode == 1, "without --retry-failed a failed row counts as done"
    assert ("resuming: 5 of 5 rows are already in "
            f"`{out}` (5 of them did not succeed: add --retry-failed to run those again)") in again.stderr

    retried = batch(str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet", "--retry-failed",
                    env=env)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.splitlines()[0] == "rows: 5, succeeded: 5, failed: 0"
    assert outputs(out)["UNRELATED_SETTING"] == "here"
    assert len(out.read_text().splitlines()) == 10  # append-only: the failed records stay, the new ones win

    nothing_left = batch(str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet",
                         "--retry-failed", env=env)
    assert nothing_left.returncode == 0 and len(out.read_text().splitlines()) == 10
