"""Our own result types, shared by the CLI, the UI and the evaluator (library types stop at the boundary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.store import StoredChunk


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

    def quote_offsets_in_passage(self) -> tuple[int, int]:
        return self.start - self.passage_start, self.end - self.passage_start


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of a generated answer after citation verification (see `assistant.verify`)."""

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
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
