"""The lexical side: a BM25 index of chunks on disk kept by tantivy, over our terms (`index.text.terms`).

Chunks are stored pre-tokenized, so tantivy only splits on spaces and our terms are its terms; its
BM25 (k1=1.2, b=0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))) is the formula the hand-written index used,
with document lengths kept to one byte each as Lucene does. The index lives in a folder of memory-mapped
files that every process of a data directory shares: a process reads only the postings a question touches,
and a write is a tantivy commit (all of a batch or none of it). It keeps no texts, only what ranking and
filtering need (chunk id, article id, source, publication day) and the keys wire-copy grouping looks
articles up by (`keyed`). It does not know about Chroma: the store
tells it what to add and remove, and when it is in step (see `index.storage.store`).

Over 300 lines because the tantivy schema, the term mapping and the filter translation must agree, and the
BM25 formula stays in one file.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy

from index.storage.atomic import atomic_write
from index.storage.filters import SearchFilters, day_bounds
from index.text.terms import tokenize

KEYS_PER_QUERY = 1024  # clauses of one `keyed` query


@dataclass(frozen=True)
class LexicalDoc:
    chunk_id: str
    article_id: str
    source: str
    published_day: int  # YYYYMMDD, 0 when unknown
    text: str  # tokenized while adding; not kept
    keys: tuple[str, ...] = ()  # exact keys to look the chunk up by (`keyed`): an article's first chunk's
    # wire-copy band values and group (index.storage.records), so grouping never scans Chroma's metadata


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Our terms joined by spaces; "freq" keeps term frequencies (BM25) but no positions (no phrases asked).
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("source", tokenizer_name="raw")
    builder.add_integer_field("day", indexed=True, fast=True)
    builder.add_text_field("keys", tokenizer_name="raw")
    return builder.build()


def _locked(method):
    """Run the method holding the index's lock (the writer and the searcher are swapped under it)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class LexicalIndex:
    """BM25 over chunks in a tantivy index: in a folder shared by processes, or in memory (`path=None`).

    Writes need the index's writer, which one holder at a time has (tantivy locks it across processes):
    `add` and `remove` take it for their own commit unless `hold_writer` already holds it for a longer write.
    Reads see what was committed as of the last `refresh`. `generation` is the store generation the index
    is known to reflect (None: unknown), kept in a small file beside the folder."""

    VERSION = 7  # bump when tokenization or the schema changes: an index from another version is rebuilt
    WRITER_HEAP = 64_000_000  # bytes of documents a writer buffers before it flushes a segment itself

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._writer: tantivy.IndexWriter | None = None
        self._held = False  # the writer stays open between calls (hold_writer) rather than per call
        self._schema = _schema()
        self._index = self._open()
        self._searcher = self._index.searcher()

    def _open(self) -> tantivy.Index:
        if self.path is None:
            return tantivy.Index(self._schema)
        state = self._state()
        if state.get("version") == self.VERSION and (self.path / "meta.json").exists():
            try:
                return tantivy.Index.open(str(self.path))
            except (OSError, ValueError):
                pass
        # Missing, unreadable or from another version: start empty (the store re-syncs it from Chroma).
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_state({"version": self.VERSION, "generation": None})
        return tantivy.Index(self._schema, path=str(self.path), reuse=False)

    # ------------------------------------------------------------------ generation

    @property
    def _state_path(self) -> Path | None:
        return None if self.path is None else self.path.with_name(self.path.name + ".json")

    def _state(self) -> dict:
        try:
            state = json.loads(self._state_path.read_text())  # type: ignore[union-attr]
            return state if isinstance(state, dict) else {}
        except (OSError, ValueError, AttributeError):
            return {}

    def _write_state(self, state: dict) -> None:
        with atomic_write(self._state_path, "w", encoding="utf-8") as fh:  # type: ignore[arg-type]
            json.dump(state, fh)

    _memory_generation: int | None = None

    @property
    def generation(self) -> int | None:
        """The store generation this index reflects, as last recorded by any process; None: unknown."""
        if self.path is None:
            return self._memory_generation
        value = self._state().get("generation")
        return value if isinstance(value, int) else None

    @generation.setter
    def generation(self, value: int | None) -> None:
        if self.path is None:
            self._memory_generation = value
        else:
            self._write_state({"version": self.VERSION, "generation": value})

    # ------------------------------------------------------------------ the writer

    @property
    def holds_writer(self) -> bool:
        return self._held

    @_locked
    def try_hold_writer(self) -> bool:
        """Take the writer and keep it until `release_writer`; False at once if another holder has it."""
        if self._writer is None:
            try:
                self._writer = self._index.writer(self.WRITER_HEAP, 1)
            except ValueError:  # LockBusy: another process (or another index object) is writing
                return False
        self._held = True
        return True

    def hold_writer(self, poll: float = 0.05) -> None:
        """Take the writer, waiting for the holder (a reader's short re-sync, or another writer)."""
        while not self.try_hold_writer():
            time.sleep(poll)

    @_locked
    def release_writer(self) -> None:
        """Give the writer back; anything it had not committed is discarded."""
        self._held = False
        self._writer = None  # dropping it frees tantivy's lock
        self.refresh()

    def _write(self, ops) -> None:
        if self._writer is None:
            self.hold_writer()
            self._held = False
        try:
            ops(self._writer)
            self._writer.commit()  # the batch is in, whole, or (on a crash before this) not at all
        except BaseException:
            if self._writer is not None:
                self._writer.rollback()
            raise
        finally:
            if not self._held:
                self._writer = None
        self.refresh()

    # ------------------------------------------------------------------ updates

    @_locked
    def refresh(self) -> None:
        """See every commit made so far, by this process or another."""
        self._index.reload()
        self._searcher = self._index.searcher()

    def __len__(self) -> int:
        return self._searcher.num_docs

    def __contains__(self, chunk_id: str) -> bool:
        return bool(self._searcher.search(self._term("chunk_id", chunk_id), 1, count=False).hits)

    @_locked
    def add(self, docs: Iterable[LexicalDoc]) -> None:
        """Add chunks (one commit); a chunk id already stored is replaced."""
        batch = [(doc, " ".join(tokenize(doc.text))) for doc in docs]
        if not batch:
            return

        def ops(writer: tantivy.IndexWriter) -> None:
            for doc, terms in batch:
                writer.delete_documents_by_term("chunk_id", doc.chunk_id)  # applies to earlier documents only
                writer.add_document(tantivy.Document(terms=terms, chunk_id=doc.chunk_id, article_id=doc.article_id,
                                                     source=doc.source, day=int(doc.published_day),
                                                     keys=list(doc.keys)))

        self._write(ops)

    @_locked
    def remove(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks (one commit); unknown ids are ignored."""
        ids = list(chunk_ids)
        if ids:
            self._write(lambda writer: [writer.delete_documents_by_term("chunk_id", cid) for cid in ids])

    # ------------------------------------------------------------------ search

    def _term(self, field: str, value: str | int) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value)

    def _matching(self, query: str) -> tantivy.Query | None:
        terms = sorted(set(tokenize(query)))
        if not terms:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, self._term("terms", t)) for t in terms])

    def _filtered(self, matching: tantivy.Query, filters: list[tuple[tantivy.Occur, tantivy.Query]]) -> tantivy.Query:
        """`matching`, restricted by filter clauses that add nothing to its score."""
        if not filters:
            return matching
        clauses = [(tantivy.Occur.Must, matching)]
        clauses += [(occur, tantivy.Query.const_score_query(q, 0.0)) for occur, q in filters]
        return tantivy.Query.boolean_query(clauses)

    def _days(self, low: int | None, high: int | None) -> tantivy.Query:
        return tantivy.Query.range_query(self._schema, "day", tantivy.FieldType.Integer, low, high)

    def _ranked(self, query: tantivy.Query, limit: int) -> list[tuple[str, float]]:
        searcher = self._searcher
        hits = searcher.search(query, limit, count=False).hits
        out = [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]
        return [(cid, score) for cid, score in out if score > 0]

    @_locked
    def search(self, query: str, top_k: int = 50, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Best chunks for `query` as (chunk_id, bm25 score), highest first; only positive scores; only
        chunks `filters` lets through."""
        matching = self._matching(query)
        if matching is None or top_k <= 0 or not len(self):
            return []
        clauses = self._clauses(filters)
        hits = self._ranked(self._filtered(matching, clauses), top_k)
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    def _clauses(self, filters: SearchFilters | None) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """`filters` as tantivy clauses (each day bound as `filters.DAY_BOUNDS` defines it)."""
        must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if filters and filters.sources:
            clauses.append((must, tantivy.Query.term_set_query(self._schema, "source", sorted(set(filters.sources)))))
        for bound, day in day_bounds(filters):
            if bound.keeps_undated:  # leave out the dated chunks on the wrong side; undated (0) ones stay
                clauses.append((must_not, self._days(day + 1, None) if not bound.lower else self._days(1, day - 1)))
            else:
                clauses.append((must, self._days(day, None) if bound.lower else self._days(1, day)))
        return clauses

    @_locked
    def chunk_ids_passing(self, filters: SearchFilters, limit: int) -> list[str] | None:
        """Ids of the chunks `filters` lets through, whatever their text; None when more than `limit` do (the
        dense search then searches among these ids only: a question's window is a small part of an archive)."""
        if not len(self):
            return []
        searcher = self._searcher
        hits = searcher.search(self._passing(filters), limit + 1, count=False).hits
        if len(hits) > limit:
            return None
        return [searcher.doc(address)["chunk_id"][0] for _, address in hits]

    def _passing(self, filters: SearchFilters) -> tantivy.Query:
        """The query every chunk `filters` lets through matches, whatever its text."""
        return self._filtered(tantivy.Query.all_query(), self._clauses(filters))

    @_locked
    def share_passing(self, filters: SearchFilters) -> float:
        """The part of the chunks (0 to 1) that `filters` lets through, whatever their text."""
        n = len(self)
        if not n:
            return 0.0
        found = self._searcher.search(self._passing(filters), 1, count=True)
        return min(found.count / n, 1.0)

    @_locked
    def score_chunks(self, query: str, chunk_ids: Iterable[str]) -> dict[str, float]:
        """BM25 scores of `query` for the given chunks (0 for unknown chunks): fusion needs both scores of
        a candidate that only one ranking found."""
        wanted = list(chunk_ids)
        scores = dict.fromkeys(wanted, 0.0)
        matching = self._matching(query)
        if matching is None or not wanted or not len(self):
            return scores
        only = tantivy.Query.term_set_query(self._schema, "chunk_id", sorted(set(wanted)))
        scores.update(self._ranked(self._filtered(matching, [(tantivy.Occur.Must, only)]), len(set(wanted))))
        return scores

    @_locked
    def idf(self, term: str) -> float:
        """Inverse document frequency of an already-tokenized term (0 for unknown terms), as BM25 weighs it
        (document frequencies count removed chunks until tantivy merges their segment, as Lucene's do)."""
        n = len(self)
        df = min(self._searcher.doc_freq("terms", term), n) if n else 0
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5)) if df else 0.0

    @_locked
    def day_range(self) -> tuple[int, int]:
        """(oldest, newest) publication day (YYYYMMDD) of the dated chunks, (0, 0) when none is dated."""
        if not len(self):
            return 0, 0
        got = self._searcher.aggregate(self._days(1, None), {"lo": {"min": {"field": "day"}},
                                                              "hi": {"max": {"field": "day"}}})
        lo, hi = got["lo"]["value"], got["hi"]["value"]
        return (int(lo), int(hi)) if lo is not None and hi is not None else (0, 0)

    @_locked
    def keyed(self, keys: Iterable[str]) -> list[str]:
        """Ids of the chunks holding any of `keys` (`LexicalDoc.keys`), in no particular order. A reindex
        asks for 16 band values an article, so the keys go `KEYS_PER_QUERY` to a query."""
        wanted = sorted(set(keys))
        searcher = self._searcher
        ids: dict[str, None] = {}
        for i in range(0, len(wanted), KEYS_PER_QUERY):
            query = tantivy.Query.boolean_query([(tantivy.Occur.Should, self._term("keys", k))
                                                 for k in wanted[i:i + KEYS_PER_QUERY]])
            found = searcher.search(query, 1, count=True).count
            for _, address in searcher.search(query, found, count=False).hits if found else []:
                ids[searcher.doc(address)["chunk_id"][0]] = None
        return list(ids)

    @_locked
    def articles_held(self, article_ids: Iterable[str]) -> set[str]:
        """Those of `article_ids` with at least one chunk here (one term lookup each)."""
        searcher = self._searcher
        return {aid for aid in dict.fromkeys(article_ids)
                if searcher.search(self._term("article_id", aid), 1, count=False).hits}

    @_locked
    def article_of(self, chunk_id: str) -> str | None:
        searcher = self._searcher
        hits = searcher.search(self._term("chunk_id", chunk_id), 1, count=False).hits
        return searcher.doc(hits[0][1])["article_id"][0] if hits else None

    def _live_terms(self, field: str) -> list[tuple[str, int]]:
        """Every value of a raw field with its number of live chunks (removed ones not counted)."""
        return self._searcher.terms_with_prefix(field, "", filter_query=tantivy.Query.all_query())

    @_locked
    def article_chunk_counts(self) -> Counter[str]:
        return Counter(dict(self._live_terms("article_id")))

    @_locked
    def chunk_ids(self) -> set[str]:
        """Ids of every stored chunk."""
        return {cid for cid, _ in self._live_terms("chunk_id")}
