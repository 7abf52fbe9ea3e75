"""Hybrid retrieval: dense vectors from Chroma and BM25, fused, with a recency prior and a cap per article.

Built from llama-index parts: `DenseRetriever` and `LexicalRetriever` are `BaseRetriever`s over the corpus,
`HybridRetriever` (also a `BaseRetriever`) fuses them, and the recency prior, the date window and the
per-article cap are `BaseNodePostprocessor`s (`assistant.retrieval.postprocessors`), so any llama-index
postprocessor (a reranker, say) can be added from settings (`ASSISTANT_POSTPROCESSORS`). The question, its
embedding, filters and depth travel in a `NewsQuery` (a `QueryBundle` that cannot be changed once built: a
step that needs a different query makes a new one), so the question is embedded once. What one search
fetched lives in that call's own variables, never in the query or the retrievers, so a chunk both rankings
found is fetched once and a search costs the same whatever ran before it. What the interfaces cost was
measured against the plain
code they replaced (3,600 chunks, hashing embedding, 300 questions, runs interleaved on a busy 2-core
machine): median 23-28 ms a search both before and after, within the noise; node objects and llama-index's
instrumentation come to about 2 ms of it in a profile.

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

Over 300 lines because the dense and lexical retrievers and their fusion share one query bundle and one set of
timings; each class is short.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import FrozenInstanceError, dataclass, field, replace
from typing import Any

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle, TextNode

from assistant.retrieval import defaults
from assistant.retrieval.postprocessors import DateWindow, PerArticleCap, RecencyPrior, recency_prior  # noqa: F401
from assistant.types import Passage
from index.storage.store import Corpus, SearchFilters, StoredChunk, day_number

RRF_K = 60


# The stages `HybridRetriever.search` times, in order (milliseconds, in `Retrieval.timings_ms`).
STAGES = {
    "embed_query": "embedding the question",
    "catch_up": "catching up with other writers' changes, then dropping date bounds that exclude nothing",
    "dense": "the vector search (Chroma)",
    "lexical": "the BM25 search (ids and scores only)",
    "fuse": "fusion: the texts of lexical-only hits and their stored vectors (read from Chroma), the BM25 "
            "scores of dense-only hits, the fused ranking",
    "postprocess": "the postprocessors (recency prior, date window, configured ones, per-article cap)",
}


@dataclass
class Retrieval:
    passages: list[Passage]
    query_embedding: list[float]
    timings_ms: dict[str, float] = field(default_factory=dict)


class _Stopwatch:
    """Milliseconds per named stage of one search (a new one per call)."""

    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = self.timings_ms.get(name, 0.0) + (time.perf_counter() - started) * 1000


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


@dataclass
class NewsQuery(QueryBundle):
    """A question as the retrievers and postprocessors see it: llama-index's `QueryBundle` (text and
    embedding) plus what this product adds: the filters, how many candidates each ranking returns, how
    many passages to keep, and the day the recency prior counts from (None: no prior).

    Read-only once built (assigning a field raises `FrozenInstanceError`): a step that needs another
    query, with the embedding filled in or idle bounds dropped, makes one with `dataclasses.replace`, so
    the caller's query is the same after the call as before it. (A dataclass cannot be declared frozen
    over llama-index's non-frozen `QueryBundle`, hence the guard in `__setattr__`.)"""

    filters: SearchFilters = field(default_factory=SearchFilters)
    candidates: int = defaults.CANDIDATES
    top_k: int = defaults.TOP_K
    recency_as_of: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_built", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_built", False):
            raise FrozenInstanceError(f"a NewsQuery cannot be changed (field {name!r}); make a new one "
                                      "with dataclasses.replace")
        object.__setattr__(self, name, value)


def as_news_query(query: QueryBundle, **defaults: Any) -> NewsQuery:
    """A plain `QueryBundle` (from llama-index code calling `retrieve`) with this product's defaults."""
    if isinstance(query, NewsQuery):
        return query
    return NewsQuery(query_str=query.query_str, embedding=query.embedding,
                     custom_embedding_strs=query.custom_embedding_strs, **defaults)


def with_embedding(query: NewsQuery, embed_model: BaseEmbedding) -> NewsQuery:
    """`query` itself when it carries its embedding, else a copy with the question embedded."""
    if query.embedding is not None:
        return query
    return replace(query, embedding=embed_model.get_query_embedding(query.query_str))


def chunk_of(node: NodeWithScore | TextNode) -> StoredChunk:
    """The stored chunk a retrieved node stands for."""
    node = node.node if isinstance(node, NodeWithScore) else node
    return StoredChunk.from_record(node.node_id, node.get_content(), node.metadata)


def node_of(chunk: StoredChunk, score: float) -> NodeWithScore:
    """A retrieved chunk as llama-index's scored node (metadata flat, as stored; no embedding)."""
    node = TextNode(id_=chunk.chunk_id, text=chunk.text, start_char_idx=chunk.start, end_char_idx=chunk.end,
                    metadata={"article_id": chunk.article_id, "title": chunk.title, "source": chunk.source,
                              "url": chunk.url, "published_at": chunk.published_at,
                              "published_day": day_number(chunk.published_at), "fingerprint": chunk.fingerprint,
                              "chunk_index": chunk.chunk_index, "start": chunk.start, "end": chunk.end,
                              "group": chunk.group_id})
    return NodeWithScore(node=node, score=score)


class DenseRetriever(BaseRetriever):
    """Nearest chunks by cosine similarity (Chroma through llama-index's vector store); score = cosine."""

    def __init__(self, corpus: Corpus, embed_model: BaseEmbedding, candidates: int = defaults.CANDIDATES) -> None:
        super().__init__()
        self.corpus = corpus
        self.embed_model = embed_model
        self.candidates = candidates

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = with_embedding(as_news_query(query_bundle, candidates=self.candidates), self.embed_model)
        return [node_of(c, s) for c, s in self.corpus.search_dense(query.embedding, query.candidates,
                                                                   query.filters)]


class LexicalRetriever(BaseRetriever):
    """Best chunks by BM25 over the corpus's lexical side; score = BM25.

    `retrieve` searches and fetches the texts of every hit. `HybridRetriever` calls the two halves itself
    (`hits`, then `nodes` with the chunks the dense ranking already fetched), so that a chunk both rankings
    found is read from Chroma once, and so that the BM25 search and the fetch are timed apart."""

    def __init__(self, corpus: Corpus, candidates: int = defaults.CANDIDATES) -> None:
        super().__init__()
        self.corpus = corpus
        self.candidates = candidates

    def hits(self, query_bundle: QueryBundle) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best chunks, best first: the BM25 index alone, no text read."""
        query = as_news_query(query_bundle, candidates=self.candidates)
        return self.corpus.search_lexical(query.query_str, query.candidates, query.filters)

    def nodes(self, hits: Sequence[tuple[str, float]],
              known: Mapping[str, BaseNode] | None = None) -> list[NodeWithScore]:
        """The hits as scored nodes; texts not in `known` (nodes this call already holds, by id) are read
        from the corpus. A hit whose text is gone by now (removed since the search) is left out."""
        known = known or {}
        fetched = {c.chunk_id: node_of(c, 0.0).node
                   for c in self.corpus.get([cid for cid, _ in hits if cid not in known])}
        return [NodeWithScore(node=known.get(cid) or fetched[cid], score=score)
                for cid, score in hits if cid in known or cid in fetched]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.nodes(self.hits(query_bundle))


class HybridRetriever(BaseRetriever):
    """Dense and lexical candidates fused into one ranking, then the postprocessors: the recency prior,
    the date window, any from settings, and the per-article cap (which keeps the top-k).

    `search` is the product's call (a `Retrieval` with passages, the question's embedding and timings);
    `retrieve` (llama-index's) returns the same passages as scored nodes, for llama-index code."""

    def __init__(self, store: Corpus, embed_model: BaseEmbedding, *, candidates: int = defaults.CANDIDATES,
                 max_per_article: int = defaults.MAX_PER_ARTICLE, fusion: str = defaults.FUSION,
                 dense_weight: float = defaults.DENSE_WEIGHT, recency_weight: float = defaults.RECENCY_WEIGHT,
                 recency_days: float = defaults.RECENCY_DAYS, top_k: int = defaults.TOP_K,
                 postprocessors: Sequence[BaseNodePostprocessor] = ()) -> None:
        super().__init__()
        self.store = store
        self.embed_model = embed_model
        self.dense = DenseRetriever(store, embed_model, candidates)
        self.lexical = LexicalRetriever(store, candidates)
        self.candidates = candidates
        self.top_k = top_k
        self.fusion = fusion
        self.dense_weight = dense_weight
        # In order: recency prior, date window, the configured ones, the per-article cap.
        self.postprocessors: list[BaseNodePostprocessor] = [
            RecencyPrior(weight=recency_weight, scale_days=recency_days), DateWindow(), *postprocessors,
            PerArticleCap(max_per_article=max_per_article, top_k=top_k),
        ]

    def search(self, question: str, top_k: int | None = None, filters: SearchFilters | None = None, *,
               recency_as_of: dt.date | None = None) -> Retrieval:
        """The top-k passages for `question`. `recency_as_of`: apply the recency prior relative to this day
        (the caller passes it when the question has an as-of date and no time expression). Timings: one
        entry per stage of `STAGES`. `top_k`: default the retriever's own."""
        top_k = top_k or self.top_k
        clock = _Stopwatch()
        with clock.stage("embed_query"):
            query = NewsQuery(query_str=question, embedding=self.embed_model.get_query_embedding(question),
                              filters=filters or SearchFilters(), candidates=self.candidates, top_k=top_k,
                              recency_as_of=recency_as_of)
        nodes, dense_score, lexical_score = self._ranked(query, clock)
        passages = [
            Passage(chunk_of(n), float(n.score or 0.0), dense_score.get(n.node.node_id),
                    lexical_score.get(n.node.node_id), rank)
            for rank, n in enumerate(nodes[:top_k], start=1)
        ]
        return Retrieval(passages, query.embedding, clock.timings_ms)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = with_embedding(as_news_query(query_bundle, candidates=self.candidates, top_k=self.top_k),
                               self.embed_model)
        nodes, _, _ = self._ranked(query, _Stopwatch())
        return nodes[: query.top_k]

    def _ranked(self, query: NewsQuery, clock: _Stopwatch
                ) -> tuple[list[NodeWithScore], dict[str, float], dict[str, float]]:
        """Both searches, fusion and the postprocessors for `query` (which carries its embedding): the
        kept nodes, best first, with the cosine and BM25 score each ranking gave each candidate."""
        with clock.stage("catch_up"):
            self.store.catch_up()
            query = replace(query, filters=_without_idle_bounds(query.filters, self.store.day_range()))
        with clock.stage("dense"):
            dense = self.dense.retrieve(query)
        with clock.stage("lexical"):
            hits = self.lexical.hits(query)
        with clock.stage("fuse"):
            fused, dense_score, lexical_score = self._fused(query, dense, hits)
        with clock.stage("postprocess"):
            kept = self._postprocess(fused, query)
        return kept, dense_score, lexical_score

    def _postprocess(self, nodes: list[NodeWithScore], query: NewsQuery) -> list[NodeWithScore]:
        for postprocessor in self.postprocessors:
            nodes = postprocessor.postprocess_nodes(nodes, query_bundle=query)
        return nodes

    def _fused(self, query: NewsQuery, dense: list[NodeWithScore], hits: list[tuple[str, float]]
               ) -> tuple[list[NodeWithScore], dict[str, float], dict[str, float]]:
        """Every candidate of either ranking, by fused score (highest first, ties by id), with the cosine
        and BM25 score each ranking gave it. Reads from the corpus the texts of lexical-only hits and, for
        convex fusion, the scores each ranking did not give."""
        nodes = {n.node.node_id: n.node for n in dense}
        lexical = self.lexical.nodes(hits, known=nodes)
        nodes.update((n.node.node_id, n.node) for n in lexical if n.node.node_id not in nodes)
        dense_score = {n.node.node_id: float(n.score or 0.0) for n in dense}
        lexical_score = {n.node.node_id: float(n.score or 0.0) for n in lexical}
        if self.fusion == "rrf":
            fused = dict(reciprocal_rank_fusion([[n.node.node_id for n in dense],
                                                 [n.node.node_id for n in lexical]]))
        else:
            fused = self._convex(query, dense_score, lexical_score)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        return [NodeWithScore(node=nodes[cid], score=s) for cid, s in ranked], dense_score, lexical_score

    def _convex(self, query: NewsQuery, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """Both scores for every candidate: the cosine of lexical-only ones from their stored vectors,
        the BM25 score of dense-only ones from the lexical index."""
        dense = dict(dense)
        lexical = dict(lexical)
        only_lexical = [cid for cid in lexical if cid not in dense]
        if only_lexical:
            q = np.asarray(query.embedding, dtype=np.float32)
            q = q / (float(np.linalg.norm(q)) or 1.0)  # a new array: the query's embedding stays as it was
            vectors = self.store.embeddings_of(only_lexical)
            floor = min(dense.values(), default=0.0)  # a vector that cannot be read now scores the lowest
            for cid in only_lexical:
                v = np.asarray(vectors[cid], dtype=np.float32) if cid in vectors else None
                dense[cid] = floor if v is None else float(v @ q) / (float(np.linalg.norm(v)) or 1.0)
        only_dense = [cid for cid in dense if cid not in lexical]
        if only_dense:
            lexical.update(self.store.score_lexical(query.query_str, only_dense))
        return convex_fusion(dense, lexical, self.dense_weight)
