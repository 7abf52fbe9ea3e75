"""Measure the citation-verification signals and pick `assistant.answering.verify.Bounds`.

    python benchmarks/verify_bounds.py [--embedding minilm|hashing]

Cases (benchmarks/data/verify_cases.jsonl) are hand-written answer sentences about the sample articles:
`supported` ones paraphrase a fact of their article, the others state on-topic facts the article does not.
The articles are chunked as the indexer does (256 tokens, 32 overlap); idf comes from those chunks.
Three groups are scored with the best chunk of each group:
  positive      supported sentence vs the chunks of its own article     -> should be accepted
  wrong-marker  supported sentence vs the chunks of every other article -> should be rejected
  unsupported   unsupported sentence vs the chunks of its own article   -> should be rejected
It prints each group's coverage / similarity spread, then the acceptance rates for a grid of bounds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.verify import Bounds, CitationVerifier
from assistant.types import Passage
from index.intake.articles import Article, read_articles
from index.storage.lexical import LexicalDoc, LexicalIndex
from index.storage.store import StoredChunk
from index.text.chunking import chunk_text


def passages() -> list[Passage]:
    out = []
    for item in read_articles([ROOT / "samples" / "articles"]):
        if not isinstance(item, Article):
            continue
        for span in chunk_text(item.text, 256, 32):
            chunk = StoredChunk(f"{item.id}#{span.index}", item.id, item.text[span.start : span.end],
                                span.start, span.end, title=item.title)
            out.append(Passage(chunk, 1.0, rank=len(out) + 1))
    return out


def spread(values: list[float]) -> str:
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]
    return f"min {v[0]:.2f}  p10 {pick(0.1):.2f}  median {pick(0.5):.2f}  p90 {pick(0.9):.2f}  max {v[-1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedding", choices=["minilm", "hashing"], default="minilm")
    args = parser.parse_args()
    if args.embedding == "minilm":
        from index.models.embedding import load_minilm

        embed = load_minilm().get_text_embedding_batch
    else:
        from index.models.embedding import HashingEmbedding

        embed = HashingEmbedding().get_text_embedding_batch
    ps = passages()
    lexical = LexicalIndex()
    lexical.add(LexicalDoc(p.chunk.chunk_id, p.chunk.article_id, "", 0, f"{p.chunk.title}\n{p.chunk.text}")
                for p in ps)
    verifier = CitationVerifier(ps, embed, lexical.idf)
    cases = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "verify_cases.jsonl").open()]
    groups: dict[str, list[tuple[float, float]]] = {"positive": [], "wrong-marker": [], "unsupported": []}
    per_sentence: list[list[tuple[float, float]]] = []  # unsupported: a sentence passes if any chunk does
    for case in cases:
        supports = verifier.supports(case["sentence"])
        own = [s for s in supports if ps[s.index].chunk.article_id == case["article"]]
        other = [s for s in supports if ps[s.index].chunk.article_id != case["article"]]
        if case["supported"]:
            best = max(own, key=lambda x: x.coverage + x.similarity)
            groups["positive"].append((best.coverage, best.similarity))
            # a wrong marker is accepted if ANY other article's chunk passes: keep the per-chunk pairs
            groups["wrong-marker"].extend((s.coverage, s.similarity) for s in other)
        else:
            groups["unsupported"].extend((s.coverage, s.similarity) for s in own)
            per_sentence.append([(s.coverage, s.similarity) for s in own])
    print(f"{len(cases)} cases, {len(ps)} chunks, embedding {args.embedding}")
    for name, pairs in groups.items():
        print(f"{name:13} n={len(pairs):4}  coverage   {spread([c for c, _ in pairs])}")
        print(f"{'':13} {'':6}  similarity {spread([s for _, s in pairs])}")
    default = Bounds.for_embedding(args.embedding)
    print("\naccepted share per bound (positive: higher is better; others: lower is better)")
    print(f"{'min_coverage':>12} {'min_similarity':>14} {'positive':>9} {'wrong-marker':>13} {'unsupported':>12}")
    for cov in (0.4, 0.5, 0.6, 0.7):
        for sim in (0.25, 0.3, 0.4, 0.45, 0.5, 0.6):
            rates = []
            for name, pairs in groups.items():
                if name == "unsupported":  # a sentence is accepted if any chunk of its article passes
                    rates.append(sum(any(c >= cov and s >= sim for c, s in sentence) for sentence in per_sentence)
                                 / len(per_sentence))
                else:
                    rates.append(sum(c >= cov and s >= sim for c, s in pairs) / len(pairs))
            mark = f"  <- Bounds.for_embedding({args.embedding!r})" if (cov, sim) == (default.min_coverage, default.min_similarity) else ""
            print(f"{cov:12.2f} {sim:14.2f} {rates[0]:9.0%} {rates[1]:13.1%} {rates[2]:12.0%}{mark}")


if __name__ == "__main__":
    main()
