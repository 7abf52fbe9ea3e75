"""The corpus on disk: `store` (`Corpus`, the one read API and `writing()`), its two sides `vectors`
(Chroma) and `lexical` (the tantivy BM25 index), the `records` they exchange, the write `lock`s, and
`atomic` file replacement."""
