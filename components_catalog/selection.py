"""Choosing among candidates: the "ask several models, judge, keep the best" step."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from runtime import Component, PermanentError, RunContext, component

__all__ = ["PickBest"]


class PickBestParams(BaseModel):
    prefer: Literal["highest", "lowest"] = Field(default="highest", description="Keep the candidate with the highest "
                                                                        "or the lowest score")


class PickBestInputs(BaseModel):
    candidates: list[Any] = Field(description="Candidates, one edge each (order = edge order)")
    scores: list[float] = Field(description="One score per candidate, wired in the same edge order")


class PickBestOutputs(BaseModel):
    best: Any = Field(description="The winning candidate")
    score: float = Field(description="Its score")
    index: int = Field(description="Its position among the candidates (0-based)")


@component(id="logic.pick_best", version=1, title="Pick best", category="Logic")
class PickBest(Component):
    """Keep the best-scoring candidate. Ties go to the earlier edge, so runs are reproducible."""

    params: PickBestParams
    cacheable = True

    async def run(self, inputs: PickBestInputs, ctx: RunContext) -> PickBestOutputs:
        candidates, scores = inputs.candidates, inputs.scores
        if not candidates or len(candidates) != len(scores):
            raise PermanentError(
                f"Node `{ctx.node_id}`: got {len(candidates)} candidates and {len(scores)} scores; wire one score "
                "per candidate, in the same order (a skipped branch drops both its candidate and its score).")
        sign = 1 if self.params.prefer == "highest" else -1
        index = max(range(len(scores)), key=lambda i: (sign * scores[i], -i))
        ctx.record("pick_best", {"scores": scores, "index": index})
        return PickBestOutputs(best=candidates[index], score=scores[index], index=index)
