"""The records the corpus stores and returns: chunks, per-article state, library rows, search filters.

Plain data and the conversions between it and llama-index nodes; no I/O. `index.storage.vectors` (Chroma) and
`index.storage.store` (the corpus) build on these, and the rest of the code uses them to talk about chunks.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from index.storage.filters import day_number
from index.storage.lexical import LexicalDoc
from index.text.grouping import BAND_KEYS

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode


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
    group: str = ""  # wire copies of one story share it (index.text.grouping); "" = the article alone
    bands: tuple[str, ...] = ()  # a first chunk's MinHash band values (index.text.grouping), when stored

    @property
    def group_id(self) -> str:
        return self.group or self.article_id

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
            group=str(meta.get("group", "")),
            bands=tuple(str(meta[key]) for key in BAND_KEYS if meta.get(key)),
        )

    def lexical_doc(self) -> LexicalDoc:
        keys = (*self.bands, group_key(self.group_id)) if self.chunk_index == 0 else ()
        return LexicalDoc(self.chunk_id, self.article_id, self.source, day_number(self.published_at),
                          f"{self.title}\n{self.text}", keys)


def group_key(group: str) -> str:
    """The lexical side's key of an article's first chunk for its group (`LexicalIndex.keyed`); MinHash band
    values ("3-1ef0...") are keys as they are."""
    return f"group:{group}"


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

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], chunks: int) -> ArticleInfo:
        """The article as a chunk's stored metadata describes it."""
        return cls(str(meta.get("article_id", "")), str(meta.get("title", "")), str(meta.get("source", "")),
                   str(meta.get("url", "")), str(meta.get("published_at", "")), chunks)


def chunk_id_for(article_id: str, fingerprint: str, index: int) -> str:
    key = hashlib.sha1(article_id.encode()).hexdigest()[:12]
    return f"{key}-{fingerprint[:12]}-{index:05d}"


def make_node(chunk: StoredChunk, *, n_chunks: int, embedding: list[float],
              extra: dict[str, str] | None = None) -> TextNode:
    """A llama-index node carrying our chunk metadata (flat, so Chroma can filter on it); `extra`: more
    metadata (the first chunk's grouping signature)."""
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
            "group": chunk.group or chunk.article_id,
            **(extra or {}),
        },
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.article_id)
    return node
