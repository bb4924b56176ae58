"""Start the editor the way users do (`scripts/run.sh`: prod, single port, loopback) and stop it cleanly.

The server runs in its own session (process group) with PR_SET_PDEATHSIG, so nothing outlives pytest,
even when pytest is killed; it is stopped by killing its process group.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import websockets.sync.client as ws_client

from tests.infra.services import die_with_parent, free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
PLUGINS = f"{HERE / 'plugin_components.py'}:{HERE / 'broken_plugin.py'}"


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@dataclass
class Server:
    base: str
    port: int
    pid: int
    data_dir: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)


def index_demo_kb(env: dict[str, str]) -> subprocess.Popen:
    """Index the demo knowledge base into the server's data directory (the RAG template searches it).

    A separate process, started alongside the server's build; the server opens Chroma only when a run
    first retrieves, and the caller waits for this before any test runs.
    """
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "components_catalog.demo_index"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)


@contextlib.contextmanager
def run_server(extra_env: dict[str, str] | None = None, *, data_dir: Path | None = None,
               port: int | None = None, timeout: float = 240, demo_kb: bool = False) -> Iterator[Server]:
    """`scripts/run.sh` on a free loopback port with a private data directory; yields when it answers.

    `demo_kb`: index the demo knowledge base into the data directory first (in parallel with the build).
    """
    port = port or free_port()
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="patchwire-e2e-"))
    log = data_dir / f"server-{port}.log"
    # No warm start unless a test asks for it: its imports (litellm, the embedding model) hold module import
    # locks for seconds on a loaded 2-core machine, and a first click that needs one of them waits meanwhile.
    env = {**os.environ, "PORT": str(port), "PATCHWIRE_DATA_DIR": str(data_dir), "PATCHWIRE_PLUGINS": PLUGINS,
           "PATCHWIRE_WARMUP": "0", **(extra_env or {})}
    for name in ("DATABASE_URL", "PATCHWIRE_PORT", "PATCHWIRE_HOST", "REFLEX_BACKEND_HOST"):
        if name not in (extra_env or {}):
            env.pop(name, None)
    headers = {"Authorization": f"Bearer {env['PATCHWIRE_AUTH_TOKEN']}"} if env.get("PATCHWIRE_AUTH_TOKEN") else {}
    base = f"http://{HOST}:{port}"
    indexer = index_demo_kb(env) if demo_kb else None
    with log.open("wb") as out:
        proc = subprocess.Popen([str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent)
    try:
        _wait_ready(proc, base, headers, log, timeout)
        if indexer is not None:
            output, _ = indexer.communicate(timeout=timeout)
            if indexer.returncode != 0:
                raise RuntimeError(f"indexing the demo knowledge base failed:\n{output.decode(errors='replace')}")
        yield Server(base=base, port=port, pid=proc.pid, data_dir=data_dir, log=log, env=env)
    finally:
        if indexer is not None and indexer.poll() is None:
            indexer.kill()
            indexer.wait()
        stop(proc)


def _wait_ready(proc: subprocess.Popen, base: str, headers: dict[str, str], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (http_status(base + "/ping", headers) == 200 and http_status(base + "/", headers) == 200):
        if proc.poll() is not None:
            raise RuntimeError(f"the editor exited with {proc.returncode} before answering:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the editor did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)
    url = base.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket"
    with ws_client.connect(url, additional_headers=headers, open_timeout=10) as ws:
        assert str(ws.recv(timeout=10)).startswith("0"), "the websocket did not send the Engine.IO open packet"


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the editor's process group (SIGKILL after 15 s), then kill a granian worker left in it."""
    stop_group(proc)
