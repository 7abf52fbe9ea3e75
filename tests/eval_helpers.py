"""Builders for evaluation tests: real `Answer`/`Citation`/`Passage` objects without running a model."""

from __future__ import annotations

from pathlib import Path

from assistant.evaluation.questions import Question
from assistant.evaluation.scoring import Observation, score_question
from assistant.types import Answer, Citation, Passage
from index.storage.store import StoredChunk

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_QUESTIONS = ROOT / "samples" / "questions.jsonl"
SAMPLE_ARTICLES = ROOT / "samples" / "articles"


def passage(article_id: str, rank: int, text: str = "filler text") -> Passage:
    chunk = StoredChunk(chunk_id=f"{article_id}-c{rank}", article_id=article_id, text=text, start=0,
                        end=len(text))
    return Passage(chunk, score=1.0 / rank, rank=rank)


def citation(n: int, article_id: str, quote: str, passage_text: str) -> Citation:
    start = max(passage_text.find(quote), 0)
    return Citation(n=n, article_id=article_id, title="", source="", url="", published_at="",
                    text=passage_text, quote=quote, start=start, end=start + len(quote),
                    chunk_id=f"{article_id}-c1")


def answer(text: str, *, abstained: bool = False, citations: tuple[Citation, ...] = (),
           ranking: tuple[str, ...] = (), backend: str = "extractive") -> Answer:
    return Answer(question="q", answer=text, abstained=abstained, citations=citations,
                  passages=tuple(passage(a, i) for i, a in enumerate(ranking[:5], start=1)), backend=backend)


def row(q: Question, text: str, *, abstained: bool = False, citations: tuple[Citation, ...] = (),
        ranking: tuple[str, ...] = (), latency: float = 10.0) -> dict:
    a = answer(text, abstained=abstained, citations=citations, ranking=ranking)
    return score_question(q, Observation(a, ranking, latency))


def five_rows() -> list[dict]:
    """The hand-computed case of test_eval_metrics.test_summary_by_hand."""
    q1 = Question("q1", "What is the capital?", ("Paris",), ("e1",), type="a")
    q2 = Question("q2", "What is the answer?", ("42",), ("e2",), type="a")
    q3 = Question("q3", "Recipe for bread?", unanswerable=True, type="u")
    q4 = Question("q4", "Who won the cup?", unanswerable=True, type="u")
    q5 = Question("q5", "Which colour?", ("blue",), ("e5",))
    return [
        row(q1, "The capital is Paris. [1]", ranking=("e1", "x"), latency=10,
            citations=(citation(1, "e1", "The capital is Paris.", "Intro. The capital is Paris. More."),)),
        row(q2, "no answer", abstained=True, ranking=("x", "y", "x", "e2"), latency=20),
        row(q3, "no answer", abstained=True, ranking=("x",), latency=30),
        row(q4, "Something happened. [1]", ranking=("x",), latency=40,
            citations=(citation(1, "x", "Something happened.", "A different passage."),)),
        row(q5, "It is red. [1]", ranking=(), latency=50,
            citations=(citation(1, "x", "It is red.", "Sky. It is red."),)),
    ]
