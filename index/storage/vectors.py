"""The vector side of the corpus: one Chroma collection holding every chunk's vector, text and metadata.

Owns the collection's layout and metadata (the embedding model it was built with, the write `generation`
and the `writing` mark of `index.storage.store`'s protocol), paging through it, batched writes no larger than
Chroma's maximum, per-article state, metadata filters and dense search through llama-index's Chroma
vector store.
An embedded Chroma keeps its vector index in memory per process, so a long-running reader (the web app)
would not see another process's writes: `follow_other_writers` reopens the client (given `reopen`) once the
generation moved and no write is under way, with every Chroma call gated so none is cut off by the swap;
dense hits deleted meanwhile are dropped.
It does not build clients (see `assistant.factory`) nor keep the BM25 side (see `index.storage.store`).

Over 300 lines because it is the only module that speaks Chroma: paging, batching, the metadata protocol and
the filtered searches.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from index.errors import StoreError
from index.storage.filters import SearchFilters, day_bounds, passes
from index.storage.records import ArticleInfo, ArticleState, StoredChunk

if TYPE_CHECKING:  # llama-index costs ~1.7 s to import: loaded on the first write or search, not by stats
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import MetadataFilters
    from llama_index.vector_stores.chroma import ChromaVectorStore

GET_BATCH = 2000  # ids per Chroma get (the corpus also syncs its BM25 side in pieces this size)
_PAGE = 20_000
WARM_UP_ID = "warm-up"  # read by `warm_up`: no chunk has it (chunk ids are hex-hex-index, see records.chunk_id_for)


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

    def __init__(self, vectors: ChromaVectors) -> None:
        self._vectors = vectors

    def __getattr__(self, name: str) -> Any:
        if not callable(getattr(self._vectors._collection, name)):
            return getattr(self._vectors._collection, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._vectors._gate.use():
                return getattr(self._vectors._collection, name)(*args, **kwargs)

        return call


class ChromaVectors:
    """Chunks in one Chroma collection (cosine space); the collection's metadata carries the write state."""

    def __init__(self, client: Any, collection_name: str, *, embedding_model: str, location: str = "",
                 reopen: Callable[[], Any] | None = None) -> None:
        self.client = client
        self._reopen_client = reopen  # builds a fresh client of the same embedded store; None = no need
        self._gate = _Gate()
        self.collection_name = collection_name
        self.embedding_model = embedding_model
        self.location = location
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
        self.seen: tuple[int, bool] = (int(opened.get("generation", 0)), bool(opened.get("writing", False)))
        stored_model = opened.get("embedding_model")
        if stored_model and stored_model != embedding_model:
            raise StoreError(
                f"collection {collection_name!r} was built with {stored_model}, not {embedding_model}; "
                "use another --collection or reindex into a new data directory"
            )

    @cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's Chroma vector store over the gated collection (built on the first search)."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    # ------------------------------------------------------------------ write state

    def state(self) -> tuple[int, bool]:
        """(generation, whether a write is under way or was cut short) from the collection's metadata."""
        try:
            with self._gate.use():
                meta = self.client.get_collection(self.collection_name).metadata or {}
        except Exception as exc:
            raise StoreError(f"cannot reach Chroma at {self.location}: {exc}") from exc
        return int(meta.get("generation", 0)), bool(meta.get("writing", False))

    def set_state(self, generation: int, writing: bool) -> None:
        self.collection.modify(
            metadata={"embedding_model": self.embedding_model, "generation": generation, "writing": writing}
        )
        self.seen = (generation, writing)

    def follow_other_writers(self, state: tuple[int, bool] | None = None) -> None:
        """Reopen when another process finished a write since our vector index was loaded."""
        if self._reopen_client is None:
            return
        state = state or self.state()
        if state != self.seen and not state[1]:
            self._reopen()
            self.seen = state

    def catch_up_before_writing(self, state: tuple[int, bool]) -> None:
        """Someone else wrote since we loaded (finished or not): reopen before our own write."""
        if self._reopen_client is not None and self.seen != state:
            self._reopen()

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

    def close(self) -> None:
        """Close the current Chroma client (the one given, or the one a reopen made), once calls under way
        are through. Nothing of this object may be used afterwards."""
        with self._gate.swap():
            self.client.close()

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

    def warm_up(self) -> None:
        self.collection.get(ids=[WARM_UP_ID], include=[])

    def _by_id(self, chunk_ids: Sequence[str], include: list[str]) -> Iterator[dict[str, Any]]:
        """Chroma's answers to reading the given chunks by id, `GET_BATCH` ids a call."""
        for i in range(0, len(chunk_ids), GET_BATCH):
            yield self.collection.get(ids=list(chunk_ids[i : i + GET_BATCH]), include=include)

    def get(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        return [StoredChunk.from_record(cid, doc, meta or {})
                for got in self._by_id(chunk_ids, ["documents", "metadatas"])
                for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])]

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

    def _metadata_pages(self) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            yield got["ids"], [m or {} for m in got["metadatas"]]
            if len(got["ids"]) < _PAGE:
                return
            offset += len(got["ids"])

    def article_states(self, article_ids: Iterable[str]) -> dict[str, ArticleState]:
        """The stored state of the given articles (absent ids are not in the result)."""
        wanted = list(dict.fromkeys(article_ids))
        states: dict[str, ArticleState] = {}
        for i in range(0, len(wanted), 500):
            got = self.collection.get(where={"article_id": {"$in": wanted[i : i + 500]}}, include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"]):
                _add_state(states, cid, meta or {})
        return states

    def all_article_states(self) -> dict[str, ArticleState]:
        states: dict[str, ArticleState] = {}
        for ids, metas in self._metadata_pages():
            for cid, meta in zip(ids, metas):
                _add_state(states, cid, meta)
        return states

    def list_articles(self) -> list[ArticleInfo]:
        """One row per stored article (metadata of its first chunk, chunk count), newest first."""
        rows: dict[str, ArticleInfo] = {}
        counts: dict[str, int] = defaultdict(int)
        for _, metas in self._metadata_pages():
            for meta in metas:
                article_id = str(meta.get("article_id", ""))
                counts[article_id] += 1
                if article_id not in rows or int(meta.get("chunk_index", 0)) == 0:
                    rows[article_id] = ArticleInfo.from_metadata(meta, 0)
        out = [replace(info, chunks=counts[aid]) for aid, info in rows.items()]
        out.sort(key=lambda a: (a.title.lower(), a.article_id))
        out.sort(key=lambda a: a.published_at, reverse=True)
        return out

    def metadata_of(self, chunk_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Metadata of the given chunks (absent ids are left out), read by id."""
        return [m or {} for got in self._by_id(chunk_ids, ["metadatas"]) for m in got["metadatas"]]

    def first_chunks_matching(self, any_of: dict[str, Sequence[str]]) -> list[dict[str, Any]]:
        """Metadata of the first chunk of every article whose metadata holds, for any key of `any_of`, one of
        its values (the Chroma query syntax stays in this module)."""
        clauses = [{key: {"$in": sorted(set(values))}} for key, values in any_of.items() if values]
        if not clauses:
            return []
        where = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        got = self.collection.get(where={"$and": [{"chunk_index": 0}, where]}, include=["metadatas"])
        return [m or {} for m in got["metadatas"]]

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

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for i in range(0, len(chunk_ids), self.max_batch):
            self.collection.delete(ids=list(chunk_ids[i : i + self.max_batch]))

    # ------------------------------------------------------------------ dense search

    def search(self, embedding: list[float], top_k: int, filters: SearchFilters | None = None,
               among: Sequence[str] | None = None, share: float | None = None) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity that pass `filters`, through llama-index's Chroma vector store.

        Chroma's own filtered search costs about as much as scanning the filtered metadata (320 ms at 100k
        chunks, benchmarks/bench_scale.py), so a filtered search is done another way:
        - `among` (the ids of the chunks the filters let through, from the lexical side, when they are few: a
          question's window): the nearest among those ids;
        - otherwise the nearest `DEEP_FACTORS` x top_k chunks unfiltered, kept when they pass: once top_k of
          them pass, they are exactly the nearest that pass (anything deeper is farther). With `share` (the
          part of the store the filters let through, when the lexical side knows it: a window too wide for
          `among`), depths where fewer than top_k would pass on average are skipped, and when none is left,
          one deep enough for `DEEP_MARGIN` x top_k to pass is used instead (at most `DEEP_MAX`; `deep_depths`);
        - and when too few pass even that deep, Chroma's filtered search (`search_where`)."""
        if top_k <= 0:
            return []
        if among is not None:
            if not among:
                return []
            try:
                return self._query(embedding, min(top_k, len(among)), filters, ids=list(among))[:top_k]
            except StoreError:
                pass  # an id Chroma no longer holds (another writer removed it since the list): search as below
        if filters:
            for depth in deep_depths(top_k, share):
                found, reached = self._query(embedding, depth, filters, deep=True)
                if len(found) >= top_k or reached < depth:
                    return found[:top_k]
        return self.search_where(embedding, top_k, filters)

    def search_where(self, embedding: list[float], top_k: int,
                     filters: SearchFilters | None = None) -> list[tuple[StoredChunk, float]]:
        """The nearest `top_k` chunks that pass `filters` by Chroma's own filtered search (the filters as its
        `where`): `search`'s last resort, and the reference its other ways must agree with
        (tests/test_filter_parity.py). While another process writes, an embedded client may fail the filtered
        search; then the nearest unfiltered, deeper, are filtered here instead."""
        if top_k <= 0:
            return []
        return self._query(embedding, top_k, filters, where=True)[:top_k]

    def _query(self, embedding: list[float], n: int, filters: SearchFilters | None, *, deep: bool = False,
               where: bool = False, **kwargs: Any) -> Any:
        """The nearest `n` (with Chroma's `where` for `filters` when `where`), those passing `filters`; with
        `deep`, also how many Chroma returned before filtering."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        query = VectorStoreQuery(query_embedding=embedding, similarity_top_k=n,
                                 filters=_to_metadata_filters(filters) if where else None)
        try:
            result = self.vector_store.query(query, **kwargs)
        except Exception as exc:
            if not (filters and where):
                raise StoreError(f"vector search failed at {self.location}: {exc}") from exc
            # While another process writes, an embedded client's vector index is older than the metadata
            # it filters with ("Error finding id"): search unfiltered, deeper, and filter here instead.
            deeper = VectorStoreQuery(query_embedding=embedding, similarity_top_k=max(n * 8, 200))
            try:
                result = self.vector_store.query(deeper)
            except Exception as again:
                raise StoreError(f"vector search failed at {self.location}: {again}") from again
        out = []
        for node, sim in zip(result.nodes or [], result.similarities or []):
            if not node.metadata.get("article_id"):
                continue  # deleted by another process after this one loaded its vector index
            if filters and not passes(node.metadata, filters):
                continue
            cosine = 1.0 + math.log(max(sim, 1e-12))  # the store reports exp(-distance), distance = 1 - cos
            out.append((StoredChunk.from_record(node.node_id, node.get_content(), node.metadata), cosine))
        return (out, len(result.nodes or [])) if deep else out


DEEP_FACTORS = (4, 16)  # how deep (x top_k) an unfiltered search goes before Chroma's filtered search
DEEP_MARGIN = 2.0  # with a known share passing: deep enough that twice top_k pass on average
DEEP_MAX = 5_000  # the deepest unfiltered search (a window holding less of the store: Chroma's filtered search)


def deep_depths(top_k: int, share: float | None = None) -> list[int]:
    """How deep the unfiltered searches go, in order: `DEEP_FACTORS` x top_k; with the share of the store the
    filters let through, only those where top_k pass on average, or when none is that deep, one where
    `DEEP_MARGIN` x top_k do (at most `DEEP_MAX`)."""
    depths = [factor * top_k for factor in DEEP_FACTORS]
    if share is None or share <= 0:
        return depths
    expected = top_k / share  # the depth at which top_k pass on average
    deep_enough = [d for d in depths if d >= expected]
    return deep_enough or [max(depths[-1], min(DEEP_MAX, math.ceil(DEEP_MARGIN * expected)))]


def _add_state(states: dict[str, ArticleState], cid: str, meta: dict[str, Any]) -> None:
    state = states.setdefault(str(meta.get("article_id", "")), ArticleState())
    fp = str(meta.get("fingerprint", ""))
    state.chunks[fp].append(cid)
    state.expected[fp] = int(meta.get("n_chunks", -1))


def _to_metadata_filters(filters: SearchFilters | None) -> MetadataFilters | None:
    """`filters` as llama-index metadata filters, which the Chroma vector store turns into a `where`."""
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
    undated = MetadataFilter(key="published_day", value=0, operator=FilterOperator.EQ)
    for bound, day in day_bounds(filters):  # records.DAY_BOUNDS: each field's meaning, defined once
        within = MetadataFilter(key="published_day", value=day,
                                operator=FilterOperator.GTE if bound.lower else FilterOperator.LTE)
        if bound.keeps_undated:
            items.append(MetadataFilters(filters=[within, undated], condition=FilterCondition.OR))
        else:
            items += [within, MetadataFilter(key="published_day", value=0, operator=FilterOperator.GT)]
    return MetadataFilters(filters=items, condition=FilterCondition.AND)
