"""Value types that travel between catalog components."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Document", "TokenUsage"]


class Document(BaseModel):
    """A retrieved or indexed piece of text."""

    id: str = Field(description="Stable id within its collection")
    text: str = Field(description="The text")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Metadata stored with the text")
    score: float | None = Field(default=None, description="Similarity to the query, 0..1 (retrieval only)")


class TokenUsage(BaseModel):
    """Tokens and cost of the model calls one node made (summed over its calls)."""

    model: str = Field(description="The model that answered")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="Cost from litellm's price table; None when unknown")
    calls: int = Field(default=1, description="Model calls made, fallbacks included")
