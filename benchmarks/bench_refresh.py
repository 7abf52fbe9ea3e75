"""What `assistant refresh` costs when little is new: 20 feeds x 50 entries (RSS with summaries, each entry's
page on a local HTTP server), indexed once; then 5 new entries appear (in 5 of the feeds) and the refresh
is timed. Target (issue 13): the embedding of those 5 articles plus under 2 s.

Everything runs in this process on 127.0.0.1 (tests/web_support.py's server and pages); the embedding of
the 5 new articles is timed separately on the same model (median of 3) and subtracted. Also reports a
refresh with nothing new and how many response bodies each refresh transferred.

    python benchmarks/bench_refresh.py [--embedding minilm|static|hashing] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import load_line, offline_env

FEEDS, ENTRIES, NEW = 20, 50, 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default="minilm", choices=["minilm", "static", "hashing"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    offline_env()
    from assistant.factory import build_assistant, build_sources
    from assistant.settings import Settings
    from tests.web_support import Route, WebServer, article_page, rss_feed

    with tempfile.TemporaryDirectory() as tmp, WebServer() as web:
        def serve(feed: int, numbers: list[int]) -> str:
            for n in numbers:
                web.routes[f"/f{feed}/{n}"] = Route(article_page(n))
            web.routes[f"/f{feed}.xml"] = Route(rss_feed([(n, web.url(f"/f{feed}/{n}")) for n in numbers],
                                                         title=f"Feed {feed}"), content_type="application/rss+xml")
            return web.url(f"/f{feed}.xml")

        numbers = {f: list(range(f * ENTRIES, (f + 1) * ENTRIES)) for f in range(FEEDS)}
        settings = Settings(data_dir=Path(tmp) / "data", embedding=args.embedding, index_samples_on_start=False)
        assistant = build_assistant(settings)
        sources = build_sources(settings, assistant.indexer)
        for f in range(FEEDS):
            sources.add(serve(f, numbers[f]))
        t = time.perf_counter()
        first = sources.refresh().summary
        first_s = time.perf_counter() - t
        assert first.added == FEEDS * ENTRIES and first.failed == 0, first.failures

        web.clear()
        t = time.perf_counter()
        idle = sources.refresh().summary
        idle_s = time.perf_counter() - t
        idle_bodies = len(web.page_hits())

        new_numbers = list(range(10_000, 10_000 + NEW))
        for i, n in enumerate(new_numbers):  # one new entry in each of the first 5 feeds, at the top
            numbers[i] = [n, *numbers[i]]
            serve(i, numbers[i])
        web.clear()
        t = time.perf_counter()
        fresh = sources.refresh().summary
        fresh_s = time.perf_counter() - t
        fresh_bodies = len(web.page_hits())
        assert fresh.added == NEW and fresh.failed == 0, fresh.line()

        # the embedding those 5 cost, alone, on the same model and texts as the indexer embeds
        from index.intake.feeds import page_article
        from index.intake.fetch import Fetcher
        from index.text.chunking import chunk_text

        fetcher = Fetcher()
        texts = []
        for i, n in enumerate(new_numbers):
            article = page_article(fetcher.fetch(web.url(f"/f{i}/{n}")))
            for span in chunk_text(article.text, settings.chunk_size, settings.chunk_overlap):
                texts.append(f"{article.title}\n{article.text[span.start:span.end]}")
        fetcher.close()
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            assistant.embed_model.get_text_embedding_batch(texts)
            runs.append(time.perf_counter() - t)
        embed_s = statistics.median(runs)

    result = {
        "feeds": FEEDS, "entries_per_feed": ENTRIES, "new_entries": NEW, "embedding": args.embedding,
        "first_refresh_s": round(first_s, 2), "idle_refresh_s": round(idle_s, 3), "idle_bodies": idle_bodies,
        "idle_summary": idle.line(), "new_refresh_s": round(fresh_s, 3), "new_bodies": fresh_bodies,
        "new_summary": fresh.line(), "embedding_of_new_s": round(embed_s, 3),
        "overhead_s": round(fresh_s - embed_s, 3), "target_overhead_s": 2.0, "load": load_line(),
    }
    print(f"{FEEDS} feeds x {ENTRIES} entries ({args.embedding}); first refresh {first_s:.1f} s")
    print(f"nothing new:   {idle_s:.3f} s, {idle_bodies} response bodies ({idle.line()})")
    print(f"{NEW} new entries: {fresh_s:.3f} s, {fresh_bodies} response bodies ({fresh.line()})")
    print(f"  embedding those {NEW} alone: {embed_s:.3f} s -> overhead {fresh_s - embed_s:.3f} s "
          f"(target < 2 s): {'OK' if fresh_s - embed_s < 2 else 'MISSED'}")
    print(result["load"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
