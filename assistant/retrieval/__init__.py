"""From a question to ranked passages: the as-of date plan and time windows (`dates`, `timewindow`), and
hybrid dense + BM25 retrieval with fusion, the recency prior and the per-article cap (`hybrid`)."""
