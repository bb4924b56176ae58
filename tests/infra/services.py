"""Start a server process for the tests and stop it by PID, whatever happens to the test session."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime.testing.servers import free_port

__all__ = ["Service", "free_port", "start_service", "port_open", "stop_group", "die_with_parent", "wait_until_answers"]

HOST = "127.0.0.1"


def port_open(port: int, host: str = HOST) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def die_with_parent() -> None:  # preexec_fn (Linux): SIGTERM the service when pytest dies
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_group(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, grace_s: float = 15) -> None:
    """Send `sig` to the process group `proc` leads (started with `start_new_session=True`), SIGKILL it after
    `grace_s`, then SIGKILL what is left in the group (a worker it started)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):  # children left in the group
        os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path
    stop_signal: int = signal.SIGTERM  # what stops it promptly (`ray start --block` ignores SIGTERM, obeys SIGINT)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        """Send `stop_signal` to the service's process group, SIGKILL what is left after 15 s."""
        stop_group(self.proc, sig=self.stop_signal)


def start_service(name: str, cmd: Sequence[str], *, port: int, log: Path, env: dict[str, str] | None = None,
                  ready: Callable[[], bool] | None = None, timeout: float = 90,
                  stop_signal: int = signal.SIGTERM) -> Service:
    """Run `cmd` in its own process group (dies with pytest) and wait until `ready()` (default: the port
    accepts connections)."""
    check = ready or (lambda: port_open(port))
    with log.open("wb") as out:
        proc = subprocess.Popen(list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=die_with_parent)
    service = Service(name, proc, port, log, stop_signal)
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before it was ready:\n{service.tail()}")
        if time.monotonic() > deadline:
            service.stop()
            raise TimeoutError(f"{name} was not ready within {timeout:.0f} s:\n{service.tail()}")
        time.sleep(0.2)
    return service


def wait_until_answers(proc: subprocess.Popen, url: str, *, timeout_s: float = 60) -> None:
    """Poll `url` until the server answers at all (any status); fail when `proc` exits (with its stderr, when
    piped) or after `timeout_s`."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            if proc.poll() is not None:
                stderr = proc.communicate()[1] if proc.stderr is not None else ""
                raise AssertionError(f"the server exited with {proc.returncode}: {stderr}") from None
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
