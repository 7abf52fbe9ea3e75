"""Every evaluation metric on hand-computed cases: ties, duplicates, empty retrieval, abstentions."""

from __future__ import annotations

import pytest
from eval_helpers import five_rows

from assistant.evaluation import metrics as m
from assistant.evaluation.scoring import by_type, check_bounds, summarize

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
                      "with_answers": 3, "citations": 3, "passed": 2}
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
