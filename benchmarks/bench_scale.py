"""The whole product at 100k, 300k and 1M chunks with dated questions (issue 21, part 1).

    python benchmarks/bench_scale.py --sizes 100000,300000,1000000 --dir /tmp/bench-scale/data \\
        --json /tmp/bench-scale/scale.json
    python benchmarks/bench_scale.py --sizes 10000,30000 --dir /tmp/bench-scale/small --base 500   # a quick try

One store (an embedded Chroma collection and its tantivy lexical side, in `--dir`) grows through the sizes;
it is written through the product's own `Corpus.writing()` / `Corpus.upsert`, so its size on disk and the
costs of adding and removing articles are the product's. `--resume` grows an existing `--dir` further
(the corpus is deterministic, chunk i is always the same chunk).

Texts (real): the dev and training articles (bench_lexical.py's generator): chunked as the indexer does
(1,024/128 tokens: 29,174 chunks), then repeated with new article ids (`<id>~<copy>`), publication dates
70 days later per copy (1M chunks: 35 copies over about 6.5 years) and every number raised by the copy's
index. Vectors (synthetic): `--base` base chunks are embedded once with the real MiniLM (cached beside
`--dir`); chunk i gets one of those vectors plus Gaussian noise (`--noise`, renormalised). So dense recall
means nothing here; latency, memory and size are real (HNSW does the same work on these vectors, though
clustered vectors are not real ones). Chunks carry no grouping signature (wire copies are not looked for).

At each size:
  dense   Chroma's filtered search (the `where` the product sends for the question's own filters: its
          as-of day and the window a time expression implies) against a deeper unfiltered search filtered
          afterwards (160, then 640 and 2,560 deep until 40 pass, else the filtered search), and plain
          40-NN without a date, interleaved, on the dev questions' MiniLM embeddings as of dates inside the
          span, questions with a window apart; "deep unless a window" is the deep search for questions
          bounded by their as-of day only and the filtered one for those with a window (each question's
          measured time of the one chosen); "window ids, else deep" takes the ids of a window's chunks
          from the lexical side's day field (tantivy; up to 20,000, else the filtered search) and asks
          Chroma for the nearest among those ids (`query(ids=...)`), and is the deep search for questions
          without a window; overlap@40 of each with the filtered search;
  add     10 new articles through the product's Indexer (settings' chunking, real MiniLM) in this
          process: total against the time inside the model and the model alone on the same texts;
  app     `python app.py` on the store (no samples): start to first answer over its `/ask` API (as of a
          date), then `--questions` dev questions as of dates inside the span, with the answer's own
          timings (embed_query, catch_up, dense, lexical, fuse, postprocess, answer, total), and the app's
          peak RSS (VmHWM). Not as of today: the dev questions' "this week" would then lie after the
          archive, so most would find nothing and abstain at once;
  stats   `assistant stats --json`, a whole process, twice;
  remove  `assistant remove` of one of the 10 added articles, then of the other 9 (whole processes), which
          brings the store back to the size;
  disk    the data directory's size (Chroma, lexical).
Run it under `nice` on a shared machine; every row carries the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lexical import COPY_DAYS, memory_mb, questions, shift_numbers, source_articles
from common import ROOT, SHARED, load_line, offline_env, percentile, running_app, status_kb, write_json

CANDIDATES = 40  # what retrieval asks each ranking for (assistant.retrieval.defaults.CANDIDATES)
DEEP_STEPS = (160, 640, 2560)  # deeper costs seconds (10,240 with metadata: 2.5 s at 30k)
WRITE_STEP = 50_000  # chunks per `Corpus.writing()`: an interrupted build loses at most this much


# ----------------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class BaseChunk:
    article_id: str
    title: str
    url: str
    source: str
    published_at: str
    fingerprint: str
    index: int
    n_chunks: int
    start: int
    end: int
    text: str


def base_chunks(cache: Path, chunk_size: int, chunk_overlap: int) -> list[BaseChunk]:
    """Every chunk of the dev and training articles, as the indexer would cut them (spans kept in `cache`)."""
    from index.indexer import Indexer
    from index.intake.articles import Article
    from index.text.chunking import chunk_text

    spans = json.loads(cache.read_text()) if cache.exists() else None
    fingerprint = Indexer(None, None, chunk_size=chunk_size, chunk_overlap=chunk_overlap).fingerprint
    out, kept = [], {}
    for article_id, art in source_articles():
        a = Article(id=article_id, text=art.get("text") or "", title=art.get("title") or "",
                    url=art.get("url") or "", source=art.get("source") or "",
                    published_at=(art.get("published_at") or "")[:10])
        cut = spans[article_id] if spans is not None else \
            [(s.start, s.end) for s in chunk_text(a.text, chunk_size, chunk_overlap)]
        kept[article_id] = cut
        fp = fingerprint(a)
        out.extend(BaseChunk(a.id, a.title, a.url, a.source, a.published_at, fp, i, len(cut), start, end,
                             a.text[start:end]) for i, (start, end) in enumerate(cut))
    if spans is None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(kept))
    return out


def shift_date(iso: str, days: int) -> str:
    import datetime as dt

    if not iso or not days:
        return iso
    try:
        return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()
    except ValueError:
        return iso


def chunk_at(i: int, base: list[BaseChunk]):
    """(n_chunks, StoredChunk) of chunk i of the corpus: copy i // len(base) of base chunk i % len(base)."""
    from index.storage.store import StoredChunk, chunk_id_for

    copy, k = divmod(i, len(base))
    b = base[k]
    article_id = f"{b.article_id}~{copy}" if copy else b.article_id
    return b.n_chunks, StoredChunk(
        chunk_id=chunk_id_for(article_id, b.fingerprint, b.index), article_id=article_id,
        text=shift_numbers(b.text, copy), start=b.start, end=b.end, title=shift_numbers(b.title, copy),
        source=b.source, url=b.url, published_at=shift_date(b.published_at, copy * COPY_DAYS),
        chunk_index=b.index, fingerprint=b.fingerprint)


class Vectors:
    """Real MiniLM vectors of `n` base chunks (cached), and noisy copies of them for every chunk."""

    def __init__(self, model, base: list[BaseChunk], n: int, noise: float, cache: Path) -> None:
        import numpy as np

        self.np, self.noise = np, noise
        self.seconds = 0.0
        if cache.exists():
            self.base = np.load(cache)
        else:
            picks = sorted(random.Random(0).sample(range(len(base)), min(n, len(base))))
            t0 = time.perf_counter()
            self.base = np.asarray(model.get_text_embedding_batch(
                [f"{base[i].title}\n{base[i].text}" for i in picks]), dtype=np.float32)
            self.seconds = time.perf_counter() - t0
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, self.base)

    def at(self, start: int, n: int):
        """Vectors of chunks start..start+n-1 (the same ones for the same start: a resumed build matches)."""
        np = self.np
        rng = np.random.default_rng(start)
        picks = self.base[rng.integers(0, len(self.base), n)]
        noise = rng.standard_normal(picks.shape).astype(np.float32) * (self.noise / np.sqrt(picks.shape[1]))
        out = picks + noise
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def grow(store, base, vectors, written: int, target: int) -> int:
    """Write chunks written..target-1 through the product's write path, WRITE_STEP chunks per write."""
    from index.storage.store import make_node

    t0, start = time.perf_counter(), written
    while written < target:
        step_end = min(target, written + WRITE_STEP)
        with store.writing():
            while written < step_end:
                n = min(store.max_batch, step_end - written)
                chunks = [chunk_at(i, base) for i in range(written, written + n)]
                vecs = vectors.at(written, n)
                store.upsert([make_node(c, n_chunks=nc, embedding=v.tolist()) for (nc, c), v in zip(chunks, vecs)])
                written += n
        rate = (written - start) / (time.perf_counter() - t0)
        print(f"  {written:,} chunks written ({rate:.0f} chunks/s since {start:,}; {load_line()})", flush=True)
    return written


# ----------------------------------------------------------------------------------- dated questions


def dated_questions(n_chunks: int, n_base: int, limit: int) -> list[tuple[str, str]]:
    """(question, as-of YYYY-MM-DD) of the dev questions, each moved into a random copy present at this size
    (bench_lexical.py's draw)."""
    n_copies = max(1, n_chunks // n_base)  # whole copies only: an as-of date inside the span
    return [(text, f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}")
            for text, day in questions(n_copies, None) if day][:limit]


# ----------------------------------------------------------------------------------- measurements


def planned_filters(store, question: str, as_of: str):
    """The filters the product searches this question with (as-of day, the window a time expression
    implies, bounds that exclude nothing dropped) and the `where` it sends Chroma for them."""
    from llama_index.vector_stores.chroma.base import _to_chroma_filter

    from assistant.retrieval.dates import plan_dates
    from assistant.retrieval.hybrid import _without_idle_bounds
    from index.storage.vectors import _to_metadata_filters

    filters = _without_idle_bounds(plan_dates(question, None, as_of).filters, store.day_range())
    return filters, (_to_chroma_filter(_to_metadata_filters(filters)) if filters else None)


def _summary(ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1),
            "mean_ms": round(sum(ms) / max(len(ms), 1), 1), "n": len(ms)}


WINDOW_IDS_MAX = 20_000  # a window holding more chunks than this is searched with the filtered search


def window_ids(store, filters) -> list[str] | None:
    """Ids of the chunks inside a question's window (since..as-of, or undated) from the lexical side's day
    field (tantivy), None when there are more than WINDOW_IDS_MAX. Kept as measured (it reads the index's searcher
    directly); the product now has its own, `LexicalIndex.chunk_ids_passing`."""
    import tantivy

    from index.storage.store import day_number

    index = store.lexical()
    days = index._days(day_number(filters.since) or None, day_number(filters.as_of) or None)
    query = tantivy.Query.boolean_query([(tantivy.Occur.Should, days),
                                         (tantivy.Occur.Should, index._term("day", 0))])
    with index._lock:
        searcher = index._searcher
        hits = searcher.search(query, WINDOW_IDS_MAX + 1, count=False).hits
        if len(hits) > WINDOW_IDS_MAX:
            return None
        return [searcher.doc(address)["chunk_id"][0] for _, address in hits]


def dense_comparison(store, col, model, dated: list[tuple[str, str]]) -> dict:
    """Chroma's filtered search against a deeper unfiltered one filtered afterwards, and plain 40-NN, with
    each question's own filters; questions with a time window ("this week") reported apart. `col`: the
    store's Chroma collection, from the client the store was built on."""
    from index.storage.filters import passes

    count = store.count()
    times: dict[str, dict[str, list[float]]] = {}
    overlap, ids_overlap, depths, fallbacks = [], [], [], 0
    embeddings = {q: model.get_query_embedding(q) for q, _ in dated}
    for n, (q, as_of) in enumerate(dated):
        emb = embeddings[q]
        filters, where = planned_filters(store, q, as_of)
        kind = "with a window" if filters.since else "as-of bound only"

        def filtered(emb=emb, where=where):
            r = col.query(query_embeddings=[emb], n_results=CANDIDATES, where=where,
                          include=["documents", "metadatas", "distances"])
            return r["ids"][0]

        def deep(emb=emb, where=where, filters=filters, record=True):
            nonlocal fallbacks
            for depth in DEEP_STEPS:
                depth = min(depth, count)
                r = col.query(query_embeddings=[emb], n_results=depth, include=["metadatas", "distances"])
                kept = [cid for cid, m in zip(r["ids"][0], r["metadatas"][0]) if passes(m, filters)]
                if len(kept) >= CANDIDATES or depth >= count:
                    depths.extend([depth] if record else [])
                    kept = kept[:CANDIDATES]
                    col.get(ids=kept, include=["documents", "metadatas"])  # what the filtered search returns
                    return kept
            fallbacks += record
            depths.extend([0] if record else [])
            return filtered(emb, where)

        def by_ids(emb=emb, where=where, filters=filters):
            if not filters.since:
                return deep(emb, where, filters, record=False)
            ids = window_ids(store, filters)
            if ids is None:
                return filtered(emb, where)
            if not ids:
                return []
            r = col.query(query_embeddings=[emb], ids=ids, n_results=min(CANDIDATES, len(ids)),
                          include=["documents", "metadatas", "distances"])
            return r["ids"][0]

        def plain(emb=emb):
            return col.query(query_embeddings=[emb], n_results=CANDIDATES,
                             include=["documents", "metadatas", "distances"])["ids"][0]

        order = [("filtered", filtered), ("deep then filter", deep), ("window ids, else deep", by_ids),
                 ("no date", plain)]
        if n % 2:
            order.reverse()  # interleaved both ways, so a busy neighbour slows all alike
        got = {}
        for name, fn in order:
            t0 = time.perf_counter()
            got[name] = fn()
            ms = (time.perf_counter() - t0) * 1000
            times.setdefault(name, {}).setdefault("all", []).append(ms)
            times[name].setdefault(kind, []).append(ms)
        chosen = times["filtered" if filters.since else "deep then filter"][kind][-1]
        times.setdefault("deep unless a window", {}).setdefault("all", []).append(chosen)
        times["deep unless a window"].setdefault(kind, []).append(chosen)
        a, b = set(got["filtered"]), set(got["deep then filter"])
        overlap.append(len(a & b) / max(len(a), 1))
        if filters.since:
            ids_overlap.append(len(a & set(got["window ids, else deep"])) / max(len(a), 1))
    out: dict = {name: {k: _summary(ms) for k, ms in by.items()} for name, by in times.items()}
    out["questions"] = len(dated)
    out["deep_overlap_at_40_mean"] = round(sum(overlap) / max(len(overlap), 1), 3)
    out["window_ids_overlap_at_40_mean"] = round(sum(ids_overlap) / max(len(ids_overlap), 1), 3)
    out["deep_depths"] = {str(d): depths.count(d) for d in (*DEEP_STEPS, 0) if d in depths}  # 0: fell back
    out["deep_fallbacks"] = fallbacks
    # by the mean: the time a stream of such questions takes, tails included
    out["faster"] = {k: min(("filtered", "deep then filter", "deep unless a window", "window ids, else deep"),
                            key=lambda m: out[m][k]["mean_ms"]) for k in out["filtered"]}
    return out


def add_articles(settings, store, model, base: list[BaseChunk], size: int) -> tuple[dict, list[str]]:
    """10 new articles (the first 10 dev articles, new ids, dated after the newest copy) through the product's Indexer."""
    from bench_index import make_timed_embedding

    from assistant.factory import build_indexer
    from index.intake.articles import Article
    from index.text.chunking import chunk_text

    newest = max(b.published_at for b in base if b.published_at)
    day = shift_date(newest, (size // len(base)) * COPY_DAYS)
    new = []
    for article_id, art in source_articles():
        new.append(Article(id=f"{article_id}~added-{size}", text=(art.get("text") or "") + " Update.",
                           title=art.get("title") or "", url=art.get("url") or "", source=art.get("source") or "",
                           published_at=day))
        if len(new) == 10:
            break
    embed = make_timed_embedding(model)
    indexer = build_indexer(settings, store, embed)
    t0 = time.perf_counter()
    summary = indexer.index_items(new)
    total = time.perf_counter() - t0
    texts = []
    for a in new:
        texts += [f"{a.title}\n{a.text[s.start:s.end]}" for s in chunk_text(a.text, settings.chunk_size,
                                                                             settings.chunk_overlap)]
    t0 = time.perf_counter()
    model._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    raw = time.perf_counter() - t0
    out = {"articles": summary.added, "chunks": summary.chunks_embedded, "total_s": round(total, 2),
           "embedding_in_indexer_s": round(embed._timing.wall, 2), "other_s": round(total - embed._timing.wall, 2),
           "raw_embedding_s": round(raw, 2)}
    return out, [a.id for a in new]


def cli(args: list[str], data: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_INDEX_SAMPLES_ON_START": "false"}
    env.pop("ASSISTANT_CHROMA_URL", None)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1800, check=False)
    return time.perf_counter() - t0, done


def app_run(data: Path, dated: list[tuple[str, str]], timeout: float) -> dict:
    """`python app.py` on the store: start to first answer, then the questions through `/ask`."""
    with running_app(data, "bench-scale-app-", timeout) as app:
        client, proc, started, listening = app.client, app.proc, app.started, app.listening_s
        first_q, first_day = dated[0]
        client.predict(question=first_q, as_of=first_day, api_name="/ask")
        first_answer = time.monotonic() - started
        rss_first = status_kb(proc.pid, "VmRSS") / 1024
        rows: dict[str, list[dict]] = {"as of a date": []}
        for question, as_of in dated[1:]:
            t0 = time.perf_counter()
            got = client.predict(question=question, as_of=as_of, api_name="/ask")
            timings = dict(got.get("timings_ms") or {})
            timings["http"] = (time.perf_counter() - t0) * 1000
            rows["as of a date"].append(timings)
        out = {"listening_s": round(listening, 1), "start_to_first_answer_s": round(first_answer, 1),
               "rss_after_first_answer_mb": round(rss_first),
               "rss_mb": round(status_kb(proc.pid, "VmRSS") / 1024),
               "peak_rss_mb": round(status_kb(proc.pid, "VmHWM") / 1024)}
        for kind, timings in rows.items():
            keys = sorted({k for t in timings for k in t})
            out[kind] = {"n": len(timings), **{
                k: {"p50": round(percentile([t[k] for t in timings if k in t], 0.5), 1),
                    "p95": round(percentile([t[k] for t in timings if k in t], 0.95), 1)} for k in keys}}
        return out


def disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1) if path.exists() else 0.0


# ----------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,300000,1000000", help="chunk counts, comma-separated, growing")
    p.add_argument("--dir", type=Path, default=Path("/tmp/bench-scale/data"),
                   help="the data directory (emptied first unless --resume)")
    p.add_argument("--resume", action="store_true", help="grow the store already in --dir")
    p.add_argument("--base", type=int, default=2000, help="base chunks embedded for real with MiniLM")
    p.add_argument("--noise", type=float, default=0.35, help="noise added to reused vectors (relative norm)")
    p.add_argument("--questions", type=int, default=60,
                   help="questions timed in the app (after the first), as of dates inside the span")
    p.add_argument("--dense-questions", type=int, default=60, help="questions for the dense comparison")
    p.add_argument("--skip", default="", help="comma-separated steps to leave out: dense,add,app,stats,remove")
    p.add_argument("--app-timeout", type=float, default=900)
    p.add_argument("--json", help="also write the results to this file")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not (SHARED / "datasets" / "realtimeqa-train").exists():
        sys.exit(f"error: {SHARED / 'datasets'} is missing (the articles this benchmark repeats)")
    offline_env()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    skip = set(filter(None, args.skip.split(",")))
    data = args.dir
    if data.exists() and not args.resume:
        import shutil

        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)

    from assistant.factory import build_chroma_client
    from assistant.settings import Settings
    from index.models.embedding import load_minilm
    from index.storage.store import Corpus

    print(load_line(), flush=True)
    settings = Settings(data_dir=data, embedding="minilm", index_samples_on_start=False)
    t0 = time.perf_counter()
    base = base_chunks(data.parent / f"base-spans-{settings.chunk_size}-{settings.chunk_overlap}.json",
                       settings.chunk_size, settings.chunk_overlap)
    print(f"base: {len(base):,} chunks of {len({b.article_id for b in base}):,} articles "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    model = load_minilm()
    vectors = Vectors(model, base, args.base, args.noise, data.parent / f"base-vectors-{args.base}.npy")
    print(f"base vectors: {len(vectors.base)} (embedded now: {vectors.seconds:.1f} s)", flush=True)

    client = build_chroma_client(settings)
    store = Corpus(client, settings.collection_name, embedding_model="minilm-l6-v2",
                   lexical_path=settings.lexical_path, location=str(data))
    written = store.count()
    if written and not args.resume:
        sys.exit(f"error: {data} is not empty")
    store.lexical()
    results = {"load": load_line(), "base_chunks": len(base), "base_vectors": len(vectors.base),
               "noise": args.noise, "sizes": []}
    for size in sizes:
        if size < written:
            print(f"skipping {size:,}: the store already holds {written:,} chunks")
            continue
        print(f"\n== {size:,} chunks", flush=True)
        t0 = time.perf_counter()
        before = written
        written = grow(store, base, vectors, written, size)
        build_s = time.perf_counter() - t0
        row: dict = {"chunks": store.count(), "built_now": written - before, "build_s": round(build_s, 1),
                     "build_chunks_per_s": round((written - before) / build_s, 1) if written > before else None,
                     "disk_mb": {"total": disk_mb(data), "chroma": disk_mb(data / "chroma"),
                                 "lexical": disk_mb(data / "lexical")}, "load_start": load_line()}
        print(f"  built in {build_s:.0f} s; on disk {row['disk_mb']}", flush=True)
        dated = dated_questions(size, len(base), max(args.questions + 1, args.dense_questions))
        if "dense" not in skip:
            row["dense"] = dense_comparison(store, client.get_collection(settings.collection_name), model,
                                            dated[: args.dense_questions])
            print(f"  dense: {json.dumps(row['dense'])}", flush=True)
        added: list[str] = []
        if "add" not in skip:
            row["add_10"], added = add_articles(settings, store, model, base, size)
            print(f"  add 10: {json.dumps(row['add_10'])}", flush=True)
        if "app" not in skip:
            row["app"] = app_run(data, dated[: args.questions + 1], args.app_timeout)
            print(f"  app: {json.dumps(row['app'])}", flush=True)
        if "stats" not in skip:
            row["stats_s"] = []
            for _ in range(2):
                seconds, done = cli(["stats", "--json"], data)
                if done.returncode:
                    raise RuntimeError(f"assistant stats failed: {done.stderr[-500:]}")
                row["stats_s"].append(round(seconds, 2))
            row["stats_chunks"] = json.loads(done.stdout).get("chunks")
            print(f"  stats: {row['stats_s']} s ({row['stats_chunks']:,} chunks)", flush=True)
        if added and "remove" not in skip:
            row["remove_s"] = {}
            for label, ids in (("1 article", added[:1]), ("9 articles", added[1:])):
                seconds, done = cli(["remove", *ids], data)
                if done.returncode:
                    raise RuntimeError(f"assistant remove failed: {done.stderr[-500:]}")
                row["remove_s"][label] = round(seconds, 2)
            print(f"  remove: {row['remove_s']} s", flush=True)
        row["chunks_after"] = store.count()
        row["load_end"] = load_line()
        row["bench_process_rss_mb"] = [round(x) for x in memory_mb()]
        results["sizes"].append(row)
        write_json(args.json, results)  # after every size: a long run keeps what it measured
    print("\n" + json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
