"""From files on disk to vectors in Chroma: reading, chunking, embedding, storing, incremental reindexing.

This package never imports `assistant`; the assistant uses it through `Indexer`, `Corpus`,
`LexicalIndex` and the article/chunk types.
"""
