"""`patchwire batch`: every row through the pipeline, locally or on Ray, resumable after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from runtime.batch import BatchError, ResultsFile, percentile, read_dataset, summarize
from runtime.testing.specs import make_spec

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
SAMPLES = ["--plugin", "runtime.testing.components"]

PLUGIN = '''
import asyncio
import os
from typing import Any

from pydantic import BaseModel
from runtime import Component, RunContext, component


class Text(BaseModel):
    value: str


class TallyParams(BaseModel):
    seconds: float = 0.02


@component(id="test.tally", version=1, title="Tally")
class Tally(Component):
    """Note every run in a side file (to see what was recomputed), wait, shout the value."""

    params: TallyParams

    async def run(self, inputs: Text, ctx: RunContext) -> Text:
        with open(os.environ["PATCHWIRE_TEST_TALLY"], "a") as handle:
            handle.write(inputs.value + "\\n")
        await asyncio.sleep(self.params.seconds)
        return Text(value=inputs.value.upper())


class Reply(BaseModel):
    text: str
    usage: dict[str, Any]


@component(id="test.fake_model", version=1, title="Fake model")
class FakeModel(Component):
    async def run(self, inputs: Text, ctx: RunContext) -> Reply:
        words = len(inputs.value.split())
        return Reply(text=inputs.value, usage={"model": "fake", "prompt_tokens": words, "completion_tokens": 1,
                                               "total_tokens": words + 1, "cost_usd": 0.001})


class Answer(BaseModel):
    answer: str


class Score(BaseModel):
    score: float
    passed: bool


@component(id="eval.fake_length", version=1, title="Fake length score")
class FakeLength(Component):
    async def run(self, inputs: Answer, ctx: RunContext) -> Score:
        return Score(score=min(len(inputs.answer) / 10, 1.0), passed=True)
'''


@pytest.fixture(scope="session")
def ray_address():
    """One local Ray for the whole session, bound to loopback, with usage statistics off."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # bind 127.0.0.1, not the machine's address
    import ray

    context = ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield context.address_info["address"]
    ray.shutdown()


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "batch_plugin.py"
    path.write_text(PLUGIN)
    monkeypatch.setenv("PATCHWIRE_TEST_TALLY", str(tmp_path / "tally.txt"))
    return path


def write_spec(folder: Path, nodes: dict, edges: list, name: str) -> Path:
    path = folder / f"{name}.json"
    path.write_text(make_spec(nodes, edges, name=name).model_dump_json())
    return path


def patchwire(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATCHWIRE, *args], capture_output=True, text=True, timeout=timeout)


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_row(path: Path) -> dict[int, tuple]:
    records = read_records(path)
    rows = Counter(r["row"] for r in records)
    assert all(count == 1 for count in rows.values()), "a row was written twice"
    return {r["row"]: (r["status"], r["outputs"]) for r in records}


@pytest.fixture
def branching(tmp_path: Path) -> tuple[Path, Path]:
    """A router, a fan-in list and an integer input over 200 rows (half each branch)."""
    spec = write_spec(tmp_path, {
        "q": ("io.input", {"name": "query"}), "kind": ("io.input", {"name": "kind"}),
        "n": ("io.input", {"name": "n", "type": "integer", "default": 0}),
        "route": ("demo.router", {"routes": ["even", "odd"]}), "e": ("demo.echo", {"prefix": "E:"}),
        "o": ("demo.delay", {"seconds": 0.001}), "cat": ("demo.concat", {}),
        "all": ("io.output", {}), "odd": ("io.output", {}), "count": ("io.output", {}),
    }, [("kind", "value", "route", "value"), ("route", "even", "e", "value"), ("route", "odd", "o", "value"),
        ("q", "value", "cat", "values"), ("e", "value", "cat", "values"), ("o", "value", "cat", "values"),
        ("cat", "value", "all", "value"), ("o", "value", "odd", "value"), ("n", "value", "count", "value")],
        name="branching")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("".join(json.dumps({"query": f"row {i}", "kind": "even" if i % 2 == 0 else "odd", "n": i})
                               + "\n" for i in range(200)))
    return spec, dataset


def test_local_and_ray_give_identical_outputs_on_200_rows(branching, tmp_path: Path, ray_address: str):
    spec, dataset = branching
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(local), "--concurrency", "16", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "rows: 200, succeeded: 200, failed: 0"
    assert "batch [##############################] 200/200  ok 200  failed 0" in proc.stderr  # the progress bar
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(on_ray), "--engine", "ray", "--ray-address",
                     ray_address, "--concurrency", "16", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "rows: 200, succeeded: 200, failed: 0"
    expected = by_row(local)
    assert len(expected) == 200 and by_row(on_ray) == expected
    assert expected[3] == ("succeeded", {"all": "row 3|odd", "odd": "odd", "count": 3})
    assert expected[4] == ("succeeded", {"all": "row 4|E:even", "count": 4})


def test_the_ray_engine_reuses_a_ray_already_started_in_the_process(branching, tmp_path: Path, ray_address: str):
    import argparse

    from runtime.cli.batch import run_batch

    spec, dataset = branching
    out = tmp_path / "in_process.jsonl"
    args = argparse.Namespace(spec=str(spec), dataset=str(dataset), output=str(out), concurrency=8,
                              engine="ray", ray_address=None, quiet=True, retry_failed=False,
                              plugin=["runtime.testing.components"])
    summary = run_batch(args)
    assert (summary.rows, summary.succeeded) == (200, 200)
    import ray

    assert ray.is_initialized()  # not shut down: it was not ours
    assert by_row(out)[7] == ("succeeded", {"all": "row 7|odd", "odd": "odd", "count": 7})


def test_a_killed_batch_resumes_without_redoing_or_losing_rows(plugin: Path, tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "t": ("test.tally", {"seconds": 0.02}),
                                 "out": ("io.output", {})},
                      [("q", "value", "t", "value"), ("t", "value", "out", "value")], name="tally")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("".join(json.dumps({"query": f"q{i}"}) + "\n" for i in range(100)))
    out, tally = tmp_path / "out.jsonl", tmp_path / "tally.txt"
    command = [PATCHWIRE, "batch", str(spec), str(dataset), "-o", str(out), "--concurrency", "4",
               "--plugin", str(plugin)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not out.exists() or out.read_text().count("\n") < 20:
        assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    finished = {r["outputs"]["out"].lower() for r in read_records(out)}
    assert 20 <= len(finished) < 100
    with out.open("ab") as handle:  # as if the kill had hit in the middle of a write
        handle.write(b'{"row": 99, "status": "succ')

    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {len(finished)} of 100 rows are already in `{out}`" in done.stderr
    assert done.stdout.splitlines()[0] == "rows: 100, succeeded: 100, failed: 0"
    results = by_row(out)  # every row exactly once
    assert sorted(results) == list(range(100))
    assert all(results[i] == ("succeeded", {"out": f"Q{i}"}) for i in range(100))
    runs = Counter(tally.read_text().split())
    assert all(runs[value] == 1 for value in finished), "a row finished before the kill ran again"
    assert set(runs) == {f"q{i}" for i in range(100)}


def test_csv_rows_are_parsed_by_input_type_and_known_by_their_id(tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}),
                                 "n": ("io.input", {"name": "n", "type": "integer", "default": 5}),
                                 "out": ("io.output", {}), "count": ("io.output", {})},
                      [("q", "value", "out", "value"), ("n", "value", "count", "value")], name="csv")
    dataset = tmp_path / "rows.csv"
    dataset.write_text("id,query,n,note\na1,hello,3,x\na2,world,,y\na3,oops,three,z\n")
    out = tmp_path / "out.jsonl"
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(out), "--quiet")
    assert proc.returncode == 1  # a row failed
    assert ("warning: dataset column(s) `note` match no input and are ignored; this pipeline's inputs: `query`, "
            "`n`.") in proc.stderr
    records = {r["id"]: r for r in read_records(out)}
    assert records["a1"]["outputs"] == {"out": "hello", "count": 3}
    assert records["a2"]["outputs"] == {"out": "world", "count": 5}  # an empty cell: the default
    assert records["a3"]["status"] == "invalid"
    assert records["a3"]["error"]["message"] == "Input `n`: expected an integer, got 'three'."
    assert proc.stdout.splitlines()[0] == "rows: 3, succeeded: 2, failed: 1"
    dataset.write_text("id,query,n\na4,new,1\na2,world,\na1,hello,3\na3,oops,3\n")  # by id, not position
    again = patchwire("batch", str(spec), str(dataset), "-o", str(out), "--quiet")
    assert "resuming: 3 of 4 rows are already in" in again.stderr
    assert [(r["id"], r["row"], r["outputs"]) for r in read_records(out)[3:]] == [("a4", 0, {"out": "new",
                                                                                              "count": 1})]
    assert again.stdout.splitlines()[0] == "rows: 4, succeeded: 3, failed: 1"  # a row in the output is done


def test_summary_reports_latency_tokens_cost_and_scores(plugin: Path, tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "m": ("test.fake_model", {}),
                                 "judge": ("eval.fake_length", {}), "out": ("io.output", {})},
                      [("q", "value", "m", "value"), ("m", "text", "judge", "answer"),
                       ("m", "text", "out", "value")], name="scored")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"query": "one two"}\n{"query": "one two three four five six seven eight nine ten"}\n')
    out = tmp_path / "out.jsonl"
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "rows: 2, succeeded: 2, failed: 0"
    assert lines[1].startswith("latency: p50 ") and ", p95 " in lines[1]
    assert lines[2] == "tokens: prompt 12, completion 2, total 14, cost $0.0020"
    assert lines[3] == "score judge.score: mean 0.850 over 2 rows"
    record = read_records(out)[0]
    assert record["usage"] == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3, "cost_usd": 0.001}


def test_model_rows_print_only_the_summary_and_no_litellm_banners(tmp_path: Path):
    """Rows starting at once all load litellm on first use: none may use it half-imported (which failed rows)
    or print its "Provider List" banner (which the offline `local/...` model triggers) on stdout."""
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "chat": ("llm.chat", {}),
                                 "out": ("io.output", {})},
                      [("q", "value", "chat", "prompt"), ("chat", "text", "out", "value")], name="local_chat")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("".join(json.dumps({"query": f"What is row {i}?"}) + "\n" for i in range(6)))
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(tmp_path / "out.jsonl"), "--concurrency", "6",
                     "--quiet", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Provider List" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "rows: 6, succeeded: 6, failed: 0" and lines[1].startswith("latency: p50 ")


def test_bad_datasets_and_outputs_are_clear_errors(tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {}), "out": ("io.output", {})}, [("q", "value", "out", "value")],
                      name="plain")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "fine"}\n{"q": \n')
    proc = patchwire("batch", str(spec), str(bad), "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == f"error: `{bad}` line 2 is not valid JSON: Expecting value at column 7."
    twice = tmp_path / "twice.csv"
    twice.write_text("id,q\nx,1\nx,2\n")
    proc = patchwire("batch", str(spec), str(twice), "-o", str(tmp_path / "o.jsonl"))
    assert "`id` 'x' is used by rows 0 and 1. Ids must be unique" in proc.stderr
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    proc = patchwire("batch", str(spec), str(tmp_path / "rows.parquet"), "-o", str(other))
    assert "unknown dataset type `.parquet`. Use a .jsonl file" in proc.stderr
    good = tmp_path / "good.jsonl"
    good.write_text('{"q": "fine"}\n')
    proc = patchwire("batch", str(spec), str(good), "-o", str(other))
    assert proc.stderr.splitlines()[-1] == (f"error: The output `{other}` line 1 is not a result record. Use a "
                                            "new -o file, or delete that one to start over.")


def test_results_file_and_percentiles(tmp_path: Path):
    results = ResultsFile(tmp_path / "r.jsonl")
    results.append({"row": 0, "status": "succeeded", "outputs": {}, "latency_ms": 10.0})
    results.append({"row": 1, "id": "b", "status": "failed", "outputs": {}, "latency_ms": 30.0})
    results.close()
    again = ResultsFile(tmp_path / "r.jsonl")
    assert again.keys == {"row:0", 'id:"b"'}
    summary = summarize(again.records)
    assert (summary.rows, summary.succeeded, summary.failed, summary.p50_ms, summary.p95_ms) == (2, 1, 1, 10, 30)
    assert percentile(list(range(1, 101)), 95) == 95 and percentile([5.0], 50) == 5.0


@pytest.mark.parametrize(("name", "text", "message"), [
    ("list.jsonl", '["q"]\n', "line 1 is list, not an object: each line must be an object of input values"),
    ("empty.csv", "", "has no header row: the first line must name the columns (the inputs)."),
    ("wide.csv", "q\na,b\n", "line 2 has more cells than the header has columns."),
])
def test_dataset_problems_name_the_file_and_line(tmp_path: Path, name: str, text: str, message: str):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(BatchError) as caught:
        read_dataset(path)
    assert str(caught.value) == f"`{path}` {message}" or str(caught.value).startswith(f"`{path}` {message}")


def test_usage_errors_and_foreign_output_files(tmp_path: Path, capsys):
    from runtime.cli import main

    assert main(["batch", "s.json", "d.jsonl", "-o", "o.jsonl", "--concurrency", "0"]) == 2
    assert capsys.readouterr().err == "error: --concurrency must be at least 1, got 0.\n"
    assert main(["batch", "s.json", "d.jsonl", "-o", "o.jsonl", "--ray-address", "10.0.0.1:6379"]) == 2
    assert capsys.readouterr().err == "error: --ray-address needs --engine ray.\n"
    other = tmp_path / "other.jsonl"
    other.write_text('{"status": "succeeded"}\n')
    with pytest.raises(BatchError, match=r"line 1 is not a result record \(no `row`\). Use a new -o file."):
        ResultsFile(other)


def test_a_byte_order_mark_is_not_part_of_the_first_column_or_line(tmp_path: Path):
    """Excel's "CSV UTF-8" and Notepad start files with a BOM; the first column is still `query`."""
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "out": ("io.output", {})},
                      [("q", "value", "out", "value")], name="bom")
    csv_rows = tmp_path / "rows.csv"
    csv_rows.write_bytes(b'\xef\xbb\xbfquery\r\nhello\r\n"two\nlines"\r\n')
    jsonl_rows = tmp_path / "rows.jsonl"
    jsonl_rows.write_bytes(b'\xef\xbb\xbf{"query": "hello"}\n')
    assert [r.values for r in read_dataset(csv_rows)] == [{"query": "hello"}, {"query": "two\nlines"}]
    assert [r.values for r in read_dataset(jsonl_rows)] == [{"query": "hello"}]
    out = tmp_path / "out.jsonl"
    proc = patchwire("batch", str(spec), str(csv_rows), "-o", str(out), "--quiet")
    assert proc.returncode == 0 and proc.stderr == ""
    assert [r["outputs"] for r in read_records(out)] == [{"out": "hello"}, {"out": "two\nlines"}]


def test_a_dataset_that_is_not_utf8_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("query\ncafé\n".encode("latin-1"))
    with pytest.raises(BatchError) as caught:
        read_dataset(path)
    assert str(caught.value) == (f"`{path}` is not UTF-8 text (byte 0xe9: invalid continuation byte). Save it as "
                                 'UTF-8 (from a spreadsheet: "CSV UTF-8").')


def test_an_unwritable_output_fails_before_any_row_runs(plugin: Path, tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "t": ("test.tally", {}),
                                 "out": ("io.output", {})}, [("q", "value", "t", "value"), ("t", "value", "out", "value")],
                      name="tally")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"query": "a"}\n')
    out = tmp_path / "missing-folder" / "out.jsonl"
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(out), "--plugin", str(plugin), "--quiet")
    assert proc.returncode == 2
    assert proc.stderr == (f"error: Cannot write the output `{out}`: No such file or directory. Check that its "
                           "folder exists and is writable.\n")
    assert not (tmp_path / "tally.txt").exists(), "a row ran although its result could not be written"


def test_a_required_input_no_row_has_is_refused_before_the_batch(tmp_path: Path):
    """Else every row is written as invalid, and the rerun after fixing the header skips them all."""
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}), "out": ("io.output", {})},
                      [("q", "value", "out", "value")], name="needs_query")
    dataset = tmp_path / "rows.csv"
    dataset.write_text("qeury,note\nhello,x\n")
    out = tmp_path / "out.jsonl"
    proc = patchwire("batch", str(spec), str(dataset), "-o", str(out), "--quiet")
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr == (f"error: `{dataset}` has no column (CSV) or key (JSONL) for the required input(s) "
                           "`query`; it has `note`, `qeury`. Rename the column to the input's name, or give the "
                           "io.input node a `default`.\n")


def test_a_row_without_a_required_value_says_so_in_dataset_terms(tmp_path: Path):
    spec = write_spec(tmp_path, {"q": ("io.input", {"name": "query"}),
                                 "n": ("io.input", {"name": "n", "type": "integer"}), "out": ("io.output", {})},
                      [("q", "value", "out", "value")], name="needs_n")
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"query": "a", "n": 1}\n{"query": "b"}\n')
    out = tmp_path / "out.jsonl"
    assert patchwire("batch", str(spec), str(dataset), "-o", str(out), "--quiet").returncode == 1
    assert {r["row"]: r for r in read_records(out)}[1]["error"]["message"] == (
        "Input `n` is required: this row has no value for it (a `n` column in CSV, a `n` key in JSONL), and its "
        "io.input node has no `default`.")
