"""The one event seam: every fold handles every event kind, and every entry point records its runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from runtime.events import EVENT_TYPES, EventFold, NodeChunk, RunEvent
from runtime.live import LiveRun
from runtime.progress import ProgressLines
from runtime.results import ResultCollector
from runtime.store.recorder import _Active
from runtime.testing.specs import make_spec

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
SAMPLES = ["--plugin", "runtime.testing.components"]
FOLDS = [ResultCollector, LiveRun, _Active, ProgressLines]  # the run result, the editor's view, the record, the CLI


def test_the_event_types_are_the_members_of_the_run_event_union():
    (union, _discriminator) = typing.get_args(RunEvent)
    assert typing.get_args(union) == EVENT_TYPES and len(EVENT_TYPES) == 13


@pytest.mark.parametrize("fold", FOLDS, ids=lambda cls: cls.__name__)
def test_every_consumer_handles_or_explicitly_ignores_every_event_kind(fold: type[EventFold]):
    assert set(fold.DISPATCH) == set(EVENT_TYPES)
    for event_type in EVENT_TYPES:
        handler = fold.DISPATCH[event_type]
        ignored = event_type in fold.IGNORES
        assert ignored != (handler.__name__.startswith("on_")), f"{fold.__name__}: {event_type.__name__}"


def test_a_fold_that_forgets_an_event_kind_fails_when_it_is_defined():
    with pytest.raises(TypeError) as error:
        class Partial(EventFold):
            IGNORES = tuple(t for t in EVENT_TYPES if t is not NodeChunk)

            def on_node_chunkk(self, event) -> None: ...

    assert str(error.value) == ("Partial does not fold every run event: it neither handles nor ignores NodeChunk "
                                "(add an `on_<kind>` method or list the class in IGNORES); on_node_chunkk names no "
                                "event kind.")


# --- entry points record their runs, with where they came from ------------------------------------------
def patchwire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATCHWIRE, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ))


@pytest.fixture
def echo_spec(tmp_path: Path) -> Path:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": "e:"}),
                      "out": ("io.output", {})}, [("q", "value", "e", "value"), ("e", "value", "out", "value")],
                     name="echoed")
    path = tmp_path / "echoed.json"
    path.write_text(spec.model_dump_json())
    return path


def stored_runs() -> list:
    from runtime.store.runs import list_runs

    return list_runs()


def test_patchwire_run_is_recorded_with_its_source(echo_spec: Path, fresh_database):
    proc = patchwire("run", str(echo_spec), "--input", "query=hi", "--json", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    from runtime.store.runs import get_run

    record, nodes = get_run(json.loads(proc.stdout)["run_id"])
    assert (record.source, record.status, record.pipeline_name, record.outputs) == (
        "cli", "succeeded", "echoed", {"out": "e:hi"})
    assert record.inputs == {"query": "hi"} and nodes["e"].outputs == {"value": "e:hi"}


def test_patchwire_run_no_record_leaves_no_row(echo_spec: Path, fresh_database):
    proc = patchwire("run", str(echo_spec), "--input", "query=hi", "--no-record", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    assert stored_runs() == []


def test_patchwire_batch_records_every_row_with_its_source(echo_spec: Path, tmp_path: Path, fresh_database):
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"query": "a"}\n{"query": "b"}\n{"nope": 1}\n')
    out = tmp_path / "out.jsonl"
    proc = patchwire("batch", str(echo_spec), str(dataset), "-o", str(out), "--quiet", *SAMPLES)
    assert proc.returncode == 1, proc.stderr  # the third row is invalid: it never ran, so it has no record
    records = {json.loads(line)["row"]: json.loads(line) for line in out.read_text().splitlines()}
    runs = {run.id: run for run in stored_runs()}
    assert set(runs) == {records[0]["run_id"], records[1]["run_id"]}
    assert {(run.source, run.status, run.pipeline_name) for run in runs.values()} == {("batch", "succeeded", "echoed")}
    assert sorted(run.outputs["out"] for run in runs.values()) == ["e:a", "e:b"]


def test_patchwire_batch_no_record_leaves_no_row(echo_spec: Path, tmp_path: Path, fresh_database):
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"query": "a"}\n')
    proc = patchwire("batch", str(echo_spec), str(dataset), "-o", str(tmp_path / "out.jsonl"), "--quiet",
                     "--no-record", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    assert stored_runs() == []


async def test_default_consumers_record_serve_runs_and_progress_lines(fresh_database):
    import io

    from runtime import compile
    from runtime.consumers import default_consumers, flush_records, run_with_consumers
    from runtime.store.runs import get_run
    from runtime.testing.components import sample_registry

    plan = compile(make_spec({"q": ("io.input", {}), "out": ("io.output", {})}, [("q", "value", "out", "value")]),
                   sample_registry())
    lines = io.StringIO()
    result = await run_with_consumers(plan, {"q": "x"}, default_consumers("serve", pipeline_id="p7", progress=lines))
    flush_records()
    record, _ = get_run(result.run_id)
    assert (record.source, record.pipeline_id, record.outputs) == ("serve", "p7", {"out": "x"})
    assert [line.split()[:2] for line in lines.getvalue().splitlines()] == [["ok", "q"], ["ok", "out"]]
    assert default_consumers("editor", record=False) == []


def test_every_source_an_entry_point_records_is_a_run_source():
    """`RunSource` names every place runs come from (the History tab shows it): a new entry point adds its name."""
    import re

    from runtime.consumers import RunSource

    root = Path(__file__).resolve().parents[2]
    used = {name for package in ("runtime", "editor") for path in (root / package).rglob("*.py")
            for pair in re.findall(r"""(?:default_consumers|runner)\("(\w+)"|live_runs\(\)\.start\(.*source="(\w+)\"""",
                                   path.read_text()) for name in pair if name}
    assert used >= {"cli", "batch", "serve", "openai", "mcp", "editor", "eval"}
    assert used <= set(typing.get_args(RunSource)), used - set(typing.get_args(RunSource))


@pytest.mark.parametrize("flags", [(), ("--no-record",)], ids=["recorded", "no-record"])
def test_patchwire_serve_records_its_runs_unless_told_not_to(echo_spec: Path, fresh_database, monkeypatch, flags):
    import httpx
    import uvicorn

    from runtime.cli import main
    from runtime.consumers import flush_records
    from runtime.testing.servers import serve_app

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.setdefault("app", app))
    assert main(["serve", str(echo_spec), *flags, *SAMPLES]) == 0
    with serve_app(served["app"]) as url:
        response = httpx.post(f"{url}/v1/pipelines/echoed/run", json={"inputs": {"query": "hi"}}, timeout=60)
    assert response.status_code == 200 and response.json()["outputs"] == {"out": "e:hi"}
    flush_records()
    runs = [(run.id, run.source) for run in stored_runs()]
    assert runs == ([] if flags else [(response.json()["run_id"], "serve")])
