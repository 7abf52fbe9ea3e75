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
# pairs on 11 articles) when it was measured with the fitted reader (issue 19, 2026-12-04): hit@5 1.00,
# MRR@10 1.00, answer accuracy 0.771, short-answer F1 0.743, unanswerable abstention 0.414, citation precision
# 1.00, citation support 1.00; answerable wrongly abstained 0.021, median answer 26 words, no answer with a
# question sentence. LOWERED from 0.8 / 0.45 (the rule-based answerer's 0.833 / 0.483) to 0.75 / 0.40: the
# reader, fitted on news-quiz pages, gains 10 points on the dev set and loses 6 on these hand-written
# articles, where it prefers a page's lead; the README's Evaluation section says so. Raise them when that is fixed.
# RAISED (2026-12-05) after the checks that the fact a sentence states is the one asked (an age is said to be
# one, "how deep" needs a depth, a count is never a percentage): accuracy 0.812, short-answer F1 0.785,
# unanswerable abstention 0.483 (14/29), wrongly abstained 0.021, median answer 26 words; so 0.78 / 0.75 / 0.44.
GATE = {
    "hit@5": 0.95,
    "mrr@10": 0.9,
    "answer_accuracy": 0.78,
    "short_answer_f1": 0.75,
    "unanswerable_abstention": 0.44,
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
