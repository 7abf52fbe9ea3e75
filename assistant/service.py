"""The assistant: one object the CLI, the UI and the evaluator share, from question to cited `Answer`.

Owns validation of questions, the retrieve -> answer sequence, timings, and thin delegation to the
indexer for (re)indexing, removal and statistics. Built by `assistant.factory.build_assistant`, which
hands it every part through the constructor (tests pass their own store or embedding model there), and
the small configs it needs (`assistant.configs`): it never sees the settings.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answering.chat import Condenser, RuleCondenser
from assistant.answering.interfaces import Answerer, Draft
from assistant.answering.verify import sentence_checks
from assistant.configs import DatesConfig, IndexRecord
from assistant.errors import AssistantError, BadQuestionError, IndexingError
from assistant.retrieval.dates import DatePlan, plan_dates
from assistant.retrieval.hybrid import HybridRetriever, Retrieval
from assistant.types import Answer, Citation, Passage
from index.indexer import Indexer, IndexSummary, ProgressFn
from index.models.offline import offline_environment  # noqa: F401 - re-exported: set before Gradio loads
from index.storage.store import ArticleInfo, Corpus, SearchFilters

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

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


def search_filters(sources: Sequence[str] | None = None, date_from: str = "", date_to: str = "") -> SearchFilters:
    """The outlet and publication-date filter a user typed (YYYY-MM-DD); a bad or reversed date is an
    `AssistantError` naming the field."""
    from index.intake.articles import normalize_date

    try:
        start = normalize_date((date_from or "").strip(), where="date from")
        end = normalize_date((date_to or "").strip(), where="date to")
    except IndexingError as exc:
        raise AssistantError(f"{exc}; use YYYY-MM-DD") from exc
    if start and end and start > end:
        raise AssistantError(f"date from ({start}) is after date to ({end})")
    return SearchFilters(tuple(sources or ()), start, end)


class Assistant:
    """Receives every part built (`assistant.factory.build_assistant`); holds no construction logic.

    `dates`: how questions' dates are planned; `samples_dir`: indexed on first start when the index is
    empty (None: never); `record`: how the index was built and who answers, for `stats`."""

    def __init__(self, *, store: Corpus, embed_model: BaseEmbedding, retriever: HybridRetriever,
                 answerer: Answerer, indexer: Indexer, record: IndexRecord, samples_dir: Path | None,
                 condenser: Condenser | None = None, lazy_models: Sequence[Any] = (),
                 dates: DatesConfig | None = None) -> None:
        self.dates = dates or DatesConfig()  # the shipped date planning
        self.samples_dir = samples_dir
        self.record = record
        self.store = store
        self.embed_model = embed_model
        self.retriever = retriever
        self.answerer = answerer
        self.indexer = indexer
        self.condenser: Condenser = condenser or RuleCondenser()
        self._lazy_models = list(lazy_models)

    def warm_up(self) -> None:
        """Build the answerer's lazy models now (the app does, so the first question does not wait)."""
        for model in self._lazy_models:
            model.get()

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
        plan = plan_dates(question, filters, as_of, use_dates=use_dates, recency=self.dates.recency_prior,
                          windows=self.dates.time_windows)
        retrieval = self.retriever.search(question, top_k, plan.filters, recency_as_of=plan.recency_as_of)
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
        t_copies = time.perf_counter()
        citations = self._with_copies(draft.citations, retrieval.passages)
        timings["copies"] = (time.perf_counter() - t_copies) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        yield replace(base, answer=draft.text, abstained=draft.abstained, citations=citations,
                      timings_ms=timings, backend=draft.backend or base.backend, notice=draft.notice,
                      sentences=draft.sentences or sentence_checks(draft),
                      short_answer=draft.short_answer or _short_answer_of(query, draft))

    def _with_copies(self, citations: Sequence[Citation], passages: Sequence[Passage]) -> tuple[Citation, ...]:
        """Each citation with the other outlets that ran the same story (one metadata query per answer)."""
        group_of = {p.chunk.article_id: p.chunk.group_id for p in passages}
        groups = {group_of.get(c.article_id, c.article_id) for c in citations}
        if not groups:
            return tuple(citations)
        members = self.store.group_members(groups)
        out = []
        for c in citations:
            others = tuple({"source": m.source, "url": m.url, "title": m.title}
                           for m in members.get(group_of.get(c.article_id, c.article_id), ())
                           if m.article_id != c.article_id)
            out.append(replace(c, also_published_by=others) if others else c)
        return tuple(out)

    # ------------------------------------------------------------------ index management

    def index(self, paths: Sequence[str | Path], *, prune: bool = False, progress: ProgressFn | None = None,
              on_wait: Callable[[str], None] | None = None) -> IndexSummary:
        return self.indexer.index_paths(paths, prune=prune, progress=progress, on_wait=on_wait)

    def index_items(self, items: Iterable[Any], *, progress: ProgressFn | None = None) -> IndexSummary:
        """Index articles already read (`index.intake.articles.Article`; a `LoadFailure` counts as failed)."""
        return self.indexer.index_items(items, progress=progress)

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article with its metadata and chunk count, newest publication date first."""
        return self.store.list_articles()

    def remove(self, article_ids: Sequence[str], on_wait: Callable[[str], None] | None = None) -> list[str]:
        return self.indexer.remove(article_ids, on_wait=on_wait)

    def ensure_samples(self, progress: ProgressFn | None = None) -> IndexSummary | None:
        """Index the bundled samples when the index is empty (first start)."""
        if self.samples_dir is None or self.store.count() > 0:
            return None
        if not Path(self.samples_dir).is_dir():
            return None
        return self.index([self.samples_dir], progress=progress)

    def stats(self) -> dict:
        from assistant.stats import index_stats

        return index_stats(self.record, self.store)
