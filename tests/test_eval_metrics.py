"""Every evaluation metric on hand-computed cases: ties, duplicates, empty retrieval, abstentions."""

from __future__ import annotations

import argparse
import datetime

import pytest
from eval_helpers import five_rows

from assistant.cli.evaluate import register
from assistant.evaluation import metrics as m
from assistant.evaluation.questions import Question
from assistant.evaluation.scoring import (
    METRICS,
    NOT_FRACTIONS,
    Observation,
    by_type,
    check_bounds,
    score_question,
    summarize,
)
from assistant.retrieval.timewindow import TimeWindow
from assistant.types import Answer

# --------------------------------------------------------------------------- answer matching


@pytest.mark.parametrize("text, accepted, expected", [
    ("Transport Minister Ramón Celestino Velásquez's office", ["Ramon Celestino Velasquez"], True),
    ("RAMON celestino VELASQUEZ", ["Ramón Celestino Velásquez"], True),  # accents both ways, case
    ("drones able to fly 1,000-km", ["1,000 km"], True),  # hyphen = space, digit grouping
    ("drones able to fly 1,000 km", ["1000 km"], True),
    ("the U.S. said", ["US"], True),
    ("They beat the Buffalo Bills.", ["the Buffalo Bills"], True),  # article dropped on both sides
    ("one drone", ["drones"], False),  # whole words only
    ("returned artifacts", ["art"], False),
    ("anything", [], False),  # nothing accepted: never correct
    ("anything", ["", "..."], False),  # accepted answers that normalize to nothing never match
    ("", ["Paris"], False),
    ("Paris, then Rome", ["Berlin", "Rome"], True),  # any accepted answer counts
])
def test_contains_answer(text, accepted, expected):
    assert m.contains_answer(text, accepted) is expected


def test_normalize_answer():
    assert m.normalize_answer("  The U.S.'s  Ramón—Velásquez!  ") == "us ramon velasquez"
    assert m.strip_markers("Paris is big. [1] Rome too. [2][3]") == "Paris is big. Rome too."


@pytest.mark.parametrize("prediction, truth, expected", [
    ("the Buffalo Bills won", "Buffalo Bills", 0.8),  # P=2/3, R=1
    ("Buffalo Bills", "Buffalo Bills", 1.0),
    ("Bills Bills Bills", "Buffalo Bills", 0.4),  # clipped counts: common=1, P=1/3, R=1/2
    ("", "Paris", 0.0),
    ("Paris", "", 0.0),
    ("Rome", "Paris", 0.0),
])
def test_token_f1(prediction, truth, expected):
    assert m.token_f1(prediction, truth) == pytest.approx(expected)


def test_best_f1_takes_the_best_accepted_answer_and_ties_agree():
    assert m.best_f1("Buffalo Bills", ["Bills", "Buffalo Bills"]) == 1.0
    assert m.best_f1("Buffalo", ["Buffalo Bills", "Bills Buffalo"]) == pytest.approx(2 / 3)  # tie
    assert m.best_f1("anything", []) == 0.0


@pytest.mark.parametrize("prediction, accepted, expected", [
    ("Ramon Velasquez", ["Ramón Velásquez"], True),  # normalized both ways
    ("the Buffalo Bills", ["Buffalo Bills"], True),
    ("Buffalo Bills won", ["Buffalo Bills"], False),  # equal, not contained
    ("", ["Paris"], False),
    ("...", ["..."], False),  # normalizes to nothing: never a match
])
def test_exact_match(prediction, accepted, expected):
    assert m.exact_match(prediction, accepted) is expected


# --------------------------------------------------------------------------- answer shape


@pytest.mark.parametrize("text, words", [
    ("The capital is Paris. [1]", 4),
    ("It is unclear \u2014 who knows? [1][2]", 5),  # a lone dash is no word; markers are not words
    ("1,000-km drones [1]", 2),
    ("[1] [2]", 0),
    ("", 0),
])
def test_word_count(text, words):
    assert m.word_count(text) == words


@pytest.mark.parametrize("text, questions", [
    ("Is it? [1] Yes. [2]", 1),  # "?" before the marker
    ("Is it [1]?", 1),  # marker before the "?"
    ('He asked "why?" Then he left. [1]', 1),  # "?" then a closing quote ends the sentence
    ("Why (really?) Sure. [1]", 1),  # "?" then a closing bracket
    ("Who knows?\nNext line? [1]", 2),  # a line break ends a sentence
    ("What? no [1]", 0),  # no sentence boundary before a lower-case word: not a question sentence
    ("The question is why. [1]", 0),
    ("", 0),
])
def test_question_sentences(text, questions):
    assert m.question_sentences(text) == questions


# --------------------------------------------------------------------------- retrieval


def test_article_level_ranks_count_each_article_once():
    ranking = ["a", "b", "a", "c", "d"]  # passage 4 is the third distinct article
    assert m.article_ranking(ranking) == ["a", "b", "c", "d"]
    assert m.first_hit_rank(ranking, {"c"}) == 3
    assert [m.hit_at(ranking, {"c"}, k) for k in (1, 2, 3, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert m.reciprocal_rank(ranking, {"c"}) == pytest.approx(1 / 3)


def test_empty_retrieval_scores_zero():
    assert m.first_hit_rank([], {"e"}) is None
    assert m.hit_at([], {"e"}, 10) == 0.0
    assert m.recall_at([], {"e"}, 10) == 0.0
    assert m.reciprocal_rank([], {"e"}) == 0.0


def test_several_evidence_articles():
    ranking = ["x", "e2", "y", "e2", "e1"]  # distinct: x, e2, y, e1
    evidence = {"e1", "e2"}
    assert m.first_hit_rank(ranking, evidence) == 2
    assert [m.recall_at(ranking, evidence, k) for k in (1, 2, 3, 4)] == [0.0, 0.5, 0.5, 1.0]
    assert m.reciprocal_rank(ranking, evidence) == 0.5
    assert m.recall_at(ranking, set(), 5) == 0.0


def test_mrr_cut_off_at_k():
    ranking = [f"x{i}" for i in range(10)] + ["e"]  # evidence at article rank 11
    assert m.first_hit_rank(ranking, {"e"}) == 11
    assert m.reciprocal_rank(ranking, {"e"}, 10) == 0.0
    assert m.reciprocal_rank(ranking, {"e"}, 11) == pytest.approx(1 / 11)
    assert m.hit_at(ranking, {"e"}, 10) == 0.0


# --------------------------------------------------------------------------- citations


def test_claim_for_marker():
    extractive = "Venezuela asked Iran for drones. [1] It also asked China for radars. [2]"
    assert m.claim_for_marker(extractive, 1) == "Venezuela asked Iran for drones"
    assert m.claim_for_marker(extractive, 2) == "It also asked China for radars"
    generative = "Claim one [1][2]. Claim two [1]."
    assert m.claim_for_marker(generative, 1) == "Claim one Claim two"
    assert m.claim_for_marker(generative, 2) == "Claim one"
    assert m.claim_for_marker(generative, 3) == ""


def test_overlap_coefficient():
    assert m.overlap("Venezuela asked Iran for drones",
                     "Venezuela asked Iran for drones able to fly 1,000 km") == 1.0
    assert m.overlap("Iran sent drones to Caracas", "Iran and drones") == 1.0  # min(|C|,|Q|) = 2
    assert m.overlap("the cat sat", "dogs bark loudly") == 0.0
    assert m.overlap("", "anything") == 0.0


@pytest.mark.parametrize("answer, quote, passage, supported", [
    ("The capital is Paris. [1]", "The capital is Paris.", "Intro. The capital is Paris. More.", True),
    ("The capital is Paris. [1]", "The capital is Paris.", "Intro.  The capital\nis   Paris.", True),
    ("The capital is Paris. [1]", "The capital is Paris.", "A different passage.", False),  # not verbatim
    ("Rome has old ruins. [1]", "The capital is Paris.", "The capital is Paris.", False),  # no overlap
    ("The capital is Paris.", "The capital is Paris.", "The capital is Paris.", False),  # no marker
    ("The capital is Paris. [1]", "", "The capital is Paris.", False),  # empty quote
])
def test_citation_supported(answer, quote, passage, supported):
    assert m.citation_supported(answer, 1, quote, passage)[0] is supported


def test_support_bound_is_inclusive():
    # claim terms {paris, capital, france, big}; quote terms {paris, capital}: overlap 2/2 = 1.0
    assert m.citation_supported("Paris, capital of France, is big [1]", 1, "Paris capital", "Paris capital")[0]
    # claim {paris, rome}, quote {paris, berlin}: 1/2 = 0.5 = the bound
    ok, score = m.citation_supported("Paris Rome [1]", 1, "Paris Berlin", "Paris Berlin")
    assert score == m.SUPPORT_MIN_OVERLAP and ok


# --------------------------------------------------------------------------- aggregates


def test_percentile_interpolates_and_handles_ties_and_empty():
    assert m.percentile([10, 40, 30, 20], 50) == pytest.approx(25)
    assert m.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert m.percentile([7, 7, 7], 95) == 7
    assert m.percentile([5], 50) == 5
    assert m.percentile([], 50) is None
    assert m.mean([]) is None and m.share([]) is None


def test_summary_by_hand():
    rows = five_rows()
    s = summarize(rows)
    summary, counts = s["summary"], s["counts"]
    assert counts == {"questions": 5, "answerable": 3, "unanswerable": 2, "with_evidence": 3,
                      "with_answers": 3, "citations": 3, "passed": 2, "answers_with_question": 0,
                      "windowed_questions": 0}
    # ranks of the first evidence article: q1 1, q2 3 (passage 4, but x repeats), q5 none (empty retrieval)
    assert [r["first_hit_rank"] for r in rows] == [1, 3, None, None, None]
    assert summary["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["hit@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["hit@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["recall@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["mrr@10"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert summary["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)  # q1 only; q2 abstained
    assert summary["answer_f1"] == pytest.approx(0.5 / 3, abs=1e-4)  # "capital paris" vs "paris": 0.5
    assert summary["unanswerable_abstention"] == 0.5  # q3 abstained, q4 answered
    assert summary["answerable_abstention"] == pytest.approx(1 / 3, abs=1e-4)  # q2
    assert summary["citation_precision"] == 0.5  # q1 cites e1 (evidence), q5 cites x; q4 has no evidence
    assert summary["citation_support"] == pytest.approx(2 / 3, abs=1e-4)  # q4's quote is not in its passage
    assert summary["citations_per_answer"] == 1.0
    assert summary["pass_rate"] == 0.4  # q1, q3
    assert summary["short_answer_em"] == 0.0 and summary["short_answer_f1"] == 0.0  # no short answers given
    assert summary["answer_words_p50"] == 3  # q1 4 words, q4 2, q5 3 (q2, q3 abstained)
    assert summary["answers_with_question"] == 0.0
    assert summary["latency_p50_ms"] == 30 and summary["latency_p95_ms"] == 48
    abstained = rows[1]
    assert abstained["correct"] is False and abstained["f1"] == 0.0 and abstained["passed"] is False


def test_unanswerable_only_set_leaves_retrieval_unmeasured():
    rows = [r for r in five_rows() if r["unanswerable"]]
    summary = summarize(rows)["summary"]
    assert summary["hit@5"] is None and summary["answer_accuracy"] is None
    assert summary["citation_precision"] is None
    assert summary["unanswerable_abstention"] == 0.5


def test_by_type_groups_untyped_questions():
    groups = by_type(five_rows())
    assert list(groups) == ["(none)", "a", "u"]
    assert groups["a"]["counts"]["questions"] == 2 and groups["a"]["summary"]["pass_rate"] == 0.5
    assert groups["u"]["summary"]["unanswerable_abstention"] == 0.5
    assert by_type([dict(r, type="") for r in five_rows()]) == {}


def test_check_bounds():
    summary = {"hit@5": 0.5, "latency_p95_ms": 100.0, "citation_precision": None}
    assert check_bounds(summary, [("hit@5", 0.5, True)]) == []  # equal is enough
    assert check_bounds(summary, [("hit@5", 0.6, True)]) == ["hit@5 = 0.5 is below 0.6"]
    assert check_bounds(summary, [("latency_p95_ms", 50, False)]) == ["latency_p95_ms = 100 is above 50"]
    assert check_bounds(summary, [("latency_p95_ms", 100, False)]) == []
    assert "not measured" in check_bounds(summary, [("citation_precision", 0.1, True)])[0]


# --------------------------------------------------------------------------- short answers, shape, dates

WINDOW = TimeWindow(datetime.date(2025, 10, 1), datetime.date(2025, 11, 15), "last month")
MINISTER = ("Ramón Velásquez",)


def shaped_rows() -> list[dict]:
    """Six questions covering every population of the short-answer, answer-shape and date fields."""
    def one(q: Question, text: str, short: str = "", *, abstained: bool = False, as_of: str = "",
            window: TimeWindow | None = None) -> dict:
        a = Answer(question=q.question, answer=text, abstained=abstained, short_answer=short, as_of=as_of,
                   window=window)
        return score_question(q, Observation(a, (), 10.0))

    return [
        one(Question("s1", "Who is the minister?", MINISTER, ("e1",)),
            "Transport Minister Ramon Velasquez said so. [1] Why? [2]", "Ramon Velasquez", as_of="2025-11-15",
            window=WINDOW),
        one(Question("s2", "Who is the minister?", MINISTER, ("e1",)),
            "Minister Ramon Velasquez. [1]", "Minister Ramon Velasquez", as_of="2025-11-15"),
        one(Question("s3", "Who is the minister?", MINISTER, ("e1",)), "It is unclear \u2014 who knows? [1]"),
        one(Question("s4", "Who is the minister?", MINISTER, ("e1",)),
            "I could not find that in the articles. Could you rephrase?", "Ramon Velasquez", abstained=True),
        one(Question("s5", "What is in bread?", unanswerable=True), "Bread needs flour. [1]", "flour",
            window=WINDOW),
        one(Question("s6", "What happened?", evidence_ids=("e6",)), "Several things happened today. [1]", "things"),
    ]


def test_short_answer_row_fields():
    s1, s2, s3, s4, s5, s6 = shaped_rows()
    assert (s1["short_answer"], s1["short_answer_em"], s1["short_answer_f1"]) == ("Ramon Velasquez", True, 1.0)
    # {minister, ramon, velasquez} vs {ramon, velasquez}: P 2/3, R 1 -> F1 0.8; not equal
    assert (s2["short_answer"], s2["short_answer_em"], s2["short_answer_f1"]) == \
        ("Minister Ramon Velasquez", False, 0.8)
    assert (s3["short_answer"], s3["short_answer_em"], s3["short_answer_f1"]) == ("", False, 0.0)  # none given
    assert (s4["short_answer"], s4["short_answer_em"], s4["short_answer_f1"]) == ("", False, 0.0)  # abstained
    assert (s5["short_answer"], s5["short_answer_em"], s5["short_answer_f1"]) == ("flour", None, None)
    assert (s6["short_answer"], s6["short_answer_em"], s6["short_answer_f1"]) == ("things", None, None)
    # the same population as answer_accuracy
    assert [r["short_answer_em"] is None for r in (s1, s2, s3, s4, s5, s6)] == \
        [r["correct"] is None for r in (s1, s2, s3, s4, s5, s6)]


def test_answer_shape_row_fields():
    rows = shaped_rows()
    assert [r["answer_words"] for r in rows] == [7, 3, 5, None, 3, 4]  # None: abstained
    assert [r["question_sentences"] for r in rows] == [1, 0, 1, 1, 0, 0]  # s4 counts on the abstention text


def test_date_row_fields():
    s1, s2, s3, *_ = shaped_rows()
    assert s1["as_of"] == "2025-11-15"
    assert s1["window"] == {"start": "2025-10-01", "end": "2025-11-15", "expression": "last month"}
    assert (s2["as_of"], s2["window"]) == ("2025-11-15", None)
    assert (s3["as_of"], s3["window"]) == (None, None)  # dates ignored


def test_shape_and_short_answer_summary_by_hand():
    s = summarize(shaped_rows())
    summary, counts = s["summary"], s["counts"]
    assert summary["short_answer_em"] == 0.25  # s1 of s1..s4 (s4 abstained, s3 gave none: both 0)
    assert summary["short_answer_f1"] == 0.45  # (1 + 0.8 + 0 + 0) / 4
    assert summary["answer_words_p50"] == 4  # words of s1, s2, s3, s5, s6: 7, 3, 5, 3, 4
    assert summary["answers_with_question"] == 0.4  # s1 and s3 of five answers (the abstention s4 is left out)
    assert summary["answer_accuracy"] == 0.5  # s1 and s2 both contain the name; only s1's short answer is it
    assert counts["answers_with_question"] == 2 and counts["windowed_questions"] == 2  # s1, s5
    assert "windowed_questions" not in summary  # no better or worse direction: a count only


def test_summary_of_rows_without_the_new_fields_leaves_them_unmeasured():
    legacy = [{k: v for k, v in r.items() if k not in ("short_answer", "short_answer_em", "short_answer_f1",
                                                        "answer_words", "question_sentences", "as_of", "window")}
              for r in shaped_rows()]
    s = summarize(legacy)
    for name in ("short_answer_em", "short_answer_f1", "answer_words_p50", "answers_with_question"):
        assert s["summary"][name] is None
    assert s["counts"]["windowed_questions"] == 0 and s["summary"]["pass_rate"] is not None


def test_new_metrics_directions():
    assert METRICS["short_answer_em"][0] and METRICS["short_answer_f1"][0]
    assert not METRICS["answer_words_p50"][0] and not METRICS["answers_with_question"][0]
    assert "windowed_questions" not in METRICS
    assert NOT_FRACTIONS == {"citations_per_answer", "answer_words_p50", "latency_p50_ms", "latency_p95_ms"}


def eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant")
    register(parser.add_subparsers(dest="command"), lambda p: None)
    return parser


def test_bounds_on_the_new_metrics_parse():
    args = eval_parser().parse_args(["eval", "q.jsonl", "--fail-under", "short_answer_f1=0.5",
                                     "--fail-over", "answers_with_question=0", "--fail-over", "answer_words_p50=40",
                                     "--fail-under", "short_answer_em=1"])
    assert args.fail_under == [("short_answer_f1", 0.5), ("short_answer_em", 1.0)]
    assert args.fail_over == [("answers_with_question", 0.0), ("answer_words_p50", 40.0)]
    summary = summarize(shaped_rows())["summary"]
    bounds = [(n, v, True) for n, v in args.fail_under] + [(n, v, False) for n, v in args.fail_over]
    assert check_bounds(summary, bounds) == [
        "short_answer_f1 = 0.45 is below 0.5", "short_answer_em = 0.25 is below 1",
        "answers_with_question = 0.4 is above 0"]  # answer_words_p50 4 is not above 40


@pytest.mark.parametrize("spec, message", [
    ("short_answer_f1=1.5", "give a fraction between 0 and 1"),
    ("answers_with_question=2", "give a fraction between 0 and 1"),
    ("answer_words_p50=-1", "give a number of at least 0"),
    ("answer_words_p50=nan", "give a number of at least 0"),
    ("windowed_questions=1", "METRIC one of"),  # a count, not a metric
])
def test_bad_bounds_on_the_new_metrics(spec, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        eval_parser().parse_args(["eval", "q.jsonl", "--fail-over", spec])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
