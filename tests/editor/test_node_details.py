"""What the inspector shows of a node's run: bounded values, documents as cards, model calls, errors."""

from __future__ import annotations

from types import SimpleNamespace

from editor import node_details as nd


def test_long_values_are_cut_and_marked():
    value, cut = nd.bounded({"text": "x" * 2000, "items": list(range(60)), "n": 1}, limit=100, items=50)
    assert cut and value["text"].endswith("… (2000 chars)") and len(value["text"]) < 130
    assert value["items"][-1] == "… 10 more" and value["n"] == 1
    assert nd.bounded({"a": "short"}) == ({"a": "short"}, False)


def test_retrieved_documents_become_cards_with_scores():
    docs = [{"id": "d1", "text": "About serving.", "metadata": {"title": "Serving"}, "score": 0.8123},
            {"id": "d2", "text": "y" * 700, "metadata": {}, "score": None}]
    cards = nd.documents_in({"documents": docs, "context": "joined text"})
    assert [(c["rank"], c["title"], c["score"]) for c in cards] == [(1, "Serving", "0.812"), (2, "d2", "")]
    assert cards[1]["long"] and cards[1]["text"].endswith("…")


def _record(**kw):
    base = {"status": "succeeded", "latency_ms": 12.0, "attempts": 1, "cache_hit": False, "skip_reason": None,
            "error": None, "retries": None, "trace": None, "inputs": {}, "outputs": {}, "logs": None}
    return SimpleNamespace(**{**base, **kw})


def test_a_model_node_shows_its_messages_tokens_and_cost():
    call = {"model": "local/extractive", "messages": [{"role": "system", "content": "Be brief."},
                                                       {"role": "user", "content": "Question: why?"}],
            "params": {"temperature": 0.0}, "response": "Because.", "usage": {"prompt_tokens": 9, "completion_tokens": 2,
                                                                                "total_tokens": 11},
            "cost_usd": 0.0, "latency_ms": 5.0, "attempt": 1, "fallback_used": False}
    usage = {"model": "local/extractive", "prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11, "cost_usd": 0.0}
    detail = nd.node_detail(_record(trace={"model_calls": [call], "retrieval": {"k": 4}},
                                    outputs={"text": "Because.", "usage": usage}))
    assert (detail["tokens_in"], detail["tokens_out"], detail["cost"], detail["model"]) == (9, 2, "$0", "local/extractive")
    assert [m["role"] for m in detail["calls"][0]["messages"]] == ["system", "user"]
    assert detail["calls"][0]["params"] == "temperature=0.0" and detail["trace"] == {"retrieval": {"k": 4}}


def test_a_failed_node_shows_its_error_retries_and_traceback():
    detail = nd.node_detail(_record(
        status="failed", attempts=3,
        error={"type": "ValueError", "message": "boom", "traceback": "Traceback ...", "handled": False},
        retries=[{"attempt": 2, "delay_s": 0.5, "error": {"type": "RetryableError", "message": "busy"}}]))
    assert (detail["error_type"], detail["error_message"], detail["traceback"]) == ("ValueError", "boom", "Traceback ...")
    assert detail["retries"] == [{"key": "2", "attempt": "2", "delay": "0.5 s", "error": "RetryableError: busy"}]


def test_cache_hits_say_where_the_output_came_from():
    assert nd.node_detail(_record(status="cached", cache_hit=True))["cache"].startswith("cache hit")
    assert nd.node_detail(_record(status="cached", cache_hit=True), cache_source="pinned")["cache"].startswith("pinned")
    assert nd.live_detail({"status": "cached", "cache_source": "reused"})["cache"].startswith("reused from the last run")


def test_show_full_sends_values_uncut():
    record = _record(outputs={"text": "z" * 5000})
    assert nd.node_detail(record)["truncated"]
    full = nd.node_detail(record, full=True)
    assert not full["truncated"] and full["outputs"]["text"] == "z" * 5000
