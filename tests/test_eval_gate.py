"""CI GATE: the bundled question set, scored with the real MiniLM model and the default answerer.

This is the quality gate of the project: `assistant eval samples/questions.jsonl --articles samples/articles
--fail-under ...` must pass. The bounds sit a little below what the command measured when this gate was set
(see the README eval section for the figures); raise them when the assistant gets better, and never lower
them to make a regression pass without saying so in the commit. Latency is not gated (machine-dependent).
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from eval_helpers import SAMPLE_ARTICLES, SAMPLE_QUESTIONS

# metric -> lower bound. Set on the 77-question sample set (37 questions + 20 answerable/unanswerable near-miss
# pairs on 11 articles) when it was measured: hit@5 1.00, MRR@10 1.00, answer accuracy 0.833, short-answer F1
# 0.771, unanswerable abstention 0.483, citation precision 1.00, citation support 1.00; answerable wrongly
# abstained 0.021, median answer 31.5 words, no answer with a question sentence. The unanswerable bound is
# below the 0.5 of the 37-question set it replaced: the 20 new near misses (topic present, fact absent) are
# what the extractive answerer is weakest at (0.667 on the old 9 unanswerable questions with the old
# three-sentence answerer; see the README).
GATE = {
    "hit@5": 0.95,
    "mrr@10": 0.9,
    "answer_accuracy": 0.8,
    "short_answer_f1": 0.72,
    "unanswerable_abstention": 0.45,
    "citation_precision": 0.9,
    "citation_support": 0.9,
}
CEILINGS = {"answerable_abstention": 0.05, "answer_words_p50": 40, "answers_with_question": 0}


@pytest.mark.slow
def test_ci_gate_on_the_sample_question_set(tmp_path):
    args = ["eval", str(SAMPLE_QUESTIONS), "--articles", str(SAMPLE_ARTICLES), "--out", str(tmp_path / "out")]
    for name, bound in GATE.items():
        args += ["--fail-under", f"{name}={bound}"]
    for name, bound in CEILINGS.items():
        args += ["--fail-over", f"{name}={bound}"]
    result = run_cli(*args, timeout=900)
    summary = json.loads((tmp_path / "out" / "report.json").read_text())["summary"]
    assert result.returncode == 0, f"gate missed: {result.stderr[-800:]}\n{result.stdout}"
    assert all(summary[name] >= bound for name, bound in GATE.items())
    assert json.loads((tmp_path / "out" / "report.json").read_text())["embedding_model"] == "minilm-l6-v2"
