"""What every answerer shares: the `Answerer` interface, the `Draft` it returns, the candidate `Sentence`
the extractive answerers read, and the wording of an abstention.

`assistant.service` and the answerers (`extractive`, `reader`, `generative`) import these from here, so no
answerer depends on another one's module for its types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.types import Citation, Passage, SentenceCheck


@dataclass(frozen=True)
class Draft:
    """What an answerer produces: the text with markers, whether it abstained, and the citations."""

    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    sentences: tuple[SentenceCheck, ...] = ()  # per-sentence verification (generative answerers)
    notice: str = ""  # one line for the user (e.g. why a fallback answer is shown)
    backend: str = ""  # who actually wrote it, when not the answerer's own name (fallbacks)
    short_answer: str = ""  # the span of the first cited sentence that answers (see assistant.answering.short_answer)


class Answerer(Protocol):
    name: str

    def answer(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Draft: ...

    def stream(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Iterator[str | Draft]:
        """Yield pieces of text as they are produced, then the final Draft."""
        ...


def abstention(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 160:
        q = q[:157] + "..."
    return f'The indexed articles don\'t say anything that answers "{q}".'


@dataclass
class Sentence:
    passage: Passage
    start: int  # offsets in the article
    end: int
    text: str
    coverage: float = 0.0
    similarity: float = 0.0
    score: float = 0.0
    key: float = 0.0  # what orders the shortlist: `score` plus the passage's retrieval prior
    prev: Sentence | None = None  # the sentence before it in the same passage (any kind)
    next: Sentence | None = None
    claim: bool = True  # False: a question, caption, byline or headline: never quoted as a claim
    prescore: float = 0.0  # the cheap score every candidate gets (coverage, fast similarity, passage rank)
    found: Any = None  # memo of `ExtractiveAnswerer.span_of` (a sentence object lives for one question)
