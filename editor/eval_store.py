"""Where the Evaluate panel keeps a pipeline's suite and datasets: files in the data directory, no tables.

The suite attached to a pipeline is `<data dir>/eval/suites/<pipeline id>.json`, a suite file like any other
(`pipeline_id:` the pipeline), so `patchwire eval` runs it too; uploaded datasets go to
`<data dir>/eval/datasets/<pipeline id>/`. Example datasets are the project's `examples/eval/`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from runtime.eval.suite import Suite
from runtime.settings import data_dir
from runtime.store.db import session
from runtime.store.experiments import Experiment

from .eval_views import DATASET_SUFFIXES

__all__ = ["suite_path", "load_draft", "save_draft", "draft_suite", "save_upload", "example_datasets",
           "experiments_of", "UploadRefused", "MAX_UPLOAD_BYTES", "too_large_message"]

MAX_UPLOAD_BYTES = 20_000_000
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefused(ValueError):
    pass


def _folder(*parts: str) -> Path:
    path = data_dir().joinpath("eval", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def suite_path(pipeline_id: str) -> Path:
    return _folder("suites") / f"{_SAFE.sub('-', pipeline_id)}.json"


def load_draft(pipeline_id: str, pipeline_name: str) -> dict[str, Any]:
    """The pipeline's attached suite as a dict (a new one, named after the pipeline, when there is none)."""
    try:
        data = json.loads(suite_path(pipeline_id).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("pipeline_id") == pipeline_id:
            return data
    except (OSError, ValueError):
        pass
    slug = _SAFE.sub("-", pipeline_name.lower()).strip("-")[:40] or "pipeline"
    return {"name": f"{slug}-{pipeline_id}", "pipeline_id": pipeline_id, "dataset": "", "inputs": {},
            "assertions": [], "gate": {"max_regressions": 0}}


def save_draft(pipeline_id: str, draft: dict[str, Any]) -> None:
    path = suite_path(pipeline_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(draft, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def draft_suite(draft: dict[str, Any]) -> Suite:
    """The draft as a `Suite` (raises `InvalidSuite`, like a suite file, naming each problem)."""
    from runtime.eval.suite import parse_suite

    return parse_suite(json.dumps(draft), fmt="json", source="the Evaluate panel's suite")


def too_large_message(filename: str, size: int | None) -> str:
    """A dataset over `MAX_UPLOAD_BYTES` (`size` None: the upload did not say how big it is)."""
    shown = f"{size:,} bytes" if size is not None else f"over {MAX_UPLOAD_BYTES:,} bytes"
    return (f"`{filename}` is {shown}; the editor takes datasets up to {MAX_UPLOAD_BYTES:,} bytes (run bigger ones "
            "with `patchwire eval`).")


def save_upload(pipeline_id: str, filename: str, data: bytes) -> Path:
    """Store an uploaded dataset under a safe name; refuse what is not a JSONL or CSV file, or too big."""
    name = _SAFE.sub("_", Path(filename or "").name).lstrip(".")
    if not name.lower().endswith(DATASET_SUFFIXES):
        raise UploadRefused(f"`{filename}` is not a dataset: upload a .jsonl file (one JSON object per line) or a "
                            ".csv file with a header row.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(too_large_message(filename, len(data)))
    path = _folder("datasets", _SAFE.sub("-", pipeline_id)) / name
    path.write_bytes(data)
    return path


def examples_dir() -> Path:
    return Path(os.environ.get("PATCHWIRE_EXAMPLES_DIR") or Path(__file__).resolve().parents[1] / "examples") / "eval"


def example_datasets() -> list[dict[str, str]]:
    folder = examples_dir()
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in DATASET_SUFFIXES) if folder.is_dir() else []
    return [{"label": p.name, "path": str(p)} for p in files]


def experiments_of(suite_name: str, limit: int = 30) -> list[dict[str, Any]]:
    """This suite's stored experiments, newest first: what "Compare with baseline" offers."""
    query = (select(Experiment).where(col(Experiment.suite_name) == suite_name)
             .order_by(col(Experiment.created_at).desc()).limit(limit))
    with session() as s:
        found = list(s.exec(query))
    return [{"id": e.id, "label": f"{e.created_at:%Y-%m-%d %H:%M:%S} · score {(e.score or 0) * 100:.0f}% · {e.id[:8]}"}
            for e in found]
