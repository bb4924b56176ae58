"""`repeat > 1`: every row runs several times; report.json has a run id per repeat and the summary shows the
run-to-run variance of each assertion (pass rate per repeat, its stddev, flaky rows, the spread of scores)."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.cli import main
from runtime.eval.variance import repeat_summary
from runtime.testing.specs import make_spec

PLUGIN = '''
from collections import Counter

from pydantic import BaseModel
from runtime import Component, RunContext, component

CALLS = Counter()


class Text(BaseModel):
    value: str


class Verdict(BaseModel):
    value: str
    score: float


@component(id="test.wobbly", version=1, title="Wobbly")
class Wobbly(Component):
    """A model that does not answer the same twice: `ok` on odd calls per input, `bad` on even ones; the score
    is the call count."""

    cacheable = False

    async def run(self, inputs: Text, ctx: RunContext) -> Verdict:
        CALLS[inputs.value] += 1
        n = CALLS[inputs.value]
        return Verdict(value="ok" if n % 2 else "bad", score=float(n))
'''


def write_suite(tmp_path: Path, repeat: int) -> list[str]:
    plugin = tmp_path / "wobbly_plugin.py"
    plugin.write_text(PLUGIN)
    spec = make_spec({"q": ("io.input", {"name": "query"}), "w": ("test.wobbly", {}), "out": ("io.output", {})},
                     [("q", "value", "w", "value"), ("w", "value", "out", "value")], name="wobbly")
    (tmp_path / "pipe.json").write_text(spec.model_dump_json())
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"id": f"r{i}", "query": f"q{i}"}) + "\n"
                                                 for i in range(3)))
    (tmp_path / "suite.yaml").write_text(f"""name: wobbly
pipeline: pipe.json
dataset: rows.jsonl
repeat: {repeat}
concurrency: 1
assertions:
  - {{name: ok, node: w, port: value, type: equals, value: ok}}
  - {{name: high, node: w, port: score, type: gte, value: 2}}
  - {{name: ran, node: out, type: fired}}
""")
    return ["eval", str(tmp_path / "suite.yaml"), "--quiet", "--plugin", str(plugin), "-o",
            str(tmp_path / "report.json")]


def test_repeats_show_each_assertions_variance(tmp_path, fresh_database, capsys, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
    assert main(write_suite(tmp_path, repeat=3)) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["runs"] == 9 and all(len(row["run_ids"]) == 3 for row in report["rows"])
    assertions = report["summary"]["assertions"]
    assert assertions["ok"] == {"pass_rate": 0.0, "passed": 0, "failed": 3, "pass_rate_per_repeat": [1.0, 0.0, 1.0],
                                "pass_rate_stddev": 0.4714, "flaky": 3}
    assert assertions["high"] == {"pass_rate": 0.0, "passed": 0, "failed": 3, "pass_rate_per_repeat": [0.0, 1.0, 1.0],
                                  "pass_rate_stddev": 0.4714, "flaky": 3, "value_stddev": 0.816497}
    assert assertions["ran"] == {"pass_rate": 1.0, "passed": 3, "failed": 0, "pass_rate_per_repeat": [1.0, 1.0, 1.0],
                                 "pass_rate_stddev": 0.0, "flaky": 0}
    assert report["rows"][0]["assertions"]["high"] == {"passed": False, "actual": 1.0, "expected": 2, "passes": 2,
                                                       "runs": 3, "values": [1.0, 2.0, 3.0]}
    assert "±47.1 pts over 3 repeats, 3 flaky row(s), value stddev 0.8165" in out
    assert "±0.0 pts over 3 repeats, 0 flaky row(s)" in out
    from runtime.store.experiments import experiment_rows, get_experiment

    stored = experiment_rows(report["experiment_id"])  # stored with the experiment, linked to the run history
    assert [(r.row_id, len(r.run_ids), r.passed) for r in stored] == [("r0", 3, False), ("r1", 3, False),
                                                                      ("r2", 3, False)]
    assert stored[0].assertions["high"]["values"] == [1.0, 2.0, 3.0]
    assert get_experiment(report["experiment_id"]).report["summary"] == report["summary"]


def test_one_run_per_row_keeps_the_plain_shape(tmp_path, fresh_database, capsys, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
    assert main(write_suite(tmp_path, repeat=1)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["assertions"]["high"] == {"pass_rate": 0.0, "passed": 0, "failed": 3}
    assert report["rows"][0]["assertions"]["high"] == {"passed": False, "actual": 1.0, "expected": 2}
    assert "repeats" not in capsys.readouterr().out


def test_rows_that_did_not_run_are_left_out_of_the_variance():
    invalid = {"assertions": {"a": {"passed": False, "actual": None, "expected": None, "message": "bad input"}}}
    ran = {"assertions": {"a": {"passed": False, "outcomes": [True, False], "values": [0.5, None]}}}
    assert repeat_summary([invalid, ran], "a") == {"pass_rate_per_repeat": [1.0, 0.0], "pass_rate_stddev": 0.5,
                                                   "flaky": 1}
    assert repeat_summary([invalid], "a") == {}
