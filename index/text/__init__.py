"""Pure text work, no I/O beyond tiktoken's bundled files: `terms` (our lexical terms), `sentences`,
`tokens` (cl100k counts), `chunking` (sentence-aware chunks with offsets) and `grouping` (MinHash
fingerprints of wire copies)."""
