"""`patchwire eval`: datasets, assertions on any node's outputs, experiments, baselines and a publish gate."""

from .assertions import Outcome, RunView, check
from .diff import graph_diff, spec_sha256
from .gate import compare_reports, evaluate_gate
from .suite import Assertion, Gate, InvalidSuite, Suite, load_suite, parse_suite, suite_json_schema

__all__ = ["Assertion", "Gate", "InvalidSuite", "Suite", "load_suite", "parse_suite", "suite_json_schema", "Outcome",
           "RunView", "check", "graph_diff", "spec_sha256", "compare_reports", "evaluate_gate"]
