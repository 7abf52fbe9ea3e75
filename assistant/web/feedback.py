"""Turning chat answers into test questions, and keeping 👍/👎 feedback: two JSONL files in the data dir.

`saved-questions.jsonl` is a question set that `assistant eval` reads as is (see docs/eval-report.md): each
line is `{"id", "question", "answer": [the short answer or the user's correction], "evidence_ids": [cited
articles], "asked_at": "YYYY-MM-DD", "type": "saved", "saved_at"}`; an abstention saved without a
correction becomes `"unanswerable": true`. Every line is checked with the evaluator's own parser before it
is written. `feedback.jsonl` holds one line per 👍/👎. Both are appended under a lock, stay on this
machine and are never sent anywhere. It does not import Gradio nor ask the assistant anything.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.web.render import outlet_name

SAVED_QUESTIONS = "saved-questions.jsonl"
FEEDBACK = "feedback.jsonl"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class SavedQuestion:
    """What a saved test question holds, before it is written."""

    question: str
    answer: str = ""  # the expected short answer ("" = none: scored on evidence only, or unanswerable)
    evidence_ids: tuple[str, ...] = ()
    asked_at: str = ""
    unanswerable: bool = False

    @classmethod
    def from_answer(cls, answer: Answer, correction: str = "") -> SavedQuestion:
        """The test an answer implies: its short answer as the expected answer (none without one: the test
        then scores retrieval of the cited articles), the articles it cited, the day it was asked. A
        correction replaces the expected answer; an abstention without one is an unanswerable question."""
        question = answer.standalone_question or answer.question  # a follow-up as it was understood
        correction = " ".join((correction or "").split())
        evidence = tuple(dict.fromkeys(c.article_id for c in answer.citations))
        if answer.abstained and not correction:
            return cls(question, asked_at=answer.as_of, unanswerable=True)
        return cls(question, correction or answer.short_answer, evidence, answer.as_of)

    def record(self) -> dict:
        now = dt.datetime.now().astimezone()
        line: dict = {"id": f"saved-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}", "question": self.question}
        if self.unanswerable:
            line["unanswerable"] = True
        else:
            if self.answer:
                line["answer"] = [self.answer]
            if self.evidence_ids:
                line["evidence_ids"] = list(self.evidence_ids)
        line["asked_at"] = self.asked_at or None
        line["type"] = "saved"
        line["saved_at"] = now.isoformat(timespec="seconds")
        return line


def article_choices(answer: Answer) -> list[tuple[str, str]]:
    """The articles a reader may name as the one holding the right answer: those the answer cites, then the
    others it retrieved, as ("Title (Outlet, date)", article id)."""
    seen: dict[str, tuple[str, str]] = {}
    rows = [(c.article_id, c.title, c.source, c.published_at) for c in answer.citations]
    rows += [(p.chunk.article_id, p.chunk.title, p.chunk.source, p.chunk.published_at) for p in answer.passages]
    for article_id, title, source, published_at in rows:
        if article_id in seen:
            continue
        meta = ", ".join(x for x in (outlet_name(source), published_at) if x)
        label = (title or article_id)[:90] + (f" ({meta})" if meta else "")
        seen[article_id] = (label, article_id)
    return list(seen.values())


class FeedbackStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    @property
    def questions_path(self) -> Path:
        return self.data_dir / SAVED_QUESTIONS

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / FEEDBACK

    def save_test_question(self, case: SavedQuestion) -> dict:
        """Append one question-set line; raises AssistantError when it would not be a valid test."""
        from assistant.evaluation.questions import parse_question

        line = case.record()
        try:
            parse_question(line, 1)
        except (TypeError, ValueError) as exc:
            raise AssistantError(f"cannot save this as a test question: {exc}") from None
        self._append(self.questions_path, line)
        return line

    def record_feedback(self, answer: Answer, rating: str, comment: str = "") -> dict:
        line = {"at": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "rating": rating,
                "question": answer.question, "understood_as": answer.standalone_question or None,
                "short_answer": answer.short_answer, "answer": answer.answer, "abstained": answer.abstained,
                "cited": list(dict.fromkeys(c.article_id for c in answer.citations)),
                "as_of": answer.as_of or None, "comment": comment}
        self._append(self.feedback_path, line)
        return line

    def saved_count(self) -> int:
        try:
            return sum(1 for line in self.questions_path.read_text(encoding="utf-8").splitlines() if line.strip())
        except OSError:
            return 0

    @staticmethod
    def _append(path: Path, line: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(line, ensure_ascii=False) + "\n"
        with _LOCK, open(path, "a", encoding="utf-8") as out:  # one write per line: lines never interleave
            out.write(data)
