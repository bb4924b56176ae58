"""Warm start: the editor loads litellm, the embedder and Chroma in a background thread (editor.warmup)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

import pytest

from editor import warmup


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warmup, "_state", {"status": "off", "seconds": None})
    monkeypatch.delenv(warmup.ENV_OFF, raising=False)
    monkeypatch.delenv(warmup.ENV_DELAY, raising=False)


def _wait_ready(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while warmup.status() != "ready":
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.01)


def test_start_returns_at_once_and_the_steps_run_in_a_thread(fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    release, ran = threading.Event(), []

    def slow() -> None:
        ran.append(threading.current_thread().name)
        release.wait(10)

    monkeypatch.setattr(warmup, "_steps", lambda: [("slow", slow), ("next", lambda: ran.append("next"))])
    started = time.perf_counter()
    assert warmup.start() == "warming"
    assert time.perf_counter() - started < 0.5
    assert warmup.start() == "warming"  # once per process
    release.set()
    _wait_ready()
    assert ran == ["patchwire-warmup", "next"]


def test_a_failing_step_is_logged_and_the_rest_still_run(fresh, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise OSError("no model file")

    after = []
    monkeypatch.setattr(warmup, "_steps", lambda: [("embedding model", broken), ("Chroma", lambda: after.append(1))])
    with caplog.at_level(logging.WARNING, logger="editor"):
        warmup.start()
        _wait_ready()
    assert after == [1]
    assert "warm-up step 'embedding model' failed; the first run that needs it will load it" in caplog.text


def test_turned_off_it_is_ready_without_loading_anything(fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warmup.ENV_OFF, "0")
    monkeypatch.setattr(warmup, "_steps", lambda: pytest.fail("no step may run"))
    assert warmup.start() == "ready"


def test_a_bad_delay_is_a_warning_not_a_crash(fresh, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(warmup.ENV_DELAY, "soon")
    with caplog.at_level(logging.WARNING, logger="editor"):
        assert warmup._delay() == 0.0
    assert "PATCHWIRE_WARMUP_DELAY_S must be a number of seconds, got 'soon'; warming up now" in caplog.text


def test_the_real_steps_load_litellm_the_embedder_and_chroma(tmp_path) -> None:
    """In a fresh interpreter: nothing heavy on import; after the warm-up, everything the first run needs."""
    probe = (
        "import sys, time\n"
        "from editor import warmup\n"
        "heavy = ('litellm', 'onnxruntime', 'chromadb')\n"
        "print('BEFORE', sorted(m for m in heavy if m in sys.modules))\n"
        "warmup.start()\n"
        "while warmup.status() != 'ready': time.sleep(0.05)\n"
        "from components_catalog import embeddings\n"
        "from components_catalog.retrieval import chroma_client\n"
        "import litellm\n"
        "print('AFTER', sorted(m for m in heavy if m in sys.modules), embeddings._default is not None,\n"
        "      bool(chroma_client._clients), 'local' in litellm.provider_list)\n")
    env = {**os.environ, "PATCHWIRE_DATA_DIR": str(tmp_path), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("CHROMA_HOST", None), env.pop("CHROMA_PORT", None)
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "BEFORE []" in proc.stdout
    assert "AFTER ['chromadb', 'litellm', 'onnxruntime'] True True True" in proc.stdout, proc.stdout + proc.stderr
