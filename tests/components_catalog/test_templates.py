"""The shipped templates, end to end: offline on the demo knowledge base, and against a real
OpenAI-compatible server (the loopback fake) by changing one param."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from components_catalog.demo_index import index_demo_kb
from runtime import NodeChunk, NodeRetrying, execute, load_spec, run, validate
from runtime.registry import default_registry
from runtime.store import get_review
from runtime.testing.fake_openai import FakeOpenAI

TEMPLATES = sorted((Path(__file__).parents[2] / "templates").glob("*.json"))
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
ON_TOPIC = "How does Patchwire run independent branches?"
OFF_TOPIC = "What is the boiling point of mercury on Venus?"


@pytest.fixture(scope="module", autouse=True)
def demo_kb():
    index_demo_kb()


def patchwire_run(template: str, query: str) -> dict:
    proc = subprocess.run([PATCHWIRE, "run", f"templates/{template}", "--input", f"query={query}", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_there_are_at_least_three_templates():
    assert {p.stem for p in TEMPLATES} >= {"rag_review", "router", "best_of_two"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_validates_with_the_installed_components(path: Path):
    registry = default_registry()
    assert registry.problems == []
    errors = [i for i in validate(load_spec(path), registry) if i.severity == "error"]
    assert errors == []


def test_rag_review_answers_a_docs_question_offline_from_the_cli():
    result = patchwire_run("rag_review.json", ON_TOPIC)
    nodes = result["nodes"]
    assert result["status"] == "succeeded"
    for node_id in ("normalize", "retrieve", "prompt", "generate", "groundedness", "length", "gate", "answer"):
        assert nodes[node_id]["status"] == "succeeded", (node_id, nodes[node_id])
    assert nodes["review"]["status"] == "skipped"
    documents = nodes["retrieve"]["outputs"]["documents"]
    assert documents and all(0 <= d["score"] <= 1 for d in documents)
    answer = result["outputs"]["answer"]
    assert "parallel" in answer.lower() or "branch" in answer.lower()
    assert answer in nodes["retrieve"]["outputs"]["context"] or answer.split(". ")[0] in \
        nodes["retrieve"]["outputs"]["context"]
    assert nodes["generate"]["outputs"]["usage"]["prompt_tokens"] > 0
    assert result["outputs"]["score"] >= 0.6


def template(name: str):
    return load_spec(TEMPLATES[[p.stem for p in TEMPLATES].index(name)])


async def test_rag_review_sends_an_unanswerable_question_to_a_human():
    result = await run(template("rag_review"), {"query": OFF_TOPIC})
    assert result.status == "succeeded", result.error
    assert "answer" not in result.outputs
    assert result.nodes["gate"].outputs.keys() == {"needs_review"}
    assert result.nodes["answer"].status == "skipped"
    task = get_review(result.outputs["review_task"])
    assert (task.status, task.question, task.run_id) == ("pending", OFF_TOPIC, result.run_id)
    assert task.score == result.outputs["score"] < 0.6


async def test_router_sends_small_talk_and_docs_questions_different_ways():
    chat = await run(template("router"), {"query": "Hello there, thank you!"})
    docs = await run(template("router"), {"query": "Which component retrieves documents from Chroma?"})
    assert chat.outputs["chosen_route"] == "smalltalk"
    assert chat.nodes["retrieve"].status == "skipped"
    assert docs.outputs["chosen_route"] == "docs"
    assert docs.nodes["chat_answer"].status == "skipped"
    assert docs.outputs["answer"] == docs.nodes["docs_answer"].outputs["text"]


async def test_best_of_two_keeps_the_answer_the_judge_scored_higher():
    result = await run(template("best_of_two"), {"query": ON_TOPIC})
    nodes = result.nodes
    assert result.status == "succeeded", result.error
    scores = [nodes["judge_a"].outputs["score"], nodes["judge_b"].outputs["score"]]
    winner = result.outputs["winner"]
    assert scores[winner] == max(scores)
    assert result.outputs["answer"] == nodes[("model_a", "model_b")[winner]].outputs["text"]


# --- the same template against a real provider API (the loopback OpenAI-compatible server) ---------
@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        yield server


def rag_on(server: FakeOpenAI, retries: int = 2):
    spec = template("rag_review")
    generate = spec.node("generate")
    assert generate is not None and generate.policy is not None
    generate.params["model"] = "openai/gpt-4o-mini"  # the one param that changes
    generate.policy.retries, generate.policy.retry_backoff_s = retries, 0.01
    return spec


async def test_rag_review_runs_against_an_openai_compatible_server(openai_server: FakeOpenAI):
    events = [e async for e in execute(rag_on(openai_server), {"query": ON_TOPIC})]
    finished = {e.node_id: e for e in events if e.kind == "node_finished"}
    request = next(r for r in openai_server.requests if r["path"].endswith("/chat/completions"))
    sent = json.dumps(request["json"]["messages"])
    context = finished["retrieve"].outputs["context"]
    assert context and context.splitlines()[0][:60] in sent  # the retrieved context reached the prompt
    chunks = "".join(e.text for e in events if isinstance(e, NodeChunk) and e.node_id == "generate")
    assert chunks and chunks == finished["generate"].outputs["text"]
    assert finished["generate"].outputs["usage"].model.endswith("gpt-4o-mini")
    calls = finished["generate"].trace["model_calls"]
    assert calls[0]["messages"] == request["json"]["messages"]
    assert "sk-test-not-a-real-key" not in json.dumps([str(e) for e in events])


async def test_a_rate_limited_call_is_retried_after_retry_after(openai_server: FakeOpenAI):
    openai_server.script([{"status": 429, "retry_after": 1}])
    events = [e async for e in execute(rag_on(openai_server), {"query": ON_TOPIC})]
    retry = next(e for e in events if isinstance(e, NodeRetrying))
    assert (retry.node_id, retry.attempt, retry.delay_s) == ("generate", 2, 1.0)
    assert events[-1].status == "succeeded"


@pytest.mark.parametrize("behaviour, expected", [
    ({"status": 401}, "Model `openai/gpt-4o-mini` failed with HTTP 401: "),
    ({"status": 403}, "Model `openai/gpt-4o-mini` failed with HTTP 403: "),
    ({"status": 400}, "Model `openai/gpt-4o-mini` failed with HTTP 400: "),
    ({"status": 400, "code": "context_length_exceeded"},
     "Model `openai/gpt-4o-mini`: the prompt does not fit the model's context window (HTTP 400). Shorten the "
     "prompt or use a model with a larger context window."),
])
async def test_client_errors_fail_fast_whatever_the_retry_policy(openai_server, behaviour, expected):
    openai_server.script([behaviour] * 5)
    result = await run(rag_on(openai_server, retries=3), {"query": ON_TOPIC})
    generate = result.nodes["generate"]
    assert result.status == "failed"
    assert generate.attempts == 1, "a client error was retried"
    assert len([r for r in openai_server.requests if r["path"].endswith("/chat/completions")]) == 1
    assert generate.error["type"] == "PermanentError"
    assert generate.error["message"].startswith(expected)
    assert os.environ["OPENAI_API_KEY"] not in generate.error["message"]
