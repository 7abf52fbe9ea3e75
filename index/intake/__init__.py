"""Articles in: from files (`articles`: JSONL, text, Markdown; `html`: pages) and from the network
(`fetch`, the only module that connects; `feeds`, RSS/Atom feeds and article pages into articles)."""
