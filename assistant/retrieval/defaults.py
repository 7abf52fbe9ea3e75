"""What the retriever ships with: the one source of these values for `Settings` (what a user may change) and
`HybridRetriever`'s constructor defaults (so that code and tests building one directly run the shipped
configuration). Chosen with benchmarks/sweep_retrieval.py (README, "Retrieval design sweep"). No imports:
the settings read this at start-up."""

TOP_K = 5  # passages retrieved per question
CANDIDATES = 40  # taken from each of the dense and lexical rankings before fusion
MAX_PER_ARTICLE = 2  # most passages of one article among the top-k
FUSION = "convex"  # dense_weight x normalised cosine + the rest x normalised BM25 ("rrf": reciprocal rank)
DENSE_WEIGHT = 0.97
RECENCY_WEIGHT = 0.3  # strength of the recency prior, added to fused scores normalised to a maximum of 1
RECENCY_DAYS = 7.0  # days over which the recency prior decays by a factor e
RECENCY_PRIOR = True  # apply the recency prior when the question names no time
TIME_WINDOWS = True  # turn time expressions in questions ("this week", "in March") into a publication window
