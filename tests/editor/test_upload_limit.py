"""The editor's upload endpoint refuses a body bigger than every upload cap while it arrives (413), so a huge
upload is not spooled to disk first; other paths and smaller uploads pass as before."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from editor import eval_store, templates, upload_limit
from editor.security import gate
from editor.upload_limit import UploadLimit


def _app(parsed: list[int]) -> Starlette:
    async def upload(request: Request) -> JSONResponse:
        form = await request.form()  # what Reflex's upload endpoint does: spool every file
        size = 0
        for file in form.getlist("files"):
            size += len(await file.read())
        parsed.append(size)
        return JSONResponse({"size": size})

    return Starlette(routes=[Route("/_upload", upload, methods=["POST"]), Route("/other", upload, methods=["POST"])])


def _small_limits(monkeypatch) -> int:
    monkeypatch.setattr(templates, "MAX_IMPORT_BYTES", 1000)
    monkeypatch.setattr(eval_store, "MAX_UPLOAD_BYTES", 2000)
    monkeypatch.setattr(upload_limit, "FRAMING_BYTES", 1000)
    return 3000


def test_a_declared_body_over_every_cap_gets_413_before_it_is_read(monkeypatch):
    limit = _small_limits(monkeypatch)
    parsed: list[int] = []
    client = TestClient(UploadLimit(_app(parsed)))
    response = client.post("/_upload", files={"files": ("rows.jsonl", b"x" * 10_000)})
    assert response.status_code == 413 and parsed == []
    assert response.text.startswith("The upload is ")
    assert f"the editor takes uploads up to {limit:,} bytes (spec imports up to 1,000 bytes, datasets up to " \
           "2,000 bytes). Run bigger datasets with `patchwire eval`." in response.text


def test_a_body_without_a_length_is_cut_off_at_the_limit(monkeypatch):
    _small_limits(monkeypatch)
    parsed: list[int] = []
    client = TestClient(UploadLimit(_app(parsed)))
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"rows.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()

    def chunks():
        yield head
        for _ in range(100):  # 100 kB if nobody stopped it
            yield b"x" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/_upload", content=chunks(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and parsed == []
    assert "The upload is over 3,000 bytes" in response.text


def test_uploads_within_the_limit_and_other_paths_pass(monkeypatch):
    _small_limits(monkeypatch)
    parsed: list[int] = []
    client = TestClient(UploadLimit(_app(parsed)))
    assert client.post("/_upload", files={"files": ("a.json", b"{}" * 500)}).json() == {"size": 1000}
    assert client.post("/other", files={"files": ("a.json", b"x" * 10_000)}).json() == {"size": 10_000}


def test_the_editor_gate_applies_the_limit(monkeypatch):
    _small_limits(monkeypatch)
    monkeypatch.delenv("PATCHWIRE_AUTH_TOKEN", raising=False)
    parsed: list[int] = []
    client = TestClient(gate(_app(parsed)), base_url="http://127.0.0.1:3000")
    assert client.post("/_upload", files={"files": ("big.json", b"x" * 10_000)}).status_code == 413
    assert parsed == []
