"""The review inbox: tasks created by `action.human_review`, decided exactly once (approve, edit, reject)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from runtime.store.db import session
from runtime.store.reviews import AlreadyDecided, ReviewNotFound, decide_review, get_review, list_reviews
from runtime.store.tables import ReviewTask, RunRecord
from runtime.text import shorten

from .. import routes
from ..node_details import bounded, documents_in

__all__ = ["ReviewState", "review_row", "review_detail"]


def _pipelines(run_ids: set[str]) -> dict[str, str]:
    with session() as s:
        return {rid: (run.pipeline_id or "") for rid in run_ids if (run := s.get(RunRecord, rid)) is not None}


def review_row(task: ReviewTask, pipeline_id: str = "") -> dict[str, Any]:
    draft = task.draft_answer.replace("\n", " ")
    return {"id": task.id, "question": task.question, "draft": shorten(draft, 140, "…"),
            "score": "" if task.score is None else f"{task.score:.2f}", "status": task.status,
            "created": task.created_at.strftime("%Y-%m-%d %H:%M UTC"), "queue": task.queue, "run_id": task.run_id,
            "reviewer": task.reviewer or "", "pipeline_id": pipeline_id}


def review_detail(task: ReviewTask, pipeline_id: str = "") -> dict[str, Any]:
    context = task.context
    cards = documents_in({"context": context}) if isinstance(context, list) else []
    text = context if isinstance(context, str) else ""
    return {**review_row(task, pipeline_id), "draft": task.draft_answer, "instructions": task.instructions,
            "context_text": bounded(text, limit=4000)[0], "documents": cards, "final_answer": task.final_answer or "",
            "decided": task.decided_at.strftime("%Y-%m-%d %H:%M UTC") if task.decided_at else "",
            "run_url": routes.pipeline_run(pipeline_id, task.run_id) if pipeline_id else ""}


def _read_lists() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pending, decided = list_reviews("pending"), [t for t in list_reviews(None, limit=50) if t.status != "pending"]
    pipelines = _pipelines({t.run_id for t in [*pending, *decided]})
    return ([review_row(t, pipelines.get(t.run_id, "")) for t in pending],
            [review_row(t, pipelines.get(t.run_id, "")) for t in decided[:20]])


class ReviewState(rx.State):
    pending: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []
    task: dict[str, Any] = {}  # the open task
    edit_text: str = ""
    message: str = ""  # the outcome of the last decision ("already decided", ...)
    message_kind: str = ""  # success | error
    loaded: bool = False

    @rx.event
    async def load(self):
        self.pending, self.decided = await asyncio.to_thread(_read_lists)
        wanted = str(self.router.url.query_parameters.get(routes.TASK_PARAM, "") or "")
        self.message, self.message_kind = "", ""
        self.loaded = True
        if wanted:
            return await self.open_task(wanted)
        if self.task and not any(r["id"] == self.task.get("id") for r in self.pending + self.decided):
            self.task = {}
        return None

    @rx.event
    async def open_task(self, task_id: str):
        try:
            task = await asyncio.to_thread(get_review, task_id)
        except ReviewNotFound as exc:
            self.task, self.message, self.message_kind = {}, str(exc), "error"
            return
        pipelines = await asyncio.to_thread(_pipelines, {task.run_id})
        self.task = review_detail(task, pipelines.get(task.run_id, ""))
        self.edit_text = task.draft_answer
        self.message, self.message_kind = "", ""

    @rx.event
    def set_edit_text(self, text: str):
        self.edit_text = text

    @rx.event
    async def decide(self, decision: str):
        task_id = str(self.task.get("id") or "")
        if not task_id:
            return None
        answer = self.edit_text if decision == "edit" else None
        try:
            task = await asyncio.to_thread(decide_review, task_id, decision, answer=answer, reviewer="editor")  # type: ignore[arg-type]
        except AlreadyDecided as exc:
            self.message, self.message_kind = f"{exc} Nothing was changed.", "error"
            await self._refresh(task_id)
            return None
        except (ValueError, ReviewNotFound) as exc:
            self.message, self.message_kind = str(exc), "error"
            return None
        verb = {"approved": "Approved", "edited": "Edited and approved", "rejected": "Rejected"}[task.status]
        self.message = f"{verb}. The run now shows the decision" + (
            " and the final answer." if task.final_answer else " (no final answer).")
        self.message_kind = "success"
        await self._refresh(task_id)
        return None

    async def _refresh(self, task_id: str) -> None:
        self.pending, self.decided = await asyncio.to_thread(_read_lists)
        task = await asyncio.to_thread(get_review, task_id)
        pipelines = await asyncio.to_thread(_pipelines, {task.run_id})
        self.task = review_detail(task, pipelines.get(task.run_id, ""))
