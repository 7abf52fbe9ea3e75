"""What the index holds and how it was built, from the store alone (no model, no llama-index import), so
`assistant stats` answers in about a second. Shared by that command (`assistant.cli.commands`) and
`Assistant.stats` (the UI, the evaluator), so it sits beside the service, not in `assistant/cli/`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.configs import IndexRecord
    from index.storage.store import Corpus


def index_stats(record: IndexRecord, store: Corpus) -> dict:
    """What the index holds and how it was built (`record`, from the factory's configs); needs the store
    only (no model is loaded)."""
    lexical = store.lexical()
    return {
        "articles": len(lexical.article_chunk_counts()),
        "chunks": store.count(),
        "lexical_chunks": len(lexical),
        "store": record.store,
        "collection": record.collection,
        "embedding_model": store.embedding_model,
        "chunk_size": record.chunk_size,
        "chunk_overlap": record.chunk_overlap,
        "answerer": record.answerer,
    }
