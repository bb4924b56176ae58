"""`patchwire eval` of 200 rows against `patchwire batch` of the same rows: the assertions' overhead.

    .venv/bin/python bench/eval_overhead.py [--rows 200] [--pairs 7] [--delay 0.05] [--mode both] [--dir DIR]

The pipeline is sample components whose `demo.delay` node stands for the model call (50 ms by default); the
suite has eight pure assertions on four nodes and the run (equals, icontains, regex, fired, length, latency,
cost, tokens), and the eval also stores the experiment. Both commands record their runs in one private SQLite
database, at concurrency 8.

Two measurements, each of `--pairs` interleaved pairs after one untimed warm-up pair; the order inside a pair
alternates (batch first, then eval first) so a drift in the machine's load hits both alike:
- `process`: the real commands, each in a fresh process (what a user waits for, start-up included);
- `inprocess`: both through `runtime.cli.main` in this one process, warmed up (no start-up or import noise:
  what eval adds per row, for the report and the stored experiment).
Reported per mode: the median wall time of each command, and the median over the pairs of eval's overhead
(eval / batch - 1 within the pair) with the lowest and highest pair; the same for CPU time (user + system,
which another program's load disturbs far less than wall time). Target: median wall overhead at most +5%.
The files go to /dev/shm when there is one (see DEFAULT_DIR); `--dir` puts them elsewhere, e.g. `--dir /tmp`
for a disk.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from runtime.testing.specs import make_spec

ROOT = Path(__file__).resolve().parents[1]
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
SAMPLES = ["--plugin", "runtime.testing.components"]
TARGET = 0.05
SUITE = """name: overhead
pipeline: pipe.json
dataset: rows.jsonl
concurrency: 8
assertions:
  - {name: echoed, node: echo, port: value, type: equals, column: want}
  - {name: has_row, node: echo, port: value, type: icontains, value: ROW}
  - {name: shape, node: out, port: value, type: regex, value: '^> row [0-9]+$'}
  - {name: fired, node: out, type: fired}
  - {name: long, node: echo, port: value, type: length_between, min: 3, max: 100}
  - {name: fast, type: latency_ms_lte, value: 10000}
  - {name: cheap, type: cost_lte, value: 0.01}
  - {name: few_tokens, type: tokens_lte, value: 1000}
"""
Sample = tuple[float, float]  # wall seconds, CPU seconds
# Memory, when the machine has it: both commands fsync one line per row (batch its output, eval its resumable
# work file), and on a disk other programs are using each fsync takes from 1 to 10 ms at random, which is
# noise the same for both. Without it the common part is smaller, so eval's share is, if anything, larger.
DEFAULT_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else ""


def setup(folder: Path, rows: int, delay: float) -> None:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "wait": ("demo.delay", {"seconds": delay}),
                      "echo": ("demo.echo", {"prefix": "> "}), "out": ("io.output", {})},
                     [("q", "value", "wait", "value"), ("wait", "value", "echo", "value"),
                      ("echo", "value", "out", "value")], name="overhead")
    (folder / "pipe.json").write_text(spec.model_dump_json())
    (folder / "rows.jsonl").write_text("".join(json.dumps({"id": i, "query": f"row {i}", "want": f"> row {i}"}) + "\n"
                                               for i in range(rows)))
    (folder / "suite.yaml").write_text(SUITE)


class Commands:
    """`patchwire batch` and `patchwire eval` of the same rows; every batch writes a new output file."""

    def __init__(self, folder: Path):
        self.folder, self.count = folder, 0

    def batch(self) -> list[str]:
        self.count += 1
        output = self.folder / f"batch-{self.count}.jsonl"
        output.unlink(missing_ok=True)  # a fresh batch, never a resumed one
        return ["batch", str(self.folder / "pipe.json"), str(self.folder / "rows.jsonl"), "-o", str(output),
                "--quiet", "--concurrency", "8", *SAMPLES]

    def eval(self) -> list[str]:
        return ["eval", str(self.folder / "suite.yaml"), "--quiet", *SAMPLES]


def in_a_process(env: dict[str, str]) -> Callable[[list[str]], Sample]:
    def run(args: list[str]) -> Sample:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run([PATCHWIRE, *args], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"patchwire {args[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return run


def in_this_process(env: dict[str, str]) -> Callable[[list[str]], Sample]:
    os.environ.update(env)
    from runtime.cli import main

    def run(args: list[str]) -> Sample:
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(args)
        if code != 0:
            raise SystemExit(f"patchwire {args[0]} failed ({code}):\n{err.getvalue()[-2000:]}")
        return time.perf_counter() - t0, time.process_time() - c0
    return run


def measure(run: Callable[[list[str]], Sample], commands: Commands, pairs: int) -> tuple[list[Sample], list[Sample]]:
    run(commands.batch()), run(commands.eval())  # warm-up: page cache, bytecode, the database's tables
    batch, evals = [], []
    for i in range(pairs):
        if i % 2 == 0:
            batch.append(run(commands.batch()))
            evals.append(run(commands.eval()))
        else:
            evals.append(run(commands.eval()))
            batch.append(run(commands.batch()))
    return batch, evals


def report(mode: str, batch: list[Sample], evals: list[Sample]) -> float:
    """Print one mode's numbers; the median paired wall overhead."""
    print(f"\n{mode}: {len(batch)} interleaved pairs")
    for name, samples in (("batch", batch), ("eval", evals)):
        walls = ", ".join(f"{w:.3f}" for w, _ in samples)
        print(f"  patchwire {name:<5} wall median {statistics.median(w for w, _ in samples):.3f} s, CPU median "
              f"{statistics.median(c for _, c in samples):.3f} s  (wall: {walls})")
    result = 0.0
    for what, index in (("wall", 0), ("CPU", 1)):
        ratios = sorted(e[index] / b[index] - 1 for b, e in zip(batch, evals, strict=True))
        median = statistics.median(ratios)
        result = median if index == 0 else result
        print(f"  eval overhead ({what}): median {median:+.1%} over the pairs (lowest {ratios[0]:+.1%}, highest "
              f"{ratios[-1]:+.1%})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the model stand-in takes per row")
    parser.add_argument("--mode", choices=["process", "inprocess", "both"], default="both")
    parser.add_argument("--dir", default=DEFAULT_DIR,
                        help=f"where the data, outputs and database go (default {DEFAULT_DIR or 'a temp dir'})")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="patchwire-eval-bench-", dir=args.dir or None))
    setup(folder, args.rows, args.delay)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATCHWIRE_DATA_DIR": str(folder / "data"),
           "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    print(f"{args.rows} rows, {args.delay * 1000:.0f} ms model stand-in per row, concurrency 8, files in {folder}")
    verdicts, commands = [], Commands(folder)
    try:
        for mode in (["process", "inprocess"] if args.mode == "both" else [args.mode]):
            run = in_a_process(env) if mode == "process" else in_this_process(env)
            overhead = report(mode, *measure(run, commands, args.pairs))
            verdicts.append(f"{mode} {overhead:+.1%}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\neval overhead, median wall: {', '.join(verdicts)} (target ≤ +{TARGET:.0%})")


if __name__ == "__main__":
    main()
