"""Incremental reindexing on a real embedded Chroma with the hashing embedding: add, unchanged, change,
prune, remove, recovery from a write cut short, and the BM25 index agreeing with Chroma (also after
another instance or process wrote)."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.factory import build_chroma_client, build_store
from index.indexer import Indexer
from index.intake.articles import Article, LoadFailure
from index.models.embedding import HashingEmbedding
from index.storage.store import Corpus
from tests.chroma_seam import ChromaSeam
from tests.conftest import run_cli

LONG = " ".join(f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(120))


class CountingEmbedding(HashingEmbedding):
    """The hashing embedding that counts the texts it embeds."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._counter = {"texts": 0, "calls": 0}

    @property
    def embedded(self) -> int:
        return self._counter["texts"]

    def _get_text_embeddings(self, texts):
        self._counter["texts"] += len(texts)
        self._counter["calls"] += 1
        return super()._get_text_embeddings(texts)


class CrashingEmbedding(CountingEmbedding):
    """Dies (like a killed process) after embedding `budget` texts."""

    def __init__(self, budget: int, **kwargs):
        super().__init__(**kwargs)
        self._counter["budget"] = budget

    def _get_text_embeddings(self, texts):
        if self._counter["texts"] + len(texts) > self._counter["budget"]:
            raise KeyboardInterrupt("simulated crash")
        return super()._get_text_embeddings(texts)


class StoreFailingDeletes(Corpus):
    """A store whose deletes fail: new chunks get written, stale ones stay (a crash between the two)."""

    def delete(self, chunk_ids):
        raise KeyboardInterrupt("simulated crash before deleting stale chunks")


def art(article_id: str, text: str = "", **kw) -> Article:
    return Article(id=article_id, text=text or f"Headline of {article_id} here\n{LONG}", **kw)


@pytest.fixture
def store(settings):
    return build_store(settings)


def make_indexer(store, embed=None, **kw) -> Indexer:
    kw.setdefault("chunk_size", 64)
    kw.setdefault("chunk_overlap", 8)
    kw.setdefault("batch_size", 16)
    return Indexer(store, embed or CountingEmbedding(), **kw)


def ids_by_article(store: Corpus) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for aid, state in store.all_article_states().items():
        out[aid] = set(state.ids_except(None))
    return out


def assert_consistent(store: Corpus) -> None:
    """Every article has exactly one complete version; BM25 holds exactly Chroma's chunk ids."""
    chroma_ids = set(store.all_chunk_ids())
    for aid, state in store.all_article_states().items():
        assert len(state.chunks) == 1, f"{aid} has {len(state.chunks)} versions"
        [fp] = state.chunks
        assert state.complete(fp), f"{aid} is incomplete"
    assert set(store.lexical().chunk_ids()) == chroma_ids
    assert len(store.lexical()) == len(chroma_ids) == store.count()


def test_add_then_unchanged_changes_nothing(store):
    embed = CountingEmbedding()
    indexer = make_indexer(store, embed)
    articles = [art("a"), art("b"), art("c", "Short article headline for c\nOnly one sentence here.")]
    summary = indexer.index_items(articles)
    assert (summary.added, summary.updated, summary.unchanged, summary.removed, summary.failed) == (3, 0, 0, 0, 0)
    assert summary.chunks_embedded == embed.embedded == store.count() > 10
    assert sorted(summary.added_ids) == ["a", "b", "c"]
    assert_consistent(store)
    before_ids, before_gen = set(store.all_chunk_ids()), store.generation()

    again = indexer.index_items(articles)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert again.chunks_embedded == 0 and embed.embedded == summary.chunks_embedded, "nothing re-embedded"
    assert set(store.all_chunk_ids()) == before_ids
    assert store.generation() == before_gen, "an idle run does not even bump the generation"


def test_chunks_carry_article_metadata_and_offsets(store):
    article = art("meta", source="Wire", url="https://e.org/m", published_at="2024-05-06", title="Meta title")
    make_indexer(store).index_items([article])
    chunks = store.get(store.all_chunk_ids())
    assert len(chunks) > 3
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert (chunk.article_id, chunk.title, chunk.source, chunk.url, chunk.published_at) == (
            "meta", "Meta title", "Wire", "https://e.org/m", "2024-05-06")
    assert sorted(c.chunk_index for c in chunks) == list(range(len(chunks)))


def test_changed_article_replaces_its_chunks(store):
    embed = CountingEmbedding()
    indexer = make_indexer(store, embed)
    indexer.index_items([art("a"), art("b")])
    old = ids_by_article(store)
    changed = art("a", "A changed headline for a\n" + LONG.replace("detail", "depth"))
    embedded_before = embed.embedded
    summary = indexer.index_items([changed, art("b")])
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    assert summary.updated_ids == ["a"]
    new = ids_by_article(store)
    assert new["a"].isdisjoint(old["a"]), "old chunks of the changed article are gone"
    assert new["b"] == old["b"]
    assert embed.embedded - embedded_before == len(new["a"]), "only the changed article was embedded"
    assert all("depth" in c.text or "Sentence" not in c.text for c in store.get(sorted(new["a"])))
    assert_consistent(store)


def test_metadata_only_change_is_an_update(store):
    indexer = make_indexer(store)
    indexer.index_items([art("a", source="Old outlet")])
    summary = indexer.index_items([art("a", source="New outlet")])
    assert summary.updated == 1
    assert {c.source for c in store.get(store.all_chunk_ids())} == {"New outlet"}


def test_new_chunk_settings_reindex(store):
    make_indexer(store).index_items([art("a")])
    summary = make_indexer(store, chunk_size=128).index_items([art("a")])
    assert summary.updated == 1
    assert_consistent(store)


def test_prune_removes_articles_not_in_the_input(store):
    indexer = make_indexer(store)
    indexer.index_items([art("a"), art("b"), art("c")])
    kept = indexer.index_items([art("a"), art("b")])
    assert kept.removed == 0 and set(ids_by_article(store)) == {"a", "b", "c"}, "no --prune, nothing removed"
    pruned = indexer.index_items([art("a"), art("b")], prune=True)
    assert (pruned.removed, pruned.removed_ids, pruned.unchanged) == (1, ["c"], 2)
    assert set(ids_by_article(store)) == {"a", "b"}
    assert_consistent(store)


def test_prune_is_refused_when_an_input_failed(store):
    indexer = make_indexer(store)
    indexer.index_items([art("a"), art("b")])
    summary = indexer.index_items([art("a"), LoadFailure("broken.jsonl:3", "invalid JSON")], prune=True)
    assert summary.failed == 1 and summary.removed == 0
    assert "not pruning" in summary.notes[0]
    assert set(ids_by_article(store)) == {"a", "b"}


def test_remove(store):
    indexer = make_indexer(store)
    indexer.index_items([art("a"), art("b")])
    assert indexer.remove(["a", "missing"]) == ["a"]
    assert set(ids_by_article(store)) == {"b"}
    assert indexer.remove(["a"]) == []
    assert_consistent(store)
    assert set(store.lexical().article_chunk_counts()) == {"b"}


def test_recovery_from_a_crash_in_the_middle_of_a_new_article(settings, store):
    with pytest.raises(KeyboardInterrupt):
        make_indexer(store, CrashingEmbedding(budget=20)).index_items([art("a"), art("b")])
    partial = store.all_article_states()
    assert partial, "something was written before the crash"
    assert not all(s.complete(next(iter(s.chunks))) for s in partial.values()), "a write was cut short"

    # The next run (a fresh process: new store object on the same data) repairs it.
    fresh = build_store(settings)
    embed = CountingEmbedding()
    summary = make_indexer(fresh, embed).index_items([art("a"), art("b")])
    assert summary.added + summary.updated == 2 and summary.failed == 0
    assert_consistent(fresh)
    assert make_indexer(fresh).index_items([art("a"), art("b")]).unchanged == 2


def test_recovery_when_a_change_is_cut_short_keeps_the_old_version_meanwhile(settings, store):
    make_indexer(store).index_items([art("a")])
    old_ids = ids_by_article(store)["a"]
    changed = art("a", "Changed headline of a here\n" + LONG.replace("topic", "subject"))
    with pytest.raises(KeyboardInterrupt):
        make_indexer(store, CrashingEmbedding(budget=16)).index_items([changed])
    state = store.all_article_states()["a"]
    assert len(state.chunks) == 2, "both versions present: old complete, new partial"
    assert set(state.ids_except(None)) > old_ids, "the old version is still fully there"

    fresh = build_store(settings)
    summary = make_indexer(fresh).index_items([changed])
    assert summary.updated == 1
    assert ids_by_article(fresh)["a"].isdisjoint(old_ids)
    assert_consistent(fresh)


def test_recovery_when_stale_chunks_were_not_deleted(settings):
    client = build_chroma_client(settings)
    failing = StoreFailingDeletes(client, settings.collection_name, embedding_model="hashing-256",
                                  lexical_path=settings.lexical_path)
    make_indexer(failing).index_items([art("a")])
    changed = art("a", "Changed headline of a here\n" + LONG.replace("topic", "theme"))
    with pytest.raises(KeyboardInterrupt):
        make_indexer(failing).index_items([changed])
    state = failing.all_article_states()["a"]
    assert len(state.chunks) == 2 and all(
        len(ids) == state.expected[fp] for fp, ids in state.chunks.items()), "both versions complete"

    fresh = build_store(settings)
    summary = make_indexer(fresh).index_items([changed])
    assert summary.updated == 1
    assert_consistent(fresh)
    assert all("theme" in c.text or "Sentence" not in c.text for c in fresh.get(fresh.all_chunk_ids()))


def test_batches_respect_chromas_max_batch_size(settings):
    calls: list[int] = []

    def spy(original, **kw):
        calls.append(len(kw["ids"]))
        return original(**kw)

    # as if Chroma allowed only 7 records per call
    store = build_store(settings, client=ChromaSeam(build_chroma_client(settings), max_batch=7,
                                                    overrides={"upsert": spy}))
    make_indexer(store, batch_size=50).index_items([art("a"), art("b")])
    assert calls and max(calls) <= 7
    assert_consistent(store)


def test_lexical_index_follows_another_instance(settings):
    reader = build_store(settings)
    writer = build_store(settings)
    make_indexer(writer).index_items([art("a")])
    assert set(reader.lexical().chunk_ids()) == set(reader.all_chunk_ids())
    make_indexer(writer).index_items([art("b"), art("a")])
    writer_gen = writer.generation()
    assert reader.lexical().generation == writer_gen
    assert set(reader.lexical().article_chunk_counts()) == {"a", "b"}
    make_indexer(writer).remove(["a"])
    assert set(reader.lexical().article_chunk_counts()) == {"b"}
    assert set(reader.lexical().chunk_ids()) == set(writer.all_chunk_ids())
    hits = reader.lexical().search("headline of b", 5)
    assert hits and all(h in reader.lexical().chunk_ids() for h, _ in hits)


def test_lexical_index_follows_another_process(settings, tmp_path):
    reader = build_store(settings)
    make_indexer(reader).index_items([art("a")])
    assert set(reader.lexical().article_chunk_counts()) == {"a"}
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "from-cli", "text": "Headline from another process\n" + LONG}) + "\n")
    proc = run_cli("index", str(feed), "--embedding", "hashing", "--data-dir", str(settings.data_dir))
    assert proc.returncode == 0, proc.stderr
    assert set(reader.lexical().article_chunk_counts()) == {"a", "from-cli"}
    assert set(reader.lexical().chunk_ids()) == set(reader.all_chunk_ids())
    proc = run_cli("remove", "a", "--embedding", "hashing", "--data-dir", str(settings.data_dir))
    assert proc.returncode == 0, proc.stderr
    assert set(reader.lexical().article_chunk_counts()) == {"from-cli"}


def test_lexical_index_survives_a_restart_and_is_rebuilt_when_lost(settings):
    store = build_store(settings)
    make_indexer(store).index_items([art("a"), art("b")])
    store.lexical()
    assert (settings.lexical_path / "meta.json").exists()
    listed = []  # every read of Chroma's records: a re-sync lists the chunk ids Chroma holds

    def listing(get, *args, **kwargs):
        listed.append(1)
        return get(*args, **kwargs)

    seam = ChromaSeam(build_chroma_client(settings), overrides={"get": listing})
    again = build_store(settings, client=seam)
    assert again.lexical().chunk_ids() == set(store.all_chunk_ids())
    assert not listed, "a restart re-synced an index that was current on disk"
    (settings.lexical_path / "meta.json").write_bytes(b"garbage")
    rebuilt = build_store(settings)
    assert rebuilt.lexical().chunk_ids() == set(store.all_chunk_ids())
    shutil.rmtree(settings.lexical_path)
    old_pickle = settings.lexical_path.with_suffix(".pkl")  # what the hand-written index left
    old_pickle.write_bytes(b"old index")
    rebuilt = build_store(settings)
    assert rebuilt.lexical().chunk_ids() == set(store.all_chunk_ids())
    assert rebuilt.lexical().search("headline of b", 3)
    assert not old_pickle.exists()


def test_write_lock_is_taken(settings, store):
    from index.errors import IndexLockedError
    from index.storage.lock import write_lock

    indexer = make_indexer(store, lock_path=settings.lock_path, lock_wait=0.3)
    with write_lock(settings.lock_path), pytest.raises(IndexLockedError, match="another reindex is running"):
        indexer.index_items([art("a")])
    assert indexer.index_items([art("a")]).added == 1


def test_each_chunk_is_stored_with_its_own_vector(settings):
    """The indexer embeds a batch in order of length; every vector must still land on its own chunk."""
    import numpy as np

    client = build_chroma_client(settings)
    store = build_store(settings, client=client)
    embed = CountingEmbedding()
    articles = [art(f"v{i}", f"Title {i} with words\n" + " ".join(LONG.split(". ")[: 3 + 7 * i]) + ".")
                for i in range(6)]
    make_indexer(store, embed, batch_size=40).index_items(articles)
    chroma = client.get_collection(settings.collection_name)
    got = chroma.get(include=["embeddings", "documents", "metadatas"])
    assert len(got["ids"]) > 20
    for doc, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"]):
        expected = embed._vector(f"{meta['title']}\n{doc}" if meta["title"] else doc)
        assert np.allclose(vec, expected, atol=1e-6)


def test_summary_line_counts_chunks_in_words():
    from index.indexer import IndexSummary

    assert "(1 chunk embedded in" in IndexSummary(added=1, chunks_embedded=1).line()
    assert "(3 chunks embedded in" in IndexSummary(added=1, chunks_embedded=3).line()
    assert "(0 chunks embedded in" in IndexSummary().line()
