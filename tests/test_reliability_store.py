"""The store and indexer behaviours crash safety and concurrent use rest on, each shown failing before its
fix: a write cut short is completed without rewriting stored chunks, readers do not trust a generation
whose write never finished, a writer's BM25 index is not marked current over another process's changes,
and a long-running reader (the web app) sees another process's writes in dense search, without ghosts."""

from __future__ import annotations

import contextlib

import pytest

from assistant.factory import build_assistant, build_chroma_client, build_store
from index.indexer import Indexer
from index.intake.articles import Article
from index.models.embedding import HashingEmbedding
from index.storage.store import Corpus as StoreCorpus
from tests.chroma_seam import ChromaSeam
from tests.conftest import SAMPLES
from tests.reliability_support import Corpus, run_ok

LONG = " ".join(f"Sentence number {i} is about harbour topic {i % 9} in some detail." for i in range(90))


class CrashingEmbedding(HashingEmbedding):
    """Dies like a killed process (KeyboardInterrupt is not caught anywhere) after `budget` texts."""

    def __init__(self, budget: int, **kwargs):
        super().__init__(**kwargs)
        self._budget = [budget]

    def _get_text_embeddings(self, texts):
        if len(texts) > self._budget[0]:
            raise KeyboardInterrupt("simulated crash")
        self._budget[0] -= len(texts)
        return super()._get_text_embeddings(texts)


class InterleavingEmbedding(HashingEmbedding):
    """Runs `events[n]` before its n-th embedding call: a callable, or an exception class to raise."""

    def __init__(self, events: dict, **kwargs):
        super().__init__(**kwargs)
        self._events = events
        self._calls = [0]

    def _get_text_embeddings(self, texts):
        self._calls[0] += 1
        event = self._events.get(self._calls[0])
        if isinstance(event, type) and issubclass(event, BaseException):
            raise event("simulated crash")
        if event is not None:
            event()
        return super()._get_text_embeddings(texts)


class RecordingStore(StoreCorpus):
    """A real store that records every chunk id written."""

    written: list[str]

    def upsert(self, nodes):
        self.__dict__.setdefault("written", []).extend(n.node_id for n in nodes)
        return super().upsert(nodes)


def art(article_id: str, text: str = "") -> Article:
    return Article(id=article_id, text=text or f"Headline of {article_id}\n{LONG}", title=f"Story {article_id}")


def indexer(store, embed=None) -> Indexer:
    return Indexer(store, embed or HashingEmbedding(), chunk_size=64, chunk_overlap=8, batch_size=8)


def ids(store: StoreCorpus) -> set[str]:
    return set(store.all_chunk_ids())


def test_a_write_cut_short_is_completed_without_rewriting_stored_chunks(settings):
    """Chroma 1.5 can make a record unreachable by vector search when its id is upserted again
    (chroma-core/chroma#7758), so the rerun adds only the missing chunks."""
    client = build_chroma_client(settings)
    store = build_store(settings, client=client)
    with pytest.raises(KeyboardInterrupt):
        indexer(store, CrashingEmbedding(budget=12)).index_items([art("a"), art("b")])
    before = ids(store)
    assert 0 < len(before) < 30
    recorder = RecordingStore(client, store.collection_name, embedding_model=store.embedding_model,
                              lexical_path=None)
    summary = indexer(recorder).index_items([art("a"), art("b")])
    assert summary.added + summary.updated == 2
    assert not before & set(recorder.written), "chunks already stored were written again"
    state = recorder.all_article_states()
    assert all(s.complete(next(iter(s.chunks))) for s in state.values()) and set(state) == {"a", "b"}
    assert set(recorder.lexical().chunk_ids()) == ids(recorder)


def test_a_stored_chunk_that_differs_is_replaced(settings):
    """Same id, other text (e.g. the chunker changed between the crash and the rerun): written afresh."""
    client = build_chroma_client(settings)
    store = build_store(settings, client=client)
    with pytest.raises(KeyboardInterrupt):
        indexer(store, CrashingEmbedding(budget=8)).index_items([art("a")])
    [victim] = store.get(sorted(ids(store))[:1])
    chroma = client.get_collection(settings.collection_name)
    got = chroma.get(ids=[victim.chunk_id], include=["embeddings", "metadatas"])
    chroma.delete(ids=[victim.chunk_id])
    chroma.add(ids=[victim.chunk_id], embeddings=[list(got["embeddings"][0])],
               metadatas=got["metadatas"], documents=["tampered text"])
    indexer(store).index_items([art("a")])
    [fixed] = store.get([victim.chunk_id])
    assert fixed.text != "tampered text" and fixed.text == art("a").text[fixed.start:fixed.end]


def test_readers_keep_syncing_while_a_write_is_unfinished(settings):
    """A reader that synced while a write was under way must not trust that generation: the writer went
    on writing after the sync and then died, so the generation never moved again."""
    reader = build_store(settings)
    writer = build_store(settings)
    indexer(writer).index_items([art("a")])
    assert set(reader.lexical().chunk_ids()) == ids(writer)
    # Embedding call 3: a question arrives (the reader syncs); call 6: the writer dies.
    embed = InterleavingEmbedding({3: lambda: reader.lexical(), 6: KeyboardInterrupt})
    with pytest.raises(KeyboardInterrupt):
        indexer(writer, embed).index_items([art("b"), art("c")])
    assert set(reader.lexical().chunk_ids()) == ids(writer), "reader trusted a generation mid-write"
    assert writer.state()[1], "an unfinished write must stay visible in the metadata"
    indexer(writer).index_items([art("b"), art("c")])  # the rerun completes and clears the mark
    assert not writer.state()[1]
    assert set(reader.lexical().chunk_ids()) == ids(writer)


def test_a_writer_does_not_mark_a_stale_bm25_index_current(settings):
    mine = build_store(settings)
    other = build_store(settings)
    indexer(mine).index_items([art("a"), art("x")])
    assert len(mine.lexical()) == len(ids(mine))  # loaded and current
    indexer(other).index_items([art("b")])  # another writer, unseen by `mine`'s BM25 index so far
    indexer(mine).remove(["x"])  # then `mine` writes
    assert set(mine.lexical().chunk_ids()) == ids(mine), "BM25 index lost another writer's chunks"
    assert mine.lexical().article_chunk_counts().keys() == {"a", "b"}


@pytest.mark.slow
def test_a_long_running_reader_sees_another_processs_writes(settings, tmp_path):
    """The web app keeps one embedded client; `assistant index`/`remove` in a terminal must show up in its
    dense search, and chunks they deleted must not come back as empty passages."""
    corpus = Corpus.generate(60, seed=11, n_markdown=0)  # 60 one-chunk articles: more than the 50 searched
    paths = corpus.write(tmp_path / "input")
    app = build_assistant(settings)
    app.index(paths)
    query = app.embed_model.get_query_embedding("council river election budget")
    before = app.store.search_dense(query, 50)
    assert len(before) == 50

    victims = sorted({c.article_id for c, _ in before})[:10]
    run_ok(["remove", *victims], settings.data_dir)
    for aid in victims:
        del corpus.articles[aid]
    changed = corpus.mutate(update=10, add=10)
    paths = corpus.write(tmp_path / "input")
    run_ok(["index", *map(str, paths)], settings.data_dir)

    stored = ids(app.store)
    after = app.store.search_dense(query, 200)
    assert after and all(c.article_id and c.text for c, _ in after), "ghost hits of deleted chunks"
    assert {c.chunk_id for c, _ in after} <= stored
    assert not {c.article_id for c, _ in after} & set(victims)
    seen_new = {c.article_id for c, _ in after} & set(changed["added"] + changed["updated"])
    assert seen_new, "dense search does not see what another process indexed"
    answer = app.ask("council river election budget")
    assert answer.passages and all(p.chunk.chunk_id in stored for p in answer.passages)


def test_an_article_repeating_itself_does_not_hide_other_articles_from_vector_search(settings):
    """Hundreds of identical chunks (one sentence repeated) cut HNSW's graph so that other articles' chunks
    were no longer reachable by any query; an article's repeated chunks are now stored once."""
    app = build_assistant(settings)
    app.index([SAMPLES])
    spam = Article(id="spam", title="Spam", text="Buy cheap watches today at the harbour market. " * 12_000)
    app.indexer.index_items([spam])
    n = app.store.count()
    everything = app.store.search_dense(app.embed_model.get_query_embedding("harbour council"), n)
    found = {c.chunk_id for c, _ in everything}
    hidden = {c.article_id for c in app.store.get(sorted(ids(app.store) - found))}
    assert not hidden - {"spam"}, f"chunks of {sorted(hidden)} are unreachable by any query"
    assert n < 40, f"{n} chunks: the repeats were stored"


def test_a_bm25_index_loaded_during_our_own_write_is_synced(settings):
    """Loaded from disk halfway through this process's write, the BM25 index missed the batches already
    written, so it must not be taken as following the write."""
    first = build_store(settings)
    indexer(first).index_items([art("a")])
    first.lexical()  # saved to disk, current
    app = build_store(settings)  # a fresh process-like store; its BM25 index is not loaded yet
    embed = InterleavingEmbedding({3: lambda: app.lexical()})
    indexer(app, embed).index_items([art("b"), art("c")])
    assert set(app.lexical().chunk_ids()) == ids(app)


def test_a_rerun_with_nothing_left_to_do_clears_the_unfinished_mark(settings):
    """Killed after its last change but before it could say so: the rerun finds nothing to write, and must
    still mark the index whole, or readers would re-sync on every question and the app never reload."""
    store = build_store(settings)
    indexer(store).index_items([art("a")])
    with contextlib.suppress(KeyboardInterrupt), store.writing():
        raise KeyboardInterrupt  # a writer that died right after it began (or after its last write)
    assert store.state()[1]
    summary = indexer(store).index_items([art("a")])
    assert summary.unchanged == 1 and not store.state()[1]


def test_a_remove_cut_short_between_deletes_is_finished_by_the_rerun(settings):
    """`assistant remove` / the Library's Delete, killed between two of Chroma's delete calls."""
    # as if Chroma took 5 ids per call: the delete takes several calls
    seam = ChromaSeam(build_chroma_client(settings), max_batch=5)
    store = build_store(settings, client=seam)
    indexer(store).index_items([art("a"), art("b"), art("c")])
    keep = set(store.article_states(["c"])["c"].ids_except(None))
    calls = [0]

    def dying_delete(real_delete, **kwargs):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt("simulated kill between deletes")
        return real_delete(**kwargs)

    seam.overrides["delete"] = dying_delete
    with pytest.raises(KeyboardInterrupt):
        indexer(store).remove(["a", "b"])
    assert store.state()[1] and 0 < len(ids(store) - keep)  # partly deleted, marked unfinished
    rerun = build_store(settings)
    left = set(rerun.article_states(["a", "b"]))
    assert left and set(indexer(rerun).remove(["a", "b"])) == left
    assert ids(rerun) == keep and not rerun.state()[1]
    assert set(rerun.lexical().chunk_ids()) == keep


def test_the_count_follows_every_writer_and_falls_back_to_chroma_mid_write(settings):
    """`count` reads the lexical side's count only when that side is in step with Chroma; another process's
    write and a write cut short both make it ask Chroma (or re-sync first), so it never lags the store."""
    asked = []
    seam = ChromaSeam(build_chroma_client(settings),
                      overrides={"count": lambda real, *a, **kw: asked.append(1) or real(*a, **kw)})
    reader = build_store(settings, client=seam)
    writer = build_store(settings)
    chroma = seam.real.get_collection(settings.collection_name)
    indexer(writer).index_items([art("a")])
    assert reader.count() == chroma.count() > 0
    indexer(writer).index_items([art("b")])  # another process wrote: the reader's side re-syncs
    assert reader.count() == chroma.count() == len(ids(writer))
    assert not asked, "in step, the count is the lexical side's"
    with pytest.raises(KeyboardInterrupt):
        indexer(writer, CrashingEmbedding(budget=12)).index_items([art("c")])
    assert writer.state()[1], "the cut-short write stays marked"
    assert reader.count() == chroma.count() == len(ids(writer))
    assert asked, "mid-write, the count comes from Chroma"
    indexer(writer).index_items([art("c")])
    asked.clear()
    assert reader.count() == chroma.count() == len(ids(writer)) and not asked


def test_adding_new_articles_reads_no_chroma_record_before_the_embedding(settings):
    """The plan of an add asks the lexical side (in step with Chroma) which articles it already holds, and
    reads only those from Chroma; Chroma's first read (seconds at a million chunks) and the wire-copy lookup
    then run while the first batch embeds, in another thread, and both finish before the write begins."""
    import threading

    writer = build_store(settings)
    indexer(writer).index_items([art("a"), art("b")])
    events: list[tuple[str, str]] = []  # (what, thread name)
    gets_before_embedding = []

    def get(real, *args, **kwargs):
        events.append(("get", threading.current_thread().name))
        return real(*args, **kwargs)

    seam = ChromaSeam(build_chroma_client(settings), overrides={"get": get})
    store = build_store(settings, client=seam)
    read = threading.Event()

    def first_embedding():
        gets_before_embedding.extend(events)
        assert read.wait(10), "Chroma was not read while the first batch was embedded"

    def reading(real, *args, **kwargs):
        got = get(real, *args, **kwargs)
        read.set()
        return got

    seam.overrides["get"] = reading
    summary = indexer(store, InterleavingEmbedding({1: first_embedding})).index_items(
        [art("c"), art("d", f"Headline of b\n{LONG}")])
    assert summary.added == 2
    assert not [e for e in gets_before_embedding if e[1] == threading.main_thread().name], \
        "the plan read Chroma for articles the lexical side does not hold"
    assert any(name.startswith("chroma-reader") for _, name in events)
    chroma = seam.real.get_collection(settings.collection_name)
    groups = {m["article_id"]: m["group"] for m in chroma.get(include=["metadatas"])["metadatas"]}
    assert groups["d"] == groups["b"] == "a", "the wire copy read in the other thread joined its story's group"
    events.clear()
    assert store.article_states(["a", "zzz"]).keys() == {"a"} and len(events) == 1, "one read, for a"
    assert not store.state()[1]


def test_a_failed_wire_copy_lookup_leaves_nothing_written_or_marked(settings):
    """The lookup runs beside the first embedding; when it fails, the add stops before its write begins."""
    writer = build_store(settings)
    indexer(writer).index_items([art("a")])
    before = writer.state()

    def broken(real, *args, **kwargs):
        raise RuntimeError("simulated Chroma failure")

    seam = ChromaSeam(build_chroma_client(settings), overrides={"get": broken})
    store = build_store(settings, client=seam)
    with pytest.raises(RuntimeError, match="simulated"):
        indexer(store).index_items([art("b", f"Headline of a\n{LONG}")])
    assert writer.state() == before, "the generation moved or the write was marked"
    assert {m["article_id"] for m in seam.real.get_collection(settings.collection_name)
            .get(include=["metadatas"])["metadatas"]} == {"a"}


def test_the_day_range_is_remembered_only_while_nobody_writes(settings, monkeypatch):
    """Every question asks the store's day range; it is worked out once a generation, but never kept while
    another process of the data dir writes (the lexical side then moves under the same recorded generation)."""
    from index.storage.lexical import LexicalIndex

    def dated(article_id: str, day: str) -> Article:
        return Article(id=article_id, text=f"Headline of {article_id}\n{LONG}", title=f"Story {article_id}",
                       published_at=day)

    writer = build_store(settings)
    indexer(writer).index_items([dated("a", "2024-01-05")])
    reader = build_store(settings)
    reader.catch_up()
    assert reader.day_range() == (20240105, 20240105)
    worked_out = []
    real = LexicalIndex.day_range
    monkeypatch.setattr(LexicalIndex, "day_range", lambda self: worked_out.append(1) or real(self))
    for _ in range(3):
        reader.catch_up()
        assert reader.day_range() == (20240105, 20240105)
    assert not worked_out, "worked out again for the same generation"
    mid_write = []

    def ask_mid_write():
        reader.catch_up()
        mid_write.append(reader.day_range())

    indexer(writer, InterleavingEmbedding({3: ask_mid_write})).index_items([dated("b", "2024-03-01")])
    assert mid_write == [(20240105, 20240301)], "mid-write, the range must follow the chunks already written"
    reader.catch_up()
    assert reader.day_range() == (20240105, 20240301)
