"""From what the assistant did to scored rows and summary metrics (the numbers of the report).

`score_question` turns one question and its `Observation` into a JSON-ready row; `summarize` computes every
summary metric from rows alone, so a saved report.json can be re-summarized and compared. `METRICS` names
each summary metric and whether higher is better; `NOT_FRACTIONS` the ones that are not shares of 0..1
(milliseconds, words, citations). Counts without a direction (questions that got a time window) go in the
counts block only. It does not run the assistant or write files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.evaluation import metrics as m
from assistant.evaluation.questions import Question
from assistant.types import Answer

KS = (1, 3, 5, 10)
RANKING_DEPTH = 10  # distinct articles kept per question for the retrieval metrics

# name -> (higher is better, description)
METRICS: dict[str, tuple[bool, str]] = {
    **{f"hit@{k}": (True, f"an evidence article is among the top {k} articles") for k in KS},
    **{f"recall@{k}": (True, f"share of evidence articles among the top {k} articles") for k in KS},
    "mrr@10": (True, "mean reciprocal article rank of the first evidence article (0 beyond 10)"),
    "answer_accuracy": (True, "answer contains an accepted answer (answerable questions)"),
    "answer_f1": (True, "best token F1 against the accepted answers (answerable questions)"),
    "short_answer_em": (True, "short answer equals an accepted answer, normalized (answerable questions)"),
    "short_answer_f1": (True, "best token F1 of the short answer against the accepted answers"),
    "unanswerable_abstention": (True, "unanswerable questions correctly abstained"),
    "answerable_abstention": (False, "answerable questions wrongly abstained"),
    "citation_precision": (True, "citations that point into an evidence article"),
    "citation_support": (True, "citations whose quote is in the passage and overlaps the claim"),
    "citations_per_answer": (True, "citations per non-abstained answer"),
    "answer_words_p50": (False, "median number of words of a non-abstained answer (markers removed)"),
    "answers_with_question": (False, "non-abstained answers with a sentence that is a question"),
    "pass_rate": (True, "questions passed (see docs/eval-report.md)"),
    "latency_p50_ms": (False, "median time of one ask, ms"),
    "latency_p95_ms": (False, "95th percentile time of one ask, ms"),
}
# metrics that are not fractions of 0..1 (bounds on them are not checked against 0..1, nor shown as %)
NOT_FRACTIONS = frozenset({"citations_per_answer", "answer_words_p50", "latency_p50_ms", "latency_p95_ms"})


@dataclass(frozen=True)
class Observation:
    """What one ask produced: the answer, the passage ranking used for retrieval metrics, the time."""

    answer: Answer
    ranking: tuple[str, ...]  # article id of each retrieved passage, best first (copies as their evidence)
    latency_ms: float
    # A wire copy of an evidence article (same group, `index.text.grouping`) -> that evidence id: retrieval keeps
    # one copy per story, and the copy it keeps is as good as the one the question set names.
    same_story: dict[str, str] = field(default_factory=dict)


def score_question(q: Question, obs: Observation) -> dict:
    answer = obs.answer
    text = "" if answer.abstained else m.strip_markers(answer.answer)
    evidence = set(q.evidence_ids)
    citations = []
    for c in answer.citations:
        supported, score = m.citation_supported(answer.answer, c.n, c.quote, c.text)
        citations.append({
            "n": c.n, "article_id": c.article_id, "chunk_id": c.chunk_id,
            "in_evidence": (obs.same_story.get(c.article_id, c.article_id) in evidence) if evidence else None,
            "quote": c.quote, "quote_in_passage": m.quote_in_passage(c.quote, c.text),
            "overlap": round(score, 4), "supported": supported,
        })
    correct = None if q.unanswerable or not q.answers else (not answer.abstained and m.contains_answer(
        text, q.answers))
    short = "" if answer.abstained else answer.short_answer.strip()
    short_em = None if correct is None else m.exact_match(short, q.answers)
    short_f1 = None if correct is None else round(m.best_f1(short, q.answers), 4)
    window = answer.window
    rank = m.first_hit_rank(obs.ranking, evidence) if evidence else None
    if q.unanswerable:
        passed = answer.abstained
    elif q.answers:
        passed = bool(correct)
    else:
        passed = not answer.abstained and any(c["in_evidence"] for c in citations)
    return {
        "id": q.id, "line": q.line, "question": q.question, "type": q.type, "unanswerable": q.unanswerable,
        "kind": answer_kind_label(q.question),
        "accepted_answers": list(q.answers), "evidence_ids": list(q.evidence_ids),
        "short_answer": short,
        "answer": answer.answer, "abstained": answer.abstained, "backend": answer.backend,
        "correct": correct,
        "f1": None if correct is None else round(m.best_f1(text, q.answers), 4),
        "short_answer_em": short_em, "short_answer_f1": short_f1,
        "answer_words": None if answer.abstained else m.word_count(answer.answer),
        "question_sentences": m.question_sentences(answer.answer),
        "as_of": answer.as_of or None,
        "window": None if window is None else {"start": window.start.isoformat(), "end": window.end.isoformat(),
                                               "expression": window.expression},
        "first_hit_rank": rank,
        "ranking": m.article_ranking(obs.ranking)[:RANKING_DEPTH],
        "passages": [{"rank": p.rank, "article_id": p.chunk.article_id, "chunk_id": p.chunk.chunk_id,
                      "score": round(p.score, 6)} for p in answer.passages],
        "citations": citations,
        "passed": passed,
        "latency_ms": round(obs.latency_ms, 2),
        "timings_ms": {k: round(v, 2) for k, v in answer.timings_ms.items()},
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarize(rows: Sequence[dict]) -> dict:
    """Every summary metric (None when nothing could measure it) plus the counts behind them."""
    with_evidence = [r for r in rows if r["evidence_ids"]]
    with_answers = [r for r in rows if r["correct"] is not None]
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    answered = [r for r in rows if not r["abstained"]]
    summary: dict[str, float | None] = {}
    for k in KS:
        summary[f"hit@{k}"] = m.mean(m.hit_at(r["ranking"], r["evidence_ids"], k) for r in with_evidence)
    for k in KS:
        summary[f"recall@{k}"] = m.mean(m.recall_at(r["ranking"], r["evidence_ids"], k) for r in with_evidence)
    summary["mrr@10"] = m.mean(m.reciprocal_rank(r["ranking"], r["evidence_ids"], 10) for r in with_evidence)
    summary["answer_accuracy"] = m.share(r["correct"] for r in with_answers)
    summary["answer_f1"] = m.mean(r["f1"] for r in with_answers)
    # rows of reports written before these fields existed have no value: not measured
    summary["short_answer_em"] = m.share(r["short_answer_em"] for r in rows if r.get("short_answer_em") is not None)
    summary["short_answer_f1"] = m.mean(r["short_answer_f1"] for r in rows if r.get("short_answer_f1") is not None)
    summary["unanswerable_abstention"] = m.share(r["abstained"] for r in unanswerable)
    summary["answerable_abstention"] = m.share(r["abstained"] for r in answerable)
    summary["citation_precision"] = m.share(c["in_evidence"] for r in with_evidence for c in r["citations"])
    summary["citation_support"] = m.share(c["supported"] for r in rows for c in r["citations"])
    summary["citations_per_answer"] = m.mean(len(r["citations"]) for r in answered)
    words = [r["answer_words"] for r in answered if r.get("answer_words") is not None]
    summary["answer_words_p50"] = m.percentile(words, 50)
    shaped = [r for r in answered if r.get("question_sentences") is not None]
    with_question = [r for r in shaped if r["question_sentences"] > 0]
    summary["answers_with_question"] = len(with_question) / len(shaped) if shaped else None
    summary["pass_rate"] = m.share(r["passed"] for r in rows)
    latencies = [r["latency_ms"] for r in rows]
    summary["latency_p50_ms"] = m.percentile(latencies, 50)
    summary["latency_p95_ms"] = m.percentile(latencies, 95)
    summary = {k: _rounded(v) for k, v in summary.items()}
    counts = {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "with_evidence": len(with_evidence), "with_answers": len(with_answers),
        "citations": sum(len(r["citations"]) for r in rows), "passed": sum(r["passed"] for r in rows),
        "answers_with_question": len(with_question),
        "windowed_questions": sum(1 for r in rows if r.get("window")),
    }
    return {"summary": summary, "counts": counts}


def by_type(rows: Sequence[dict]) -> dict[str, dict]:
    """`summarize` per question type; empty when no question has a type."""
    if not any(r["type"] for r in rows):
        return {}
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["type"] or "(none)", []).append(r)
    return {name: summarize(group) for name, group in sorted(groups.items())}


def answer_kind_label(question: str) -> str:
    """The kind of fact the question asks for, as the answerer reads it (`short_answer.answer_kind`):
    person, organization, place, date, number, amount, measure, name, reason, or "other"."""
    from assistant.answering.short_answer import answer_kind

    return answer_kind(question) or "other"


def by_kind(rows: Sequence[dict]) -> dict[str, dict]:
    """`summarize` per kind of fact asked (rows of older reports have none: empty)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("kind"):
            groups.setdefault(r["kind"], []).append(r)
    return {name: summarize(group) for name, group in sorted(groups.items())}


def check_bounds(summary: dict, bounds: Sequence[tuple[str, float, bool]]) -> list[str]:
    """Messages for every bound missed: (metric, value, is_lower_bound); an unmeasured metric misses."""
    failures = []
    for name, bound, lower in bounds:
        value = summary.get(name)
        if value is None:
            failures.append(f"{name} was not measured (bound {bound:g})")
        elif lower and value < bound:
            failures.append(f"{name} = {value:g} is below {bound:g}")
        elif not lower and value > bound:
            failures.append(f"{name} = {value:g} is above {bound:g}")
    return failures
