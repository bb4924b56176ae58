"""What the inspector shows of one node's run: inputs, outputs, model calls, retries, error, skip, cache.

Pure functions of a stored `NodeRecord` (full values, from `runtime.store.runs.get_run`) and, while
the run is live, the node's snapshot view. Values are bounded for the browser (`bounded`); the full
value is sent only when the user asks ("show full").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.text import bounded as _bounded
from runtime.text import shorten

from .run_views import format_cost, format_ms

__all__ = ["bounded", "node_detail", "live_detail", "documents_in", "model_calls", "CACHE_LABELS",
           "STRING_LIMIT", "FULL_LIMIT"]

STRING_LIMIT = 1200  # characters of one string in a preview
ITEMS_LIMIT = 50  # items of one list / keys of one object in a preview
DOCUMENT_PREVIEW = 600  # characters of a retrieved document's card
FULL_LIMIT = 2_000_000  # "show full" refuses values larger than this (characters of JSON)
CACHE_LABELS = {"cache": "cache hit (same inputs and params as an earlier run)",
                "reused": "reused from the last run (Run from here)", "pinned": "pinned output (development mock)"}


def bounded(value: Any, *, limit: int = STRING_LIMIT, items: int = ITEMS_LIMIT, depth: int = 12) -> tuple[Any, bool]:
    """A JSON-ready copy with long strings and lists cut (marked `… (N chars)` / `… N more`), and whether
    anything was cut."""
    return _bounded(value, limit=limit, items=items, depth=depth)


def _is_document(value: Any) -> bool:
    return isinstance(value, Mapping) and "text" in value and "id" in value and ("score" in value or "metadata" in value)


def documents_in(outputs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Retrieved documents among a node's outputs, as cards: port, rank, id, title, score, text preview."""
    cards = []
    for port, value in (outputs or {}).items():
        if not isinstance(value, list) or not value or not all(_is_document(d) for d in value):
            continue
        for rank, doc in enumerate(value[:ITEMS_LIMIT], start=1):
            meta = doc.get("metadata") or {}
            score = doc.get("score")
            text = str(doc.get("text") or "")
            cards.append({"key": f"{port}:{rank}", "port": port, "rank": rank, "id": str(doc.get("id")),
                          "title": str(meta.get("title") or meta.get("source") or doc.get("id")),
                          "score": "" if score is None else f"{float(score):.3f}",
                          "text": shorten(text, DOCUMENT_PREVIEW, "…"), "long": len(text) > DOCUMENT_PREVIEW})
    return cards


def model_calls(trace: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The exact messages sent to the model per call, with model, tokens, cost, latency and outcome."""
    calls = []
    for n, call in enumerate((trace or {}).get("model_calls") or [], start=1):
        usage = call.get("usage") or {}
        messages = [{"key": f"{n}:{i}", "role": str(m.get("role", "")), "content": _content(m.get("content"))}
                    for i, m in enumerate(call.get("messages") or [])]
        calls.append({
            "key": str(n), "index": n, "model": str(call.get("model", "")), "attempt": int(call.get("attempt") or 1),
            "tokens_in": int(usage.get("prompt_tokens") or 0), "tokens_out": int(usage.get("completion_tokens") or 0),
            "cost": format_cost(call.get("cost_usd")), "latency": format_ms(call.get("latency_ms")),
            "fallback": bool(call.get("fallback_used")), "error": str(call.get("error") or ""),
            "response": bounded(call.get("response") or "")[0], "messages": messages,
            "params": ", ".join(f"{k}={v}" for k, v in (call.get("params") or {}).items()),
        })
    return calls


def _content(content: Any) -> str:
    if isinstance(content, str):
        return bounded(content, limit=20_000)[0]
    import json

    return bounded(json.dumps(content, ensure_ascii=False, indent=1), limit=20_000)[0]


def _retries(retries: Any) -> list[dict[str, str]]:
    rows = []
    for r in retries or []:
        error = r.get("error") or {}
        rows.append({"key": str(r.get("attempt")), "attempt": str(r.get("attempt", "")),
                     "delay": f"{float(r.get('delay_s') or 0):g} s",
                     "error": f"{error.get('type', 'Error')}: {error.get('message', '')}"})
    return rows


def _other_trace(trace: Mapping[str, Any] | None) -> Any:
    rest = {k: v for k, v in (trace or {}).items() if k not in ("model_calls", "cache_source")}
    return bounded(rest)[0] if rest else {}


def node_detail(record: Any, *, cache_source: str | None = None, full: bool = False) -> dict[str, Any]:
    """Everything the inspector shows of one stored node run (`full`: values not cut)."""
    if full:
        inputs, outputs, cut = record.inputs or {}, record.outputs or {}, False
    else:
        inputs, cut_in = bounded(record.inputs or {})
        outputs, cut_out = bounded(record.outputs or {})
        cut = cut_in or cut_out
    error = record.error or {}
    usage = _usage(record.outputs)
    source = cache_source or ((record.trace or {}).get("cache_source") if record.cache_hit else None)
    if record.cache_hit and not source:
        source = "cache"
    return {
        "status": record.status, "latency": format_ms(record.latency_ms), "attempts": int(record.attempts or 0),
        "cache": CACHE_LABELS.get(source or "", ""), "cache_source": source or "",
        "skip_reason": record.skip_reason or "",
        "error_type": str(error.get("type") or ""), "error_message": str(error.get("message") or ""),
        "traceback": str(error.get("traceback") or ""), "handled": bool(error.get("handled")),
        "retries": _retries(record.retries), "calls": model_calls(record.trace), "documents": documents_in(record.outputs),
        "inputs": inputs, "outputs": outputs, "truncated": cut, "trace": _other_trace(record.trace),
        "logs": [{"key": str(i), "level": str(log.get("level", "info")), "message": str(log.get("message", ""))}
                 for i, log in enumerate(record.logs or [])],
        "tokens_in": usage[0], "tokens_out": usage[1], "cost": usage[2], "model": usage[3],
        "has_data": True,
    }


def _usage(outputs: Mapping[str, Any] | None) -> tuple[int, int, str, str]:
    """Tokens in/out, cost and model of a model node (its `usage` output), zeros for other nodes."""
    for value in (outputs or {}).values():
        if isinstance(value, Mapping) and "prompt_tokens" in value and "total_tokens" in value:
            return (int(value.get("prompt_tokens") or 0), int(value.get("completion_tokens") or 0),
                    format_cost(value.get("cost_usd")), str(value.get("model") or ""))
    return 0, 0, "", ""


def live_detail(view: Mapping[str, Any]) -> dict[str, Any]:
    """What is known of a node while its run is live and before its record is read."""
    error = view.get("error") or {}
    return {
        "status": view.get("status") or "queued", "latency": format_ms(view.get("latency_ms")),
        "attempts": int(view.get("attempts") or 0), "cache": CACHE_LABELS.get(view.get("cache_source") or "", ""),
        "cache_source": view.get("cache_source") or "", "skip_reason": view.get("skip_reason") or "",
        "error_type": str(error.get("type") or ""), "error_message": str(error.get("message") or ""),
        "traceback": "", "handled": False, "retries": [], "calls": [], "documents": [], "inputs": {},
        "outputs": {}, "truncated": False, "trace": {}, "logs": [], "tokens_in": 0, "tokens_out": 0,
        "cost": "", "model": "", "has_data": False,
    }
