"""Span names and attributes from run events and node records (GenAI semantic conventions); pure, no SDK.

Components describe what they did in their node's trace (`ctx.record`), and these keys become spans:
- `model_calls`: one `chat {model}` span per call, as `components_catalog.llm.calls` records them
  (`model`, `provider`, `params`, `usage`, `response_model`, `finish_reasons`, `started_at`,
  `first_chunk_at`, `latency_ms`, `error`/`error_type`, `messages`/`response` as content);
- `retrieval` (`collection`, `top_k`, `results`): the node is a `retrieval {collection}` span;
- `http` (`method`, `url` redacted, `status`, `hops`): the node is an `execute_tool {node}` span.
Times come from the records and events (epoch seconds), never from a clock read here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..secrets import redact_text

__all__ = ["CAPTURE_CONTENT_VAR", "CallSpan", "capture_content", "ns", "spec_hash", "run_attributes",
           "node_attributes", "model_call_span", "node_operation"]

CAPTURE_CONTENT_VAR = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
Attributes = dict[str, Any]


def capture_content(environ: Mapping[str, str] = os.environ) -> bool:
    """The convention's opt-in for prompts, replies and queries on spans (off unless exactly `true`)."""
    return environ.get(CAPTURE_CONTENT_VAR, "").strip().lower() == "true"


def ns(ts: float) -> int:
    """Epoch seconds (an event's `ts`) as the SDK's epoch nanoseconds."""
    return int(ts * 1e9)


def spec_hash(spec: Any) -> str:
    """sha256 of the spec as canonical JSON: the same pipeline version gives the same hash."""
    data = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def run_attributes(pipeline: str, digest: str, run_id: str) -> Attributes:
    return {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": pipeline,
            "patchwire.pipeline.name": pipeline, "patchwire.spec.hash": digest, "patchwire.run.id": run_id}


def node_attributes(node_id: str, component_id: str, version: int) -> Attributes:
    return {"patchwire.node.id": node_id, "patchwire.component.id": component_id,
            "patchwire.component.version": version, "openinference.span.kind": "CHAIN"}


@dataclass(slots=True)
class CallSpan:
    name: str
    start: float
    end: float
    attributes: Attributes
    error_type: str | None = None
    error: str | None = None


def model_call_span(entry: Mapping[str, Any], node_start: float, capture: bool) -> CallSpan:
    """The `chat {model}` span of one recorded model call (`node_start` when the record has no start)."""
    model = str(entry.get("model") or "unknown")
    params, usage = entry.get("params") or {}, entry.get("usage") or {}
    start = float(entry.get("started_at") or node_start)
    end = start + float(entry.get("latency_ms") or 0.0) / 1000
    attrs: Attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                         "gen_ai.provider.name": entry.get("provider") or _provider(model),
                         "gen_ai.request.temperature": params.get("temperature"),
                         "gen_ai.request.max_tokens": params.get("max_tokens"),
                         "gen_ai.request.stream": params.get("stream"),
                         "gen_ai.response.model": entry.get("response_model"),
                         "gen_ai.response.finish_reasons": entry.get("finish_reasons") or None,
                         "gen_ai.usage.input_tokens": usage.get("prompt_tokens"),
                         "gen_ai.usage.output_tokens": usage.get("completion_tokens"),
                         "patchwire.usage.cost_usd": entry.get("cost_usd"),
                         "patchwire.model.attempt": entry.get("attempt"),
                         "patchwire.model.fallback_used": entry.get("fallback_used"),
                         "openinference.span.kind": "LLM"}
    first_chunk = entry.get("first_chunk_at")
    if first_chunk:
        attrs["gen_ai.response.time_to_first_chunk"] = round(max(0.0, float(first_chunk) - start), 6)
    if capture:
        attrs.update(_messages(entry))
    span = CallSpan(f"chat {model}", start, max(start, end), _clean(attrs))
    if entry.get("error"):
        span.error_type, span.error = str(entry.get("error_type") or "ModelError"), str(entry["error"])
        span.attributes["error.type"] = span.error_type
    return span


def node_operation(node_id: str, trace: Mapping[str, Any], capture: bool) -> tuple[str | None, Attributes]:
    """A GenAI operation the node itself is (its span's new name, attributes); (None, {}) for other nodes."""
    retrieval = trace.get("retrieval")
    if isinstance(retrieval, Mapping):
        source = str(retrieval.get("collection") or node_id)
        attrs: Attributes = {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": source,
                             "gen_ai.retrieval.top_k": retrieval.get("top_k"),
                             "patchwire.retrieval.results": len(retrieval.get("results") or []),
                             "openinference.span.kind": "RETRIEVER"}
        if capture and isinstance(retrieval.get("query"), str):
            attrs["gen_ai.retrieval.query.text"] = redact_text(retrieval["query"])
        return f"retrieval {source}", _clean(attrs)
    http = trace.get("http")
    if isinstance(http, Mapping):
        url = str(http.get("url") or "")
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": node_id,
                 "gen_ai.tool.type": "extension", "http.request.method": http.get("method"),
                 "url.full": url or None, "server.address": urlsplit(url).hostname if url else None,
                 "http.response.status_code": http.get("status"),
                 "patchwire.http.hops": len(http.get("hops") or []), "openinference.span.kind": "TOOL"}
        return f"execute_tool {node_id}", _clean(attrs)
    return None, {}


def _messages(entry: Mapping[str, Any]) -> Attributes:
    """Prompt and reply as the convention's JSON message lists, secrets masked once more."""
    attrs: Attributes = {}
    messages = entry.get("messages")
    if messages:
        attrs["gen_ai.input.messages"] = redact_text(json.dumps(
            [{"role": m.get("role"), "parts": [{"type": "text", "content": m.get("content")}]}
             for m in messages if isinstance(m, Mapping)], ensure_ascii=False, default=str))
    if isinstance(entry.get("response"), str):
        reasons = entry.get("finish_reasons") or [None]
        attrs["gen_ai.output.messages"] = redact_text(json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": entry["response"]}],
              "finish_reason": reasons[0]}], ensure_ascii=False))
    return attrs


def _provider(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "unknown"


def _clean(attrs: Attributes) -> Attributes:
    """Only values OTLP can carry: None dropped, lists of strings kept."""
    return {k: v for k, v in attrs.items() if v is not None}
