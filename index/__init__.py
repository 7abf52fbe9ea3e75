"""From files and URLs to chunks in Chroma and BM25: reading, chunking, embedding, storing, incremental
reindexing, saved sources and watched folders.

Folders by role, each importing only those listed before it (and `errors`):
- `text/`: pure text work: our lexical terms, sentences, token counts, chunks, wire-copy fingerprints.
- `storage/`: the corpus (`Corpus`: Chroma vectors and the tantivy BM25 index kept in step), its records,
  write locks and atomic file writes.
- `models/`: embedding models (MiniLM, its NumPy twin, the distilled static table, the hashing model) and
  the offline environment they load under.
- `intake/`: articles from files (`articles`, `html`) and from the network (`fetch`, the one module that
  connects; `feeds`, URLs into articles).
The orchestration sits here at the top and uses the folders below it: `indexer` (articles in, chunks
stored), `sources` (saved feeds, pages and folders, and refreshing them) and `watch` (folders kept in
step). `errors` is shared by all.

This package never imports `assistant`; the assistant builds its parts in `assistant.factory`.
"""
