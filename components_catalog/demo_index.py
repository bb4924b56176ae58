"""Index the demo knowledge base into the default Chroma: `python -m components_catalog.demo_index`.

Idempotent: the collection keeps the knowledge base's version (a hash of its data file) in its metadata,
and indexing is skipped while that version is current. Notes removed from the knowledge base are
removed from the collection too; anything else in it is left alone.
"""

from __future__ import annotations

import argparse
import sys

from components_catalog.demo_kb import SOURCE, kb_version, load_documents
from components_catalog.retrieval import chroma_client as cc
from components_catalog.retrieval.chunking import chunk_documents
from runtime.errors import ComponentError

__all__ = ["DEFAULT_COLLECTION", "VERSION_KEY", "index_demo_kb", "main"]

DEFAULT_COLLECTION = "patchwire-docs"
VERSION_KEY = "patchwire:kb_version"
_INDEX_SCHEME = 1  # bump when the indexing below changes, so existing collections get re-indexed


def index_demo_kb(collection: str = DEFAULT_COLLECTION, *, force: bool = False) -> int:
    """Index the demo notes with `local/minilm`; returns the chunks written, 0 when already current."""
    client = cc.get_client()
    target = cc.open_for_indexing(client, collection, cc.LOCAL_MODEL, {}, "the demo knowledge base is indexed")
    version = f"{kb_version()}.{_INDEX_SCHEME}"
    if not force and (target.metadata or {}).get(VERSION_KEY) == version:
        return 0
    documents = load_documents()
    chunks = chunk_documents(documents, chunk_size=800, chunk_overlap=100)
    # Each note's title is embedded with its text (not stored in it): it sharpens retrieval.
    vectors = cc.embed_local([f"{c.metadata['title']}\n{c.text}" for c in chunks])
    cc.upsert_chunks(target, chunks, vectors)
    current = {d.id for d in documents}
    ours = target.get(where={"source": SOURCE}, include=["metadatas"])
    gone = [i for i, meta in zip(ours["ids"], ours["metadatas"] or [], strict=False)
            if (meta or {}).get("source_id") not in current]
    if gone:
        target.delete(ids=gone)
    target.modify(metadata={**(target.metadata or {}), VERSION_KEY: version})
    return len(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components_catalog.demo_index",
                                     description="Index the Patchwire demo knowledge base into Chroma.")
    parser.add_argument("--collection", default=DEFAULT_COLLECTION, help="collection name (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="re-index even if the current version is there")
    args = parser.parse_args(argv)
    where = cc.place()
    try:
        written = index_demo_kb(args.collection, force=args.force)
    except ComponentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if written:
        print(f"Indexed the demo knowledge base (version {kb_version()}, {len(load_documents())} notes, "
              f"{written} chunks) into collection `{args.collection}` in {where}.")
    else:
        print(f"The demo knowledge base (version {kb_version()}) is already in collection `{args.collection}` "
              f"in {where}: nothing to do (use --force to re-index).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
