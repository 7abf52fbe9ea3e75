"""Answerers turn a question and retrieved passages into a cited answer.

`Answerer` is the interface every backend implements (a generative LLM backend plugs in here).
`ExtractiveAnswerer` is the default and needs no LLM: it scores the sentences of the retrieved passages
against the question (idf-weighted term coverage plus embedding similarity), keeps the best few, and
writes them as the answer, each followed by the marker of the passage it was quoted from. When no sentence
is relevant enough it abstains and cites nothing.
It does not retrieve (see `assistant.retrieval`) and does not render anything.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from assistant.types import Citation, Passage
from index.lexical import tokenize
from index.sentences import split_sentences


@dataclass(frozen=True)
class Draft:
    """What an answerer produces: the text with markers, whether it abstained, and the citations."""

    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()


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
class _Sentence:
    passage: Passage
    start: int  # offsets in the article
    end: int
    text: str
    coverage: float = 0.0
    similarity: float = 0.0
    score: float = 0.0


class ExtractiveAnswerer:
    """Quote the best-supported sentences of the retrieved passages, with markers; abstain when none fit."""

    name = "extractive"

    def __init__(
        self,
        embed_texts: Callable[[list[str]], list[list[float]]] | None,
        idf: Callable[[str], float],
        *,
        max_sentences: int = 3,
        passages_considered: int = 5,
        sentences_embedded: int = 16,
        min_score: float = 0.38,
        keep_ratio: float = 0.8,
    ) -> None:
        self.embed_texts = embed_texts
        self.idf = idf
        self.max_sentences = max_sentences
        self.passages_considered = passages_considered
        self.sentences_embedded = sentences_embedded
        self.min_score = min_score
        self.keep_ratio = keep_ratio

    # ------------------------------------------------------------------ scoring

    def candidates(self, question: str, passages: Sequence[Passage],
                   query_embedding: list[float] | None) -> list[_Sentence]:
        q_terms = set(tokenize(question))
        weights = {t: max(self.idf(t), 0.1) for t in q_terms}
        total = sum(weights.values()) or 1.0
        seen: set[tuple[str, int]] = set()
        sentences: list[_Sentence] = []
        for passage in passages[: self.passages_considered]:
            chunk = passage.chunk
            for span in split_sentences(chunk.text):
                text = chunk.text[span.start : span.end]
                key = (chunk.article_id, chunk.start + span.start)
                if key in seen or len(_WORDS.findall(text)) < 4:
                    continue
                seen.add(key)
                terms = set(tokenize(text))
                coverage = sum(w for t, w in weights.items() if t in terms) / total
                sentences.append(_Sentence(passage, chunk.start + span.start, chunk.start + span.end, text,
                                           coverage=coverage))
        if not sentences:
            return []
        # Embed only the most promising sentences (by coverage and passage rank) to keep latency low.
        shortlist = sorted(sentences, key=lambda s: (-(s.coverage + 0.1 / s.passage.rank), s.start))
        shortlist = shortlist[: self.sentences_embedded]
        if self.embed_texts is not None and query_embedding is not None:
            vectors = np.asarray(self.embed_texts([s.text for s in shortlist]), dtype=np.float32)
            q = np.asarray(query_embedding, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(q) or 1.0)
            sims = vectors @ q / np.where(norms == 0, 1.0, norms)
            for sentence, sim in zip(shortlist, sims):
                sentence.similarity = float(sim)
        for sentence in shortlist:
            prior = 0.05 / math.sqrt(sentence.passage.rank)
            sentence.score = 0.5 * sentence.similarity + 0.5 * sentence.coverage + prior
        return sorted(shortlist, key=lambda s: (-s.score, s.passage.rank, s.start))

    def select(self, ranked: list[_Sentence]) -> list[_Sentence]:
        if not ranked or ranked[0].score < self.min_score:
            return []
        best = ranked[0].score
        chosen: list[_Sentence] = [ranked[0]]
        texts = {_norm(ranked[0].text)}
        for sentence in ranked[1:]:
            if len(chosen) >= self.max_sentences or sentence.score < self.keep_ratio * best:
                break
            if _norm(sentence.text) in texts:
                continue
            same_chunk = [c for c in chosen if c.passage.chunk.chunk_id == sentence.passage.chunk.chunk_id]
            if same_chunk and not any(_adjacent(c, sentence) for c in same_chunk):
                continue  # one contiguous quote per passage
            chosen.append(sentence)
            texts.add(_norm(sentence.text))
        return chosen

    # ------------------------------------------------------------------ composing

    def answer(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Draft:
        chosen = self.select(self.candidates(question, passages, query_embedding))
        if not chosen:
            return Draft(abstention(question), True, ())
        return compose(chosen)

    def stream(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Iterator[str | Draft]:
        draft = self.answer(question, passages, query_embedding)
        for piece in re.findall(r"\S+\s*", draft.text):
            yield piece
        yield draft


_WORDS = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(tokenize(text))


def _adjacent(a: _Sentence, b: _Sentence) -> bool:
    gap = a.passage.chunk.text  # same chunk: check that only whitespace lies between the two sentences
    lo, hi = sorted([(a.start, a.end), (b.start, b.end)])
    offset = a.passage.chunk.start
    return not gap[lo[1] - offset : hi[0] - offset].strip()


def compose(chosen: list[_Sentence]) -> Draft:
    """Answer text in selection order; markers numbered by first use, one citation per passage."""
    numbers: dict[str, int] = {}
    quotes: dict[str, list[_Sentence]] = {}
    parts: list[str] = []
    for sentence in chosen:
        chunk_id = sentence.passage.chunk.chunk_id
        if chunk_id not in numbers:
            numbers[chunk_id] = len(numbers) + 1
            quotes[chunk_id] = []
        quotes[chunk_id].append(sentence)
        text = " ".join(sentence.text.split())
        if text[-1] not in ".!?\"'\u201d\u2019)":
            text += "."
        parts.append(f"{text} [{numbers[chunk_id]}]")
    citations = []
    for chunk_id, n in numbers.items():
        used = quotes[chunk_id]
        chunk = used[0].passage.chunk
        start, end = min(s.start for s in used), max(s.end for s in used)
        citations.append(Citation(
            n=n, article_id=chunk.article_id, title=chunk.title, source=chunk.source, url=chunk.url,
            published_at=chunk.published_at, text=chunk.text,
            quote=chunk.text[start - chunk.start : end - chunk.start], start=start, end=end,
            passage_start=chunk.start, passage_end=chunk.end, chunk_id=chunk_id,
        ))
    return Draft(" ".join(parts), False, tuple(citations))
