"""The chunk store: one Chroma collection (vectors, texts, metadata) and the BM25 index kept in step.

Owns: the collection's layout and metadata, batched writes that respect Chroma's maximum batch size,
per-article state (which content fingerprints are stored, complete or not), deletes, dense and lexical
search, and keeping the lexical index in step with Chroma across processes.

Chroma is the source of truth. The lexical index is a cache saved next to the data: every writer bumps a
`generation` number in the collection's metadata before and after it writes (and marks it `writing` in
between, which stays set if the writer dies), and a reader whose cache is from another generation, or who
sees a write under way, re-syncs by diffing chunk ids with Chroma (fetching only what changed).
An embedded Chroma keeps its vector index in memory per process, so a long-running reader (the web app)
would not see another process's writes: when the generation moved and no write is under way, the store
reopens its client (given `reopen`), with every Chroma call gated so none is cut off by the swap; dense hits
deleted meanwhile are dropped.
It does not build Chroma clients or embedding models (see `assistant.factory`), nor decide what to index
(see `index.indexer`).
Over 300 lines: the vector side (Chroma I/O, paging, filters, the gated reopen after another process
wrote) and the BM25 cache it keeps in step share one generation protocol. Splitting it into a `Corpus`
with a vector part and a lexical part behind one read API is the open step of the architecture issue.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import StoreError
from index.lexical import LexicalDoc, LexicalIndex

if TYPE_CHECKING:  # llama-index costs ~1.7 s to import: loaded on the first write or search, not by stats
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import MetadataFilters
    from llama_index.vector_stores.chroma import ChromaVectorStore

_GET_BATCH = 2000


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: its text, its place in the article, and the article's metadata."""

    chunk_id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""
    chunk_index: int = 0
    fingerprint: str = ""

    @classmethod
    def from_record(cls, chunk_id: str, text: str | None, meta: dict[str, Any]) -> StoredChunk:
        return cls(
            chunk_id=chunk_id,
            article_id=str(meta.get("article_id", "")),
            text=text or "",
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published_at=str(meta.get("published_at", "")),
            chunk_index=int(meta.get("chunk_index", 0)),
            fingerprint=str(meta.get("fingerprint", "")),
        )

    def lexical_doc(self) -> LexicalDoc:
        return LexicalDoc(self.chunk_id, self.article_id, self.source, day_number(self.published_at),
                          f"{self.title}\n{self.text}")


@dataclass
class ArticleState:
    """What the store holds of one article: chunk ids per fingerprint and the chunk count expected."""

    chunks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    expected: dict[str, int] = field(default_factory=dict)

    def complete(self, fingerprint: str) -> bool:
        return (
            list(self.chunks) == [fingerprint]
            and len(self.chunks[fingerprint]) == self.expected.get(fingerprint, -1)
        )

    def ids_except(self, fingerprint: str | None) -> list[str]:
        return [cid for fp, ids in self.chunks.items() if fp != fingerprint for cid in ids]


@dataclass(frozen=True)
class ArticleInfo:
    """One indexed article as listed in the library: its metadata and how many chunks it has."""

    article_id: str
    title: str
    source: str
    url: str
    published_at: str
    chunks: int


@dataclass(frozen=True)
class SearchFilters:
    """What a search may return. `date_from`/`date_to` are the user's publication-date filter (undated
    articles fail `date_to`); `since`/`as_of` are the question's time awareness (the window a time
    expression implies, and the day it is asked): both keep undated articles, which are neutral."""

    sources: tuple[str, ...] = ()
    date_from: str = ""  # YYYY-MM-DD inclusive
    date_to: str = ""
    since: str = ""  # published on or after (or undated)
    as_of: str = ""  # published on or before (or undated)

    def __bool__(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.since or self.as_of)


def day_number(iso_date: str) -> int:
    """'2025-11-03' -> 20251103; 0 for unknown."""
    digits = iso_date[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def chunk_id_for(article_id: str, fingerprint: str, index: int) -> str:
    key = hashlib.sha1(article_id.encode()).hexdigest()[:12]
    return f"{key}-{fingerprint[:12]}-{index:05d}"


class _Gate:
    """Chroma handles used by any number of threads at once, or swapped by one (a readers-writer lock)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._swapping = False

    @contextmanager
    def use(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextmanager
    def swap(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._swapping = True
            self._cond.wait_for(lambda: self._users == 0)
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


class _GatedCollection:
    """The current Chroma collection; each method call holds the gate, so a reopen never cuts one off."""

    def __init__(self, store: ChunkStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if not callable(getattr(self._store._collection, name)):
            return getattr(self._store._collection, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._store._gate.use():
                return getattr(self._store._collection, name)(*args, **kwargs)

        return call


class ChunkStore:
    """Chunks of articles in a Chroma collection, with a BM25 index kept in step."""

    def __init__(self, client: Any, collection_name: str, *, embedding_model: str, lexical_path: Path | None,
                 location: str = "", reopen: Callable[[], Any] | None = None) -> None:
        self.client = client
        self._reopen_client = reopen  # builds a fresh client of the same embedded store; None = no need
        self._gate = _Gate()
        self._seen: tuple[int, bool] | None = None  # (generation, writing) our vector index reflects
        self._write_base: int | None = None  # generation before our write, if our BM25 index was current then
        self.collection_name = collection_name
        self.embedding_model = embedding_model
        self.location = location
        self.lexical_path = lexical_path
        try:
            self._collection = client.get_or_create_collection(
                collection_name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": embedding_model, "generation": 0},
            )
            self.max_batch = int(client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many types for connection/permission problems
            raise StoreError(f"cannot open Chroma collection {collection_name!r} at {location}: {exc}") from exc
        self.collection: Any = _GatedCollection(self)
        opened = self._collection.metadata or {}
        self._seen = (int(opened.get("generation", 0)), bool(opened.get("writing", False)))
        stored_model = opened.get("embedding_model")
        if stored_model and stored_model != embedding_model:
            raise StoreError(
                f"collection {collection_name!r} was built with {stored_model}, not {embedding_model}; "
                "use another --collection or reindex into a new data directory"
            )
        self._lexical: LexicalIndex | None = None
        self._lexical_lock = threading.Lock()

    @cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's Chroma vector store over the gated collection (built on the first search)."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    # ------------------------------------------------------------------ generation

    def state(self) -> tuple[int, bool]:
        """(generation, whether a write is under way or was cut short) from the collection's metadata."""
        try:
            with self._gate.use():
                meta = self.client.get_collection(self.collection_name).metadata or {}
        except Exception as exc:
            raise StoreError(f"cannot reach Chroma at {self.location}: {exc}") from exc
        return int(meta.get("generation", 0)), bool(meta.get("writing", False))

    def generation(self) -> int:
        return self.state()[0]

    def _set_state(self, generation: int, writing: bool) -> None:
        self.collection.modify(
            metadata={"embedding_model": self.embedding_model, "generation": generation, "writing": writing}
        )
        self._seen = (generation, writing)

    def _reopen(self) -> None:
        """Load the collection afresh (the embedded client caches its vector index per process)."""
        with self._gate.swap():
            with suppress(Exception):  # a client that cannot close cleanly is replaced all the same
                self.client.close()
            try:
                self.client = self._reopen_client()  # type: ignore[misc]
                self._collection = self.client.get_collection(self.collection_name)
            except Exception as exc:
                raise StoreError(f"cannot reopen the Chroma store at {self.location}: {exc}") from exc

    def follow_other_writers(self, state: tuple[int, bool] | None = None) -> None:
        """Reopen when another process finished a write since our vector index was loaded."""
        if self._reopen_client is None:
            return
        state = state or self.state()
        if self._seen is None:
            self._seen = state  # the client was opened just now
        elif state != self._seen and not state[1]:
            self._reopen()
            self._seen = state

    def bump_generation(self) -> int:
        """Before a writer's first write (under the write lock): a new generation, marked as being written."""
        generation, writing = self.state()
        if self._reopen_client is not None and self._seen not in (None, (generation, writing)):
            self._reopen()  # someone else wrote since we loaded: catch up before writing
        lexical = self._lexical  # it follows our writes only if it was loaded and current before them
        self._write_base = generation if not writing and lexical is not None and lexical.generation == generation \
            else None
        self._set_state(generation + 1, True)
        return generation + 1

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        return self.collection.count()

    def all_chunk_ids(self) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=50_000, offset=offset)["ids"]
            ids.extend(page)
            if len(page) < 50_000:
                return ids
            offset += len(page)

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        out: list[StoredChunk] = []
        for i in range(0, len(chunk_ids), _GET_BATCH):
            got = self.collection.get(ids=list(chunk_ids[i : i + _GET_BATCH]), include=["documents", "metadatas"])
            out.extend(
                StoredChunk.from_record(cid, doc, meta or {})
                for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
            )
        return out

    def embeddings_of(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors of the given chunks (absent ids are not in the result; none while another process's
        write leaves an embedded client's vector segment behind its metadata)."""
        if not chunk_ids:
            return {}
        try:
            got = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        except Exception:  # noqa: BLE001 - another process is writing ("Error finding id"): none this time
            return {}
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"])}

    def article_states(self, article_ids: Iterable[str]) -> dict[str, ArticleState]:
        """The stored state of the given articles (absent ids are not in the result)."""
        wanted = list(dict.fromkeys(article_ids))
        states: dict[str, ArticleState] = {}
        for i in range(0, len(wanted), 500):
            batch = wanted[i : i + 500]
            got = self.collection.get(where={"article_id": {"$in": batch}}, include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"]):
                self._add_state(states, cid, meta or {})
        return states

    def all_article_states(self) -> dict[str, ArticleState]:
        states: dict[str, ArticleState] = {}
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=20_000, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"]):
                self._add_state(states, cid, meta or {})
            if len(got["ids"]) < 20_000:
                return states
            offset += len(got["ids"])

    def list_articles(self) -> list[ArticleInfo]:
        """One row per stored article (metadata of its first chunk, chunk count), newest first."""
        rows: dict[str, ArticleInfo] = {}
        counts: dict[str, int] = defaultdict(int)
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=20_000, offset=offset)
            for meta in got["metadatas"]:
                meta = meta or {}
                article_id = str(meta.get("article_id", ""))
                counts[article_id] += 1
                if article_id not in rows or int(meta.get("chunk_index", 0)) == 0:
                    rows[article_id] = ArticleInfo(
                        article_id, str(meta.get("title", "")), str(meta.get("source", "")),
                        str(meta.get("url", "")), str(meta.get("published_at", "")), 0,
                    )
            if len(got["ids"]) < 20_000:
                break
            offset += len(got["ids"])
        out = [replace(info, chunks=counts[aid]) for aid, info in rows.items()]
        out.sort(key=lambda a: (a.title.lower(), a.article_id))
        out.sort(key=lambda a: a.published_at, reverse=True)
        return out

    @staticmethod
    def _add_state(states: dict[str, ArticleState], cid: str, meta: dict[str, Any]) -> None:
        state = states.setdefault(str(meta.get("article_id", "")), ArticleState())
        fp = str(meta.get("fingerprint", ""))
        state.chunks[fp].append(cid)
        state.expected[fp] = int(meta.get("n_chunks", -1))

    # ------------------------------------------------------------------ writes

    def upsert(self, nodes: Sequence[TextNode]) -> None:
        """Write embedded nodes in batches no larger than Chroma's maximum; re-writing an id replaces it."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        for i in range(0, len(nodes), self.max_batch):
            batch = nodes[i : i + self.max_batch]
            metadatas = []
            for node in batch:
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
                metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
            self.collection.upsert(
                ids=[n.node_id for n in batch],
                embeddings=[n.get_embedding() for n in batch],
                metadatas=metadatas,
                documents=[n.text for n in batch],
            )
        lexical = self._lexical
        if lexical is not None:
            with self._lexical_lock:
                lexical.add(StoredChunk.from_record(n.node_id, n.text, n.metadata).lexical_doc() for n in nodes)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for i in range(0, len(chunk_ids), self.max_batch):
            self.collection.delete(ids=list(chunk_ids[i : i + self.max_batch]))
        if self._lexical is not None:
            with self._lexical_lock:
                self._lexical.remove(chunk_ids)

    # ------------------------------------------------------------------ lexical index

    def lexical(self) -> LexicalIndex:
        """The BM25 index, brought in step with Chroma if another writer changed it or is writing."""
        generation, writing = state = self.state()
        self.follow_other_writers(state)
        with self._lexical_lock:
            if self._lexical is None and self.lexical_path is not None:
                self._lexical = LexicalIndex.load(self.lexical_path)
            if self._lexical is None:
                self._lexical = LexicalIndex()
            if writing and state == self._seen and self._write_base is not None \
                    and self._lexical.generation == self._write_base:
                return self._lexical  # our own write under way: the index follows it batch by batch
            if writing or self._lexical.generation != generation:
                self._sync_lexical(self._lexical)
                # While a write is under way (or after one was cut short) the next read syncs again.
                self._lexical.generation = None if writing else generation
                if not writing:
                    self.save_lexical_locked()
            return self._lexical

    def lexical_snapshot(self) -> LexicalIndex:
        """The BM25 index as last synced (by `lexical()`, which retrieval calls once per question), without
        another round trip to Chroma: for statistics such as idf while answering that same question."""
        return self._lexical if self._lexical is not None else self.lexical()

    def _sync_lexical(self, lexical: LexicalIndex) -> None:
        stored = set(self.all_chunk_ids())
        lexical.remove([cid for cid in list(lexical.slot_of) if cid not in stored])
        missing = [cid for cid in stored if cid not in lexical]
        for i in range(0, len(missing), _GET_BATCH):
            lexical.add(chunk.lexical_doc() for chunk in self.get_chunks(missing[i : i + _GET_BATCH]))

    def save_lexical_locked(self) -> None:
        if self.lexical_path is not None and self._lexical is not None:
            try:
                self._lexical.save(self.lexical_path)
            except OSError:
                pass  # a cache: failing to save only costs a re-sync next start

    def finish_write(self) -> None:
        """After a writer's last write: a new generation, no longer being written. Our in-memory lexical
        index followed our writes, so it is marked current if it was current when the write began."""
        generation = self.generation() + 1
        self._set_state(generation, False)
        with self._lexical_lock:
            if self._lexical is not None and self._write_base is not None \
                    and self._lexical.generation == self._write_base:
                self._lexical.generation = generation
                self.save_lexical_locked()
        self._write_base = None

    # ------------------------------------------------------------------ dense search

    def dense_search(
        self, embedding: list[float], top_k: int, filters: SearchFilters | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity, through llama-index's Chroma vector store."""
        if top_k <= 0:
            return []
        from llama_index.core.vector_stores.types import VectorStoreQuery

        self.follow_other_writers()
        query = VectorStoreQuery(
            query_embedding=embedding, similarity_top_k=top_k, filters=_to_metadata_filters(filters)
        )
        try:
            result = self.vector_store.query(query)
        except Exception as exc:
            if not filters:
                raise StoreError(f"vector search failed at {self.location}: {exc}") from exc
            # While another process writes, an embedded client's vector index is older than the metadata
            # it filters with ("Error finding id"): search unfiltered, deeper, and filter here instead.
            deeper = VectorStoreQuery(query_embedding=embedding, similarity_top_k=max(top_k * 8, 200))
            try:
                result = self.vector_store.query(deeper)
            except Exception as again:
                raise StoreError(f"vector search failed at {self.location}: {again}") from again
        out = []
        for node, sim in zip(result.nodes or [], result.similarities or []):
            if not node.metadata.get("article_id"):
                continue  # deleted by another process after this one loaded its vector index
            if filters and not _passes(node.metadata, filters):
                continue
            cosine = 1.0 + math.log(max(sim, 1e-12))  # the store reports exp(-distance), distance = 1 - cos
            out.append((StoredChunk.from_record(node.node_id, node.get_content(), node.metadata), cosine))
        return out[:top_k]


def _passes(meta: dict[str, Any], filters: SearchFilters) -> bool:
    """`filters` applied to one chunk's metadata in Python (what `_to_metadata_filters` asks of Chroma)."""
    day = int(meta.get("published_day") or 0)
    if filters.sources and meta.get("source") not in filters.sources:
        return False
    if filters.date_from and day < day_number(filters.date_from):
        return False
    if filters.date_to and not 0 < day <= day_number(filters.date_to):
        return False
    if filters.since and day and day < day_number(filters.since):
        return False
    return not (filters.as_of and day and day > day_number(filters.as_of))


def _to_metadata_filters(filters: SearchFilters | None) -> MetadataFilters | None:
    if not filters:
        return None
    from llama_index.core.vector_stores.types import (
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
    )

    items: list[MetadataFilter | MetadataFilters] = []
    if filters.sources:
        items.append(MetadataFilter(key="source", value=list(filters.sources), operator=FilterOperator.IN))
    if filters.date_from:
        items.append(MetadataFilter(key="published_day", value=day_number(filters.date_from),
                                    operator=FilterOperator.GTE))
    if filters.date_to:
        items.append(MetadataFilter(key="published_day", value=day_number(filters.date_to),
                                    operator=FilterOperator.LTE))
        items.append(MetadataFilter(key="published_day", value=0, operator=FilterOperator.GT))
    undated = MetadataFilter(key="published_day", value=0, operator=FilterOperator.EQ)
    for day, operator in ((filters.since, FilterOperator.GTE), (filters.as_of, FilterOperator.LTE)):
        if day:
            items.append(MetadataFilters(filters=[
                MetadataFilter(key="published_day", value=day_number(day), operator=operator), undated,
            ], condition=FilterCondition.OR))
    return MetadataFilters(filters=items, condition=FilterCondition.AND)


def make_node(chunk: StoredChunk, *, n_chunks: int, embedding: list[float]) -> TextNode:
    """A llama-index node carrying our chunk metadata (flat, so Chroma can filter on it)."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    node = TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        embedding=embedding,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        metadata={
            "article_id": chunk.article_id,
            "title": chunk.title,
            "source": chunk.source,
            "url": chunk.url,
            "published_at": chunk.published_at,
            "published_day": day_number(chunk.published_at),
            "fingerprint": chunk.fingerprint,
            "chunk_index": chunk.chunk_index,
            "n_chunks": n_chunks,
            "start": chunk.start,
            "end": chunk.end,
        },
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.article_id)
    return node
