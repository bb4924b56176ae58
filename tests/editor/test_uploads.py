"""The editor's uploads are read up to their cap, never whole: a too-big file is refused by name, with its
size, the limit and what to do instead, after at most `limit + 1` bytes were read."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace

import pytest

from editor import eval_store, templates, uploads
from editor.state.evaluate import EvalState
from editor.state.new_pipeline import NewPipelineState

LIMIT = 1000
BIG = 200_000


class CountingFile:
    """A file of `size` bytes that counts what was read from it."""

    def __init__(self, size: int):
        self.inner, self.taken = io.BytesIO(b"{" + b" " * (size - 2) + b"}"), 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.taken += len(data)
        return data


def upload(size: int, name: str, *, declared: bool = False) -> SimpleNamespace:
    """An upload as a handler gets it (`rx.UploadFile`: `read`, `size`, `name`); `declared`: with its size."""
    file = CountingFile(size)

    async def read(n: int = -1) -> bytes:
        return file.read(n)

    return SimpleNamespace(read=read, size=size if declared else None, name=name, file=file)


def test_the_spec_import_reads_at_most_the_cap_and_names_the_file(monkeypatch):
    monkeypatch.setattr(templates, "MAX_IMPORT_BYTES", 2_000_000)
    state = SimpleNamespace(import_title="", import_errors=[])
    state._show_errors = lambda title, exc: NewPipelineState._show_errors(state, title, exc)
    big = upload(3_000_000, "big.json")
    asyncio.run(NewPipelineState.import_file.fn(state, [big]))
    assert big.file.taken <= 2_000_001
    assert state.import_title == "`big.json` was not imported:"
    assert state.import_errors[0]["message"] == "`big.json` is over 2 MB; imports are limited to 2 MB."
    assert "PATCHWIRE_MAX_SPEC_BYTES" in state.import_errors[0]["hint"]


def test_the_dataset_upload_reads_at_most_the_cap_and_names_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(eval_store, "MAX_UPLOAD_BYTES", LIMIT)
    state = SimpleNamespace(loaded_for="p1", dataset_error="")
    big = upload(BIG, "rows.jsonl")
    asyncio.run(EvalState.upload.fn(state, [big]))
    assert big.file.taken <= LIMIT + 1
    assert state.dataset_error == ("`rows.jsonl` is over 1,000 bytes; the editor takes datasets up to 1,000 bytes "
                                   "(run bigger ones with `patchwire eval`).")
    assert not (tmp_path / "eval" / "datasets").exists()


def test_a_declared_size_over_the_cap_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(eval_store, "MAX_UPLOAD_BYTES", LIMIT)
    big = upload(BIG, "rows.jsonl", declared=True)
    with pytest.raises(eval_store.UploadRefused, match=r"`rows.jsonl` is 200,000 bytes; the editor takes"):
        asyncio.run(uploads.read_dataset_upload(big, "rows.jsonl"))
    assert big.file.taken == 0


@pytest.mark.parametrize("size", [0, 1, LIMIT - 1, LIMIT])
def test_files_up_to_the_cap_are_read_whole(size):
    small = upload(max(size, 2), "ok.json") if size else SimpleNamespace(read=_empty, size=None)
    data = asyncio.run(uploads.read_capped(small, LIMIT))
    assert len(data) == (max(size, 2) if size else 0)


async def _empty(n: int = -1) -> bytes:
    return b""


def test_one_byte_over_the_cap_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "CHUNK_BYTES", 7)  # many chunks: the count is exact across them
    over = upload(LIMIT + 1, "x.json")
    with pytest.raises(uploads.UploadTooLarge):
        asyncio.run(uploads.read_capped(over, LIMIT))
    assert over.file.taken == LIMIT + 1


def test_import_errors_quoting_the_file_show_an_env_secret_masked(monkeypatch):
    canary = "sk-canary-7c1f4e9a2b"
    monkeypatch.setenv("IMPORT_CANARY_API_KEY", canary)
    state = SimpleNamespace(import_title="", import_errors=[])
    state._show_errors = lambda title, exc: NewPipelineState._show_errors(state, title, exc)
    spec = b'{"name": "p", "version": "%s", "nodes": [], "edges": []}' % canary.encode()  # quoted as "got"
    file = io.BytesIO(spec)

    async def read(n: int = -1) -> bytes:
        return file.read(n)

    asyncio.run(NewPipelineState.import_file.fn(state, [SimpleNamespace(read=read, size=len(spec), name="p.json")]))
    shown = repr(state.import_errors)
    assert state.import_errors and canary not in shown, shown
