"""`assistant stats`: what the index holds and how it was built, from the store alone (no model, no
llama-index import), so the command answers in about a second."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings
    from index.store import Corpus


def index_stats(settings: Settings, store: Corpus) -> dict:
    """What the index holds and how it was built; needs the store only (no model is loaded)."""
    lexical = store.lexical()
    return {
        "articles": len(lexical.article_chunk_counts()),
        "chunks": store.count(),
        "lexical_chunks": len(lexical),
        "store": settings.store_label,
        "collection": settings.collection_name,
        "embedding_model": store.embedding_model,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "answerer": settings.llm_label,
    }
