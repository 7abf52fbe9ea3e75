"""Our own result types, shared by the CLI, the UI and the evaluator (library types stop at the boundary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from assistant.retrieval.timewindow import TimeWindow
from index.storage.store import ArticleInfo, SearchFilters, StoredChunk  # noqa: F401 - re-exported for the UI
from index.text.sentences import split_sentences


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the scores behind it."""

    chunk: StoredChunk
    score: float
    dense: float | None = None  # cosine similarity, when the dense ranking found it
    lexical: float | None = None  # BM25 score, when the lexical ranking found it
    rank: int = 0  # 1-based position in the fused ranking


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` of an answer: the cited passage and the quoted sentence(s) inside it."""

    n: int
    article_id: str
    title: str
    source: str
    url: str
    published_at: str
    text: str  # the cited passage
    quote: str  # the sentence(s) used, verbatim from the passage
    start: int  # offsets of the quote in the article text
    end: int
    passage_start: int = 0  # offsets of the passage in the article text
    passage_end: int = 0
    chunk_id: str = ""
    # Other outlets that ran the same story (wire copies, `index.text.grouping`): {"source", "url", "title"}.
    also_published_by: tuple[dict[str, str], ...] = ()

    def quote_offsets_in_passage(self) -> tuple[int, int]:
        return self.start - self.passage_start, self.end - self.passage_start

    @classmethod
    def from_chunk(cls, n: int, chunk: StoredChunk, start: int, end: int, *, context: int = 1) -> Citation:
        """Cite article offsets [start, end) of `chunk`. The passage shown is the quote with up to `context`
        whole sentences of the chunk on each side: chunks are long (they are what retrieval ranks), a
        citation stays short and exact."""
        spans = split_sentences(chunk.text)
        a, b = start - chunk.start, end - chunk.start
        before = [s for s in spans if s.end <= a][-context:] if context else []
        after = [s for s in spans if s.start >= b][:context] if context else []
        lo = min([a] + [s.start for s in before])
        hi = max([b] + [s.end for s in after])
        return cls(
            n=n, article_id=chunk.article_id, title=chunk.title, source=chunk.source, url=chunk.url,
            published_at=chunk.published_at, text=chunk.text[lo:hi], quote=chunk.text[a:b], start=start, end=end,
            passage_start=chunk.start + lo, passage_end=chunk.start + hi, chunk_id=chunk.chunk_id,
        )


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of a generated answer after citation verification (see `assistant.answering.verify`)."""

    text: str  # the sentence without its markers
    citations: tuple[int, ...] = ()  # markers kept, as numbered in the answer
    verified: bool = True  # False: no retrieved passage supports it (shown as unverified)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()  # everything retrieved, cited or not (for evaluation)
    timings_ms: dict[str, float] = field(default_factory=dict)
    backend: str = "extractive"
    standalone_question: str = ""  # the follow-up rewritten with the conversation, when it was
    sentences: tuple[SentenceCheck, ...] = ()  # per-sentence citation check (generative backends)
    notice: str = ""  # one line for the user, e.g. "the LLM timed out; showing the extractive answer"
    short_answer: str = ""  # the span of the first cited sentence that answers (a name, number, date...)
    as_of: str = ""  # YYYY-MM-DD the question was asked as of ("" when dates were ignored)
    window: TimeWindow | None = None  # publication window a time expression in the question implied

    def to_json(self) -> dict:
        """The `assistant ask --json` contract."""
        citations = []
        for c in self.citations:
            item = asdict(c)
            for key in ("passage_start", "passage_end", "chunk_id"):
                item.pop(key)
            citations.append(item)
        return {
            "question": self.question,
            "short_answer": self.short_answer,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": citations,
            "retrieved": [
                {"rank": p.rank, "article_id": p.chunk.article_id, "chunk_id": p.chunk.chunk_id,
                 "score": round(p.score, 6)}
                for p in self.passages
            ],
            "backend": self.backend,
            "sentences": [{"text": s.text, "citations": list(s.citations), "verified": s.verified}
                          for s in self.sentences],
            "notice": self.notice,
            "as_of": self.as_of or None,
            "window": None if self.window is None else {
                "start": self.window.start.isoformat(), "end": self.window.end.isoformat(),
                "expression": self.window.expression,
            },
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
