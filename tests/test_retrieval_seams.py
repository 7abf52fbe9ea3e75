"""The llama-index seams of retrieval and the corpus's write protocol: the retrievers are `BaseRetriever`s
usable by llama-index code, the steps after fusion are node postprocessors, a postprocessor named in the
settings runs on every question, and writes happen only inside `corpus.writing()`."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import types
from dataclasses import FrozenInstanceError

import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.errors import ConfigError
from assistant.factory import build_assistant, build_chroma_client, build_postprocessors, build_store
from assistant.retrieval import hybrid
from assistant.retrieval.hybrid import STAGES, DenseRetriever, HybridRetriever, LexicalRetriever, NewsQuery
from assistant.retrieval.postprocessors import DateWindow, PerArticleCap, RecencyPrior
from assistant.settings import Settings
from index.indexer import Indexer
from index.intake.articles import Article
from index.models.embedding import HashingEmbedding
from index.storage.store import SearchFilters

ARTICLES = [
    Article(id="harbour", title="Harbour dredging", source="Coast Daily", published_at="2025-03-02",
            text="The harbour authority began dredging the northern channel on Monday. Ferries will use the "
                 "southern berth until the work ends in May."),
    Article(id="orchard", title="Orchard frost", source="Valley Post", published_at="2025-03-20",
            text="A late frost damaged apple blossom across the valley orchards. Growers lit burners overnight "
                 "to keep the buds above freezing."),
    Article(id="library", title="Library reopens", source="Coast Daily", published_at="2025-02-10",
            text="The town library reopened after a roof repair. The reading room now has forty new seats and "
                 "a children's corner."),
]


def node(node_id: str, article: str, score: float, day: int = 0) -> NodeWithScore:
    return NodeWithScore(node=TextNode(id_=node_id, text=node_id,
                                       metadata={"article_id": article, "published_day": day}), score=score)


@pytest.fixture
def indexed(settings):
    store = build_store(settings)
    embed = HashingEmbedding()
    Indexer(store, embed, chunk_size=128, chunk_overlap=0).index_items(ARTICLES)
    return store, embed


# ----------------------------------------------------------------------------------- retrievers


def test_dense_and_lexical_retrievers_are_llama_index_retrievers(indexed):
    store, embed = indexed
    dense, lexical = DenseRetriever(store, embed, candidates=3), LexicalRetriever(store, candidates=3)
    assert isinstance(dense, BaseRetriever) and isinstance(lexical, BaseRetriever)
    store.catch_up()
    by_dense = dense.retrieve("dredging the harbour channel")
    by_lexical = lexical.retrieve(QueryBundle("apple blossom frost"))
    assert by_dense and by_dense[0].node.metadata["article_id"] == "harbour"
    assert by_lexical and by_lexical[0].node.metadata["article_id"] == "orchard"
    assert all(isinstance(n, NodeWithScore) and n.node.get_content() for n in by_dense + by_lexical)


def test_the_news_query_carries_filters_to_both_retrievers(indexed):
    store, embed = indexed
    store.catch_up()
    query = NewsQuery(query_str="harbour library orchard", filters=SearchFilters(sources=("Valley Post",)),
                      candidates=10)
    for retriever in (DenseRetriever(store, embed), LexicalRetriever(store)):
        got = {n.node.metadata["article_id"] for n in retriever.retrieve(query)}
        assert got == {"orchard"}, (type(retriever).__name__, got)


def test_the_assistant_retriever_answers_llama_index_calls_like_search(settings):
    assistant = build_assistant(settings, embed_model=HashingEmbedding())
    assistant.indexer.index_items(ARTICLES)
    retriever = assistant.retriever
    assert isinstance(retriever, BaseRetriever)
    question = "When does the harbour dredging end?"
    nodes = retriever.retrieve(question)
    passages = retriever.search(question, top_k=settings.top_k).passages
    assert [n.node.node_id for n in nodes] == [p.chunk.chunk_id for p in passages]
    assert [round(n.score, 9) for n in nodes] == [round(p.score, 9) for p in passages]


# ----------------------------------------------------------------------------------- one call, its own state


def _record_reads(store, monkeypatch) -> list[str]:
    """The chunk ids every later `store.get` asks for, in order."""
    asked: list[str] = []
    real_get = store.get

    def get(chunk_ids):
        asked.extend(chunk_ids)
        return real_get(chunk_ids)

    monkeypatch.setattr(store, "get", get)
    return asked


def test_a_news_query_cannot_be_changed_and_a_search_leaves_it_as_given(indexed):
    store, embed = indexed
    # Both bounds exclude nothing here (every article is between them): the retriever drops them for its
    # searches, in a query of its own.
    given = SearchFilters(since="1990-01-01", as_of="2099-12-31")
    query = NewsQuery("harbour dredging", filters=given, candidates=3)
    with pytest.raises(FrozenInstanceError):
        query.filters = SearchFilters()
    retriever = HybridRetriever(store, embed, candidates=3)
    first = [n.node.node_id for n in retriever.retrieve(query)]
    assert query.filters == given and query.embedding is None
    assert first and [n.node.node_id for n in retriever.retrieve(query)] == first


def test_what_a_retriever_reads_does_not_depend_on_what_ran_before(indexed, monkeypatch):
    store, embed = indexed
    store.catch_up()
    asked = _record_reads(store, monkeypatch)
    query = NewsQuery("apple blossom frost on the valley orchards", candidates=3)
    lexical = LexicalRetriever(store)
    alone = [n.node.node_id for n in lexical.retrieve(query)]
    read_alone = sorted(asked)
    assert alone and read_alone == sorted(alone)
    asked.clear()
    DenseRetriever(store, embed).retrieve(query)  # reads nothing through `get`, shares nothing
    assert [n.node.node_id for n in lexical.retrieve(query)] == alone
    assert sorted(asked) == read_alone


def test_a_hybrid_search_reads_each_lexical_only_hit_once_whatever_ran_before(indexed, monkeypatch):
    store, embed = indexed
    store.catch_up()
    query = NewsQuery("ferries use the southern berth while the library reading room reopens",
                      embedding=embed.get_query_embedding("ferries"), candidates=1)
    dense = {n.node.node_id for n in DenseRetriever(store, embed).retrieve(query)}
    lexical = [cid for cid, _ in LexicalRetriever(store).hits(query)]
    only_lexical = sorted(set(lexical) - dense)
    assert only_lexical, "the two rankings must disagree for this test to say anything"
    asked = _record_reads(store, monkeypatch)
    retriever = HybridRetriever(store, embed, candidates=1)
    for _ in range(2):
        asked.clear()
        retriever.retrieve(query)
        assert sorted(asked) == only_lexical


class _FakeClock:
    """A `time.perf_counter` that moves only when a patched step runs, by that step's own amount, so that
    a timing equals the sum of the steps it covered (no real time is measured)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.steps: list[str] = []

    def __call__(self) -> float:
        return self.now

    def tick(self, step: str, seconds: float) -> None:
        self.now += seconds
        self.steps.append(step)


def test_each_timing_covers_exactly_the_stage_it_names(indexed, monkeypatch):
    store, _ = indexed
    clock = _FakeClock()
    # Powers of two: a stage's total names the steps it covered.
    cost = {"catch_up": 1, "day_range": 2, "search_dense": 4, "search_lexical": 8, "get": 16,
            "embeddings_of": 32, "score_lexical": 64, "embed": 128, "postprocess": 256}
    for name in ("catch_up", "day_range", "search_dense", "search_lexical", "get", "embeddings_of",
                 "score_lexical"):
        real = getattr(store, name)

        def step(*args, _real=real, _name=name, **kwargs):
            clock.tick(_name, cost[_name])
            return _real(*args, **kwargs)

        monkeypatch.setattr(store, name, step)

    class TimedEmbedding(HashingEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            clock.tick("embed", cost["embed"])
            return super()._get_query_embedding(query)

    class TimedStep(BaseNodePostprocessor):
        def _postprocess_nodes(self, nodes, query_bundle=None):
            clock.tick("postprocess", cost["postprocess"])
            return nodes

    retriever = HybridRetriever(store, TimedEmbedding(), candidates=1, postprocessors=[TimedStep()])
    monkeypatch.setattr(hybrid.time, "perf_counter", clock)
    timings = retriever.search("ferries use the southern berth while the library reading room reopens",
                               top_k=3).timings_ms
    fusion_steps = [s for s in clock.steps if s in ("get", "embeddings_of", "score_lexical")]
    assert "get" in fusion_steps, "a lexical-only hit is read during fusion"
    assert set(timings) == set(STAGES)
    assert timings == {"embed_query": 128_000, "catch_up": 3_000, "dense": 4_000, "lexical": 8_000,
                       "fuse": 1000 * sum(cost[s] for s in fusion_steps), "postprocess": 256_000}


# ----------------------------------------------------------------------------------- postprocessors


def test_per_article_cap_keeps_top_k_with_at_most_n_per_article():
    nodes = [node("a1", "a", 0.9), node("a2", "a", 0.8), node("a3", "a", 0.7), node("b1", "b", 0.6),
             node("c1", "c", 0.5)]
    kept = PerArticleCap(max_per_article=2).postprocess_nodes(nodes, query_bundle=NewsQuery("q", top_k=3))
    assert [n.node.node_id for n in kept] == ["a1", "a2", "b1"]
    kept = PerArticleCap(max_per_article=1, top_k=10).postprocess_nodes(nodes, query_bundle=QueryBundle("q"))
    assert [n.node.node_id for n in kept] == ["a1", "b1", "c1"]


def test_date_window_drops_nodes_outside_the_query_window_and_keeps_undated_ones():
    nodes = [node("old", "a", 0.9, 20250101), node("in", "b", 0.8, 20250310), node("undated", "c", 0.7),
             node("late", "d", 0.6, 20250401)]
    query = NewsQuery("q", filters=SearchFilters(since="2025-03-01", as_of="2025-03-31"))
    kept = DateWindow().postprocess_nodes(nodes, query_bundle=query)
    assert [n.node.node_id for n in kept] == ["in", "undated"]
    assert DateWindow().postprocess_nodes(nodes, query_bundle=QueryBundle("q")) == nodes


def test_recency_prior_reorders_comparable_matches_only_when_asked():
    nodes = [node("older", "a", 1.0, 20250301), node("newer", "b", 0.95, 20250320)]
    prior = RecencyPrior(weight=0.3, scale_days=7.0)
    asked = NewsQuery("q", recency_as_of=dt.date(2025, 3, 21))
    assert [n.node.node_id for n in prior.postprocess_nodes(nodes, query_bundle=asked)] == ["newer", "older"]
    assert [(n.node.node_id, n.score) for n in nodes] == [("older", 1.0), ("newer", 0.95)], "rescored, not changed"
    assert [n.node.node_id for n in prior.postprocess_nodes(nodes, query_bundle=NewsQuery("q"))] == [
        "older", "newer"]


class DropOutlet(BaseNodePostprocessor):
    """A user's postprocessor: drops every passage of one outlet."""

    outlet: str = "Coast Daily"

    def _postprocess_nodes(self, nodes, query_bundle=None):
        return [n for n in nodes if n.node.metadata.get("source") != self.outlet]


@pytest.fixture
def user_module(monkeypatch):
    module = types.ModuleType("user_postprocessors")
    module.drop_coast = DropOutlet
    module.not_one = lambda: "a string"
    monkeypatch.setitem(sys.modules, "user_postprocessors", module)
    return module


def test_a_postprocessor_named_in_the_settings_runs_on_every_question(settings, user_module, monkeypatch):
    monkeypatch.setenv("ASSISTANT_POSTPROCESSORS", "user_postprocessors:drop_coast")
    configured = Settings(data_dir=settings.data_dir, embedding="hashing")
    assert configured.postprocessors == ["user_postprocessors:drop_coast"]
    plain = build_assistant(settings, embed_model=HashingEmbedding())
    plain.indexer.index_items(ARTICLES)
    question = "harbour dredging ferries berth library"
    before = {p.chunk.source for p in plain.retriever.search(question, top_k=3).passages}
    assert "Coast Daily" in before
    assistant = build_assistant(configured, embed_model=HashingEmbedding())
    after = {p.chunk.source for p in assistant.retriever.search(question, top_k=3).passages}
    assert after == {"Valley Post"}


def test_a_broken_postprocessor_setting_is_a_one_line_config_error(user_module):
    with pytest.raises(ConfigError, match="no_such_module"):
        build_postprocessors(["no_such_module:thing"])
    with pytest.raises(ConfigError, match="not a llama-index BaseNodePostprocessor"):
        build_postprocessors(["user_postprocessors:not_one"])
    assert Settings(postprocessors='["a:b", "c:d"]').postprocessors == ["a:b", "c:d"]


# ----------------------------------------------------------------------------------- corpus writes


def test_writes_happen_only_inside_writing(indexed):
    store, _ = indexed
    ids = store.all_chunk_ids()
    with pytest.raises(RuntimeError, match="writing"):
        store.delete(ids[:1])
    assert store.all_chunk_ids() == ids
    generation = store.generation()
    with store.writing():
        assert store.state() == (generation + 1, True)
        store.delete(ids[:1])
    assert store.state() == (generation + 2, False)
    assert set(store.lexical().chunk_ids()) == set(ids[1:])


def test_a_write_that_raises_stays_marked_and_readers_resync(indexed, settings):
    store, _ = indexed
    before = set(store.lexical().chunk_ids())
    victim = min(before)
    chroma = build_chroma_client(settings).get_collection(settings.collection_name)
    with contextlib.suppress(KeyboardInterrupt), store.writing():
        chroma.delete(ids=[victim])  # reached Chroma, but the write died before it could say so
        raise KeyboardInterrupt
    assert store.state()[1], "a write that did not finish must stay visible"
    assert set(store.lexical().chunk_ids()) == before - {victim}, "the BM25 side re-synced with Chroma"
    with pytest.raises(RuntimeError, match="already open"), store.writing(), store.writing():
        pass


def test_the_retriever_built_directly_runs_what_ships():
    """One source for each retrieval default (`assistant/retrieval/defaults.py`): the settings' defaults and
    the constructors' defaults are the same values, so a test building a retriever directly tests the
    configuration users run."""
    import inspect

    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.settings import Settings

    shipped = Settings()
    params = inspect.signature(HybridRetriever.__init__).parameters
    for name in ("candidates", "max_per_article", "fusion", "dense_weight", "recency_weight", "recency_days",
                 "top_k"):
        assert params[name].default == getattr(shipped, name), name
    assert RecencyPrior().weight == shipped.recency_weight and RecencyPrior().scale_days == shipped.recency_days
    cap = PerArticleCap()
    assert (cap.max_per_article, cap.top_k) == (shipped.max_per_article, shipped.top_k)
