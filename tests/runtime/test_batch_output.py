"""The results file's fsync runs off the event loop (a slow disk no longer freezes the rows in flight), and a
row is reported done only once its line is on disk, in the order the rows finished."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from runtime.batch import BatchError, ResultsFile
from runtime.batch import runner as batch_runner
from runtime.testing.specs import make_spec

REAL_FSYNC = os.fsync


class SlowDisk:
    """`os.fsync` as a slow disk: notes the thread it ran on and how many bytes each call made durable."""

    def __init__(self, seconds: float):
        self.seconds, self.on_loop, self.durable, self.calls = seconds, 0, 0, 0
        self.lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        try:
            asyncio.get_running_loop()
            self.on_loop += 1
        except RuntimeError:
            pass
        threading.Event().wait(self.seconds)
        REAL_FSYNC(fd)
        with self.lock:
            self.calls += 1
            self.durable = os.fstat(fd).st_size


@pytest.fixture
def slow_disk(monkeypatch) -> SlowDisk:
    disk = SlowDisk(0.05)
    monkeypatch.setattr(batch_runner.os, "fsync", disk)
    return disk


def test_batch_never_fsyncs_on_the_event_loop_and_counts_a_row_once_it_is_on_disk(tmp_path: Path, slow_disk,
                                                                                   monkeypatch):
    from runtime.cli import batch as cli_batch
    from runtime.cli import main

    spec = make_spec({"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": "> "}),
                      "out": ("io.output", {})}, [("q", "value", "e", "value"), ("e", "value", "out", "value")])
    (tmp_path / "s.json").write_text(spec.model_dump_json())
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"query": f"row {i}"}) + "\n" for i in range(12)))
    output = tmp_path / "o.jsonl"
    reported: list[int] = []
    progress_update = cli_batch.Progress.update

    def update(self, succeeded: bool) -> None:  # what was on disk when the row was counted as done
        reported.append(slow_disk.durable)
        progress_update(self, succeeded)

    monkeypatch.setattr(cli_batch.Progress, "update", update)
    code = main(["batch", str(tmp_path / "s.json"), str(tmp_path / "d.jsonl"), "-o", str(output), "--no-record",
                 "--quiet", "--plugin", "runtime.testing.components", "--concurrency", "4"])
    assert code == 0
    assert slow_disk.on_loop == 0 and slow_disk.calls >= 1
    lines = output.read_bytes().splitlines(keepends=True)
    assert len(lines) == 12 == len(reported)
    sizes = [sum(map(len, lines[:n])) for n in range(1, 13)]  # bytes on disk once n rows are in the file
    assert all(durable >= size for durable, size in zip(reported, sizes, strict=True))


def test_concurrent_appends_keep_call_order_share_fsyncs_and_survive_a_reopen(tmp_path: Path, slow_disk):
    path = tmp_path / "r.jsonl"
    results = ResultsFile(path)

    async def rows() -> None:
        await asyncio.gather(*(results.append_async({"row": i, "status": "succeeded"}) for i in range(20)))

    asyncio.run(rows())
    results.close()
    assert [json.loads(line)["row"] for line in path.read_text().splitlines()] == list(range(20))
    assert [r["row"] for r in results.records] == list(range(20))
    assert slow_disk.calls < 20  # rows that finished during a flush went out with the next one
    assert ResultsFile(path).keys == {f"row:{i}" for i in range(20)}


def test_a_cancelled_run_leaves_whole_lines_and_close_waits_for_the_write(tmp_path: Path, slow_disk):
    path = tmp_path / "r.jsonl"
    results = ResultsFile(path)

    async def cancelled() -> None:
        first = asyncio.ensure_future(results.append_async({"row": 0, "status": "succeeded"}))
        await asyncio.sleep(0.01)  # its write is under way on the writer thread
        rest = [asyncio.ensure_future(results.append_async({"row": i, "status": "succeeded"})) for i in (1, 2)]
        await asyncio.sleep(0)
        for task in (first, *rest):
            task.cancel()
        await asyncio.gather(first, *rest, return_exceptions=True)

    asyncio.run(cancelled())
    results.close()
    again = ResultsFile(path)
    assert {"row:0"} <= again.keys <= {"row:0", "row:1", "row:2"}  # whole lines only; a rerun runs the rest
    assert path.read_bytes().endswith(b"\n")


def test_a_write_error_reaches_the_row_that_waited_and_names_the_file(tmp_path: Path, monkeypatch):
    results = ResultsFile(tmp_path / "r.jsonl")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch_runner.os, "fsync", full)

    async def one() -> None:
        await results.append_async({"row": 0, "status": "succeeded"})

    with pytest.raises(BatchError, match=r"Cannot write the output `.*r.jsonl`: No space left on device. The rows "):
        asyncio.run(one())
    results.close()
