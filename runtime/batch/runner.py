"""`patchwire batch`: run a pipeline on every row of a JSONL or CSV dataset, resumably.

Columns (CSV) or keys (JSONL) are mapped to the pipeline's inputs by name: CSV text is parsed by each
input's type like `--input name=value`, JSONL values are taken as they are. Every finished row is one
JSON line appended to the output and flushed to disk (fsync) before the next is written, so a killed
batch loses no finished row, and a rerun skips the rows already there. A row is known by its `id`
column when the dataset has one, else by its position (`row`, from 0).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..builtins import coerce_input_text
from ..consumers import ConsumerFactory, run_with_consumers
from ..issues import InputProblem, InvalidInputs
from ..plan import Plan
from ..usage import usage_total
from .group_commit import GroupCommit

__all__ = ["Row", "BatchError", "read_dataset", "row_inputs", "run_row", "ResultsFile", "Summary",
           "summarize", "run_local", "row_key"]

ID_COLUMN = "id"


class BatchError(Exception):
    """The dataset or the output file cannot be used (printed as one line by the CLI)."""


@dataclass(slots=True)
class Row:
    index: int  # position in the dataset, from 0
    id: Any  # the `id` column's value, or None
    values: dict[str, Any]
    from_csv: bool
    key: str = field(init=False, repr=False, compare=False)  # looked up several times per row: made once

    def __post_init__(self) -> None:
        self.key = row_key(self.index, self.id)


def row_key(index: int, row_id: Any) -> str:
    return f"row:{index}" if row_id is None else f"id:{json.dumps(row_id, sort_keys=True)}"


# --- reading the dataset -----------------------------------------------------------------------------
def read_dataset(path: str | os.PathLike[str]) -> list[Row]:
    """Every row of a `.jsonl` or `.csv` file; raise `BatchError` naming the line of a bad one."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise BatchError(f"`{file}`: unknown dataset type `{suffix or '(none)'}`. Use a .jsonl file (one JSON "
                         "object per line) or a .csv file with a header row.")
    try:
        rows = _read_csv(file) if suffix == ".csv" else _read_jsonl(file)
    except OSError as exc:
        raise BatchError(f"Cannot read dataset `{file}`: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise BatchError(f"`{file}` is not UTF-8 text (byte {exc.object[exc.start]:#04x}: {exc.reason}). Save "
                         "it as UTF-8 (from a spreadsheet: \"CSV UTF-8\").") from None
    _check_unique_ids(rows, file)
    return rows


def _read_jsonl(file: Path) -> list[Row]:
    rows = []
    with file.open(encoding="utf-8-sig") as handle:  # -sig: a byte-order mark is not part of line 1
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                raise BatchError(f"`{file}` line {lineno} is not valid JSON: {exc.msg} at column {exc.colno}.") \
                    from None
            if not isinstance(data, dict):
                raise BatchError(f"`{file}` line {lineno} is {type(data).__name__}, not an object: each line must "
                                 'be an object of input values, e.g. {"query": "..."}.')
            rows.append(Row(len(rows), data.get(ID_COLUMN), data, from_csv=False))
    return rows


def _read_csv(file: Path) -> list[Row]:
    with file.open(encoding="utf-8-sig", newline="") as handle:  # Excel's "CSV UTF-8" starts with a BOM
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise BatchError(f"`{file}` has no header row: the first line must name the columns (the inputs).")
        rows = []
        for values in reader:
            if None in values:
                raise BatchError(f"`{file}` line {reader.line_num} has more cells than the header has columns.")
            row_id = values.get(ID_COLUMN) or None
            rows.append(Row(len(rows), row_id, dict(values), from_csv=True))
    return rows


def _check_unique_ids(rows: list[Row], file: Path) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.id is None:
            continue
        first = seen.setdefault(row.key, row.index)
        if first != row.index:
            raise BatchError(f"`{file}`: `id` {row.id!r} is used by rows {first} and {row.index}. Ids must be "
                             "unique: they are how a resumed batch knows which rows are done.")


def row_inputs(plan: Plan, row: Row) -> dict[str, Any]:
    """The row's values for the pipeline's inputs (other columns are ignored). Raises `InvalidInputs`."""
    values, problems = {}, []
    for name, (_, params) in plan.inputs.items():
        if name not in row.values:
            continue
        value = row.values[name]
        if row.from_csv:
            if value == "" and params.type != "string":
                continue  # an empty cell: the input's default, or "required"
            try:
                value = coerce_input_text(params.type, value)
            except ValueError as exc:
                problems.append(InputProblem.invalid(name, params.type, value, str(exc)))
                continue
        values[name] = value
    if problems:
        raise InvalidInputs(problems)
    return plan.resolve_inputs(values)


def missing_input_hint(name: str) -> str:
    """How a dataset gives a required input."""
    return (f"this row has no value for it (a `{name}` column in CSV, a `{name}` key in JSONL), and its "
            "io.input node has no `default`.")


# --- running one row ---------------------------------------------------------------------------------
async def run_row(plan: Plan, row: Row, consumers: Sequence[ConsumerFactory] = ()) -> dict[str, Any]:
    """One output record: row, id, status, outputs, error, latency, token usage and scores.

    `consumers` (`runtime.consumers.default_consumers("batch")`) get every event of the row's run."""
    record: dict[str, Any] = {"row": row.index}
    if row.id is not None:
        record["id"] = row.id
    t0 = time.perf_counter()
    try:
        inputs = row_inputs(plan, row)
    except InvalidInputs as exc:
        message = " ".join(exc.texts(missing_input_hint))
        return {**record, "status": "invalid", "outputs": {}, "error": {"type": "InvalidInputs", "message": message}}
    try:
        result = await run_with_consumers(plan, inputs, consumers)
    except Exception as exc:  # noqa: BLE001 - one bad row never stops the batch
        return {**record, "status": "failed", "outputs": {}, "latency_ms": _ms(t0),
                "error": {"type": type(exc).__name__, "message": str(exc)}}
    data = result.to_json()
    record.update(status=data["status"], outputs=data["outputs"], error=result.error, run_id=data["run_id"],
                  latency_ms=data["latency_ms"])
    usage = usage_total(node["outputs"] for node in data["nodes"].values()).to_dict()
    if usage:
        record["usage"] = usage
    scores = _scores(plan, data["nodes"])
    if scores:
        record["scores"] = scores
    return record


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


def _scores(plan: Plan, nodes: dict[str, Any]) -> dict[str, float]:
    """Numeric outputs of `eval.*` nodes, and any numeric output port named `score`, as `node.port`."""
    scores = {}
    for plan_node in plan.nodes:
        outputs = nodes.get(plan_node.id, {}).get("outputs", {})
        is_eval = plan_node.component_id.startswith("eval.")
        for port, value in outputs.items():
            if (is_eval or port == "score") and isinstance(value, int | float) and not isinstance(value, bool):
                scores[f"{plan_node.id}.{port}"] = value
    return scores


OnRecord = Callable[[dict[str, Any]], "Awaitable[None] | None"]


async def run_local(plan: Plan, rows: Iterable[Row], concurrency: int, on_record: OnRecord,
                    consumers: Sequence[ConsumerFactory] = (),
                    run_one: Callable[[Row], Awaitable[dict[str, Any]]] | None = None) -> None:
    """Run rows with at most `concurrency` in flight; `on_record` gets each record as it finishes (an async
    `on_record`, e.g. one awaiting `ResultsFile.append_async`, is awaited before that worker takes a new row).

    `run_one`: what makes a row's record (default `run_row`; `patchwire eval` adds its assertions)."""
    pending = iter(rows)

    async def worker() -> None:
        for row in pending:
            done = on_record(await (run_one(row) if run_one is not None else run_row(plan, row, consumers)))
            if done is not None:
                await done

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))


# --- the output file -----------------------------------------------------------------------------------
class ResultsFile:
    """Append-only JSONL results: one record per line, flushed and fsynced before the call returns.

    `append` writes on the caller's thread (the Ray engine's driver); `append_async` on the event loop hands
    the write + fsync to a writer thread (group_commit.py) and returns once the line is on disk."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.records: list[dict[str, Any]] = self._load()
        self.latest: dict[str, dict[str, Any]] = {}  # row key -> its last record (a retried row has several)
        for record in self.records:
            self.latest[row_key(record.get("row", -1), record.get("id"))] = record
        self._fd: int | None = None
        self._io = threading.Lock()  # a write under way (on the writer thread) finishes before `close`
        self._commit = GroupCommit(self._write_durably)

    @property
    def keys(self) -> set[str]:
        return set(self.latest)

    def failed_keys(self) -> set[str]:
        """Rows whose last record did not succeed (failed, invalid, cancelled): what `--retry-failed` redoes."""
        return {key for key, record in self.latest.items() if record.get("status") != "succeeded"}

    def _load(self) -> list[dict[str, Any]]:
        """Records already written; a half-written last line (a kill mid-write) is cut off."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise BatchError(f"Cannot read the output `{self.path}`: {exc.strerror}.") from None
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            os.truncate(self.path, len(complete))
        records = []
        for lineno, line in enumerate(complete.splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise BatchError(f"The output `{self.path}` line {lineno} is not a result record. Use a new -o "
                                 "file, or delete that one to start over.") from None
            if not isinstance(record, dict) or "row" not in record:
                raise BatchError(f"The output `{self.path}` line {lineno} is not a result record (no `row`). "
                                 "Use a new -o file.")
            records.append(record)
        return records

    def open(self) -> None:
        """Open for appending now, so that an unwritable output fails before any row runs."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise BatchError(f"Cannot write the output `{self.path}`: {exc.strerror}. Check that its "
                                 "folder exists and is writable.") from None

    def append(self, record: dict[str, Any]) -> None:
        """Write `record` and fsync it on this thread."""
        self.open()
        self._write_durably(self._remember(record))

    async def append_async(self, record: dict[str, Any]) -> None:
        """Write `record` and fsync it off the event loop; return once it is on disk (call order is file order)."""
        self.open()
        await self._commit.append(self._remember(record))

    def _remember(self, record: dict[str, Any]) -> bytes:
        self.records.append(record)
        self.latest[row_key(record["row"], record.get("id"))] = record
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def _write_durably(self, data: bytes) -> None:
        with self._io:
            if self._fd is None:
                raise BatchError(f"The output `{self.path}` was closed before its last rows were written; "
                                 "rerun the same command to run them.")
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
            except OSError as exc:
                raise BatchError(f"Cannot write the output `{self.path}`: {exc.strerror}. The rows before are "
                                 "saved: free some space (or fix the disk) and rerun the same command.") from None

    def close(self) -> None:
        self._commit.close()
        with self._io:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


# --- the summary -------------------------------------------------------------------------------------
@dataclass
class Summary:
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    scores: dict[str, tuple[float, int]] = field(default_factory=dict)  # name -> (mean, count)

    def lines(self) -> list[str]:
        out = [f"rows: {self.rows}, succeeded: {self.succeeded}, failed: {self.failed}"]
        if self.p50_ms is not None:
            out.append(f"latency: p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms")
        if self.tokens:
            parts = ", ".join(f"{k.replace('_tokens', '')} {v:,}" for k, v in self.tokens.items())
            cost = f", cost ${self.cost_usd:.4f}" if self.cost_usd is not None else ", cost unknown"
            out.append(f"tokens: {parts}{cost}")
        for name, (mean, count) in self.scores.items():
            out.append(f"score {name}: mean {mean:.3f} over {count} rows")
        return out


def summarize(records: Iterable[dict[str, Any]]) -> Summary:
    summary, latencies, sums = Summary(), [], {}
    for record in records:
        summary.rows += 1
        if record.get("status") == "succeeded":
            summary.succeeded += 1
        else:
            summary.failed += 1
        if isinstance(record.get("latency_ms"), int | float):
            latencies.append(record["latency_ms"])
        for key, value in record.get("usage", {}).items():
            if key == "cost_usd":
                summary.cost_usd = (summary.cost_usd or 0.0) + value
            else:
                summary.tokens[key] = summary.tokens.get(key, 0) + value
        for name, value in record.get("scores", {}).items():
            total, count = sums.get(name, (0.0, 0))
            sums[name] = (total + value, count + 1)
    if latencies:
        summary.p50_ms, summary.p95_ms = percentile(latencies, 50), percentile(latencies, 95)
    summary.scores = {name: (total / count, count) for name, (total, count) in sums.items()}
    return summary


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return float(ordered[int(rank) - 1])
