"""Embedding models: `embedding` (MiniLM and the hashing model as llama-index embeddings),
`minilm_numpy` (MiniLM without PyTorch, for questions), `static_embedding` (the distilled lookup table,
shipped as `static_minilm_256.npy`) and `offline` (the environment every model and entry point loads
under)."""
