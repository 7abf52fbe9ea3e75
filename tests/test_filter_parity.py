"""One filter, three places: Chroma's `where` (dense search), tantivy's query (lexical search) and the Python
check (`records.passes`) keep exactly the same chunks, for every kind of bound, undated articles included."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from index.storage.filters import SearchFilters, day_number, passes

ARTICLES = [  # every one mentions the harbour, so an unfiltered search finds them all
    ("jan-a", "2024-01-10", "Port Weekly"),
    ("feb-a", "2024-02-15", "Port Weekly"),
    ("feb-b", "2024-02-16", "Coast Radio"),
    ("mar-b", "2024-03-20", "Coast Radio"),
    ("apr-c", "2024-04-02", "Ferry Notes"),
    ("undated-a", "", "Port Weekly"),
    ("undated-c", "", "Ferry Notes"),
]

FILTERS = [
    SearchFilters(),
    SearchFilters(sources=("Coast Radio",)),
    SearchFilters(sources=("Port Weekly", "Ferry Notes")),
    SearchFilters(date_from="2024-02-15"),
    SearchFilters(date_to="2024-02-15"),  # undated articles fail a user's date bound
    SearchFilters(date_from="2024-02-01", date_to="2024-03-31"),
    SearchFilters(since="2024-02-16"),  # the question's window and day keep undated articles
    SearchFilters(as_of="2024-02-15"),
    SearchFilters(since="2024-02-01", as_of="2024-03-01"),
    SearchFilters(sources=("Port Weekly",), as_of="2024-01-31"),
    SearchFilters(sources=("Ferry Notes",), date_from="2024-01-01", since="2024-03-01", as_of="2024-04-30"),
    SearchFilters(as_of="2023-12-31"),  # before everything dated: only the undated remain
]


@dataclass
class Parity:
    """The indexed store and its embedding, and the vector side of the same collection on the test's own
    Chroma client (`ChromaVectors`: each of its ways of searching, Chroma's own filtered search included)."""

    store: Any
    embed_model: Any
    vectors: Any


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from assistant.factory import build_assistant, build_chroma_client, build_store
    from assistant.settings import Settings
    from index.storage.vectors import ChromaVectors

    root = tmp_path_factory.mktemp("parity")
    lines = [json.dumps({"id": aid, "title": f"Harbour note {aid}", "source": source, "published_at": day,
                         "text": f"The harbour master of {aid} reported {n + 3} ferries leaving the harbour. "
                                 "Fishing boats stayed in port while the harbour wall was repaired. "
                                 + "Gulls circled the quay. " * n})  # no two equally near a question
             for n, (aid, day, source) in enumerate(ARTICLES)]
    (root / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(data_dir=root / "data", embedding="hashing", index_samples_on_start=False)
    client = build_chroma_client(settings)
    assistant = build_assistant(settings, store=build_store(settings, client=client))
    assistant.index([root / "articles.jsonl"])
    vectors = ChromaVectors(client, settings.collection_name, embedding_model=settings.embedding_model_name)
    return Parity(assistant.store, assistant.embed_model, vectors)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f).replace("SearchFilters", ""))
def test_dense_lexical_and_python_keep_the_same_articles(corpus, filters):
    store = corpus.store
    query = "harbour ferries"
    dense = {chunk.article_id for chunk, _ in
             store.search_dense(corpus.embed_model.get_query_embedding(query), 50, filters)}
    lexical = {chunk.article_id for chunk in store.get([cid for cid, _ in store.search_lexical(query, 50, filters)])}
    every = store.get([cid for cid, _ in store.search_lexical(query, 50)])
    assert {c.article_id for c in every} == {aid for aid, _, _ in ARTICLES}
    python = {c.article_id for c in every
              if passes({"published_day": day_number(c.published_at), "source": c.source}, filters)}
    expected = {aid for aid, day, source in ARTICLES if _keeps(filters, day, source)}
    assert dense == lexical == python == expected


def _keeps(f: SearchFilters, day: str, source: str) -> bool:
    """The filter's meaning, written out once more from its docstring."""
    if f.sources and source not in f.sources:
        return False
    if (f.date_from or f.date_to) and not day:
        return False  # a user's date bound drops undated articles
    if f.date_from and day < f.date_from or f.date_to and day > f.date_to:
        return False
    return not day or not (f.since and day < f.since or f.as_of and day > f.as_of)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f).replace("SearchFilters", ""))
@pytest.mark.parametrize("top_k", [1, 2, 5])
def test_every_way_of_searching_with_filters_finds_what_chromas_filtered_search_finds(corpus, filters, top_k):
    """Among the ids the lexical side lists, deeper unfiltered then kept, and Chroma's own `where`: the same
    chunks in the same order (`ChromaVectors.search`; Chroma's own is `ChromaVectors.search_where`)."""
    store, vectors = corpus.store, corpus.vectors
    embedding = corpus.embed_model.get_query_embedding("harbour wall repaired ferries")
    chroma = [c.chunk_id for c, _ in vectors.search_where(embedding, top_k, filters)]
    deep = [c.chunk_id for c, _ in vectors.search(embedding, top_k, filters)]
    among_ids = store.lexical().chunk_ids_passing(filters, 100)
    among = [c.chunk_id for c, _ in vectors.search(embedding, top_k, filters, among_ids)]
    share = store.lexical().share_passing(filters)  # a window too wide for `among`: as deep as its share needs
    shared = [c.chunk_id for c, _ in vectors.search(embedding, top_k, filters, None, share)]
    assert deep == among == shared == chroma == [c.chunk_id for c, _ in store.search_dense(embedding, top_k, filters)]
    assert store.lexical().chunk_ids_passing(filters, 0) in ([], None)  # over the limit: None
    assert share == pytest.approx(len(among_ids) / len(store.lexical().chunk_ids()))


def test_the_dense_search_of_a_wide_window_goes_as_deep_as_its_share_needs(corpus, monkeypatch):
    """When the window holds too many chunks to list (`AMONG_MAX`), the store passes the share of the store
    it holds, and the search skips the depths that cannot find top_k."""
    import index.storage.store as store_module

    monkeypatch.setattr(store_module, "AMONG_MAX", 0)
    store = corpus.store
    embedding = corpus.embed_model.get_query_embedding("harbour wall repaired ferries")
    for filters in FILTERS:
        expected = [c.chunk_id for c, _ in corpus.vectors.search_where(embedding, 3, filters)]
        assert [c.chunk_id for c, _ in store.search_dense(embedding, 3, filters)] == expected, filters


@pytest.mark.parametrize("top_k, share, expected", [
    (40, None, [160, 640]),
    (40, 0.5, [160, 640]),  # 80 deep finds 40 on average: both depths are deep enough
    (40, 0.05, [1600]),  # 800 needed on average: 160 and 640 are too shallow, 2 x 800 instead
    (40, 0.1, [640]),  # 400 needed on average: 640 is deep enough
    (40, 0.001, [5000]),  # 40,000 needed: capped at DEEP_MAX, then Chroma's filtered search
])
def test_deep_depths(top_k, share, expected):
    from index.storage.vectors import deep_depths

    assert deep_depths(top_k, share) == expected


def test_an_id_chroma_no_longer_holds_does_not_fail_the_search(corpus):
    """The lexical side's list can name a chunk another writer has just removed from Chroma: the search then
    goes the other way, with the same result."""
    store = corpus.store
    embedding = corpus.embed_model.get_query_embedding("harbour wall repaired ferries")
    filters = SearchFilters(since="2024-02-01")
    ids = store.lexical().chunk_ids_passing(filters, 100)
    expected = [c.chunk_id for c, _ in corpus.vectors.search(embedding, 3, filters, ids)]
    got = corpus.vectors.search(embedding, 3, filters, [*ids, "no-such-chunk-00000"])
    assert [c.chunk_id for c, _ in got] == expected
