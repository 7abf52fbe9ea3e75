"""`benchmarks/bench_year.py` (issue 21, part 4): both sides get the same articles and the questions whose
evidence is among them, and the llama-index rankings are scored as `assistant eval` scores ours (distinct
articles in order of their best passage, wire copies of an evidence article counted as it)."""

from __future__ import annotations

import importlib
import json

import pytest

from tests.conftest import REALTIMEQA_TRAIN, ROOT


@pytest.fixture
def year(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("bench_year")


def test_options_and_the_commands_it_documents(year):
    args = year.build_parser().parse_args([])
    assert args.side == "both" and args.limit is None and not args.no_eval and args.worker is None
    assert year.build_parser().parse_args(["--side", "ours", "--limit", "150"]).limit == 150
    with pytest.raises(SystemExit):
        year.build_parser().parse_args(["--side", "theirs"])
    assert "python benchmarks/bench_year.py --json" in year.__doc__ and "--limit 150" in year.__doc__
    assert year.DEPTH == importlib.import_module("assistant.evaluation.runner").PROBE_DEPTH


def test_a_limit_keeps_the_first_articles_and_the_questions_they_answer(year, tmp_path):
    got = year.prepare_inputs(REALTIMEQA_TRAIN / "articles.jsonl", REALTIMEQA_TRAIN / "questions.jsonl", 150,
                              tmp_path)
    assert len(got["article_ids"]) == 150 and len(set(got["article_ids"])) == 150
    lines = got["articles"].read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == got["article_ids"]
    with open(REALTIMEQA_TRAIN / "articles.jsonl") as fh:
        assert lines[0] == fh.readline().rstrip("\n")  # the lines as they are, in order
    indexed = set(got["article_ids"])
    assert got["scored"] and all(set(q["evidence_ids"]) <= indexed for q in got["scored"])
    assert len(got["scored"]) == len(got["questions"].read_text().splitlines()) == 19


def test_llamaindex_rankings_are_scored_by_distinct_articles_and_copies(year):
    questions = [
        {"id": "q1", "evidence_ids": ["ev-1"]},
        {"id": "q2", "evidence_ids": ["ev-2"]},
        {"id": "q3", "evidence_ids": []},  # not scored
    ]
    # q1: ev-1 is the 7th node but the 3rd distinct article; q2: only a wire copy of ev-2, 2nd article
    rankings = {"q1": ["a", "a", "a", "b", "b", "b", "ev-1"], "q2": ["c", "copy-of-2", "d"], "q3": ["ev-1"]}
    exact = year.score_rankings(rankings, questions)
    assert exact["questions"] == 2
    assert exact["hit@1"] == 0.0 and exact["hit@5"] == 0.5 and exact["mrr@10"] == round((1 / 3) / 2, 4)
    assert exact["fewer_than_5_articles"] == 2
    copies = {("q2", "copy-of-2"): "ev-2"}
    counted = year.score_rankings(rankings, questions, copies)
    assert counted["hit@5"] == 1.0 and counted["mrr@10"] == round((1 / 3 + 1 / 2) / 2, 4)
    assert year.score_rankings(rankings, questions[2:])["hit@5"] is None  # nothing to score: no figure
