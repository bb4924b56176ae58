"""Retrieval from Chroma (`retrieval.chroma`, `retrieval.chroma_index`): the client, embeddings, chunking."""
