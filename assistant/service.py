"""The assistant: one object the CLI, the UI and the evaluator share, from question to cited `Answer`.

Owns validation of questions, the retrieve -> answer sequence, timings, and thin delegation to the
indexer for (re)indexing, removal and statistics. Built by `assistant.factory.build_assistant`; takes
built objects so tests can pass their own store, embedding model and answerer.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from assistant.answering.extractive import Answerer, Draft, ExtractiveAnswerer
from assistant.answering.verify import sentence_checks
from assistant.errors import BadQuestionError
from assistant.retrieval.dates import DatePlan, plan_dates
from assistant.retrieval.hybrid import HybridRetriever, Retrieval
from assistant.settings import Settings
from assistant.types import Answer
from index.indexer import Indexer, IndexSummary, ProgressFn
from index.store import ChunkStore, SearchFilters

MAX_QUESTION_CHARS = 2000


def clean_question(question: object) -> str:
    """Strip control characters and outer space; refuse empty or over-long questions."""
    if not isinstance(question, str):
        raise BadQuestionError("the question must be text")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    text = " ".join(text.split())
    if not text:
        raise BadQuestionError("the question is empty; type a question about the indexed articles")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestionError(
            f"the question is too long ({len(text):,} characters, limit {MAX_QUESTION_CHARS:,})"
        )
    return text


def _short_answer_of(question: str, draft: Draft) -> str:
    """For a written (LLM) answer: the short answer in its first verified, cited sentence, if any."""
    if draft.abstained:
        return ""
    from assistant.answering.short_answer import short_answer

    for sentence in draft.sentences:
        if sentence.verified and sentence.citations:
            span = short_answer(question, sentence.text)
            return sentence.text[span[0]:span[1]] if span else ""
    return ""


class Assistant:
    def __init__(self, settings: Settings, *, store: ChunkStore, embed_model: BaseEmbedding,
                 answerer: Answerer | None = None, shortlist_model: Any = None,
                 sentence_model: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.embed_model = embed_model
        self.retriever = HybridRetriever(
            store, embed_model, candidates=settings.candidates, max_per_article=settings.max_per_article,
            fusion=settings.fusion, dense_weight=settings.dense_weight,
            recency_weight=settings.recency_weight if settings.recency_prior else 0.0,
            recency_days=settings.recency_days,
        )
        # shortlist_model: a fast static embedding (`index.static_embedding`) that ranks every candidate
        # sentence so only `settings.sentences_embedded` of them are embedded by sentence_model (an int8
        # MiniLM, `index.embedding.QuantizedSentenceModel`) or, without one, by the main model
        self.answerer: Answerer = answerer or ExtractiveAnswerer(
            embed_texts=embed_model.get_text_embedding_batch,
            idf=lambda term: self.store.lexical_snapshot().idf(term),
            shortlist_embed=shortlist_model.embed if shortlist_model is not None else None,
            sentence_embed=sentence_model.embed if sentence_model is not None else None,
            sentences_embedded=settings.sentences_embedded if shortlist_model is not None else 16,
        )
        self.indexer = Indexer(
            store, embed_model, chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
            # the static model embeds 256 texts a call; writing batches that size amortises Chroma's overhead
            batch_size=max(getattr(embed_model, "embed_batch_size", 0), settings.embed_batch_size, 32),
            lock_path=settings.lock_path,
            lock_wait=settings.lock_wait,
        )
        self._answer_models = [m for m in (shortlist_model, sentence_model) if m is not None]

    def warm_up(self) -> None:
        """Build the answerer's lazy models now (the app does, so the first question does not wait)."""
        for model in self._answer_models:
            getattr(model, "get", lambda: None)()

    # ------------------------------------------------------------------ asking

    def ask(self, question: str, *, top_k: int | None = None, filters: SearchFilters | None = None,
            as_of: dt.date | str | None = None, use_dates: bool = True) -> Answer:
        final: Answer | None = None
        for final in self.ask_stream(question, top_k=top_k, filters=filters, as_of=as_of, use_dates=use_dates):
            pass
        assert final is not None
        return final

    def retrieve(self, question: str, top_k: int | None = None, filters: SearchFilters | None = None, *,
                 as_of: dt.date | str | None = None, use_dates: bool = True) -> tuple[Retrieval, DatePlan]:
        """The passages `ask` would answer from, and how the dates shaped them (as_of: default today)."""
        plan = plan_dates(question, filters, as_of, use_dates=use_dates, recency=self.settings.recency_prior,
                          windows=self.settings.time_windows)
        retrieval = self.retriever.retrieve(question, top_k or self.settings.top_k, plan.filters,
                                            recency_as_of=plan.recency_as_of)
        return retrieval, plan

    def ask_stream(self, question: str, *, top_k: int | None = None, filters: SearchFilters | None = None,
                   standalone: str | None = None, as_of: dt.date | str | None = None,
                   use_dates: bool = True) -> Iterator[Answer]:
        """Yield partial answers as text arrives (no citations yet), then the final answer with citations.

        `standalone` is the question to retrieve with when a follow-up was rewritten using the chat;
        `as_of` the day it is asked (default today; see `plan_dates`).
        """
        question = clean_question(question)
        query = clean_question(standalone) if standalone else question
        started = time.perf_counter()
        retrieval, plan = self.retrieve(query, top_k, filters, as_of=as_of, use_dates=use_dates)
        timings = dict(retrieval.timings_ms)
        t_answer = time.perf_counter()
        base = Answer(question=question, answer="", abstained=False, passages=tuple(retrieval.passages),
                      backend=self.answerer.name, standalone_question=query if standalone else "",
                      as_of=plan.as_of.isoformat() if plan.as_of else "", window=plan.window)
        text = ""
        draft: Draft | None = None
        for piece in self.answerer.stream(query, retrieval.passages, retrieval.query_embedding):
            if isinstance(piece, Draft):
                draft = piece
                break
            if not text:
                timings["first_token"] = (time.perf_counter() - started) * 1000
            text += piece
            yield replace(base, answer=text, timings_ms=dict(timings))
        assert draft is not None
        timings["answer"] = (time.perf_counter() - t_answer) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        yield replace(base, answer=draft.text, abstained=draft.abstained, citations=draft.citations,
                      timings_ms=timings, backend=draft.backend or base.backend, notice=draft.notice,
                      sentences=draft.sentences or sentence_checks(draft),
                      short_answer=draft.short_answer or _short_answer_of(query, draft))

    # ------------------------------------------------------------------ index management

    def index(self, paths: Sequence[str | Path], *, prune: bool = False, progress: ProgressFn | None = None,
              on_wait: Callable[[str], None] | None = None) -> IndexSummary:
        return self.indexer.index_paths(paths, prune=prune, progress=progress, on_wait=on_wait)

    def remove(self, article_ids: Sequence[str], on_wait: Callable[[str], None] | None = None) -> list[str]:
        return self.indexer.remove(article_ids, on_wait=on_wait)

    def ensure_samples(self, progress: ProgressFn | None = None) -> IndexSummary | None:
        """Index the bundled samples when the index is empty (first start)."""
        if not self.settings.index_samples_on_start or self.store.count() > 0:
            return None
        if not Path(self.settings.samples_dir).is_dir():
            return None
        return self.index([self.settings.samples_dir], progress=progress)

    def stats(self) -> dict:
        lexical = self.store.lexical()
        counts = lexical.article_chunk_counts()
        return {
            "articles": len(counts),
            "chunks": self.store.count(),
            "lexical_chunks": len(lexical),
            "store": self.settings.store_label,
            "collection": self.settings.collection_name,
            "embedding_model": self.settings.collection_name.split("-", 1)[1],
            "chunk_size": self.settings.chunk_size,
            "chunk_overlap": self.settings.chunk_overlap,
            "answerer": self.answerer.name,
        }
