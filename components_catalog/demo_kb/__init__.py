"""The demo knowledge base: short factual notes about Patchwire, shipped as `documents.json`.

`load_documents()` returns them as `Document`s (metadata: `topic`, `title`, `source`); `kb_version()` is a
hash of the file, stored in the collection so that re-indexing is skipped while the notes are unchanged.
Index them with `python -m components_catalog.demo_index`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib.resources import files

from components_catalog.types import Document

__all__ = ["DATA_FILE", "SOURCE", "kb_version", "load_documents"]

DATA_FILE = "documents.json"
SOURCE = "patchwire-docs"


@functools.cache
def _raw() -> bytes:
    return files(__name__).joinpath(DATA_FILE).read_bytes()


def kb_version() -> str:
    """A short hash of the data file: changes whenever any note does."""
    return hashlib.sha256(_raw()).hexdigest()[:16]


def load_documents() -> list[Document]:
    """Every note as a Document whose text is the note's sentences (the title is in the metadata)."""
    data = json.loads(_raw())
    source = data.get("source", SOURCE)
    return [Document(id=item["id"], text=item["text"],
                     metadata={"topic": item["topic"], "title": item["title"], "source": source})
            for item in data["documents"]]
