"""Wire copies in the top five: one story republished by 10 outlets with small edits (own dateline, sign-off,
one word changed) plus a follow-up story and 200 unrelated articles (the generated set of
tests/test_grouping.py), indexed with grouping on and off; for a few questions about the story, how many
copies reach the top-5 passages, and what grouping costs at index time.

    python benchmarks/wire_copies.py [--embedding minilm|static|hashing]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.factory import build_assistant
from assistant.settings import Settings
from index.text.grouping import signature
from tests.test_grouping import generated_set

QUESTIONS = [
    "Why did the water board vote for a desalination plant on Lake Verrin?",
    "By how much will the desalination plant raise household water bills?",
    "What did environmental groups ask the board to do with the brine?",
    "How many homes will the Lake Verrin plant supply?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedding", default="minilm", choices=["minilm", "static", "hashing"])
    args = parser.parse_args()
    articles = generated_set()
    t = time.perf_counter()
    for a in articles:
        signature(a.text)
    sig_ms = (time.perf_counter() - t) * 1000 / len(articles)
    print(f"{len(articles)} articles; MinHash signature {sig_ms:.2f} ms an article")
    with tempfile.TemporaryDirectory() as tmp:
        for grouped in (False, True):
            settings = Settings(data_dir=Path(tmp) / f"g{int(grouped)}", embedding=args.embedding,
                                group_copies=grouped, index_samples_on_start=False)
            assistant = build_assistant(settings)
            t = time.perf_counter()
            summary = assistant.indexer.index_items(articles)
            seconds = time.perf_counter() - t
            counts = []
            for q in QUESTIONS:
                passages = assistant.retriever.search(q, top_k=5).passages
                counts.append(len({p.chunk.article_id for p in passages if p.chunk.article_id.startswith("copy-")}))
            print(f"grouping {'on ' if grouped else 'off'}: index {seconds:.1f} s ({summary.chunks_embedded} chunks); "
                  f"copies in the top 5 per question: {counts} (max {max(counts)})")


if __name__ == "__main__":
    main()
