"""Every path and query parameter of the editor: the one place that spells its URLs.

The builders take plain strings or Reflex string vars (`"/pipelines/" + var` is a var), so a page's
link, a redirect and the address bar's `?run=` all come out the same.
"""

from __future__ import annotations

import json
from typing import TypeVar

import reflex as rx

__all__ = ["INDEX", "PIPELINES", "PIPELINE_PAGE", "REVIEWS", "RUN_PARAM", "TASK_PARAM", "API_PIPELINES", "API_PIPELINE_SPEC",
           "pipeline", "pipeline_run", "review", "shown_run", "pipeline_id_of", "replace_url_script"]

INDEX = "/"
PIPELINES = "/pipelines"
PIPELINE_PAGE = PIPELINES + "/[pid]"  # Reflex's dynamic route of the editor page
REVIEWS = "/reviews"
RUN_PARAM = "run"  # /pipelines/<id>?run=<run id>: the run the editor shows
TASK_PARAM = "task"  # /reviews?task=<task id>: the open review task
API_PIPELINES = "/api/pipelines"
API_PIPELINE_SPEC = API_PIPELINES + "/{pipeline_id}/spec"  # a Starlette route pattern

Text = TypeVar("Text", str, rx.Var)


def pipeline(pipeline_id: Text) -> Text:
    return PIPELINES + "/" + pipeline_id


def pipeline_run(pipeline_id: Text, run_id: Text) -> Text:
    return pipeline(pipeline_id) + f"?{RUN_PARAM}=" + run_id


def review(task_id: Text) -> Text:
    return REVIEWS + f"?{TASK_PARAM}=" + task_id


def shown_run(pipeline_id: str, run_id: str) -> str:
    """The editor's address while it shows `run_id` (none: the pipeline alone)."""
    return pipeline_run(pipeline_id, run_id) if run_id else pipeline(pipeline_id)


def pipeline_id_of(path: str) -> str:
    """The pipeline id in an editor page's path (`/pipelines/<id>`), else ""."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and "/" + parts[0] == PIPELINES else ""


def replace_url_script(url: str, *, delay_ms: int = 0) -> str:
    """JavaScript that puts `url` into the address bar without a navigation (a reload then opens it)."""
    replace = f"window.history.replaceState(window.history.state, '', {json.dumps(url)})"
    return f"setTimeout(() => {replace}, {delay_ms})" if delay_ms else replace
