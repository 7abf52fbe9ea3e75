"""From a question to a cited answer: settings, retrieval, answering, citations, chat, evaluation, CLI, UI.

Uses `index` through its small API (`Corpus`, `Indexer`, article readers); never the other way round.
"""
