"""The eval suite file: which pipeline, which dataset, which assertions, which gate (a pydantic model).

`load_suite(path)` reads YAML or JSON and raises `InvalidSuite` with every schema problem; the checks that
need the pipeline and the dataset (unknown node, port, column, input) are in `runtime.eval.checks`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..issues import Issue
from ..safe_yaml import YamlRefused, load_yaml

__all__ = ["Suite", "Assertion", "Gate", "AssertionType", "InvalidSuite", "load_suite", "parse_suite",
           "suite_json_schema", "ASSERTION_TYPES", "NEEDS_NODE", "NEEDS_EXPECTED", "sha256_file"]

AssertionType = Literal[
    "fired", "skipped", "status", "branch", "equals", "contains", "icontains", "regex", "is_json", "json_path",
    "contains_id", "gte", "lte", "length_between", "similar", "llm_rubric", "latency_ms_lte", "cost_lte",
    "tokens_lte", "component"]
ASSERTION_TYPES: tuple[str, ...] = AssertionType.__args__  # type: ignore[attr-defined]
# Types that look at one node (`node:` required); the run-wide ones take it optionally.
NEEDS_NODE = {"fired", "skipped", "status", "branch", "equals", "contains", "icontains", "regex", "is_json",
              "json_path", "contains_id", "gte", "lte", "length_between", "similar", "llm_rubric"}
# Types compared with an expected value: `value` or a dataset `column`.
NEEDS_EXPECTED = {"status", "branch", "equals", "contains", "icontains", "regex", "contains_id", "gte", "lte",
                  "similar", "llm_rubric", "latency_ms_lte", "cost_lte", "tokens_lte", "component"}
MAX_SUITE_BYTES = 1_000_000


class InvalidSuite(Exception):
    """The suite cannot run; `issues` lists every problem (printed like `validate`'s, exit 2)."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class Assertion(BaseModel):
    """One check on every row: on a node's output port, or on the whole run."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Shown in the report and used by the gate's `min_pass_rate`")
    type: AssertionType
    node: str | None = Field(None, description="Node id (run-wide for latency/cost/tokens when omitted)")
    port: str | None = Field(None, description="Output port of `node` (default: its only or first port)")
    value: Any = Field(None, description="Expected value (or threshold for gte/lte/latency/cost/tokens)")
    column: str | None = Field(None, description="Dataset column holding the expected value, per row")
    weight: float = Field(1.0, ge=0, description="Weight in the experiment's score")
    threshold: float | None = Field(None, description="similar: least cosine (default 0.8); llm_rubric and "
                                                      "component: least score when `value` is not given")
    path: str | None = Field(None, description="json_path: a dotted path such as `items.0.name` or `$.a.b`")
    json_schema: dict[str, Any] | None = Field(None, alias="schema", description="is_json: JSON Schema to match")
    min: float | None = Field(None, description="length_between: fewest characters or items")
    max: float | None = Field(None, description="length_between: most characters or items")
    rubric: str | None = Field(None, description="llm_rubric: what a good answer does")
    model: str | None = Field(None, description="llm_rubric: judge model (default the offline local/extractive)")
    component: str | None = Field(None, description="component: a registered component id, e.g. `eval.score`")
    params: dict[str, Any] = Field(default_factory=dict, description="component: its params")
    inputs: dict[str, str] = Field(default_factory=dict, description="component: its input port <- `node.port` "
                                                                     "or `column:NAME`")
    output: str = Field("score", description="component: the numeric output port compared with `value`")

    @model_validator(mode="after")
    def _defaults(self) -> Assertion:
        if self.type == "similar" and self.threshold is None:
            self.threshold = 0.8
        return self

    @property
    def expected_source(self) -> str:
        return f"column `{self.column}`" if self.column else "`value`"


class Gate(BaseModel):
    """When an experiment passes; every rule is optional. No `gate:` at all means `max_regressions: 0`."""

    model_config = ConfigDict(extra="forbid")

    min_pass_rate: dict[str, float] = Field(default_factory=dict, description="assertion name -> least pass rate")
    min_score: float | None = Field(None, ge=0, le=1, description="least weighted pass rate")
    max_regressions: int | None = Field(0, ge=0, description="rows passing in the baseline that fail now")
    max_latency_p95_increase: float | None = Field(None, description="relative p95 increase vs the baseline")
    max_cost_increase: float | None = Field(None, description="relative cost increase vs the baseline")


class Suite(BaseModel):
    """A dataset, a pipeline and assertions on any node's outputs: one experiment per `patchwire eval`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    pipeline: str | None = Field(None, description="A spec file (relative to the suite file)")
    pipeline_id: str | None = Field(None, description="A saved pipeline's id (instead of `pipeline`)")
    version: int | None = Field(None, description="With pipeline_id: a saved version's id (default: current)")
    dataset: str = Field(description="JSONL or CSV (relative to the suite file); an `id` column is optional")
    inputs: dict[str, str] = Field(default_factory=dict, description="pipeline input <- dataset column "
                                                                     "(default: same names)")
    repeat: int = Field(1, ge=1, le=100, description="runs per row")
    concurrency: int = Field(4, ge=1, le=256)
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    mocks: dict[str, dict[str, Any]] = Field(default_factory=dict, description="node id -> outputs for every "
                                                                               "row; a row's `mocks` overrides")
    assertions: list[Assertion] = Field(default_factory=list)
    gate: Gate = Field(default_factory=Gate)

    @model_validator(mode="after")
    def _one_pipeline(self) -> Suite:
        if bool(self.pipeline) == bool(self.pipeline_id):
            raise ValueError("give exactly one of `pipeline` (a spec file) and `pipeline_id` (a saved pipeline)")
        return self

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))


def suite_json_schema() -> dict[str, Any]:
    schema = Suite.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://patchwire.dev/schema/eval-suite-v1.json"
    return schema


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """The suite and the folder its relative paths start from; raises `InvalidSuite`."""
    file = Path(path)
    try:
        with file.open("rb") as stream:  # bounded: a device or pipe may never end
            data = stream.read(MAX_SUITE_BYTES + 1)
    except OSError as exc:
        raise InvalidSuite([Issue(code="unreadable_file", message=f"Cannot read suite `{file}`: {exc.strerror}.",
                                  hint="Check the path: it must name a .yaml or .json suite file.")]) from None
    fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_suite(data, fmt=fmt, source=str(file)), file.parent


def parse_suite(data: str | bytes, *, fmt: str = "yaml", source: str = "<suite>") -> Suite:
    raw = _parse(data, fmt, source)
    if not isinstance(raw, dict):
        raise InvalidSuite([Issue(code="suite_schema", message=f"`{source}` does not hold a suite object.",
                                  hint="A suite is an object with `name`, `pipeline`, `dataset` and `assertions`.")])
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        raise InvalidSuite([_schema_issue(error, raw) for error in exc.errors()[:100]]) from None


def _parse(data: str | bytes, fmt: str, source: str) -> Any:
    if len(data) > MAX_SUITE_BYTES:
        raise InvalidSuite([Issue(code="suite_too_large", message=f"`{source}` is over {MAX_SUITE_BYTES:,} bytes.",
                                  hint="Keep the rows in the dataset file, not in the suite.")])
    if fmt == "yaml":
        try:
            return load_yaml(data, source, what="suite", syntax_code="suite_syntax")
        except YamlRefused as exc:
            raise InvalidSuite([exc.issue]) from None
    try:
        return json.loads(data)
    except Exception as exc:  # noqa: BLE001 - any parse error, said with its position
        raise InvalidSuite([Issue(code="suite_syntax", message=f"`{source}` is not valid {fmt.upper()}: "
                                  f"{str(exc).splitlines()[0]}", hint="Fix the syntax at the position shown.")]) \
            from None


def _schema_issue(error: Any, raw: dict[str, Any]) -> Issue:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    path = where
    if len(loc) >= 2 and loc[0] == "assertions" and isinstance(loc[1], int):
        items = raw.get("assertions") or []
        name = items[loc[1]].get("name") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else None
        where = f"assertion `{name or loc[1]}`" + (f" field `{'.'.join(map(str, loc[2:]))}`" if loc[2:] else "")
    if error["type"] == "literal_error" and loc[-1] == "type":
        hint = "Known types: " + ", ".join(f"`{t}`" for t in ASSERTION_TYPES) + "."
        return Issue(code="unknown_assertion_type", path=path, hint=hint,
                     message=f"Unknown assertion type {error['input']!r} in {where}.")
    if error["type"] == "extra_forbidden":
        return Issue(code="suite_schema", path=path, message=f"Unknown field in {where}.",
                     hint="Remove it or fix its spelling (`patchwire eval schema` lists the fields).")
    return Issue(code="suite_schema", path=path, message=f"{where}: {error['msg']}.",
                 hint="See `patchwire eval schema` for the suite format.")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
