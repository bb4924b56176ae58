"""`patchwire eval` of 200 rows against `patchwire batch` of the same rows: the assertions' overhead.

    .venv/bin/python bench/eval_overhead.py [--rows 200] [--repeat 3] [--delay 0.05]

Both run as the real command in a fresh process, recording their runs in a private SQLite database, on a
pipeline of sample components whose `demo.delay` node stands for the model call (50 ms by default). The
suite has eight pure assertions on four nodes and the run (equals, icontains, regex, fired, length, latency,
cost, tokens); the eval also stores the experiment. Runs alternate batch/eval; medians are compared.
Target: eval's wall time at most 5% above batch's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtime.testing.specs import make_spec

ROOT = Path(__file__).resolve().parents[1]
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
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


def setup(folder: Path, rows: int, delay: float) -> None:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "wait": ("demo.delay", {"seconds": delay}),
                      "echo": ("demo.echo", {"prefix": "> "}), "out": ("io.output", {})},
                     [("q", "value", "wait", "value"), ("wait", "value", "echo", "value"),
                      ("echo", "value", "out", "value")], name="overhead")
    (folder / "pipe.json").write_text(spec.model_dump_json())
    (folder / "rows.jsonl").write_text("".join(json.dumps({"id": i, "query": f"row {i}", "want": f"> row {i}"}) + "\n"
                                               for i in range(rows)))
    (folder / "suite.yaml").write_text(SUITE)


def timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="patchwire-eval-bench-"))
    setup(folder, args.rows, args.delay)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATCHWIRE_DATA_DIR": str(folder / "data"),
           "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    samples = ["--plugin", "runtime.testing.components"]
    batch, evals = [], []
    for i in range(args.repeat):
        out = folder / f"batch-{i}.jsonl"
        batch.append(timed([PATCHWIRE, "batch", str(folder / "pipe.json"), str(folder / "rows.jsonl"), "-o", str(out),
                            "--quiet", "--concurrency", "8", *samples], env))
        evals.append(timed([PATCHWIRE, "eval", str(folder / "suite.yaml"), "--quiet", *samples], env))
    b, e = statistics.median(batch), statistics.median(evals)
    print(f"{args.rows} rows, {args.delay * 1000:.0f} ms model stand-in per row, concurrency 8, {args.repeat} runs each")
    print(f"patchwire batch: median {b:.3f} s  ({', '.join(f'{t:.3f}' for t in batch)})")
    print(f"patchwire eval:  median {e:.3f} s  ({', '.join(f'{t:.3f}' for t in evals)})")
    print(f"overhead: {(e - b) / b:+.1%} (target ≤ +5.0%)")


if __name__ == "__main__":
    main()
