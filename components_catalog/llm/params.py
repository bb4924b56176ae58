"""What every model-calling component shares: the `model` and `temperature` params, the `api_base` and
`api_key_env` fields, multiline text fields, and how context and messages are put together.
"""

from __future__ import annotations

from typing import Any

from pydantic import AfterValidator, BaseModel, Field

from components_catalog.types import Document
from runtime.secrets import check_allowed_name

__all__ = ["DEFAULT_MODEL", "ModelParams", "api_base_field", "api_key_env_field", "multiline", "render_context",
           "user_message", "chat_messages"]

DEFAULT_MODEL = "local/extractive"


class ModelParams(BaseModel):
    """What every model-calling component shares: the model and its sampling temperature."""

    model: str = Field(DEFAULT_MODEL, min_length=1, json_schema_extra={"x-widget": "model-picker"},
                       description="Any litellm model, e.g. `openai/gpt-4o-mini`, `anthropic/claude-...`, "
                                   "`ollama_chat/llama3`. `local/extractive` is an offline stand-in that "
                                   "extracts sentences from the context (not an LLM)")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0: most deterministic)")


def api_base_field() -> Any:
    """`api_base`, declared last in each params class so the inspector shows it after the prompt fields."""
    return Field(None, description="Provider URL override, e.g. a self-hosted OpenAI-compatible server "
                                   "(empty: the provider's default)")


def api_key_env_field() -> Any:
    """`api_key_env`; a name components may not read (PATCHWIRE_SECRETS) fails `validate`, not the run."""
    field = Field(None, description="Name of the env var holding the API key (empty: the provider's standard "
                                    "one, e.g. OPENAI_API_KEY). The name only: never paste a key here")
    field.metadata.append(AfterValidator(check_allowed_name))  # applied as in `Annotated[str | None, ...]`
    return field


def multiline(default: str, description: str) -> Any:
    return Field(default, description=description, json_schema_extra={"format": "multiline", "x-widget": "textarea"})


def render_context(context: str | list[Document] | None) -> str:
    """Documents as `[1] text` blocks (the `numbered` template filter's format); text as is."""
    if context is None:
        return ""
    if isinstance(context, str):
        return context.strip()
    texts = [(d.text if isinstance(d, Document) else str(d.get("text", "")) if isinstance(d, dict) else str(d))
             for d in context]
    return "\n\n".join(f"[{i}] {text.strip()}" for i, text in enumerate(texts, 1) if text.strip())


def user_message(prompt: str, context: str) -> str:
    """The prompt, after a delimited context block when there is context."""
    if not context:
        return prompt
    return f'Context:\n"""\n{context}\n"""\n\nQuestion: {prompt}'


def chat_messages(system: str, user: str) -> list[dict[str, Any]]:
    """A system message (left out when blank), then the user message."""
    return ([{"role": "system", "content": system}] if system.strip() else []) + [{"role": "user", "content": user}]
