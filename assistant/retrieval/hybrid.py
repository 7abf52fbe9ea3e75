"""Hybrid retrieval: dense vectors from Chroma and BM25, fused, with a recency prior and a cap per article.

News questions are full of names, numbers and places; BM25 catches exact matches that a small embedding
model blurs, and the embedding catches paraphrases BM25 misses. Both rankings take the same filters
(outlet, the user's publication-date range, and the question's time awareness: nothing published after
its as-of day, nothing before the window a time expression implies). The fused score is a convex
combination of the two scores, each normalised over the candidates (`fusion="convex"`, the default), or
reciprocal rank fusion (`fusion="rrf"`); `benchmarks/sweep_retrieval.py` measured both on the dev set
(benchmarks/README.md). When the question names no time, a recency prior adds
`recency_weight * exp(-age / recency_days)` (age in days before the as-of date) so that, among comparable
matches, the newer one wins; undated passages get the candidates' mean prior (neutral).
It does not decide what is relevant enough to answer (the answerer does).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from assistant.types import Passage
from index.store import ChunkStore, SearchFilters, StoredChunk, day_number

RRF_K = 60


@dataclass
class Retrieval:
    passages: list[Passage]
    query_embedding: list[float]
    timings_ms: dict[str, float] = field(default_factory=dict)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K,
                           weights: list[float] | None = None) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank). Ties break by id for determinism."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def convex_fusion(dense: dict[str, float], lexical: dict[str, float], dense_weight: float
                  ) -> dict[str, float]:
    """w * min-max-normalised cosine + (1 - w) * BM25 / max BM25, over the same candidates."""
    ids = list(dense)
    d = np.array([dense[i] for i in ids], dtype=np.float64)
    b = np.array([lexical.get(i, 0.0) for i in ids], dtype=np.float64)
    dn = (d - d.min()) / max(d.max() - d.min(), 1e-9) if len(d) else d
    bn = b / max(b.max(), 1e-9) if len(b) else b
    fused = dense_weight * dn + (1.0 - dense_weight) * bn
    return dict(zip(ids, fused.tolist()))


def _without_idle_bounds(filters: SearchFilters, day_range: tuple[int, int]) -> SearchFilters:
    """Drop the as-of / since bounds that exclude nothing (asked today, about the whole archive): a
    filtered vector search costs Chroma a metadata pre-filter, 3x the time of a plain one at 10k chunks
    (benchmarks/bench_query.py)."""
    oldest, newest = day_range
    if filters.as_of and day_number(filters.as_of) >= newest:
        filters = replace(filters, as_of="")
    if filters.since and oldest and day_number(filters.since) <= oldest:
        filters = replace(filters, since="")
    return filters


def recency_prior(days: list[int], as_of: dt.date, scale_days: float) -> list[float]:
    """exp(-age / scale) per passage (age in days before `as_of`, never negative); undated passages
    (day 0) get the mean of the dated ones, so they are neither favoured nor pushed down."""
    ref = as_of.toordinal()
    values: list[float | None] = []
    for day in days:
        try:
            ordinal = dt.date(day // 10000, day // 100 % 100, day % 100).toordinal() if day else None
        except ValueError:
            ordinal = None
        values.append(None if ordinal is None else math.exp(-max(ref - ordinal, 0) / scale_days))
    dated = [v for v in values if v is not None]
    neutral = sum(dated) / len(dated) if dated else 0.0
    return [neutral if v is None else v for v in values]


class HybridRetriever:
    def __init__(self, store: ChunkStore, embed_model: BaseEmbedding, *, candidates: int = 40,
                 max_per_article: int = 2, fusion: str = "convex", dense_weight: float = 0.5,
                 recency_weight: float = 0.0, recency_days: float = 7.0) -> None:
        self.store = store
        self.embed_model = embed_model
        self.candidates = candidates
        self.max_per_article = max_per_article
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.recency_weight = recency_weight
        self.recency_days = recency_days

    def retrieve(self, question: str, top_k: int = 5, filters: SearchFilters | None = None, *,
                 recency_as_of: dt.date | None = None) -> Retrieval:
        """The top-k passages for `question`. `recency_as_of`: apply the recency prior relative to this day
        (the caller passes it when the question has an as-of date and no time expression)."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query_embedding = self.embed_model.get_query_embedding(question)
        t1 = time.perf_counter()
        timings["embed_query"] = (t1 - t0) * 1000
        lexical_index = self.store.lexical()
        filters = _without_idle_bounds(filters or SearchFilters(), lexical_index.day_range())
        dense = self.store.dense_search(query_embedding, self.candidates, filters)
        t2 = time.perf_counter()
        timings["dense"] = (t2 - t1) * 1000
        lexical = lexical_index.search(
            question, self.candidates, sources=filters.sources or None,
            day_from=day_number(filters.date_from) or None, day_to=day_number(filters.date_to) or None,
            since_day=day_number(filters.since) or None, as_of_day=day_number(filters.as_of) or None,
        )
        t3 = time.perf_counter()
        timings["lexical"] = (t3 - t2) * 1000

        chunks: dict[str, StoredChunk] = {c.chunk_id: c for c, _ in dense}
        dense_score = {c.chunk_id: s for c, s in dense}
        lexical_score = dict(lexical)
        missing = [cid for cid in lexical_score if cid not in chunks]
        if missing:
            chunks.update((c.chunk_id, c) for c in self.store.get_chunks(missing))
        if self.fusion == "rrf":
            fused = dict(reciprocal_rank_fusion([[c.chunk_id for c, _ in dense], [cid for cid, _ in lexical]]))
        else:
            fused = self._convex(question, query_embedding, dense_score, lexical_score, lexical_index)
        fused = {cid: s for cid, s in fused.items() if cid in chunks}
        if recency_as_of is not None and self.recency_weight > 0 and fused:
            top = max(fused.values()) or 1.0
            ids = list(fused)
            priors = recency_prior([day_number(chunks[cid].published_at) for cid in ids], recency_as_of,
                                   self.recency_days)
            fused = {cid: fused[cid] / top + self.recency_weight * p for cid, p in zip(ids, priors)}
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = self._cap_per_article(ranked, chunks, top_k)
        passages = [
            Passage(chunks[cid], score, dense_score.get(cid), lexical_score.get(cid), rank)
            for rank, (cid, score) in enumerate(kept, start=1)
        ]
        timings["fuse"] = (time.perf_counter() - t3) * 1000
        return Retrieval(passages, query_embedding, timings)

    def _convex(self, question: str, query_embedding: list[float], dense: dict[str, float],
                lexical: dict[str, float], lexical_index) -> dict[str, float]:
        """Both scores for every candidate: the cosine of lexical-only ones from their stored vectors,
        the BM25 score of dense-only ones from the lexical index."""
        dense = dict(dense)
        lexical = dict(lexical)
        only_lexical = [cid for cid in lexical if cid not in dense]
        if only_lexical:
            q = np.asarray(query_embedding, dtype=np.float32)
            q /= float(np.linalg.norm(q)) or 1.0
            vectors = self.store.embeddings_of(only_lexical)
            floor = min(dense.values(), default=0.0)  # a vector that cannot be read now scores the lowest
            for cid in only_lexical:
                v = np.asarray(vectors[cid], dtype=np.float32) if cid in vectors else None
                dense[cid] = floor if v is None else float(v @ q) / (float(np.linalg.norm(v)) or 1.0)
        only_dense = [cid for cid in dense if cid not in lexical]
        if only_dense:
            lexical.update(lexical_index.score_chunks(question, only_dense))
        return convex_fusion(dense, lexical, self.dense_weight)

    def _cap_per_article(self, ranked: list[tuple[str, float]], chunks: dict[str, StoredChunk],
                         top_k: int) -> list[tuple[str, float]]:
        """Top-k of the fused ranking with at most `max_per_article` chunks of any one article, so a long
        article cannot crowd out the others."""
        kept: list[tuple[str, float]] = []
        per_article: dict[str, int] = {}
        for chunk_id, score in ranked:
            article = chunks[chunk_id].article_id
            if per_article.get(article, 0) >= self.max_per_article:
                continue
            per_article[article] = per_article.get(article, 0) + 1
            kept.append((chunk_id, score))
            if len(kept) == top_k:
                break
        return kept
