"""The corpus: every stored chunk behind one read API, with a vector side and a lexical side kept in step.

`Corpus` is what retrieval, the library, evaluation and the indexer use. Reads: `search_dense`,
`search_lexical`, `score_lexical`, `idf`, `day_range`, `get`, `list_articles`, `count`, `article_ids`,
`article_states`, `embeddings_of`. Writes happen inside `with corpus.writing(): ...` (`upsert`, `delete`).

Chroma (`index.storage.vectors`) is the source of truth. The BM25 index (`index.storage.lexical`, tantivy; Chroma's own
sparse index is not available in local/embedded Chroma) lives on disk in the data directory, shared by its
processes, and is kept in step by a generation protocol: `writing()` bumps a `generation` number in the
collection's metadata before the first write and again after the last, marked `writing` in between (the
mark stays set if the writer dies or raises). The writer holds the index's writer for the whole write and
commits each batch as it writes it to Chroma, then records the generation it ended on (only if the index
was current when it began and no other writer bumped the generation in between). A reader who finds the
index recorded at another generation, or sees a write under way, re-syncs it by diffing chunk ids with
Chroma (fetching only what changed), unless a process of this data directory holds the writer: that one
keeps the index in step itself. On a Chroma server shared by several machines, `exclusive()` holds the
server's write lease (`index.storage.lock.ServerLease`) around a whole reindex, and every write checks it still does.
It does not build Chroma clients or embedding models (see `assistant.factory`), nor decide what to index
(see `index.indexer`). Its two sides are its own (`_vectors`, `_lexical`; tests/test_architecture.py checks
that nothing outside `index.storage` reaches them): whoever needs Chroma itself (a test checking what was
really stored, a benchmark comparing with plain llama-index) builds the client and the Corpus on it.

Over 300 lines because the Corpus keeps the vector and lexical sides in step, and the protocol between them is
read as one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.storage.filters import SearchFilters, day_number  # noqa: F401 - re-exported: the corpus's vocabulary
from index.storage.lexical import LexicalIndex
from index.storage.lock import ServerLease
from index.storage.records import (  # noqa: F401 - re-exported: the corpus's vocabulary
    ArticleInfo,
    ArticleState,
    StoredChunk,
    chunk_id_for,
    group_key,
    make_node,
)
from index.storage.vectors import GET_BATCH, ChromaVectors
from index.text.grouping import Member, stored_member

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

# A filtered dense search looks among the ids the lexical side lists when at most this many chunks pass (a
# week of a large archive); more, and it searches deeper unfiltered (benchmarks/bench_scale.py, "dense").
AMONG_MAX = 20_000


class _LexicalSide:
    """The BM25 index on disk, brought in step with the vector side when another writer moved it."""

    def __init__(self, vectors: ChromaVectors, path: Path | None) -> None:
        self._vectors = vectors
        self.path = path
        self.lock = threading.Lock()
        self.index: LexicalIndex | None = None
        self.write_base: int | None = None  # generation before our write, if the index was current then
        self.seen_state: tuple[int, bool] | None = None  # Chroma's (generation, writing) at the last `current`

    def current(self) -> LexicalIndex:
        """The index brought in step with Chroma if another writer changed it or is writing. A process of
        this data directory that holds the index's writer keeps it in step itself: then it is read as is."""
        generation, writing = state = self._vectors.state()
        self.seen_state = state
        self._vectors.follow_other_writers(state)
        with self.lock:
            index = self._loaded()
            index.refresh()
            if writing and state == self._vectors.seen and self.write_base is not None \
                    and index.generation == self.write_base:
                return index  # our own write under way: the index follows it batch by batch
            ours = index.holds_writer  # our write, begun while the index was not current
            if (writing or index.generation != generation) and (ours or index.try_hold_writer()):
                try:
                    if writing or index.generation != generation:  # nobody synced it while we waited
                        index.generation = None  # unknown until the sync is through (it may be cut short)
                        self._sync(index)
                        # While a write is under way (or after one was cut short) the next read syncs again.
                        index.generation = None if writing else generation
                finally:
                    if not ours:
                        index.release_writer()
            return index

    def snapshot(self) -> LexicalIndex:
        """The index as last synced, without a round trip to Chroma."""
        return self.index if self.index is not None else self.current()

    def _loaded(self) -> LexicalIndex:
        if self.index is None:
            if self.path is not None:  # the pickled index this one replaced (as large as the index itself)
                self.path.with_suffix(".pkl").unlink(missing_ok=True)
            self.index = LexicalIndex(self.path)
        return self.index

    def _sync(self, index: LexicalIndex) -> None:
        stored = set(self._vectors.all_chunk_ids())
        have = index.chunk_ids()
        index.remove(sorted(have - stored))
        missing = sorted(stored - have)
        for i in range(0, len(missing), GET_BATCH):
            index.add(chunk.lexical_doc() for chunk in self._vectors.get(missing[i : i + GET_BATCH]))

    # ------------------------------------------------------------------ following our own write

    def begin_write(self, generation_before: int, writing_before: bool) -> None:
        """Hold the index's writer for the whole write (readers of this data directory then read it as the
        write leaves it, batch by batch), first bringing it in step if another writer moved Chroma."""
        with self.lock:
            index = self._loaded()
            index.hold_writer()
            index.refresh()
            if not writing_before and index.generation != generation_before:
                index.generation = None
                self._sync(index)
                index.generation = generation_before
            current = not writing_before and index.generation == generation_before
            self.write_base = generation_before if current else None

    def added(self, nodes: Sequence[TextNode]) -> None:
        with self.lock:
            self._loaded().add(StoredChunk.from_record(n.node_id, n.text, n.metadata).lexical_doc() for n in nodes)

    def removed(self, chunk_ids: Sequence[str]) -> None:
        with self.lock:
            self._loaded().remove(chunk_ids)

    def end_write(self, generation: int | None) -> None:
        """`generation`: the one our finished write ended on (the index followed it, so it is current if it
        was current at the start); None: the write failed, so the index is re-synced on the next read."""
        with self.lock:
            if self.index is not None:
                if generation is not None and self.write_base is not None \
                        and self.index.generation == self.write_base:
                    self.index.generation = generation
                self.index.release_writer()
        self.write_base = None


class Corpus:
    """Every stored chunk: Chroma for vectors, texts and metadata, a BM25 index kept in step."""

    def __init__(self, client: Any, collection_name: str, *, embedding_model: str, lexical_path: Path | None,
                 location: str = "", reopen: Callable[[], Any] | None = None,
                 lease_seconds: float | None = None) -> None:
        """`lease_seconds`: the store is a Chroma server other machines write to as well; writers take turns
        through a lease kept in the server (`index.storage.lock.ServerLease`) that expires after this long without
        a heartbeat. None: this process's data dir is the only way in, and its file lock is enough."""
        self._vectors = ChromaVectors(client, collection_name, embedding_model=embedding_model,
                                      location=location, reopen=reopen)
        self._lexical = _LexicalSide(self._vectors, lexical_path)
        self._lease = None if lease_seconds is None else \
            ServerLease(lambda: self._vectors.client, collection_name, ttl=lease_seconds)
        self._write_open = False
        self._day_range: tuple[int, tuple[int, int]] | None = None  # (generation, range) as last worked out
        self.collection_name = collection_name
        self.embedding_model = embedding_model
        self.location = location
        self.lexical_path = lexical_path

    @property
    def max_batch(self) -> int:
        """The most chunks one Chroma call takes (`upsert` and `delete` split larger writes by it)."""
        return self._vectors.max_batch

    def close(self) -> None:
        """Close the Chroma client the store uses now (the one it was built with, or the one it reopened
        after another process wrote); the store is not to be used afterwards. The client stays the store's
        own: who wants to look at Chroma itself builds a client and the store on it (`build_store(settings,
        client=...)` in `assistant.factory`)."""
        self._vectors.close()

    # ------------------------------------------------------------------ state

    def state(self) -> tuple[int, bool]:
        """(generation, whether a write is under way or was cut short)."""
        return self._vectors.state()

    def generation(self) -> int:
        return self._vectors.state()[0]

    def catch_up(self) -> None:
        """Bring both sides in step with other writers (one metadata round trip, a re-sync only when another
        process wrote). Retrieval calls it once per question; the lexical reads below then use that state."""
        self._lexical.current()

    def lexical(self) -> LexicalIndex:
        """The BM25 side, caught up: for statistics and diagnostics (retrieval uses the methods below)."""
        return self._lexical.current()

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        """The number of stored chunks. Once the lexical side is in step with Chroma's generation and no write
        is under way, it holds exactly Chroma's chunks and counts them for free; Chroma's own count takes
        seconds at a million chunks (benchmarks/README.md, "Issue 21"), so it answers only otherwise."""
        index = self._in_step()
        return len(index) if index is not None else self._vectors.count()

    def _in_step(self) -> LexicalIndex | None:
        """The lexical side, caught up, when it holds exactly Chroma's chunks (at Chroma's generation, no write
        under way); None otherwise."""
        index = self._lexical.current()
        return index if self._reflects_chroma(index) else None

    def _reflects_chroma(self, index: LexicalIndex) -> bool:
        """Whether `index` was at Chroma's generation, with no write under way, at the last catch-up."""
        generation, writing = self._lexical.seen_state or (None, True)
        return not writing and index.generation == generation

    def all_chunk_ids(self) -> list[str]:
        return self._vectors.all_chunk_ids()

    def get(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks with these ids (absent ids are skipped)."""
        return self._vectors.get(chunk_ids)

    def embeddings_of(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        return self._vectors.embeddings_of(chunk_ids)

    def article_states(self, article_ids: Iterable[str]) -> dict[str, ArticleState]:
        """The stored state of the given articles (absent ids are not in the result). Once the lexical side
        is in step with Chroma's generation and no write is under way, it holds exactly Chroma's chunks, so
        only the articles it holds are read from Chroma: adding new articles reads nothing there, and
        Chroma's first read in a process (3-6 s at a million chunks) can overlap the embedding instead
        (`warm_up`, `index.indexer`)."""
        wanted = list(dict.fromkeys(article_ids))
        index = self._in_step()
        if index is not None:
            held = index.articles_held(wanted)
            wanted = [aid for aid in wanted if aid in held]
        return self._vectors.article_states(wanted) if wanted else {}

    def warm_up(self) -> None:
        """Make Chroma load the collection now (one read of no record), so that a later read or write does not
        wait for it: the first read in a new process takes seconds at a million chunks."""
        self._vectors.warm_up()

    def all_article_states(self) -> dict[str, ArticleState]:
        return self._vectors.all_article_states()

    def list_articles(self) -> list[ArticleInfo]:
        return self._vectors.list_articles()

    def article_ids(self) -> set[str]:
        """Ids of every stored article (from the BM25 side, caught up: no metadata scan of Chroma)."""
        return set(self._lexical.current().article_chunk_counts())

    def group_candidates(self, bands: dict[str, list[str]]) -> list[Member]:
        """Stored articles sharing a MinHash band value with any of `bands` ({band key: values, aligned by
        article}): the candidates `index.text.grouping.Grouper` checks. The lexical side, caught up, finds
        their first chunks by key (a Chroma metadata query scans every record: 20 s at a million chunks)."""
        values = [value for key_values in bands.values() for value in key_values]
        ids = self._lexical.current().keyed(values)
        return [m for m in map(stored_member, self._vectors.metadata_of(ids)) if m is not None]

    def group_members(self, groups: Iterable[str]) -> dict[str, list[ArticleInfo]]:
        """Every stored article of each group (wire copies of one story), oldest first, as of the last
        `catch_up` (the answer asks this for its citations)."""
        ids = self._lexical.snapshot().keyed(group_key(g) for g in set(groups))
        out: dict[str, list[ArticleInfo]] = {}
        for meta in self._vectors.metadata_of(ids):
            info = ArticleInfo.from_metadata(meta, int(meta.get("n_chunks", 0) or 0))
            out.setdefault(str(meta.get("group", "")), []).append(info)
        for members in out.values():
            members.sort(key=lambda a: (a.published_at or "9999", a.article_id))
        return out

    def search_dense(self, embedding: list[float], top_k: int,
                     filters: SearchFilters | None = None) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity, highest first, after following other writers. With filters
        that let few chunks through (a question's window, an outlet), the nearest among those chunks' ids,
        which the lexical side lists (`ChromaVectors.search` says why)."""
        self._vectors.follow_other_writers()
        among = share = None
        if filters and (filters.since or filters.date_from or filters.date_to or filters.sources):
            lexical = self._lexical.snapshot()
            among = lexical.chunk_ids_passing(filters, AMONG_MAX)
            if among is None:  # a wide window: how much of the store it holds sets how deep to search
                share = lexical.share_passing(filters)
        return self._vectors.search(embedding, top_k, filters, among, share)

    def search_lexical(self, query: str, top_k: int,
                       filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Best chunks by BM25 as (chunk_id, score), highest first, as of the last `catch_up`."""
        return self._lexical.snapshot().search(query, top_k, filters)

    def score_lexical(self, query: str, chunk_ids: Iterable[str]) -> dict[str, float]:
        """BM25 scores of `query` for the given chunks (0 for unknown ones)."""
        return self._lexical.snapshot().score_chunks(query, chunk_ids)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a tokenized term (0 when unknown), as of the last `catch_up`."""
        return self._lexical.snapshot().idf(term)

    def day_range(self) -> tuple[int, int]:
        """(oldest, newest) publication day (YYYYMMDD) of the dated chunks; (0, 0) when none is dated. Every
        question asks it; the lexical side aggregates over every chunk for it (18 ms at a million), so it is
        remembered for a generation while nobody writes: Chroma was not being written at the last catch-up,
        the lexical side reflects that generation, and no write of ours is open (another process of this
        data dir writing keeps the lexical side's recorded generation while its content moves)."""
        index = self._lexical.snapshot()
        if not self._reflects_chroma(index) or self._write_open or self._lexical.write_base is not None:
            return index.day_range()
        generation = self._lexical.seen_state[0]
        if self._day_range is None or self._day_range[0] != generation:
            self._day_range = (generation, index.day_range())
        return self._day_range[1]

    # ------------------------------------------------------------------ writes

    @contextmanager
    def exclusive(self, *, wait: float | None = None,
                  on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the store's write turn across machines, around a whole reindex (its plan and its writes): the
        server lease when the store is shared, nothing otherwise (the caller's file lock is enough)."""
        if self._lease is None:
            yield
            return
        with self._lease.held(wait=wait, on_wait=on_wait):
            yield

    def _fence(self) -> None:
        """Stop (`LeaseLostError`) before writing when another machine took the shared store's write turn."""
        if self._lease is not None:
            self._lease.check()

    @contextmanager
    def writing(self) -> Iterator[Corpus]:
        """One write (the caller holds the write lock): a new generation marked as being written on entry,
        another one, no longer marked, on a clean exit. An exception leaves the mark, as a crash would, so
        readers re-sync until a later write finishes. The writer's own BM25 cache is current afterwards only if
        it was current before and the generation moved by our own bumps alone (no other writer came between)."""
        if self._write_open:
            raise RuntimeError("a write is already open on this corpus")
        self._fence()
        generation, writing = state = self._vectors.state()
        self._vectors.catch_up_before_writing(state)
        self._lexical.begin_write(generation, writing)
        self._vectors.set_state(generation + 1, True)
        self._write_open = True
        try:
            yield self
        except BaseException:
            self._write_open = False
            self._lexical.end_write(None)
            raise
        self._write_open = False
        try:
            self._fence()
        except BaseException:
            self._lexical.end_write(None)
            raise
        now = self._vectors.state()[0]
        finished = now + 1
        self._vectors.set_state(finished, False)
        self._lexical.end_write(finished if now == generation + 1 else None)

    def upsert(self, nodes: Sequence[TextNode]) -> None:
        """Write embedded nodes (inside `writing()`); re-writing an id replaces it."""
        self._require_write("upsert")
        self._fence()
        self._vectors.upsert(nodes)
        self._lexical.added(nodes)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        """Delete chunks by id (inside `writing()`)."""
        self._require_write("delete")
        self._fence()
        self._vectors.delete(chunk_ids)
        self._lexical.removed(chunk_ids)

    def _require_write(self, what: str) -> None:
        if not self._write_open:
            raise RuntimeError(f"Corpus.{what} outside `with corpus.writing():`")
