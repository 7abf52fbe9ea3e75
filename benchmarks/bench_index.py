"""Indexing throughput of the `Indexer` next to the raw throughput of the embedding model, same run.

    python benchmarks/bench_index.py --quick          # 60 dev articles, ~2-4 min on 2 idle cores
    python benchmarks/bench_index.py                  # all 1,371 RealTime QA dev articles (~12k chunks)
    python benchmarks/bench_index.py --compare 0      # skip the llama-index comparison
    python benchmarks/bench_index.py --no-static      # skip the static-embedding measurement
    python benchmarks/bench_index.py --quick --compare 0 --scale 60000   # + a 60k-chunk static import

What is measured, on the shared RealTime QA dev articles and all-MiniLM-L6-v2 (torch CPU):
  raw       the sentence-transformers model alone (`encode`, batch 32) on exactly the texts the indexer
            embeds (chunk text with its title line), given all at once so it may sort them by length;
  pipeline  `Indexer.index_items` into a fresh embedded Chroma: chunking, embedding, Chroma writes, BM25
            upkeep is lazy (not loaded during a CLI index), progress bookkeeping;
  embed-in-pipeline  the time the pipeline spent inside the embedding model (a timing wrapper).
The articles are split into groups and, group by group, raw and pipeline run back to back in alternating
order, so a busy neighbour on a shared machine slows both sides alike. Wall and process-CPU seconds are
both reported; overhead = pipeline / raw - 1.

The comparison (`--compare N`, default: the same articles in --quick, 200 otherwise) indexes the first N
articles with a plain llama-index `VectorStoreIndex.from_documents` (its defaults: SentenceSplitter
1024/200, same embedding model, which reads the first 256 word pieces of a node, its own fresh Chroma
collection) and with our `Indexer` at our settings, back to back, and reports the time ratio.
`python benchmarks/bench_index.py --articles 60 --no-static --compare 1371` compares on the whole dev set.

Then the fast option for bulk imports: the static model distilled from MiniLM (`--embedding static`)
alone on the same texts and through the `Indexer` (batch 256, fresh store), with speed-ups over MiniLM.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Timing, dev_articles, load_line, offline_env, peak_rss_mb, timed, write_json


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="60 articles, 3 groups")
    p.add_argument("--articles", type=int, help="number of dev articles (default: all, or 60 with --quick)")
    p.add_argument("--groups", type=int, help="interleaved groups (default 3 quick, 8 full)")
    p.add_argument("--compare", type=int, help="articles for the llama-index comparison (0 = skip)")
    p.add_argument("--chunk-size", type=int, default=1024)
    p.add_argument("--chunk-overlap", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32, help="model batch size (both sides)")
    p.add_argument("--pipeline-batch", type=int, default=32,
                   help="chunks the Indexer embeds and writes per step (the assistant uses 32)")
    p.add_argument("--no-static", action="store_true", help="skip the static-embedding measurement")
    p.add_argument("--scale", type=int, default=0,
                   help="also index a generated corpus of about this many chunks (dev articles, then perturbed "
                        "copies) with the static model, reporting throughput as the collection grows")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--keep-data", action="store_true", help="keep the temporary Chroma stores")
    p.add_argument("--json", help="also write the results to this file")
    return p


def make_timed_embedding(inner):
    """The same model behind a wrapper that adds up the time spent inside it."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class TimedEmbedding(BaseEmbedding):
        _inner: object = PrivateAttr()
        _timing: Timing = PrivateAttr()

        def __init__(self, inner):
            super().__init__(model_name=inner.model_name, embed_batch_size=inner.embed_batch_size)
            self._inner = inner
            self._timing = Timing()

        def _get_text_embeddings(self, texts):
            with timed(self._timing):
                return self._inner._get_text_embeddings(texts)

        def _get_text_embedding(self, text):
            return self._get_text_embeddings([text])[0]

        def _get_query_embedding(self, query):
            return self._inner._get_query_embedding(query)

        async def _aget_query_embedding(self, query):
            return self._inner._get_query_embedding(query)

    return TimedEmbedding(inner)


def embedding_texts(articles, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Exactly what the indexer embeds: each chunk's text, after its article's title line."""
    from index.text.chunking import chunk_text

    texts = []
    for a in articles:
        for span in chunk_text(a.text, chunk_size, chunk_overlap):
            body = a.text[span.start : span.end]
            texts.append(f"{a.title}\n{body}" if a.title else body)
    return texts


def fresh_store(root: Path, name: str):
    """A new store in `root/name`, its settings, and the Chroma client it is built on."""
    from assistant.factory import build_chroma_client
    from assistant.settings import Settings
    from index.storage.store import Corpus

    settings = Settings(data_dir=root / name, embedding="minilm")
    client = build_chroma_client(settings)
    return Corpus(client, settings.collection_name, embedding_model="minilm-l6-v2",
                  lexical_path=settings.lexical_path, location=name), settings, client


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    offline_env()
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        return run(args, tmp)
    finally:
        if not args.keep_data:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp: Path) -> int:
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from index.indexer import Indexer
    from index.models.embedding import load_minilm

    n_articles = args.articles or (60 if args.quick else None)
    groups = args.groups or (3 if args.quick else 8)
    compare = args.compare if args.compare is not None else (20 if args.quick else 200)
    articles = dev_articles(n_articles)
    print(load_line())
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"articles: {len(articles)}, chunk size {args.chunk_size}/{args.chunk_overlap}, "
          f"model batch {args.batch_size}, Indexer batch {args.pipeline_batch}, {groups} interleaved groups")

    model = load_minilm(batch_size=args.batch_size)
    st_model = model._model  # the sentence-transformers model the llama-index wrapper drives
    st_model.encode(["warm up the model"] * 8, batch_size=args.batch_size)
    embed = make_timed_embedding(model)

    store, _, _ = fresh_store(tmp, "ours")
    indexer = Indexer(store, embed, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap,
                      batch_size=args.pipeline_batch)

    raw, pipe = Timing(), Timing()
    n_chunks = 0
    size = -(-len(articles) // groups)
    for g in range(groups):
        part = articles[g * size : (g + 1) * size]
        if not part:
            continue
        texts = embedding_texts(part, args.chunk_size, args.chunk_overlap)

        def run_raw(texts=texts):
            with timed(raw):
                st_model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)

        def run_pipe(part=part, texts=texts):
            with timed(pipe):
                summary = indexer.index_items(part)
            if summary.chunks_embedded != len(texts) or summary.failed:
                sys.exit(f"error: indexer embedded {summary.chunks_embedded} chunks, expected {len(texts)}")

        for step in ((run_raw, run_pipe) if g % 2 == 0 else (run_pipe, run_raw)):
            step()
        n_chunks += len(texts)
        print(f"  group {g + 1}/{groups}: {len(part)} articles, {len(texts)} chunks, "
              f"raw {raw.wall:.1f} s, pipeline {pipe.wall:.1f} s so far")

    inside = embed._timing
    result = {
        "articles": len(articles), "chunks": n_chunks, "load": load_line(),
        "torch_threads": torch.get_num_threads(),
        "raw_wall_s": round(raw.wall, 2), "raw_cpu_s": round(raw.cpu, 2),
        "pipeline_wall_s": round(pipe.wall, 2), "pipeline_cpu_s": round(pipe.cpu, 2),
        "embed_in_pipeline_wall_s": round(inside.wall, 2),
        "raw_chunks_per_s": round(n_chunks / raw.wall, 2),
        "pipeline_chunks_per_s": round(n_chunks / pipe.wall, 2),
        "overhead_wall_pct": round(100 * (pipe.wall / raw.wall - 1), 1),
        "overhead_cpu_pct": round(100 * (pipe.cpu / raw.cpu - 1), 1),
        "non_embedding_share_pct": round(100 * (1 - inside.wall / pipe.wall), 1),
    }
    print(f"\nindexing {n_chunks} chunks of {len(articles)} articles")
    print(f"  raw embedding (model alone): {result['raw_chunks_per_s']:8.2f} chunks/s  "
          f"({raw.wall:.1f} s wall, {raw.cpu:.1f} s cpu)")
    print(f"  Indexer pipeline:            {result['pipeline_chunks_per_s']:8.2f} chunks/s  "
          f"({pipe.wall:.1f} s wall, {pipe.cpu:.1f} s cpu)")
    print(f"  overhead over raw embedding: {result['overhead_wall_pct']:+.1f}% wall, "
          f"{result['overhead_cpu_pct']:+.1f}% cpu   (target <= 10%)")
    print(f"  inside the model during the pipeline: {inside.wall:.1f} s; everything else "
          f"{pipe.wall - inside.wall:.1f} s ({result['non_embedding_share_pct']:.1f}% of the pipeline)")

    if not args.no_static:
        result["static"] = static_embedding(articles, raw.wall / n_chunks, pipe.wall / n_chunks, tmp, args)
    if args.scale:
        result["scale"] = scale_run(articles if args.articles else dev_articles(), args.scale, tmp, args)
    if compare:
        result["comparison"] = compare_llamaindex(dev_articles(compare), model, embed, tmp, args)
    result["peak_rss_mb"] = round(peak_rss_mb())
    print(load_line())
    write_json(args.json, result)
    return 0


def static_embedding(articles, minilm_raw_s_per_chunk: float, minilm_pipe_s_per_chunk: float, tmp: Path,
                     args) -> dict:
    """The fast bulk-import option: the static model distilled from MiniLM, raw and through the Indexer
    (its batch of 256), on the same articles; speed-ups against MiniLM's raw / pipeline figures above."""
    from assistant.settings import Settings
    from index.indexer import Indexer
    from index.models.static_embedding import load_static

    model = load_static(Settings().models_path, log=print)
    texts = embedding_texts(articles, args.chunk_size, args.chunk_overlap)
    model.embed(texts[:64])  # warm up
    raw = Timing()
    with timed(raw):
        for start in range(0, len(texts), 256):
            model.embed(texts[start : start + 256])
    store, _, _ = fresh_store(tmp, "static")
    indexer = Indexer(store, model, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap, batch_size=256)
    pipe = Timing()
    with timed(pipe):
        summary = indexer.index_items(articles)
    if summary.chunks_embedded != len(texts) or summary.failed:
        sys.exit(f"error: static indexer embedded {summary.chunks_embedded} chunks, expected {len(texts)}")
    n = len(texts)
    out = {
        "chunks": n, "raw_chunks_per_s": round(n / raw.wall, 1), "pipeline_chunks_per_s": round(n / pipe.wall, 1),
        "raw_speedup_over_minilm": round(minilm_raw_s_per_chunk / (raw.wall / n), 1),
        "pipeline_speedup_over_minilm_pipeline": round(minilm_pipe_s_per_chunk / (pipe.wall / n), 1),
        "raw_cpu_s": round(raw.cpu, 2), "pipeline_cpu_s": round(pipe.cpu, 2),
    }
    print(f"\nstatic embedding (distilled from MiniLM), {n} chunks:")
    print(f"  raw:      {out['raw_chunks_per_s']:9.1f} chunks/s = {out['raw_speedup_over_minilm']}x MiniLM raw")
    print(f"  Indexer:  {out['pipeline_chunks_per_s']:9.1f} chunks/s = "
          f"{out['pipeline_speedup_over_minilm_pipeline']}x the MiniLM Indexer  (target: model >= 20x)")
    return out


def perturbed_articles(articles, target_chunks: int, chunks_per_article: float, seed: int = 0):
    """The dev articles, then copies under new ids (numbers changed, 10% of the words swapped with words
    of other articles) until about `target_chunks` chunks: a bigger corpus with a realistic vocabulary."""
    import random
    import re
    from dataclasses import replace

    rng = random.Random(seed)
    vocabulary = [w for a in articles[:300] for w in a.text.split(" ") if w.isalpha()]
    number = re.compile(r"\d+")
    yield from articles
    produced, variant = len(articles) * chunks_per_article, 0
    while produced < target_chunks:
        variant += 1
        for a in articles:
            if produced >= target_chunks:
                return
            words = number.sub(lambda m: str(rng.randint(1, 9999)), a.text).split(" ")
            for i in range(len(words)):
                if rng.random() < 0.10:
                    words[i] = rng.choice(vocabulary)
            yield replace(a, id=f"{a.id}~v{variant}", text=" ".join(words), content_hash="")
            produced += chunks_per_article


def scale_run(articles, target_chunks: int, tmp: Path, args, step_articles: int = 1000) -> dict:
    """Index a generated corpus with the static model in steps of `step_articles`; chunks/s per step."""
    from assistant.settings import Settings
    from index.indexer import Indexer
    from index.models.static_embedding import load_static

    model = load_static(Settings().models_path, log=print)
    per_article = len(embedding_texts(articles[:200], args.chunk_size, args.chunk_overlap)) / min(200, len(articles))
    corpus = list(perturbed_articles(articles, target_chunks, per_article))
    store, _, _ = fresh_store(tmp, "scale")
    indexer = Indexer(store, model, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap, batch_size=256)
    print(f"\nscale run: {len(corpus)} articles (~{target_chunks} chunks) with the static model, "
          f"steps of {step_articles} articles")
    steps, total, chunks = [], Timing(), 0
    for start in range(0, len(corpus), step_articles):
        step = Timing()
        with timed(step), timed(total):
            summary = indexer.index_items(corpus[start : start + step_articles])
        chunks += summary.chunks_embedded
        steps.append({"chunks_after": chunks, "chunks": summary.chunks_embedded, "wall_s": round(step.wall, 2),
                      "chunks_per_s": round(summary.chunks_embedded / step.wall, 1)})
        print(f"  {chunks:7d} chunks in the collection: this step {steps[-1]['chunks_per_s']:7.1f} chunks/s")
    out = {"articles": len(corpus), "chunks": chunks, "wall_s": round(total.wall, 1),
           "chunks_per_s": round(chunks / total.wall, 1), "steps": steps, "peak_rss_mb": round(peak_rss_mb())}
    print(f"  total: {chunks} chunks in {total.wall:.1f} s = {out['chunks_per_s']} chunks/s "
          f"(peak RSS {out['peak_rss_mb']} MB)")
    return out


def compare_llamaindex(articles, model, embed, tmp: Path, args) -> dict:
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.indexer import Indexer

    ours, theirs = Timing(), Timing()
    counts = {}

    def run_ours():
        store, _, _ = fresh_store(tmp, "cmp-ours")
        indexer = Indexer(store, embed, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap,
                          batch_size=args.pipeline_batch)
        with timed(ours):
            indexer.index_items(articles)
        counts["ours"] = store.count()

    def run_theirs():
        store, settings, client = fresh_store(tmp, "cmp-llamaindex")
        docs = [Document(text=a.text, id_=a.id, metadata={"title": a.title, "source": a.source, "url": a.url,
                                                            "published_at": a.published_at}) for a in articles]
        vector_store = ChromaVectorStore(chroma_collection=client.get_collection(settings.collection_name))
        with timed(theirs):
            VectorStoreIndex.from_documents(
                docs, storage_context=StorageContext.from_defaults(vector_store=vector_store), embed_model=model,
                transformations=[SentenceSplitter()],  # llama-index's defaults (1024/200)
            )
        counts["llamaindex"] = store.count()

    run_theirs()
    run_ours()
    out = {
        "articles": len(articles), "ours_chunks": counts["ours"], "llamaindex_chunks": counts["llamaindex"],
        "ours_wall_s": round(ours.wall, 2), "llamaindex_wall_s": round(theirs.wall, 2),
        "ours_chunks_per_s": round(counts["ours"] / ours.wall, 2),
        "llamaindex_chunks_per_s": round(counts["llamaindex"] / theirs.wall, 2),
        "time_ratio_llamaindex_over_ours": round(theirs.wall / ours.wall, 2),
    }
    print(f"\nllama-index VectorStoreIndex.from_documents vs our Indexer, {len(articles)} articles, same model "
          "and Chroma:")
    print(f"  llama-index: {theirs.wall:7.1f} s for {counts['llamaindex']} chunks "
          f"({out['llamaindex_chunks_per_s']:.2f} chunks/s)")
    print(f"  ours:        {ours.wall:7.1f} s for {counts['ours']} chunks ({out['ours_chunks_per_s']:.2f} chunks/s)")
    print(f"  time ratio llama-index / ours: {out['time_ratio_llamaindex_over_ours']:.2f}")
    return out


if __name__ == "__main__":
    sys.exit(main())
