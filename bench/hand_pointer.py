"""A mouse driven as a hand drives one: real input events (the DevTools protocol's `Input.dispatchMouseEvent`, the
path a physical mouse's events take into the page: hit testing, hover, event dispatch), one move a frame, the
way Chromium hands a page a real mouse's moves (coalesced to at most one `mousemove` a frame, whatever the
mouse's own rate). The page calls a DevTools binding from each requestAnimationFrame; the binding's call sends
the next move at once, so it is there for the next frame however long this one took.

Why not Playwright's `page.mouse`: each of its moves waits for the browser's acknowledgement, so on a busy page
they arrive every 2-3 frames and leave idle frames that make a slow drag look smooth. Why not moves dispatched
from inside the page (`dispatchEvent`): the browser's own pointer stays where the press was, and each frame
Chromium hit-tests that spot to update the hover state. Once the node has moved away that spot is under
nothing in particular, and the hit test walks every node and edge of the graph (~5 ms a frame with 1,000 nodes
in view, traced) where a real drag hit-tests the dragged node on top (0.3 ms). Why not moves at a fixed rate
(125 Hz) without waiting: sent through DevTools they are not coalesced like a real mouse's, and the page
handles two or three a frame.

The browser is launched with `--remote-debugging-port=<port>` on 127.0.0.1; a thread of its own reads a
separate DevTools connection to the page, so Playwright's sync API stays free.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.sync.client import ClientConnection, connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def debugging_args(port: int) -> list[str]:
    return [f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1"]


FRAME_BINDING = "__pwHandFrame"  # the page calls it from each animation frame while a drag runs


class HandPointer:
    """One page's mouse over its own DevTools connection (found by the page's URL)."""

    def __init__(self, port: int, url: str) -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        pages = [t for t in targets if t.get("type") == "page" and t.get("url") == url]
        if len(pages) != 1:
            raise RuntimeError(f"expected one page at {url}, DevTools lists {[t.get('url') for t in targets]}")
        self._ws: ClientConnection = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self._next_id = 0
        self._lock = threading.Lock()
        self._errors: list[str] = []
        self._pending: list[tuple[str, float, float, int]] = []
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._call("Runtime.addBinding", {"name": FRAME_BINDING})

    def _read(self) -> None:
        """Each frame's binding call sends the next pending event; replies are read and only errors kept."""
        try:
            for message in self._ws:
                reply = json.loads(message)
                if "error" in reply:
                    self._errors.append(str(reply["error"]))
                elif reply.get("method") == "Runtime.bindingCalled" and reply["params"]["name"] == FRAME_BINDING:
                    self._on_frame()
        except Exception:  # noqa: BLE001 - the connection closing ends the reader
            return

    def _on_frame(self) -> None:
        with self._lock:
            if not self._pending:
                return
            event = self._pending.pop(0)
        if event[0] != "wait":
            self._mouse(*event)
        if not self._pending:
            self._done.set()

    def _call(self, method: str, params: dict) -> None:
        with self._lock:
            self._next_id += 1
            message = json.dumps({"id": self._next_id, "method": method, "params": params})
        self._ws.send(message)

    def _mouse(self, kind: str, x: float, y: float, buttons: int) -> None:
        params = {"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons}
        if kind != "mouseMoved":
            params["clickCount"] = 1
        self._call("Input.dispatchMouseEvent", params)

    def drag(self, points: list[tuple[float, float]], timeout_s: float = 60.0) -> None:
        """Press at the first point, then one move a frame through the rest, and release two frames after the
        last move (the page must be calling the frame binding: see `FRAMES_START` in editor_load.py)."""
        self._mouse("mouseMoved", *points[0], 0)
        self._mouse("mousePressed", *points[0], 1)
        with self._lock:
            self._done.clear()
            self._pending = [("mouseMoved", x, y, 1) for x, y in points[1:]]
            self._pending += [("wait", 0, 0, 0), ("mouseReleased", *points[-1], 0)]
        if not self._done.wait(timeout_s):
            raise RuntimeError(f"the page called {FRAME_BINDING} too seldom: {len(self._pending)} events unsent")
        if self._errors:
            raise RuntimeError(f"the browser refused input events: {self._errors[:3]}")

    def close(self) -> None:
        self._ws.close()
        self._reader.join(timeout=5)


@contextmanager
def hand_pointer(port: int, url: str) -> Iterator[HandPointer]:
    pointer = HandPointer(port, url)
    try:
        yield pointer
    finally:
        pointer.close()
