"""The question-set file: one JSON object a line, validated in full before any work starts.

Each line: `{"id", "question", "answer": [accepted strings], "evidence_ids": [article ids],
"unanswerable": bool, "type": str, "asked_at": "YYYY-MM-DD"}`; `choices` and unknown keys are ignored. Only `question` is required;
`id` defaults to `line-N`. A malformed line raises `QuestionSetError` naming `file:line` and the reason.
This module does not index, ask or score anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError, BadQuestionError


class QuestionSetError(AssistantError):
    """The question-set file is missing, empty or has a malformed line (`file:line: reason`)."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...] = ()  # accepted answers; any one counts
    evidence_ids: tuple[str, ...] = ()  # articles that hold the answer
    unanswerable: bool = False  # the corpus does not answer it: the assistant should abstain
    type: str = ""  # free label used for the breakdown (e.g. factoid, numeric)
    line: int = 0
    asked_at: str = ""  # YYYY-MM-DD: the day it was asked (its as-of date); "" = the day of the run


def _strings(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{key}" must be a list of strings')
    cleaned = tuple(v.strip() for v in value if v.strip())
    if len(cleaned) != len(value):
        raise ValueError(f'"{key}" holds an empty string')
    return cleaned


def parse_question(record: object, line: int) -> Question:
    """One decoded line to a `Question`; raises ValueError or TypeError with the reason."""
    from assistant.service import clean_question

    if not isinstance(record, dict):
        raise TypeError("expected a JSON object")
    if "question" not in record:
        raise ValueError('missing "question"')
    try:
        text = clean_question(record["question"])
    except BadQuestionError as exc:
        raise ValueError(str(exc)) from None
    qid = record.get("id", f"line-{line}")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError('"id" must be a non-empty string')
    answers = _strings(record.get("answer", []), "answer")
    evidence = _strings(record.get("evidence_ids", []), "evidence_ids")
    unanswerable = record.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise TypeError('"unanswerable" must be true or false')
    qtype = record.get("type", "")
    if not isinstance(qtype, str):
        raise TypeError('"type" must be a string')
    asked_at = record.get("asked_at", "")
    if asked_at is None:
        asked_at = ""
    if not isinstance(asked_at, str):
        raise TypeError('"asked_at" must be a YYYY-MM-DD string')
    if asked_at.strip():
        from assistant.retrieval.timewindow import BadDateError, parse_as_of

        try:
            asked_at = parse_as_of(asked_at.strip()).isoformat()
        except BadDateError as exc:
            raise ValueError(f'"asked_at": {exc}') from None
    if unanswerable and (answers or evidence):
        raise ValueError('an unanswerable question cannot list "answer" or "evidence_ids"')
    if not unanswerable and not answers and not evidence:
        raise ValueError('nothing to score: give "answer" and/or "evidence_ids", or set "unanswerable": true')
    return Question(qid.strip(), text, answers, evidence, unanswerable, qtype.strip(), line, asked_at)


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate every line; the first problem raises `QuestionSetError("file:line: reason")`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: no such question-set file") from None
    except OSError as exc:
        raise QuestionSetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        where = f"{path}:{number}"
        try:
            line = chunk.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            raise QuestionSetError(f"{where}: not UTF-8 text") from None
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise QuestionSetError(f"{where}: invalid JSON (nested too deeply)") from None
        except ValueError as exc:  # e.g. a number of more than 4300 digits
            raise QuestionSetError(f"{where}: invalid JSON ({str(exc).split(':')[0]})") from None
        try:
            question = parse_question(record, number)
        except (TypeError, ValueError) as exc:
            raise QuestionSetError(f"{where}: {exc}") from None
        if question.id in seen:
            raise QuestionSetError(f'{where}: duplicate id "{question.id}" (first on line {seen[question.id]})')
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path}: the question set is empty (expected one JSON object a line)")
    return questions


def evidence_ids(questions: list[Question]) -> set[str]:
    return {e for q in questions for e in q.evidence_ids}
