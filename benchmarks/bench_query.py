"""Query latency of `retrieve` and `ask` (warm, p50/p95) as the index grows, against plain llama-index.

    python benchmarks/bench_query.py --quick     # 1k and 10k chunks, 20 timed questions (~5 min)
    python benchmarks/bench_query.py             # 1k, 10k, dev size (~12k), 100k chunks, 60 questions

The index is one embedded Chroma collection (plus our BM25 index) grown in steps; at each size the
RealTime QA dev questions are asked through `HybridRetriever.search` and `Assistant.ask` (the default
extractive answerer: real MiniLM for the question, the static model shortlisting the answer's sentences
and MiniLM embedding the best 6), after a warm-up; `ask_no_shortlist` is the same answerer with MiniLM
embedding 16 sentences and no shortlist (the default before the static model). At each
size a plain llama-index retriever over the same Chroma collection and model
(`VectorStoreIndex.from_vector_store(...).as_retriever(similarity_top_k=5)`, what its query engine calls to
retrieve; the query engine itself needs an LLM) is timed on the same questions, interleaved.

How the big index is built quickly (documented shortcut, it only affects vectors, not texts):
  - texts: the chunks of the dev articles first (real text, real metadata); beyond the dev size, copies of
    them perturbed (sentences shuffled, numbers changed, 10% of the words swapped with another chunk's)
    under new article ids, so BM25 sees a realistic vocabulary, not duplicates;
  - vectors: only `--base` chunks are embedded with MiniLM for real; every other chunk gets the vector of
    a base chunk plus Gaussian noise, renormalised. Embedding 100k chunks for real would take ~90 minutes
    on 2 cores; HNSW and the answerer do the same work on these vectors, so latency is representative,
    but retrieval quality at these sizes is not (that is measured by the evaluation, not here).
The chunks are written through `Corpus.upsert` in Chroma-sized batches with the BM25 index kept in
step incrementally, exactly as the indexer writes them.
At the largest size it also measures the incremental cost of indexing 10 new articles with the real
`Indexer` (embedding time vs everything else) and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Timing,
    dev_articles,
    dev_questions,
    load_line,
    offline_env,
    peak_rss_mb,
    percentile,
    timed,
    write_json,
)

SIZES = {"1k": 1_000, "10k": 10_000, "dev": -1, "100k": 100_000}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="sizes 1k,10k; 20 questions; 256 base vectors")
    p.add_argument("--sizes", help="comma-separated from 1k,10k,dev,100k (dev = all dev chunks, ~12k)")
    p.add_argument("--questions", type=int, help="timed questions per size (default 20 quick, 60 full)")
    p.add_argument("--warmup", type=int, default=5, help="untimed questions before timing")
    p.add_argument("--base", type=int, help="chunks embedded for real (default 256 quick, 1024 full)")
    p.add_argument("--noise", type=float, default=0.35, help="noise added to reused vectors (relative norm)")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--no-incremental", action="store_true", help="skip the 10-new-articles measurement")
    p.add_argument("--keep-data", action="store_true", help="keep the temporary index")
    p.add_argument("--json", help="also write the results to this file")
    return p


# ----------------------------------------------------------------------------------- corpus


def dev_chunks(articles, chunk_size=256, chunk_overlap=32):
    """(article, StoredChunk) for every chunk of the dev articles, as the indexer would store them."""
    from index.indexer import Indexer
    from index.storage.store import StoredChunk, chunk_id_for
    from index.text.chunking import chunk_text

    fp_of = Indexer(None, None, chunk_size=chunk_size, chunk_overlap=chunk_overlap).fingerprint
    out = []
    for a in articles:
        fp = fp_of(a)
        spans = chunk_text(a.text, chunk_size, chunk_overlap)
        for s in spans:
            out.append((len(spans), StoredChunk(
                chunk_id=chunk_id_for(a.id, fp, s.index), article_id=a.id, text=a.text[s.start : s.end],
                start=s.start, end=s.end, title=a.title, source=a.source, url=a.url,
                published_at=a.published_at, chunk_index=s.index, fingerprint=fp)))
    return out


_NUMBER = re.compile(r"\d+")


def perturbed(chunk, n_chunks: int, variant: int, rng: random.Random, vocabulary: list[str]):
    """A copy of `chunk` under a new article id, with shuffled sentences, new numbers and swapped words."""
    from dataclasses import replace

    from index.text.sentences import split_sentences

    sentences = [chunk.text[s.start : s.end] for s in split_sentences(chunk.text)] or [chunk.text]
    rng.shuffle(sentences)
    words = _NUMBER.sub(lambda m: str(rng.randint(1, 9999)), " ".join(sentences)).split(" ")
    for i in range(len(words)):
        if rng.random() < 0.10:
            words[i] = rng.choice(vocabulary)
    text = " ".join(words)
    article_id = f"{chunk.article_id}~v{variant}"
    return n_chunks, replace(chunk, chunk_id=f"{chunk.chunk_id}~v{variant}", article_id=article_id, text=text,
                             start=0, end=len(text))


def corpus(dev, total: int, rng: random.Random):
    """The first `total` chunks: the dev chunks, then perturbed copies of them."""
    yield from dev[:total]
    vocabulary = [w for _, c in dev[:2000] for w in c.text.split(" ") if w.isalpha()]
    variant = 0
    produced = len(dev)
    while produced < total:
        variant += 1
        for n, chunk in dev:
            if produced >= total:
                return
            yield perturbed(chunk, n, variant, rng, vocabulary)
            produced += 1


class VectorSource:
    """Real MiniLM vectors for `base` chunks; noisy copies of them for every other chunk."""

    def __init__(self, model, base_texts: list[str], noise: float, seed: int = 0):
        import numpy as np

        self.np = np
        t0 = time.perf_counter()
        self.base = np.asarray(model.get_text_embedding_batch(base_texts), dtype=np.float32)
        self.seconds = time.perf_counter() - t0
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def vectors(self, n: int):
        np = self.np
        picks = self.base[self.rng.integers(0, len(self.base), n)]
        noise = self.rng.standard_normal(picks.shape).astype(np.float32)
        noise *= self.noise / np.sqrt(picks.shape[1])
        out = picks + noise
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


# ----------------------------------------------------------------------------------- timing


def time_calls(fn, questions: list[str], warmup: int) -> list[float]:
    for q in questions[:warmup]:
        fn(q)
    out = []
    for q in questions[warmup:]:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1), "n": len(ms)}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    offline_env()
    data = Path(tempfile.mkdtemp(prefix="bench-query-"))
    try:
        return run(args, data)
    finally:
        if args.keep_data:
            print(f"index kept in {data} (e.g. python benchmarks/app_memory.py --data-dir {data})")
        else:
            shutil.rmtree(data, ignore_errors=True)


def run(args, data: Path) -> int:
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.factory import build_assistant, build_chroma_client
    from assistant.settings import Settings
    from index.models.embedding import load_minilm
    from index.storage.store import Corpus, make_node

    sizes = (args.sizes or ("1k,10k" if args.quick else "1k,10k,dev,100k")).split(",")
    n_questions = args.questions or (20 if args.quick else 60)
    n_base = args.base or (256 if args.quick else 1024)
    questions = dev_questions(n_questions + args.warmup)
    print(load_line())
    print(f"torch threads: {torch.get_num_threads()}; sizes {sizes}; {n_questions} timed questions after "
          f"{args.warmup} warm-up; {n_base} real base vectors, noise {args.noise}")

    model = load_minilm()
    model.get_query_embedding("warm up")
    articles = dev_articles()
    dev = dev_chunks(articles)
    targets = sorted((len(dev) if SIZES[s] < 0 else SIZES[s], s) for s in sizes)
    rng = random.Random(0)
    base_idx = sorted(rng.sample(range(len(dev)), min(n_base, len(dev))))
    vectors = VectorSource(model, [f"{dev[i][1].title}\n{dev[i][1].text}" for i in base_idx], args.noise)
    print(f"dev corpus: {len(articles)} articles, {len(dev)} chunks; embedded {len(base_idx)} base chunks in "
          f"{vectors.seconds:.1f} s")

    settings = Settings(data_dir=data, embedding="minilm", index_samples_on_start=False, top_k=args.top_k)
    client = build_chroma_client(settings)
    store = Corpus(client, settings.collection_name, embedding_model="minilm-l6-v2",
                       lexical_path=settings.lexical_path, location="bench")
    store.lexical()  # loaded before writing, so it is kept in step incrementally as the indexer would
    assistant = build_assistant(settings, store=store, embed_model=model)
    # the same answerer without the static shortlist (MiniLM embeds 16 sentences), to show what it saves
    full = build_assistant(settings.model_copy(update={"sentence_shortlist": False}), store=store,
                           embed_model=model)
    collection = client.get_collection(settings.collection_name)  # the store's, as plain llama-index sees it
    llama_retriever = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection), embed_model=model
    ).as_retriever(similarity_top_k=args.top_k)

    stream = corpus(dev, targets[-1][0], random.Random(1))
    written = 0
    results = {"load": load_line(), "torch_threads": torch.get_num_threads(), "sizes": []}
    for target, label in targets:
        build = Timing()
        with timed(build), store.writing():
            while written < target:
                batch = []
                for item in stream:
                    batch.append(item)
                    if len(batch) >= store.max_batch or written + len(batch) >= target:
                        break
                if not batch:
                    break
                vecs = vectors.vectors(len(batch))
                store.upsert([make_node(c, n_chunks=n, embedding=v.tolist()) for (n, c), v in zip(batch, vecs)])
                written += len(batch)
        count = store.count()
        assert count == written == len(store.lexical()), (count, written, len(store.lexical()))

        retrieve_ms, llama_ms, ask_ms, full_ms = [], [], [], []
        parts: dict[str, list[float]] = {}
        for q in questions[: args.warmup]:
            assistant.retriever.search(q, args.top_k)
            llama_retriever.retrieve(q)
            assistant.ask(q)
            full.ask(q)
        for q in questions[args.warmup :]:  # interleaved, so load spikes hit all four alike
            t0 = time.perf_counter()
            assistant.retriever.search(q, args.top_k)
            t1 = time.perf_counter()
            llama_retriever.retrieve(q)
            t2 = time.perf_counter()
            answer = assistant.ask(q)
            t3 = time.perf_counter()
            full.ask(q)
            full_ms.append((time.perf_counter() - t3) * 1000)
            retrieve_ms.append((t1 - t0) * 1000)
            llama_ms.append((t2 - t1) * 1000)
            ask_ms.append((t3 - t2) * 1000)
            for key, value in answer.timings_ms.items():
                parts.setdefault(key, []).append(value)
        row = {
            "size": label, "chunks": count, "build_s": round(build.wall, 1),
            "retrieve": summary(retrieve_ms), "ask": summary(ask_ms),
            "ask_no_shortlist": summary(full_ms), "llamaindex_retrieve": summary(llama_ms),
            "retrieve_ratio_llamaindex_over_ours": round(percentile(llama_ms, 0.5) / percentile(retrieve_ms, 0.5), 2),
            "ask_parts_p50_ms": {k: round(percentile(v, 0.5), 1) for k, v in parts.items()},
            "peak_rss_mb": round(peak_rss_mb()), "load": load_line(),
        }
        results["sizes"].append(row)
        print(f"\n{label}: {count} chunks (built in {build.wall:.1f} s)  {row['load']}")
        for name in ("retrieve", "ask", "ask_no_shortlist", "llamaindex_retrieve"):
            print(f"  {name:20} p50 {row[name]['p50_ms']:8.1f} ms   p95 {row[name]['p95_ms']:8.1f} ms")
        print(f"  llama-index / ours retrieve p50 ratio: {row['retrieve_ratio_llamaindex_over_ours']:.2f}")
        print(f"  ask parts p50 (ms): {row['ask_parts_p50_ms']}")

    if not args.no_incremental:
        results["incremental"] = incremental(assistant, articles, model)
    results["peak_rss_mb"] = round(peak_rss_mb())
    print(f"\npeak RSS of this process: {results['peak_rss_mb']} MB")
    write_json(args.json, results)
    return 0


def incremental(assistant, articles, model) -> dict:
    """Index 10 new articles into the big index with the real Indexer; compare with their embedding time."""
    from dataclasses import replace

    from bench_index import embedding_texts, make_timed_embedding

    from index.indexer import Indexer

    new = [replace(a, id=f"new-{a.id}", text="Update. " + a.text, content_hash="") for a in articles[-10:]]
    embed = make_timed_embedding(model)
    indexer = Indexer(assistant.store, embed, chunk_size=256, chunk_overlap=32, batch_size=32)
    total = Timing()
    with timed(total):
        summary = indexer.index_items(new)
    raw = Timing()
    texts = embedding_texts(new, 256, 32)
    with timed(raw):
        model._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    out = {"articles": summary.added, "chunks": summary.chunks_embedded, "total_s": round(total.wall, 2),
           "embedding_in_indexer_s": round(embed._timing.wall, 2), "raw_embedding_s": round(raw.wall, 2),
           "other_s": round(total.wall - embed._timing.wall, 2), "index_chunks": assistant.store.count()}
    print(f"\nadding 10 new articles ({out['chunks']} chunks) to a {out['index_chunks']}-chunk index: "
          f"{out['total_s']} s total, {out['embedding_in_indexer_s']} s embedding, {out['other_s']} s everything "
          f"else (raw embedding of the same chunks: {out['raw_embedding_s']} s)")
    return out


if __name__ == "__main__":
    sys.exit(main())
