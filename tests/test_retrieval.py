"""Hybrid retrieval: reciprocal rank fusion by hand, BM25 rescuing an exact name the dense ranking misses,
and source/date filters applied the same way in both rankings."""

from __future__ import annotations

import pytest

from assistant.factory import build_store
from assistant.retrieval.hybrid import STAGES, HybridRetriever, reciprocal_rank_fusion
from index.indexer import Indexer
from index.intake.articles import Article
from index.models.embedding import HashingEmbedding
from index.storage.store import SearchFilters


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-12


def test_rrf_two_rankings_by_hand():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])
    assert [i for i, _ in fused] == ["a", "c", "b"]
    scores = dict(fused)
    assert close(scores["a"], 1 / 61 + 1 / 62)
    assert close(scores["c"], 1 / 63 + 1 / 61)
    assert close(scores["b"], 1 / 62)


def test_rrf_single_ranking_keeps_order_and_scores():
    fused = reciprocal_rank_fusion([["x", "y", "z"]], k=10)
    assert fused == [("x", 1 / 11), ("y", 1 / 12), ("z", 1 / 13)]


def test_rrf_agreement_beats_a_single_top_rank():
    # "both" is 3rd in each list: 2/63 = 0.0317 > 1/61 = 0.0164 for the items ranked first once.
    fused = reciprocal_rank_fusion([["d1", "d2", "both"], ["l1", "l2", "both"]])
    assert fused[0][0] == "both" and close(fused[0][1], 2 / 63)


def test_rrf_ties_break_by_id_whatever_the_input_order():
    assert [i for i, _ in reciprocal_rank_fusion([["y"], ["x"]])] == ["x", "y"]
    assert [i for i, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]


def test_rrf_weights_and_k():
    fused = reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])
    assert fused == [("b", 2 / 61), ("a", 1 / 61)]
    assert reciprocal_rank_fusion([["a", "b"]], k=0) == [("a", 1.0), ("b", 0.5)]


def test_rrf_empty():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert [i for i, _ in reciprocal_rank_fusion([[], ["only"]])] == ["only"]


# ----------------------------------------------------------------------------------- on a real store


class NameBlindEmbedding(HashingEmbedding):
    """A dense model that blurs proper names (drops capitalised words), as small embedding models do."""

    def _vector(self, text: str) -> list[float]:
        return super()._vector(" ".join(w for w in text.split() if not w[:1].isupper()))


def _index(store, embed, articles):
    summary = Indexer(store, embed, chunk_size=128, chunk_overlap=0).index_items(articles)
    assert summary.failed == 0
    return summary


def test_bm25_rescues_an_exact_name_the_dense_ranking_misses(settings):
    store = build_store(settings)
    embed = NameBlindEmbedding()
    distractors = [
        Article(id=f"d{i}", title="", text=f"the council will approve the budget and approve the plan number {i}. "
                                           "officials approve spending on harbour works.")
        for i in range(6)
    ]
    target = Article(id="target", title="",
                     text="the harbour budget was approved by Oyelaran-Whitcombe on Tuesday after a long debate.")
    _index(store, embed, [*distractors, target])
    question = "What did Oyelaran-Whitcombe approve?"

    dense = store.search_dense(embed.get_query_embedding(question), 3)
    assert "target" not in {c.article_id for c, _ in dense}, "the dense ranking alone misses it"
    lexical = store.lexical().search(question, 3)
    assert lexical and store.get([lexical[0][0]])[0].article_id == "target"

    # Reciprocal rank fusion (ASSISTANT_FUSION=rrf) lifts a BM25-only hit into the top-k whatever its
    # cosine; the default convex fusion weighs BM25 at 0.03 (chosen on the dev set) and does not.
    retrieval = HybridRetriever(store, embed, candidates=3, fusion="rrf").search(question, top_k=3)
    found = [p for p in retrieval.passages if p.chunk.article_id == "target"]
    assert found, [p.chunk.article_id for p in retrieval.passages]
    passage = found[0]
    assert passage.dense is None and passage.lexical and passage.lexical > 0
    assert "Oyelaran-Whitcombe" in passage.chunk.text, "a lexical-only hit is fetched with its text"
    assert set(retrieval.timings_ms) == set(STAGES)


def test_fused_scores_are_rrf_of_both_rankings_with_fusion_rrf(settings):
    store = build_store(settings)
    embed = HashingEmbedding()
    _index(store, embed, [Article(id=f"a{i}", text=f"river flood warning level {i} for the valley towns "
                                                   f"and farms number {i * 7}.") for i in range(8)])
    retriever = HybridRetriever(store, embed, candidates=8, fusion="rrf")
    question = "flood warning for valley farms"
    retrieval = retriever.search(question, top_k=8)
    dense_ids = [c.chunk_id for c, _ in store.search_dense(retrieval.query_embedding, 8)]
    lexical_ids = [cid for cid, _ in store.lexical().search(question, 8)]
    expected = reciprocal_rank_fusion([dense_ids, lexical_ids])[:8]
    assert [(p.chunk.chunk_id, p.score) for p in retrieval.passages] == expected
    assert [p.rank for p in retrieval.passages] == list(range(1, len(expected) + 1))


def test_convex_fusion_scores_every_candidate_with_both_rankings(settings):
    """Default fusion: a candidate only one ranking found still gets both scores (its stored vector's cosine,
    its BM25 score) before the weighted sum; the fused score of the best passage is the weighted maximum."""
    store = build_store(settings)
    embed = NameBlindEmbedding()
    _index(store, embed, [Article(id=f"d{i}", text=f"the council will approve the budget number {i}.")
                          for i in range(6)]
           + [Article(id="target", text="the budget was approved by Oyelaran-Whitcombe on Tuesday.")])
    question = "What did Oyelaran-Whitcombe approve?"
    retriever = HybridRetriever(store, embed, candidates=3, fusion="convex", dense_weight=0.5)
    retrieval = retriever.search(question, top_k=7)
    assert "target" in {p.chunk.article_id for p in retrieval.passages}
    scores = [p.score for p in retrieval.passages]
    assert scores == sorted(scores, reverse=True) and 0.0 <= scores[-1] and scores[0] <= 1.0
    dense_only = HybridRetriever(store, embed, candidates=3, fusion="convex", dense_weight=1.0)
    ranked = {p.chunk.chunk_id for p in dense_only.search(question, top_k=3).passages}  # (ties: any order)
    assert ranked == {c.chunk_id for c, _ in store.search_dense(embed.get_query_embedding(question), 3)}


FILTER_ARTICLES = [
    Article(id="alpha-jan", text="Port strike halts container shipping at the harbour.", source="Alpha",
            published_at="2023-01-10"),
    Article(id="alpha-jun", text="Port strike ends as container shipping resumes at the harbour.",
            source="Alpha", published_at="2023-06-10"),
    Article(id="beta-jan", text="Container shipping port strike enters second week at harbour.", source="Beta",
            published_at="2023-01-20"),
    Article(id="beta-jun", text="Harbour port strike talks over container shipping fees.", source="Beta",
            published_at="2023-06-20"),
    Article(id="gamma-nodate", text="Harbour port strike and container shipping explained.", source="Gamma"),
]


@pytest.mark.parametrize(
    "filters,expected",
    [
        (SearchFilters(sources=("Alpha",)), {"alpha-jan", "alpha-jun"}),
        (SearchFilters(sources=("Beta", "Gamma")), {"beta-jan", "beta-jun", "gamma-nodate"}),
        (SearchFilters(date_from="2023-03-01"), {"alpha-jun", "beta-jun"}),
        (SearchFilters(date_to="2023-03-01"), {"alpha-jan", "beta-jan"}),
        (SearchFilters(date_from="2023-01-15", date_to="2023-06-15"), {"beta-jan", "alpha-jun"}),
        (SearchFilters(sources=("Beta",), date_from="2023-03-01"), {"beta-jun"}),
        (SearchFilters(date_from="2023-01-10", date_to="2023-01-10"), {"alpha-jan"}),
        (SearchFilters(sources=("Nobody",)), set()),
        (SearchFilters(), {a.id for a in FILTER_ARTICLES}),
    ],
)
def test_filters_apply_to_both_rankings(settings, filters, expected):
    store = build_store(settings)
    embed = HashingEmbedding()
    _index(store, embed, FILTER_ARTICLES)
    question = "port strike container shipping harbour"
    dense = store.search_dense(embed.get_query_embedding(question), 20, filters)
    assert {c.article_id for c, _ in dense} == expected
    lexical = store.lexical().search(question, 20, filters)
    assert {c.article_id for c in store.get([cid for cid, _ in lexical])} == expected
    retrieval = HybridRetriever(store, embed, candidates=20).search(question, top_k=10, filters=filters)
    assert {p.chunk.article_id for p in retrieval.passages} == expected
    for p in retrieval.passages:
        assert p.dense is not None and p.lexical is not None, "every match is found by both rankings"


# ----------------------------------------------------------------------------------- text folding


def _reference_fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.mark.parametrize("text", ["Velásquez said “the drones” — 1,000 km", "São Paulo ﬁnal ½", "e\u0301 İstanbul",
                                  "Ελληνικά Άρης", "हिन्दी नुक़्ता 日本語", "plain ASCII"])
def test_normalize_folds_only_non_ascii_runs_with_the_same_result(text):
    from index.text.terms import normalize

    assert normalize(text) == _reference_fold(text)


def test_normalize_matches_whole_text_decomposition_on_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from index.text.terms import normalize

    @settings(max_examples=300, deadline=None)
    @given(st.text())
    def check(text):
        assert normalize(text) == _reference_fold(text)

    check()
