"""Incremental, idempotent reindexing: articles in, exactly one current copy of their chunks out.

Each article gets a fingerprint (content hash + chunking settings). An article whose fingerprint is stored
completely is skipped; otherwise its chunks are embedded and written under ids that include the
fingerprint, and only then are its other chunks (an older version, or a partial write cut short by a
crash) deleted. So at every moment each article has its old chunks, its new chunks, or both, and the next
run repairs "both" or "partial". A stored chunk is never written again under the same id: a partial
write is completed by adding only its missing chunks (Chroma 1.5's upsert of an existing id can leave that
record unreachable by vector search, chroma-core/chroma#7758). `prune` deletes articles not in the input.
It does not read files itself (see `index.intake.articles`) nor build models or clients.

Over 300 lines because the write protocol (fingerprints, batches, the generation mark, pruning) is one
transaction and is reviewed as one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.intake.articles import Article, LoadFailure, read_articles
from index.storage.lock import write_lock
from index.storage.store import Corpus, StoredChunk, chunk_id_for, make_node
from index.text.chunking import CHUNK_OVERLAP, CHUNK_SIZE, CHUNKER_VERSION, ChunkSpan, chunk_text
from index.text.grouping import Grouper, group_metadata, signature

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

ProgressFn = Callable[[int, int, str], None]  # (done, total, description)


@dataclass
class IndexSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    failures: list[LoadFailure] = field(default_factory=list)
    added_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed} "
            f"({self.chunks_embedded} chunk{'' if self.chunks_embedded == 1 else 's'} embedded in {self.seconds:.1f} s)"
        )

    def as_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "removed": self.removed, "failed": self.failed, "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3), "failures": [str(f) for f in self.failures],
        }


@dataclass
class _Pending:
    article: Article
    fingerprint: str
    chunks: list[StoredChunk]
    stale_ids: list[str]
    is_new: bool
    to_write: list[StoredChunk] = field(default_factory=list)  # chunks not already stored as they are
    replace_ids: list[str] = field(default_factory=list)  # stored under a current id but different: redo
    group: str = ""  # the wire-copy group it joins, "" for its own (`Indexer._group`, before nodes are made)
    # the grouping signature (index.text.grouping)
    first_chunk_extra: dict[str, str] = field(default_factory=dict)


def _distinct(text: str, spans: list[ChunkSpan]) -> list[ChunkSpan]:
    """Drop chunks that repeat an earlier chunk of the article word for word: they add nothing, and hundreds
    of identical vectors (an article repeating one word or paragraph) cut HNSW's graph so that chunks of
    other articles are no longer found by vector search."""
    seen: set[str] = set()
    kept = []
    for span in spans:
        piece = text[span.start : span.end]
        if piece not in seen:
            seen.add(piece)
            kept.append(span)
    return kept


class Indexer:
    """Brings a `Corpus` in line with a set of articles, embedding only what changed."""

    def __init__(self, store: Corpus, embed_model: BaseEmbedding | None, *, chunk_size: int = CHUNK_SIZE,
                 chunk_overlap: int = CHUNK_OVERLAP, batch_size: int = 64, lock_path: Path | None = None,
                 lock_wait: float | None = None, group_copies: bool = True) -> None:
        self.store = store
        self.group_copies = group_copies
        self.embed_model = embed_model
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.batch_size = batch_size
        self.lock_path = lock_path
        self.lock_wait = lock_wait

    def fingerprint(self, article: Article) -> str:
        key = f"{article.content_hash}|{self.chunk_size}|{self.chunk_overlap}|{CHUNKER_VERSION}"
        return hashlib.sha256(key.encode()).hexdigest()

    @contextmanager
    def _locked(self, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        """This data dir's file lock, then the store's write turn across machines (a shared Chroma server's
        lease): the plan and the writes of one run see no other writer's changes in between."""
        with ExitStack() as stack:
            if self.lock_path is not None:
                stack.enter_context(write_lock(self.lock_path, wait=self.lock_wait, on_wait=on_wait))
            stack.enter_context(self.store.exclusive(wait=self.lock_wait, on_wait=on_wait))
            yield

    # ------------------------------------------------------------------ public API

    def index_paths(self, paths: Sequence[str | Path], *, prune: bool = False,
                    progress: ProgressFn | None = None,
                    on_wait: Callable[[str], None] | None = None) -> IndexSummary:
        return self.index_items(read_articles(paths), prune=prune, progress=progress, on_wait=on_wait)

    def index_items(self, items: Iterable[Article | LoadFailure], *, prune: bool = False,
                    progress: ProgressFn | None = None,
                    on_wait: Callable[[str], None] | None = None) -> IndexSummary:
        started = time.perf_counter()
        summary = IndexSummary()
        articles: list[Article] = []
        for item in items:
            if isinstance(item, LoadFailure):
                summary.failures.append(item)
            else:
                articles.append(item)
        summary.failed = len(summary.failures)
        with self._locked(on_wait):
            self._index_locked(articles, summary, prune=prune, progress=progress)
        summary.seconds = time.perf_counter() - started
        return summary

    def remove(self, article_ids: Sequence[str], on_wait: Callable[[str], None] | None = None) -> list[str]:
        """Delete articles by id; returns the ids that were present."""
        with self._locked(on_wait):
            states = self.store.article_states(article_ids)
            if not states:
                self._clear_unfinished_mark()
                return []
            with self.store.writing():
                self.store.delete([cid for state in states.values() for cid in state.ids_except(None)])
            return [aid for aid in article_ids if aid in states]

    # ------------------------------------------------------------------ internals

    def _clear_unfinished_mark(self) -> None:
        """A run killed after its last change left the index marked as being written: nothing is left to
        do, so mark it whole again (readers would otherwise re-sync on every question)."""
        if self.store.state()[1]:
            with self.store.writing():
                pass

    def _plan(self, articles: list[Article], summary: IndexSummary) -> list[_Pending]:
        states = self.store.article_states(a.id for a in articles)
        pending: list[_Pending] = []
        for article in articles:
            fp = self.fingerprint(article)
            state = states.get(article.id)
            if state is not None and state.complete(fp):
                summary.unchanged += 1
                continue
            spans = _distinct(article.text, chunk_text(article.text, self.chunk_size, self.chunk_overlap))
            chunks = [
                StoredChunk(
                    chunk_id=chunk_id_for(article.id, fp, span.index), article_id=article.id,
                    text=article.text[span.start : span.end], start=span.start, end=span.end,
                    title=article.title, source=article.source, url=article.url,
                    published_at=article.published_at, chunk_index=span.index, fingerprint=fp,
                )
                for span in spans
            ]
            # A partial earlier write of this same version is completed, not rewritten; the rest is stale.
            stale = state.ids_except(fp) if state else []
            item = _Pending(article, fp, chunks, stale, is_new=state is None, to_write=chunks)
            if state is not None and state.chunks.get(fp):
                self._keep_stored(item, state.chunks[fp])
            pending.append(item)
        return pending

    def _group(self, pending: list[_Pending]) -> None:
        """Wire copies get the group of the stored (or earlier) article they copy (index.text.grouping)."""
        grouper = Grouper(self.store.group_candidates, exclude=[p.article.id for p in pending])
        signatures = [signature(p.article.text) for p in pending]
        groups = grouper.assign([(p.article.id, sig, p.article.title) for p, sig in zip(pending, signatures)])
        for item, sig, group in zip(pending, signatures, groups):
            item.group = "" if group == item.article.id else group
            item.first_chunk_extra = group_metadata(group, sig)

    def _embed_first(self, pending: list[_Pending], order: list[tuple[_Pending, StoredChunk]]) -> list:
        """The first batch's vectors, embedded while another thread reads Chroma for the wire-copy groups and
        then makes it load the collection (`Corpus.warm_up`): Chroma's first read in a process takes 3-6 s at
        a million chunks, and it came before the embedding. Both finish before the write begins, so a failure
        of either leaves nothing written or marked."""
        def read_chroma() -> None:
            if self.group_copies:
                self._group(pending)
            self.store.warm_up()

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-reader") as reader:
            ready = reader.submit(read_chroma)
            vectors = self._embed_texts(order[: self.batch_size])
            ready.result()
        return vectors

    def _keep_stored(self, item: _Pending, stored_ids: list[str]) -> None:
        """Leave chunks an interrupted run already stored alone when they are what would be written."""
        wanted = {c.chunk_id: c for c in item.chunks}
        same = set()
        for old in self.store.get(stored_ids):
            new = wanted.get(old.chunk_id)
            if new is not None and (old.text, old.start, old.end) == (new.text, new.start, new.end):
                same.add(old.chunk_id)
        item.replace_ids = [cid for cid in stored_ids if cid not in same and cid in wanted]
        item.stale_ids += [cid for cid in stored_ids if cid not in wanted]
        item.to_write = [c for c in item.chunks if c.chunk_id not in same]

    def _index_locked(self, articles: list[Article], summary: IndexSummary, *, prune: bool,
                      progress: ProgressFn | None) -> None:
        pending = self._plan(articles, summary)
        to_prune: list[str] = []
        if prune:
            if summary.failures:
                summary.notes.append(
                    f"not pruning: {len(summary.failures)} input(s) failed to read, and their articles "
                    "would have been removed; fix them and run again"
                )
            else:
                present = {a.id for a in articles}
                states = self.store.all_article_states()
                to_prune = [aid for aid in states if aid not in present]
                prune_ids = [cid for aid in to_prune for cid in states[aid].ids_except(None)]
        if not pending and not to_prune:
            self._clear_unfinished_mark()
            return
        # Length-sorted across articles, so a batch holds texts of similar length and the model pads little
        # (the dev set's 467 chunks of 200 articles: 22.1 s sorted against 24.8 s as they come).
        order = sorted(((item, chunk) for item in pending for chunk in item.to_write),
                       key=lambda pair: len(pair[1].title) + len(pair[1].text))
        if progress:
            progress(0, len(order), "embedding")
        first = self._embed_first(pending, order) if pending else []
        with self.store.writing():
            self._write(pending, order, first, summary, progress)
            if to_prune:
                self.store.delete(prune_ids)
                summary.removed = len(to_prune)
                summary.removed_ids = to_prune

    def _write(self, pending: list[_Pending], order: list[tuple[_Pending, StoredChunk]], first: list,
               summary: IndexSummary, progress: ProgressFn | None) -> None:
        """Embed and store `pending`'s chunks in `order` (inside the corpus's write), the first batch's
        vectors being `first`."""
        redo = [cid for p in pending for cid in p.replace_ids]
        if redo:  # deleted first, so that they are added afresh rather than overwritten
            self.store.delete(redo)
        total = len(order)
        # Embed and write in batches across articles; an article's stale chunks are deleted as soon as all
        # of its new chunks are stored (`waiting`: articles by the position of their last chunk). One writer
        # thread stores batch k while batch k+1 is embedded (both release the GIL in native code), so the
        # Chroma write is off the critical path; at most one write is in flight, and every write has
        # finished before this method returns or raises (the `with`), i.e. before the lock is released.
        done = 0
        waiting: list[tuple[int, _Pending]] = []  # (position of the article's last chunk, article)
        in_flight: Future[int] | None = None

        def settle() -> None:
            nonlocal done, in_flight
            if in_flight is not None:
                done += in_flight.result()
                in_flight = None
                if progress:
                    progress(done, total, "embedding")
            while waiting and waiting[0][0] <= done:
                self._finish_article(waiting.pop(0)[1], summary)

        last_position = {id(item): 0 for item in pending}
        for position, (item, _) in enumerate(order, start=1):
            last_position[id(item)] = position
        waiting.extend(sorted(((last_position[id(item)], item) for item in pending), key=lambda w: w[0]))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-writer") as writer:
            for start in range(0, total, self.batch_size):
                batch = order[start : start + self.batch_size]
                nodes = self._nodes(batch, first if start == 0 else self._embed_texts(batch))
                settle()
                in_flight = writer.submit(self._store_batch, nodes)
            settle()
        for _, item in waiting:
            self._finish_article(item, summary)
        if progress:
            progress(done, total, "embedding")
        summary.chunks_embedded = done

    def _embed_texts(self, batch: list[tuple[_Pending, StoredChunk]]) -> list:
        if not batch:
            return []
        if self.embed_model is None:  # built for removals only (`assistant remove` loads no model)
            raise RuntimeError("this Indexer was built without an embedding model and cannot embed")
        texts = [f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text for _, chunk in batch]
        return self.embed_model.get_text_embedding_batch(texts)

    @staticmethod
    def _nodes(batch: list[tuple[_Pending, StoredChunk]], vectors: list) -> list:
        return [
            make_node(replace(chunk, group=item.group), n_chunks=len(item.chunks), embedding=vec,
                      extra=item.first_chunk_extra if chunk.chunk_index == 0 else None)
            for (item, chunk), vec in zip(batch, vectors)
        ]

    def _store_batch(self, nodes: list) -> int:
        self.store.upsert(nodes)
        return len(nodes)

    def _finish_article(self, item: _Pending, summary: IndexSummary) -> None:
        if item.stale_ids:
            self.store.delete(item.stale_ids)
        if item.is_new:
            summary.added += 1
            summary.added_ids.append(item.article.id)
        else:
            summary.updated += 1
            summary.updated_ids.append(item.article.id)
