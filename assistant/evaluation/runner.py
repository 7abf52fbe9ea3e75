"""Runs a question set through the assistant: one `Assistant.ask` per question, timed, in order.

Answers come from exactly the path `assistant ask` uses (same settings, same top-k). The retrieval metrics
need a deeper ranking than the few passages an answer uses, so when top-k is below `PROBE_DEPTH` the
retriever is also asked once more, alone and untimed, for `PROBE_DEPTH` passages (the fused ranking does
not depend on how many passages are asked for, so its head is what the answerer saw). It does not score
or write anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from assistant.evaluation.questions import Question
from assistant.evaluation.scoring import Observation

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.types import Passage

PROBE_DEPTH = 20  # passages ranked for the retrieval metrics (enough for ten distinct articles, mostly)


def indexed_article_ids(assistant: Assistant) -> set[str]:
    return assistant.store.article_ids()


def unknown_evidence(assistant: Assistant, questions: Sequence[Question]) -> list[str]:
    """Evidence ids the index does not hold, sorted."""
    known = indexed_article_ids(assistant)
    return sorted({e for q in questions for e in q.evidence_ids} - known)


def observe(assistant: Assistant, question: Question, top_k: int, *, use_dates: bool = True) -> Observation:
    """One question asked as of its `asked_at` day (today when it has none), or ignoring dates."""
    started = time.perf_counter()
    as_of = question.asked_at or None
    answer = assistant.ask(question.question, top_k=top_k, as_of=as_of, use_dates=use_dates)
    latency_ms = (time.perf_counter() - started) * 1000
    if top_k >= PROBE_DEPTH:
        probed = list(answer.passages)
    else:
        probe, _ = assistant.retrieve(question.question, PROBE_DEPTH, as_of=as_of, use_dates=use_dates)
        probed = probe.passages
    same_story = _copies_of_evidence(assistant, [*answer.passages, *probed], question.evidence_ids)
    ranking = tuple(same_story.get(p.chunk.article_id, p.chunk.article_id) for p in probed)
    return Observation(answer, ranking, latency_ms, same_story)


def _copies_of_evidence(assistant: Assistant, passages: Sequence[Passage], evidence_ids: Sequence[str]
                        ) -> dict[str, str]:
    """Retrieved articles that are wire copies of an evidence article, mapped to it."""
    evidence = set(evidence_ids)
    grouped = {p.chunk.article_id: p.chunk.group_id for p in passages if p.chunk.article_id not in evidence}
    if not evidence or not grouped:
        return {}
    members = assistant.store.group_members(set(grouped.values()))
    out = {}
    for article_id, group in grouped.items():
        hits = sorted(evidence & {m.article_id for m in members.get(group, ())})
        if hits:
            out[article_id] = hits[0]
    return out


def run(assistant: Assistant, questions: Sequence[Question], top_k: int, *, use_dates: bool = True
        ) -> Iterator[Observation]:
    """Yield one observation per question, in order (wrap in a progress bar to show progress)."""
    for question in questions:
        yield observe(assistant, question, top_k, use_dates=use_dates)
