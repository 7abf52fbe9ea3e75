"""The question-set reader: valid files load, each malformed line is reported as file:line."""

from __future__ import annotations

import json

import pytest
from eval_helpers import SAMPLE_QUESTIONS

from assistant.evaluation.questions import Question, QuestionSetError, load_questions


def write(tmp_path, *lines: str, raw: bytes | None = None):
    path = tmp_path / "q.jsonl"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "a", "question": "What did Venezuela ask Iran for?", "answer": ["drones"],
                   "evidence_ids": ["venezuela-seeks-military-aid"], "type": "factoid"})


def test_sample_question_set_loads():
    questions = load_questions(SAMPLE_QUESTIONS)
    assert len(questions) >= 25
    assert sum(q.unanswerable for q in questions) >= 5
    assert all(q.evidence_ids for q in questions if not q.unanswerable)


def test_defaults_and_normalization(tmp_path):
    path = write(tmp_path, GOOD, "", json.dumps({"question": "  Who won\tthe cup? ", "unanswerable": True}),
                 json.dumps({"id": 7, "question": "Q?", "answer": "single", "choices": ["x"], "extra": 1}))
    a, b, c = load_questions(path)
    assert a == Question("a", "What did Venezuela ask Iran for?", ("drones",), ("venezuela-seeks-military-aid",),
                         False, "factoid", 1)
    assert (b.id, b.question, b.unanswerable, b.line) == ("line-3", "Who won the cup?", True, 3)
    assert (c.id, c.answers) == ("7", ("single",))


@pytest.mark.parametrize("line, reason", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"id": "x"}', 'missing "question"'),
    ('{"question": "   "}', "the question is empty"),
    ('{"question": 5, "answer": ["a"]}', "must be text"),
    ('{"question": "Q?", "answer": [1]}', '"answer" must be a list of strings'),
    ('{"question": "Q?", "answer": ["ok", " "]}', '"answer" holds an empty string'),
    ('{"question": "Q?", "evidence_ids": "e1", "answer": {"a": 1}}', '"answer" must be a list'),
    ('{"question": "Q?", "answer": ["a"], "unanswerable": "no"}', '"unanswerable" must be true or false'),
    ('{"question": "Q?", "answer": ["a"], "type": 3}', '"type" must be a string'),
    ('{"question": "Q?", "answer": ["a"], "unanswerable": true}', "cannot list"),
    ('{"question": "Q?"}', "nothing to score"),
    ('{"question": "Q?", "id": ""}', '"id" must be a non-empty string'),
    (GOOD, 'duplicate id "a" (first on line 1)'),
    ('{"question": "Q?", "answer": ["a"], "asked_at": "2023-13-01"}',
     '"asked_at": as-of date \'2023-13-01\' is not a valid YYYY-MM-DD date'),
    ('{"question": "Q?", "answer": ["a"], "asked_at": "2023-02-30"}', "'2023-02-30' is not a valid YYYY-MM-DD"),
    ('{"question": "Q?", "answer": ["a"], "asked_at": "1 May 2023"}', "is not a valid YYYY-MM-DD date"),
    ('{"question": "Q?", "answer": ["a"], "asked_at": 5}', '"asked_at" must be a YYYY-MM-DD string'),
    ('{"question": "Q?", "answer": ["a"], "asked_at": ["2023-05-01"]}', '"asked_at" must be a YYYY-MM-DD string'),
])
def test_malformed_line_names_file_and_line(tmp_path, line, reason):
    path = write(tmp_path, GOOD, line)
    with pytest.raises(QuestionSetError) as err:
        load_questions(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: ") and reason in message
    assert "\n" not in message


def test_asked_at_is_read_and_optional(tmp_path):
    base = {"question": "Q?", "answer": ["a"]}
    path = write(tmp_path, *(json.dumps({**base, "id": str(i), **extra}) for i, extra in enumerate([
        {"asked_at": "2023-05-01"}, {"asked_at": " 2023-05-01 "}, {"asked_at": None}, {"asked_at": ""}, {}])))
    assert [q.asked_at for q in load_questions(path)] == ["2023-05-01", "2023-05-01", "", "", ""]


def test_not_utf8(tmp_path):
    path = write(tmp_path, raw=GOOD.encode() + b"\n" + b'{"question": "caf\xe9?"}\n')
    with pytest.raises(QuestionSetError, match=r":2: not UTF-8"):
        load_questions(path)


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, raw=b"\xef\xbb\xbf" + GOOD.encode() + b"\n")
    assert load_questions(path)[0].id == "a"


@pytest.mark.parametrize("content", ["", "\n\n   \n"])
def test_empty_set_is_an_error(tmp_path, content):
    path = tmp_path / "q.jsonl"
    path.write_text(content)
    with pytest.raises(QuestionSetError, match="the question set is empty"):
        load_questions(path)


def test_missing_file(tmp_path):
    with pytest.raises(QuestionSetError, match="no such question-set file"):
        load_questions(tmp_path / "nope.jsonl")
