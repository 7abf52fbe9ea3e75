"""Errors the indexing side raises; the CLI and UI translate them into one-line messages."""


class IndexingError(Exception):
    """Base class for errors a user can cause or fix (bad file, unreachable store, bad setting)."""


class ArticleError(IndexingError):
    """One input (file or JSONL line) could not be read; the message names it and says why."""


class StoreError(IndexingError):
    """The vector store cannot be reached, opened or written."""


class IndexLockedError(IndexingError):
    """Another process holds the write lock of this index."""
