"""Runs recorded from their event stream into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import execute
from runtime.store.db import session
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run, list_runs, mark_interrupted_runs
from runtime.store.tables import RunRecord
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

REGISTRY = sample_registry()


pytestmark = pytest.mark.usefixtures("database")  # SQLite and PostgreSQL


def spec():
    return make_spec({"q": ("io.input", {}), "flaky": ("demo.fail_n_times", {"failures": 1},
                                                       {"retries": 1, "retry_backoff_s": 0}),
                      "route": ("demo.router", {"routes": ["a", "b"]}), "on_b": ("demo.echo", {}),
                      "out": ("io.output", {})},
                     [("q", "value", "flaky", "value"), ("q", "value", "route", "value"),
                      ("route", "b", "on_b", "value"), ("flaky", "value", "out", "value")], name="recorded")


async def record(spec_, inputs, **meta):
    recorder = RunRecorder(spec=spec_, **meta)
    async for event in execute(spec_, inputs, registry=REGISTRY):
        recorder(event)
    recorder.flush()
    return event.run_id


async def test_a_run_is_stored_with_every_node_in_full():
    run_id = await record(spec(), {"q": "a"}, pipeline_id="p1", source="cli")
    run, nodes = get_run(run_id)
    assert (run.status, run.pipeline_id, run.pipeline_name, run.source) == ("succeeded", "p1", "recorded", "cli")
    assert run.inputs == {"q": "a"} and run.outputs == {"out": "a (attempt 2)"}
    assert run.spec["name"] == "recorded" and run.latency_ms > 0
    flaky = nodes["flaky"]
    assert (flaky.status, flaky.attempts, flaky.inputs, flaky.outputs) == ("succeeded", 2, {"value": "a"},
                                                                          {"value": "a (attempt 2)"})
    assert flaky.retries[0]["error"]["message"] == "attempt 1 failed on purpose"
    assert (nodes["on_b"].status, nodes["on_b"].skip_reason) == (
        "skipped", "no upstream value arrived (`route.b` did not fire)")
    assert [r.id for r in list_runs("p1")] == [run_id]


async def test_runs_are_listed_newest_first_per_pipeline():
    first = await record(spec(), {"q": "a"}, pipeline_id="p1")
    second = await record(spec(), {"q": "b"}, pipeline_id="p1")
    await record(spec(), {"q": "c"}, pipeline_id="other")
    assert [r.id for r in list_runs("p1")] == [second, first]


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path: Path):
    script = tmp_path / "die.py"
    script.write_text(
        "import asyncio, os\n"
        "from runtime import execute\n"
        "from runtime.store.recorder import RunRecorder\n"
        "from runtime.testing.components import sample_registry\n"
        "from runtime.testing.specs import make_spec\n"
        "spec = make_spec({'q': ('io.input', {}), 'slow': ('demo.delay', {'seconds': 30}), 'out': ('io.output', {})},\n"
        "                 [('q', 'value', 'slow', 'value'), ('slow', 'value', 'out', 'value')])\n"
        "async def main():\n"
        "    recorder = RunRecorder(spec=spec)\n"
        "    async for event in execute(spec, {'q': 'x'}, registry=sample_registry()):\n"
        "        recorder(event)\n"
        "        if event.kind == 'node_started' and event.node_id == 'slow':\n"
        "            recorder.flush(); print(event.run_id, flush=True); os._exit(0)\n"
        "asyncio.run(main())\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    run_id = proc.stdout.strip()
    assert get_run(run_id)[0].status == "running", proc.stderr
    assert mark_interrupted_runs() == [run_id]
    run, nodes = get_run(run_id)
    assert run.status == "interrupted"
    assert run.error == {"type": "Interrupted", "message": "The server stopped while this run was in flight."}
    assert nodes["slow"].status == "cancelled" and nodes["q"].status == "succeeded"
    assert mark_interrupted_runs() == []  # already handled


async def test_a_live_run_of_this_process_is_not_marked_interrupted():
    run_id = await record(spec(), {"q": "a"})
    with session() as s:
        stored = s.get(RunRecord, run_id)
        stored.status = "running"
        s.add(stored)
        s.commit()
    assert mark_interrupted_runs() == []


async def test_a_review_decision_is_recorded_on_its_run():
    from runtime.store import create_review, decide_review

    run_id = await record(spec(), {"q": "a"})
    task = create_review(run_id=run_id, node_id="review", question="Q?", draft_answer="draft")
    decide_review(task.id, "edit", answer="the corrected answer", reviewer="ana")
    run, _ = get_run(run_id)
    assert run.final_answer == "the corrected answer"
    assert (run.review["task_id"], run.review["status"], run.review["reviewer"]) == (task.id, "edited", "ana")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # it builds its own old SQLite file
def test_an_older_database_gains_new_columns_without_losing_rows(tmp_path: Path, monkeypatch):
    import sqlite3

    from runtime.store.db import reset_engines

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # a run_record table from before `final_answer` and `review` existed
        old.execute("CREATE TABLE run_record (id VARCHAR PRIMARY KEY, pipeline_name VARCHAR, status VARCHAR)")
        old.execute("INSERT INTO run_record VALUES ('r1', 'legacy', 'succeeded')")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    reset_engines()
    assert [r.id for r in list_runs()] == ["r1"]
    run, _ = get_run("r1")
    assert (run.pipeline_name, run.final_answer) == ("legacy", None)


async def test_reused_and_pinned_outputs_are_recorded_as_such():
    spec_ = make_spec({"q": ("io.input", {}), "a": ("demo.echo", {}), "b": ("demo.echo", {}),
                       "out": ("io.output", {})},
                      [("q", "value", "a", "value"), ("a", "value", "b", "value"), ("b", "value", "out", "value")])
    recorder = RunRecorder(spec=spec_)
    async for event in execute(spec_, {"q": "x"}, registry=REGISTRY, reuse={"a": {"value": "old"}},
                               pinned={"b": {"value": "mock"}}):
        recorder(event)
    recorder.flush()
    _, nodes = get_run(event.run_id)
    assert (nodes["a"].status, nodes["a"].trace) == ("cached", {"cache_source": "reused"})
    assert (nodes["b"].status, nodes["b"].trace) == ("cached", {"cache_source": "pinned"})


async def record_and_confirm(spec_):
    """Run `spec_` with a recorder and wait for its receipt: None when stored, else the RecordNotStored."""
    from runtime.store.recorder import RecordNotStored

    recorder = RunRecorder(spec=spec_, source="serve")
    receipt = None
    async for event in execute(spec_, {"q": "a"}, registry=REGISTRY):
        if receipt is None:
            receipt = recorder.stored(event.run_id)
        recorder(event)
    try:
        await asyncio.wait_for(receipt, 10)
    except RecordNotStored as exc:
        return event.run_id, exc
    return event.run_id, None


async def test_a_stored_run_is_confirmed_to_whoever_waits_for_it():
    run_id, problem = await record_and_confirm(spec())
    assert problem is None and get_run(run_id)[0].status == "succeeded"


async def test_a_run_whose_records_are_lost_is_reported_not_dropped(database):
    import sqlalchemy as sa

    from runtime.store.db import get_engine

    with get_engine(database).begin() as connection:  # the database breaks under the running service
        connection.execute(sa.text("DROP TABLE node_record"))
    run_id, problem = await record_and_confirm(spec())
    assert str(problem).startswith(f"Run {run_id} was not recorded: could not store run records: ")
    assert "node_record" in str(problem)
    run_id, problem = await record_and_confirm(spec())  # every later run too, none silently
    assert str(problem).startswith(f"Run {run_id} was not recorded: ")


def test_a_run_orphaned_by_a_killed_process_is_interrupted_at_the_next_start_only(tmp_path: Path):
    """A live process's run is left alone by another process's start-up; once that process is killed, the
    next start-up marks it interrupted."""
    from runtime.store import prepare_database
    from runtime.store.db import reset_engines

    script = tmp_path / "hold.py"
    script.write_text(
        "import asyncio, time\n"
        "from runtime import execute\n"
        "from runtime.store.recorder import RunRecorder\n"
        "from runtime.testing.components import sample_registry\n"
        "from runtime.testing.specs import make_spec\n"
        "spec = make_spec({'q': ('io.input', {}), 'slow': ('demo.delay', {'seconds': 60}), 'out': ('io.output', {})},\n"
        "                 [('q', 'value', 'slow', 'value'), ('slow', 'value', 'out', 'value')])\n"
        "async def main():\n"
        "    recorder = RunRecorder(spec=spec)\n"
        "    async for event in execute(spec, {'q': 'x'}, registry=sample_registry()):\n"
        "        recorder(event)\n"
        "        if event.kind == 'node_started' and event.node_id == 'slow':\n"
        "            recorder.flush(); print(event.run_id, flush=True)\n"
        "asyncio.run(main())\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        reset_engines()
        prepare_database()  # another process starting while this run is live
        assert get_run(run_id)[0].status == "running"
    finally:
        proc.kill()
        proc.wait()
    reset_engines()
    prepare_database()  # the next start-up after the kill
    assert get_run(run_id)[0].status == "interrupted"


async def test_a_pipelines_history_includes_runs_of_its_spec_from_the_cli_and_batch():
    mine = await record(spec(), {"q": "a"}, pipeline_id="p-hist", source="editor")
    from_cli = await record(spec(), {"q": "a"}, source="cli")  # no pipeline id: `patchwire run spec.json`
    from_batch = await record(spec(), {"q": "b"}, source="batch")
    other = await record(spec(), {"q": "a"}, pipeline_id="p-other", source="editor")
    listed = [r.id for r in list_runs("p-hist", spec_name="recorded")]
    assert set(listed) >= {mine, from_cli, from_batch} and other not in listed
    assert [r.id for r in list_runs("p-hist")] == [mine]  # by id only, as before
    assert from_cli not in [r.id for r in list_runs("p-hist", spec_name="another-name")]
