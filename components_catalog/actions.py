"""Actions with effects outside the run: a structured log record, a task for a human reviewer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from runtime import Component, RunContext, component

from .types import Document

__all__ = ["LogAction", "HumanReview"]


class LogParams(BaseModel):
    level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Severity of the record")
    message: str = Field(default="", description="Text of the record (the value is attached as data)")


class LogInputs(BaseModel):
    value: Any = Field(description="The value to log; passed on unchanged")


class LogOutputs(BaseModel):
    value: Any = Field(description="The same value, so the log can sit inline")


@component(id="action.log", version=1, title="Log", category="Actions")
class LogAction(Component):
    """Write a structured record to the run log and pass the value on."""

    params: LogParams

    async def run(self, inputs: LogInputs, ctx: RunContext) -> LogOutputs:
        ctx.log(self.params.message or f"{ctx.node_id}", level=self.params.level, value=inputs.value)
        return LogOutputs(value=inputs.value)


class ReviewParams(BaseModel):
    queue: str = Field(default="default", min_length=1, max_length=100, description="Inbox the task goes to")
    instructions: str = Field(default="", description="What the reviewer should check", json_schema_extra={"x-widget": "textarea"})


class ReviewInputs(BaseModel):
    question: str = Field(description="What the user asked")
    draft_answer: str = Field(description="The answer to approve, edit or reject")
    score: float | None = Field(default=None, description="The evaluation score that sent it here")
    context: str | list[Document] | None = Field(default=None, description="What the answer was based on")


class ReviewOutputs(BaseModel):
    task_id: str = Field(description="Id of the review task in the inbox")
    status: str = Field(description="`pending` until a reviewer decides")


@component(id="action.human_review", version=1, title="Human review", category="Actions")
class HumanReview(Component):
    """Route to a human: store a review task (question, draft, score, context) for the review inbox."""

    params: ReviewParams

    async def run(self, inputs: ReviewInputs, ctx: RunContext) -> ReviewOutputs:
        from runtime.store import create_review

        context = inputs.context
        if isinstance(context, list):
            context = [doc.model_dump(mode="json") for doc in context]
        task = await ctx.to_thread(
            create_review, run_id=ctx.run_id, node_id=ctx.node_id, queue=self.params.queue,
            question=inputs.question, draft_answer=inputs.draft_answer, score=inputs.score, context=context,
            instructions=self.params.instructions)
        ctx.record("review_task", {"id": task.id, "queue": task.queue})
        return ReviewOutputs(task_id=task.id, status=task.status)
