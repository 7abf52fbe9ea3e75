"""`assistant eval` end to end on the real CLI (hashing embedding, embedded Chroma in a temp dir):
reports, --compare, --fail-under/--fail-over exit codes, and bad input stopping before any work."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import run_cli
from eval_helpers import SAMPLE_ARTICLES

from assistant.evaluation.questions import load_questions
from assistant.evaluation.runner import PROBE_DEPTH, observe, unknown_evidence
from assistant.retrieval.hybrid import STAGES

HASHING = {"ASSISTANT_EMBEDDING": "hashing"}
TINY = [
    {"id": "t1", "question": "What did Venezuela ask Iran for?", "answer": ["drones"],
     "evidence_ids": ["venezuela-seeks-military-aid"], "type": "factoid"},
    {"id": "t2", "question": "How many power banks is Voltic Devices recalling?", "answer": ["240,000"],
     "evidence_ids": ["battery-recall"], "type": "numeric"},
    {"id": "t3", "question": "What is the recipe for sourdough bread?", "unanswerable": True,
     "type": "unanswerable"},
    {"id": "t4", "question": "Who approved the tram line?", "answer": ["city council"],
     "evidence_ids": ["no-such-article"], "type": "factoid"},
]
DATED = [  # the battery recall was published 2025-10-21, the Venezuela article 2025-11-01
    {"id": "d1", "question": "How many power banks did Voltic Devices recall last month?", "answer": ["240,000"],
     "evidence_ids": ["battery-recall"], "asked_at": "2025-11-15"},
    {"id": "d2", "question": "What did Venezuela ask Iran for?", "answer": ["drones"],
     "evidence_ids": ["venezuela-seeks-military-aid"], "asked_at": "2025-11-20"},
]


def write_set(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_eval_end_to_end_compare_and_bounds(tmp_path):
    questions = write_set(tmp_path / "tiny.jsonl", TINY)
    out1 = tmp_path / "run1"
    first = run_cli("eval", str(questions), "--articles", str(SAMPLE_ARTICLES), "--out", str(out1), env=HASHING)
    assert first.returncode == 0, first.stderr
    assert "warning: 1 evidence id(s) are not in the index: no-such-article" in first.stderr
    assert "asking" in first.stderr  # the progress bar
    assert "hit@5" in first.stdout and "answer_accuracy" in first.stdout
    report = json.loads((out1 / "report.json").read_text())
    assert report["schema_version"] == 2 and report["backend"] == "extractive"
    assert report["embedding_model"] == "hashing-256"
    assert report["index"]["articles"] == len(list(SAMPLE_ARTICLES.glob("*.md")))
    assert [r["id"] for r in report["questions"]] == ["t1", "t2", "t3", "t4"]
    assert report["summary"]["hit@10"] == pytest.approx(2 / 3, abs=1e-3)  # t4's evidence does not exist
    assert report["questions"][0]["first_hit_rank"] == 1 and report["questions"][0]["passages"]
    assert report["warnings"] and "auth_password" not in report["settings"]
    assert report["settings"]["dates"] == "asked_at"
    for r in report["questions"]:  # no asked_at in the set: asked as of the day of the run
        assert isinstance(r["short_answer"], str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["as_of"])
        assert r["answer_words"] is None if r["abstained"] else r["answer_words"] > 0
        assert isinstance(r["question_sentences"], int) and "window" in r
        # every retrieval stage timed apart (`lexical` is the BM25 search alone, `fuse` the fusion), then the answer
        assert set(r["timings_ms"]) >= {*STAGES, "answer", "total"}, r["timings_ms"]
    for name in ("short_answer_em", "short_answer_f1", "answer_words_p50", "answers_with_question"):
        assert name in report["summary"]
    assert (out1 / "report.md").read_text().startswith("# Evaluation report")
    HTMLParser().feed((out1 / "report.html").read_text())

    # An earlier report in which t1 failed and t2's evidence was missing: both flip back.
    old = json.loads((out1 / "report.json").read_text())
    old["questions"][0]["passed"] = False
    old["questions"][1]["first_hit_rank"] = None
    old["summary"]["hit@1"] = 0.0
    (tmp_path / "old.json").write_text(json.dumps(old))
    out2 = tmp_path / "run2"
    second = run_cli("eval", str(questions), "--out", str(out2), "--compare", str(tmp_path / "old.json"),
                     "--fail-under", "hit@10=0.6", "--fail-under", "hit@1=0", env=HASHING)
    assert second.returncode == 0, second.stderr
    assert "flipped vs" in second.stdout
    assert "t1: fail -> pass" in second.stdout and "t2: evidence rank - -> 1 (into top 5)" in second.stdout
    compared = json.loads((out2 / "report.json").read_text())["compare"]
    assert compared["metrics"]["hit@1"]["verdict"] == "better"
    assert "Flipped against" in (out2 / "report.html").read_text()

    third = run_cli("eval", str(questions), "--out", str(tmp_path / "run3"), "--fail-under", "hit@10=0.9",
                    "--fail-over", "latency_p50_ms=0.001", env=HASHING)
    assert third.returncode == 1
    assert "error: hit@10 = 0.6667 is below 0.9" in third.stderr
    assert "error: latency_p50_ms" in third.stderr and "is above 0.001" in third.stderr
    assert (tmp_path / "run3" / "report.json").exists()  # the report is still written

    # asked_at dates each question; --ignore-dates turns that off. Bounds on the new metrics parse and gate.
    dated = write_set(tmp_path / "dated.jsonl", DATED)
    fourth = run_cli("eval", str(dated), "--out", str(tmp_path / "run4"), "--fail-under", "short_answer_f1=0",
                     "--fail-over", "answer_words_p50=10000", "--fail-over", "answers_with_question=1", env=HASHING)
    assert fourth.returncode == 0, fourth.stderr
    report = json.loads((tmp_path / "run4" / "report.json").read_text())
    assert report["settings"]["dates"] == "asked_at"
    d1, d2 = report["questions"]
    assert (d1["as_of"], d2["as_of"]) == ("2025-11-15", "2025-11-20")
    assert d1["window"] == {"start": "2025-10-01", "end": "2025-11-15", "expression": "last month"}
    assert d2["window"] is None and report["counts"]["windowed_questions"] == 1
    fifth = run_cli("eval", str(dated), "--out", str(tmp_path / "run5"), "--ignore-dates", env=HASHING)
    assert fifth.returncode == 0, fifth.stderr
    report = json.loads((tmp_path / "run5" / "report.json").read_text())
    assert report["settings"]["dates"] == "ignored" and "dates ignored" in fifth.stdout
    assert all(not r["as_of"] and r["window"] is None for r in report["questions"])
    assert report["counts"]["windowed_questions"] == 0


@pytest.mark.parametrize("content, expected", [
    ('{"id": "a", "question": "Q?", "answer": ["x"]}\n{"id": "b", "question": }\n', ":2: invalid JSON"),
    ('{"id": "a", "question": "Q?", "answer": ["x"]}\n{"id": "a", "question": "Q?", "answer": ["x"]}\n',
     ':2: duplicate id "a"'),
    ("\n\n", "the question set is empty"),
])
def test_bad_question_set_stops_before_any_work(tmp_path, content, expected):
    questions = tmp_path / "q.jsonl"
    questions.write_text(content)
    result = run_cli("eval", str(questions), "--articles", str(SAMPLE_ARTICLES), "--out",
                     str(tmp_path / "out"), env=HASHING)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ") and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()  # nothing indexed or written


@pytest.mark.parametrize("args, code, expected", [
    (["--fail-under", "bogus=1"], 2, "METRIC one of"),
    (["--fail-under", "hit@5=80"], 2, "fraction between 0 and 1"),
    (["--fail-under", "short_answer_f1=2"], 2, "fraction between 0 and 1"),
    (["--fail-over", "answer_words_p50=-1"], 2, "a number of at least 0"),
    (["--compare", "missing/report.json"], 1, "no such report"),
    (["--articles", "no/such/folder"], 1, "no such file or folder"),
    (["--top-k", "0"], 1, "--top-k must be at least 1"),
])
def test_bad_options(tmp_path, args, code, expected):
    questions = write_set(tmp_path / "q.jsonl", TINY)
    result = run_cli("eval", str(questions), "--out", str(tmp_path / "out"), *args, env=HASHING)
    assert result.returncode == code and expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_empty_index_is_an_error(tmp_path):
    questions = write_set(tmp_path / "q.jsonl", TINY)
    result = run_cli("eval", str(questions), "--out", str(tmp_path / "out"), env=HASHING)
    assert result.returncode == 1 and "the index is empty" in result.stderr


def test_probe_ranking_starts_with_what_the_answerer_saw(hashing_assistant, tmp_path):
    hashing_assistant.index([SAMPLE_ARTICLES])
    questions = load_questions(write_set(tmp_path / "q.jsonl", TINY))
    assert unknown_evidence(hashing_assistant, questions) == ["no-such-article"]
    for question in questions:
        obs = observe(hashing_assistant, question, top_k=3)
        seen = [p.chunk.article_id for p in obs.answer.passages]
        assert len(seen) == 3 and list(obs.ranking[:3]) == seen
        # the probe ranks PROBE_DEPTH passages, or every chunk of an index that holds fewer
        assert len(obs.ranking) == min(PROBE_DEPTH, hashing_assistant.store.count()) and obs.latency_ms > 0
