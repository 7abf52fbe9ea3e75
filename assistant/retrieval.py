"""Hybrid retrieval: dense vectors from Chroma fused with BM25 by reciprocal rank fusion.

News questions are full of names, numbers and places; BM25 catches exact matches that a small embedding
model blurs, and the embedding catches paraphrases BM25 misses. Both rankings take the same filters
(outlet, publication date range). It does not decide what is relevant enough to answer (the answerer does).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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


class HybridRetriever:
    def __init__(self, store: ChunkStore, embed_model: BaseEmbedding, *, candidates: int = 40,
                 max_per_article: int = 2) -> None:
        self.store = store
        self.embed_model = embed_model
        self.candidates = candidates
        self.max_per_article = max_per_article

    def retrieve(self, question: str, top_k: int = 5, filters: SearchFilters | None = None) -> Retrieval:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query_embedding = self.embed_model.get_query_embedding(question)
        t1 = time.perf_counter()
        timings["embed_query"] = (t1 - t0) * 1000
        dense = self.store.dense_search(query_embedding, self.candidates, filters)
        t2 = time.perf_counter()
        timings["dense"] = (t2 - t1) * 1000
        filters = filters or SearchFilters()
        lexical_index = self.store.lexical()
        lexical = lexical_index.search(
            question, self.candidates, sources=filters.sources or None,
            day_from=day_number(filters.date_from) or None, day_to=day_number(filters.date_to) or None,
        )
        t3 = time.perf_counter()
        timings["lexical"] = (t3 - t2) * 1000

        fused = self._diversify(
            reciprocal_rank_fusion([[c.chunk_id for c, _ in dense], [cid for cid, _ in lexical]]),
            {c.chunk_id: c.article_id for c, _ in dense}, lexical_index, top_k,
        )
        chunks: dict[str, StoredChunk] = {c.chunk_id: c for c, _ in dense}
        missing = [cid for cid, _ in fused if cid not in chunks]
        if missing:
            chunks.update((c.chunk_id, c) for c in self.store.get_chunks(missing))
        dense_score = {c.chunk_id: s for c, s in dense}
        lexical_score = dict(lexical)
        passages = [
            Passage(chunks[cid], score, dense_score.get(cid), lexical_score.get(cid), rank)
            for rank, (cid, score) in enumerate((f for f in fused if f[0] in chunks), start=1)
        ]
        timings["fuse"] = (time.perf_counter() - t3) * 1000
        return Retrieval(passages, query_embedding, timings)

    def _diversify(self, fused: list[tuple[str, float]], article_of: dict[str, str], lexical_index,
                   top_k: int) -> list[tuple[str, float]]:
        """Top-k of the fused ranking with at most `max_per_article` chunks of any one article, so a long
        article cannot crowd out the others."""
        kept: list[tuple[str, float]] = []
        per_article: dict[str, int] = {}
        for chunk_id, score in fused:
            article = article_of.get(chunk_id)
            if article is None:  # (article_of holds the index's lock: an upload may be compacting it)
                article = lexical_index.article_of(chunk_id) or chunk_id
            if per_article.get(article, 0) >= self.max_per_article:
                continue
            per_article[article] = per_article.get(article, 0) + 1
            kept.append((chunk_id, score))
            if len(kept) == top_k:
                break
        return kept
