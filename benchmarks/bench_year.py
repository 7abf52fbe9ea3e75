"""A year of news against the peer (issue 21, part 4): the training set's 10,602 articles indexed by
`assistant index` and by plain llama-index defaults on the same model, each as one whole process.

    python benchmarks/bench_year.py --json /tmp/bench-year/year.json              # the full run (~1 h+, 2 cores)
    python benchmarks/bench_year.py --limit 150 --json /tmp/bench-year/small.json  # a quick try (~5 min)
    python benchmarks/bench_year.py --side ours --limit 150                        # one side only
    ASSISTANT_DEVICE=auto python benchmarks/bench_year.py --side ours              # chunks/s on a GPU, if any

Data: `../shared/datasets/realtimeqa-train` (NEWS_ASSISTANT_SHARED elsewhere): articles.jsonl (10,602
articles: each question's evidence digest `ev-<id>` and that week's search results) and questions.jsonl
(1,513 questions, one evidence id each). `--limit N` takes the first N articles (the same file for both
sides) and the questions whose evidence ids are all among them.

Each side, one after the other, in a fresh directory (`--dir`, default a temporary one):
  ours        `assistant index ARTICLES --data-dir D --embedding minilm` as one process (the product's
              defaults: 1,024/128-token chunks, MiniLM on ASSISTANT_DEVICE, default auto, Chroma, the
              lexical side, wire-copy grouping), then `assistant stats --json` for the chunks; retrieval:
              `assistant eval QUESTIONS --top-k 5` twice, as of each question's `asked_at` (the product's
              default) and with `--ignore-dates` (plain llama-index has no dates: the like-for-like figure);
              only its retrieval metrics are kept (eval also answers every question: its time is reported
              apart, never in the indexing time);
  llamaindex  this script as one process (`--_llamaindex-worker index`): the articles read with `json` as
              llama-index `Document`s (id = article id; title, source, url, published_at as metadata, as
              bench_index.py's comparison), `VectorStoreIndex.from_documents` with llama-index's defaults
              (SentenceSplitter 1,024/200, its batch sizes), the same all-MiniLM-L6-v2 the product loads
              (`index.models.embedding.load_minilm`, on ASSISTANT_DEVICE), a fresh persistent Chroma
              collection of its own (chromadb defaults); then a second process (`--_llamaindex-worker
              retrieve`) asks every question through `index.as_retriever(similarity_top_k=20)`.
Before both, one untimed process imports torch, chromadb and llama-index, so that neither side pays for
reading them from disk first.

Timed for indexing: the whole process (imports, model load, reading, chunking, embedding, writes, exit):
wall seconds, and CPU seconds (user + system of the process and its children, from getrusage); chunks/s =
chunks / wall. Also in the JSON: `in_process_s`, each side's own time from reading the articles to the
end of indexing (ours: the index summary's seconds; both include loading the model, neither the interpreter
start nor the imports before it), and the process's voluntary (waits) and involuntary (preempted) context
switches. hit@k and MRR@10 are article-level and computed the same way on both sides
(`assistant.evaluation.metrics`): the ranked passages (20 of them: eval's PROBE_DEPTH) become the distinct
articles in order of their best passage; a hit@5 when an evidence article is among the first 5; questions
without evidence ids are not scored. Eval counts a retrieved wire copy of an evidence article (same group,
`index.text.grouping`) as that article; the llama-index figures are given both with exact ids and with the
same copies counted (the groups read from our side's store, when it was built in the same run).

A busy machine lengthens the wall times of both sides (each runs alone, one after the other, so a neighbour
that comes or goes between them moves the ratio); CPU seconds much less so. The load average is printed
before and after each side. Run it under `nice` on a shared machine, and on an idle one for the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, SHARED, load_line, write_json

TRAIN = SHARED / "datasets" / "realtimeqa-train"
ARTICLES = TRAIN / "articles.jsonl"
QUESTIONS = TRAIN / "questions.jsonl"
DEPTH = 20  # passages / nodes ranked per question for the retrieval metrics (eval's PROBE_DEPTH)
KS = (1, 5, 10)
COLLECTION = "llamaindex"
# Environment the children keep: everything but the product's own settings, which would move it off its
# defaults (ASSISTANT_DEVICE is the one the issue asks to pass through).
KEPT_SETTINGS = {"ASSISTANT_DEVICE", "ASSISTANT_CHECK_OVERRIDES"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--side", choices=("ours", "llamaindex", "both"), default="both")
    p.add_argument("--limit", type=int, help="index only the first N articles (and score the questions whose "
                                             "evidence is among them): a quick try")
    p.add_argument("--articles", default=str(ARTICLES), help="articles JSONL (default: the training set's)")
    p.add_argument("--questions", default=str(QUESTIONS), help="questions JSONL (default: the training set's)")
    p.add_argument("--dir", help="work directory for both stores and the logs (default: a temporary one, "
                                 "removed at the end unless --keep-data); must not hold a previous run")
    p.add_argument("--keep-data", action="store_true", help="keep the work directory")
    p.add_argument("--no-eval", action="store_true", help="indexing only (no retrieval figures)")
    p.add_argument("--json", help="also write the results to this file")
    # the llama-index side's processes (this same script)
    p.add_argument("--_llamaindex-worker", dest="worker", choices=("index", "retrieve"), help=argparse.SUPPRESS)
    p.add_argument("--_store", dest="store", help=argparse.SUPPRESS)
    p.add_argument("--_out", dest="out", help=argparse.SUPPRESS)
    return p


# ----------------------------------------------------------------------------------- inputs


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def prepare_inputs(articles: Path, questions: Path, limit: int | None, work: Path) -> dict:
    """The articles and questions both sides get: the files as given, or with `limit`, the first `limit`
    articles (their lines as they are) and the questions whose evidence ids are all among them, written
    into `work`. Returns the paths, the article ids and the questions with evidence."""
    if limit:
        lines: list[str] = []
        with open(articles, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    lines.append(line if line.endswith("\n") else line + "\n")
                    if len(lines) == limit:
                        break
        ids = [json.loads(line)["id"] for line in lines]
        wanted = set(ids)
        kept = [q for q in read_jsonl(questions) if q.get("evidence_ids") and set(q["evidence_ids"]) <= wanted]
        work.mkdir(parents=True, exist_ok=True)
        articles, questions = work / f"articles-{limit}.jsonl", work / f"questions-{limit}.jsonl"
        articles.write_text("".join(lines), encoding="utf-8")
        questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in kept), encoding="utf-8")
    else:
        with open(articles, encoding="utf-8") as fh:
            ids = [json.loads(line)["id"] for line in fh if line.strip()]
    scored = [q for q in read_jsonl(questions) if q.get("evidence_ids")]
    return {"articles": articles, "questions": questions, "article_ids": ids, "scored": scored}


# ----------------------------------------------------------------------------------- measuring a process


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k in KEPT_SETTINGS}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def measured(cmd: list[str], log: Path, switches: dict | None = None) -> tuple[float, float, str]:
    """Run `cmd` (from the repository root, its stderr into `log`); wall seconds, CPU seconds (user + system
    of it and its children) and its stdout. Exits with the log's tail if it fails. `switches` gets its
    voluntary context switches (waits: I/O, locks, sleeps) and involuntary ones (preempted: a busy machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.run(cmd, check=False, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=err,
                              text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-20:])
        sys.exit(f"error: {' '.join(map(str, cmd))} exited with {proc.returncode}; log {log}:\n{tail}")
    if switches is not None:
        switches.update(voluntary_switches=after.ru_nvcsw - before.ru_nvcsw,
                        involuntary_switches=after.ru_nivcsw - before.ru_nivcsw)
    return wall, cpu, proc.stdout


def cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *map(str, args)]


def worker(*args: object) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *map(str, args)]


def disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def warm_up(work: Path) -> None:
    """One untimed process that reads what both sides import, so the first side measured does not pay for
    the page cache alone."""
    code = ("import index.models.offline as o; o.offline_environment(); import torch, chromadb, "
            "sentence_transformers, llama_index.core, llama_index.vector_stores.chroma, "
            "llama_index.embeddings.huggingface")
    measured([sys.executable, "-c", code], work / "warm-up.log")


# ----------------------------------------------------------------------------------- ours


def run_ours(inputs: dict, work: Path, with_eval: bool) -> dict:
    data = work / "ours"
    out: dict = {"load_before": load_line()}
    print(f"\nours: assistant index {inputs['articles']} --data-dir {data}")
    print(f"  {out['load_before']}")
    switches: dict = {}
    wall, cpu, stdout = measured(cli("index", inputs["articles"], "--data-dir", data, "--embedding", "minilm",
                                     "--json"), work / "ours-index.log", switches)
    summary = json.loads(stdout.strip().splitlines()[-1])
    out["load_after_index"] = load_line()
    _, _, stdout = measured(cli("stats", "--data-dir", data, "--embedding", "minilm", "--json"),
                            work / "ours-stats.log")
    stats = json.loads(stdout)
    out.update({
        "articles": stats["articles"], "chunks": stats["chunks"], "chunks_embedded": summary["chunks_embedded"],
        "failed": summary["failed"], "index_wall_s": round(wall, 2), "index_cpu_s": round(cpu, 2),
        "chunks_per_s": round(stats["chunks"] / wall, 2), "in_process_s": summary["seconds"], **switches,
        "disk_mb": disk_mb(data), "chunk_size": stats.get("chunk_size"), "chunk_overlap": stats.get("chunk_overlap"),
    })
    print(f"  indexed {out['articles']} articles, {out['chunks']} chunks in {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({out['chunks_per_s']:.2f} chunks/s; the Indexer's own {out['in_process_s']:.1f} s)")
    if with_eval:
        for name, extra in (("as_of", []), ("no_dates", ["--ignore-dates"])):
            report_dir = work / f"ours-eval-{name}"
            wall, cpu, _ = measured(cli("eval", inputs["questions"], "--top-k", 5, "--data-dir", data,
                                        "--embedding", "minilm", "--out", report_dir, *extra),
                                    work / f"ours-eval-{name}.log")
            report = json.loads((report_dir / "report.json").read_text())
            s = report["summary"]
            out[f"retrieval_{name}"] = {
                "questions": report["counts"]["with_evidence"],
                **{f"hit@{k}": s[f"hit@{k}"] for k in KS}, "mrr@10": s["mrr@10"],
                "eval_wall_s": round(wall, 2), "eval_cpu_s": round(cpu, 2),
                "warnings": report.get("warnings", []),
            }
            out[f"hits_{name}"] = {r["id"]: hit(r["ranking"], r["evidence_ids"], 5)
                                   for r in report["questions"] if r["evidence_ids"]}
            print(f"  eval ({name.replace('_', ' ')}): hit@5 {s['hit@5']}, MRR@10 {s['mrr@10']} on "
                  f"{report['counts']['with_evidence']} questions ({wall:.1f} s, answers included)")
    out["load_after"] = load_line()
    print(f"  {out['load_after']}")
    return out


# ----------------------------------------------------------------------------------- plain llama-index


def run_llamaindex(inputs: dict, work: Path, with_eval: bool) -> dict:
    store = work / "llamaindex"
    out: dict = {"load_before": load_line()}
    print(f"\nllama-index: VectorStoreIndex.from_documents, defaults, into {store}")
    print(f"  {out['load_before']}")
    switches: dict = {}
    wall, cpu, stdout = measured(worker("--_llamaindex-worker", "index", "--articles", inputs["articles"],
                                        "--_store", store), work / "llamaindex-index.log", switches)
    built = json.loads(stdout.strip().splitlines()[-1])
    out["load_after_index"] = load_line()
    out.update({
        "articles": built["documents"], "chunks": built["nodes"], "index_wall_s": round(wall, 2),
        "index_cpu_s": round(cpu, 2), "chunks_per_s": round(built["nodes"] / wall, 2),
        "in_process_s": built["in_process_s"], **switches, "disk_mb": disk_mb(store),
        "device": built["device"], "chunk_size": built["chunk_size"], "chunk_overlap": built["chunk_overlap"],
    })
    print(f"  indexed {out['articles']} documents, {out['chunks']} nodes in {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({out['chunks_per_s']:.2f} chunks/s; reading to from_documents' end {out['in_process_s']:.1f} s)")
    if with_eval:
        rankings_path = work / "llamaindex-rankings.json"
        wall, cpu, _ = measured(worker("--_llamaindex-worker", "retrieve", "--questions", inputs["questions"],
                                       "--_store", store, "--_out", rankings_path), work / "llamaindex-retrieve.log")
        got = json.loads(rankings_path.read_text())
        out["articles_in_store"] = got["articles"]
        out["rankings"] = got["rankings"]
        out["retrieval_no_dates"] = {**score_rankings(got["rankings"], inputs["scored"]),
                                     "retrieve_wall_s": round(wall, 2), "retrieve_cpu_s": round(cpu, 2)}
        r = out["retrieval_no_dates"]
        print(f"  retrieval (no dates, exact ids): hit@5 {r['hit@5']}, MRR@10 {r['mrr@10']} on {r['questions']} "
              f"questions ({wall:.1f} s)")
    out["load_after"] = load_line()
    print(f"  {out['load_after']}")
    return out


def llamaindex_worker(args) -> int:
    """The llama-index side's processes: `index` builds the index, `retrieve` ranks every question."""
    from index.models.offline import offline_environment

    offline_environment()  # HF offline (the model is a local path anyway), no telemetry
    import chromadb
    from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.models.embedding import load_minilm

    device = os.environ.get("ASSISTANT_DEVICE", "auto")
    client = chromadb.PersistentClient(path=args.store)
    if args.worker == "index":
        started = time.perf_counter()
        docs = [Document(text=a["text"], id_=a["id"],
                         metadata={"title": a.get("title") or "", "source": a.get("source") or "",
                                   "url": a.get("url") or "", "published_at": a.get("published_at") or ""})
                for a in read_jsonl(Path(args.articles))]
        collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
        embed = load_minilm(device=device)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        # transformations: llama-index's default, Settings.node_parser = SentenceSplitter() (1024/200)
        VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed)
        seconds = time.perf_counter() - started
        splitter = Settings.node_parser
        print(json.dumps({"documents": len(docs), "nodes": collection.count(), "device": str(embed._device),
                          "in_process_s": round(seconds, 3),
                          "chunk_size": getattr(splitter, "chunk_size", None),
                          "chunk_overlap": getattr(splitter, "chunk_overlap", None)}))
        return 0
    collection = client.get_collection(COLLECTION, embedding_function=None)
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection),
                                               embed_model=load_minilm(device=device))
    retriever = index.as_retriever(similarity_top_k=DEPTH)
    rankings = {}
    for q in read_jsonl(Path(args.questions)):
        if q.get("evidence_ids"):
            rankings[q["id"]] = [n.node.ref_doc_id for n in retriever.retrieve(q["question"])]
    stored = collection.get(include=["metadatas"])
    articles = {m.get("ref_doc_id") or m.get("document_id") for m in stored["metadatas"]}
    Path(args.out).write_text(json.dumps({"articles": len(articles - {None}), "rankings": rankings}))
    return 0


# ----------------------------------------------------------------------------------- scoring


def hit(ranking: list[str], evidence: list[str], k: int) -> bool:
    from assistant.evaluation import metrics as m

    return m.hit_at(ranking, evidence, k) == 1.0


def score_rankings(rankings: dict[str, list[str]], questions: list[dict],
                   copies: dict[str, str] | None = None) -> dict:
    """Eval's article-level metrics on the llama-index rankings (one article id per retrieved node, best
    first): hit@k and MRR@10 over the questions with evidence ids. `copies`: retrieved article -> the
    evidence article it is a wire copy of, as eval counts it."""
    from assistant.evaluation import metrics as m

    rows = []
    for q in questions:
        if not q.get("evidence_ids"):
            continue
        ranking = rankings.get(q["id"], [])
        if copies:
            evidence = set(q["evidence_ids"])
            ranking = [copies.get((q["id"], a), a) if a not in evidence else a for a in ranking]
        rows.append((ranking, q["evidence_ids"]))
    def mean(values) -> float | None:  # None without questions, as eval's summary
        value = m.mean(values)
        return None if value is None else round(value, 4)

    out = {"questions": len(rows)}
    for k in KS:
        out[f"hit@{k}"] = mean(m.hit_at(r, e, k) for r, e in rows)
    out["mrr@10"] = mean(m.reciprocal_rank(r, e, 10) for r, e in rows)
    # a long article can fill the retrieved nodes: questions left with fewer than 5 distinct articles
    out["fewer_than_5_articles"] = sum(len(m.article_ranking(r)) < 5 for r, _ in rows)
    return out


def copies_in_our_store(data: Path, rankings: dict[str, list[str]], questions: list[dict]) -> dict:
    """(question id, retrieved article) -> evidence article, for the retrieved articles that our store groups
    with one of the question's evidence articles (the rule eval's `_copies_of_evidence` applies to ours)."""
    from assistant.factory import build_chroma_client
    from assistant.settings import Settings
    from index.storage.vectors import ChromaVectors

    settings = Settings(data_dir=data, embedding="minilm")  # the store's vector side, read on our own client
    vectors = ChromaVectors(build_chroma_client(settings), settings.collection_name, embedding_model="minilm-l6-v2")
    wanted = sorted({a for r in rankings.values() for a in r} | {e for q in questions for e in q["evidence_ids"]})
    group: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        for meta in vectors.first_chunks_matching({"article_id": wanted[i : i + 500]}):
            if meta.get("group"):
                group[str(meta["article_id"])] = str(meta["group"])
    copies = {}
    for q in questions:
        evidence = {group[e]: e for e in sorted(q["evidence_ids"], reverse=True) if e in group}
        for a in rankings.get(q["id"], []):
            if a not in q["evidence_ids"] and group.get(a) in evidence:
                copies[(q["id"], a)] = evidence[group[a]]
    return copies


# ----------------------------------------------------------------------------------- report


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_table(result: dict) -> None:
    head = ("side", "articles", "chunks", "index wall s", "index CPU s", "chunks/s", "hit@5 as of asked_at",
            "hit@5 no dates", "MRR@10 no dates")
    rows = []
    for name, label in (("ours", "ours"), ("llamaindex", "llama-index")):
        side = result.get(name)
        if not side:
            continue
        as_of = side.get("retrieval_as_of", {})
        plain = side.get("retrieval_no_dates_copies") or side.get("retrieval_no_dates", {})
        rows.append((label, side["articles"], side["chunks"], fmt(side["index_wall_s"], 1),
                     fmt(side["index_cpu_s"], 1), fmt(side["chunks_per_s"], 2), fmt(as_of.get("hit@5")),
                     fmt(plain.get("hit@5")), fmt(plain.get("mrr@10"))))
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    print()
    for r in (head, *rows):
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if "ratio" in result:
        r = result["ratio"]
        print(f"ours / llama-index indexing time: wall {r['wall']:.2f}x, CPU {r['cpu']:.2f}x "
              f"(done when wall <= 1.0x with a better hit@5)")
    if "agreement_no_dates" in result:
        a = result["agreement_no_dates"]
        print(f"hit@5 without dates, per question: both {a['both']}, ours only {a['ours_only']}, "
              f"llama-index only {a['llamaindex_only']}, neither {a['neither']}")
    li = result.get("llamaindex", {})
    if li.get("retrieval_no_dates_copies", {}).get("hit@5") is not None:
        print(f"llama-index hit@5 with exact ids {li['retrieval_no_dates']['hit@5']:.3f}, with wire copies "
              f"counted as eval does {li['retrieval_no_dates_copies']['hit@5']:.3f} (the table's)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        return llamaindex_worker(args)
    for path in (args.articles, args.questions):
        if not Path(path).exists():
            sys.exit(f"error: {path} is missing (the RealTime QA training set; see NEWS_ASSISTANT_SHARED)")
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-year-"))
    if (work / "ours").exists() or (work / "llamaindex").exists():
        sys.exit(f"error: {work} holds a previous run; give an empty or new --dir")
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if not args.keep_data and not args.dir:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    inputs = prepare_inputs(Path(args.articles), Path(args.questions), args.limit, work)
    with_eval = not args.no_eval
    result: dict = {
        "articles_file": str(inputs["articles"]), "questions_file": str(inputs["questions"]),
        "articles": len(inputs["article_ids"]), "questions_scored": len(inputs["scored"]), "limit": args.limit,
        "device_setting": os.environ.get("ASSISTANT_DEVICE", "auto"), "cores": os.cpu_count(),
        "niceness": os.nice(0), "load_start": load_line(), "work_dir": str(work),
    }
    print(load_line())
    print(f"{result['articles']} articles ({inputs['articles']}), {result['questions_scored']} questions with "
          f"evidence; ASSISTANT_DEVICE={result['device_setting']}; work dir {work}")
    warm_up(work)
    if args.side in ("ours", "both"):
        result["ours"] = run_ours(inputs, work, with_eval)
    if args.side in ("llamaindex", "both"):
        result["llamaindex"] = run_llamaindex(inputs, work, with_eval)
    ours, li = result.get("ours"), result.get("llamaindex")
    if ours and li:
        result["ratio"] = {"wall": round(ours["index_wall_s"] / li["index_wall_s"], 3),
                           "cpu": round(ours["index_cpu_s"] / li["index_cpu_s"], 3)}
    if ours and li and with_eval:
        copies = copies_in_our_store(work / "ours", li["rankings"], inputs["scored"])
        li["wire_copies_counted"] = len(copies)
        li["retrieval_no_dates_copies"] = score_rankings(li["rankings"], inputs["scored"], copies)
        ours_hits = ours["hits_no_dates"]
        theirs = {q["id"]: hit([copies.get((q["id"], a), a) for a in li["rankings"].get(q["id"], [])],
                               q["evidence_ids"], 5) for q in inputs["scored"]}
        both = [q for q in theirs if q in ours_hits]
        result["agreement_no_dates"] = {
            "both": sum(ours_hits[q] and theirs[q] for q in both),
            "ours_only": sum(ours_hits[q] and not theirs[q] for q in both),
            "llamaindex_only": sum(theirs[q] and not ours_hits[q] for q in both),
            "neither": sum(not ours_hits[q] and not theirs[q] for q in both),
        }
        theirs_hit5 = li["retrieval_no_dates_copies"]["hit@5"]
        if theirs_hit5 is not None:
            result["done_when"] = {
                "wall_ratio_at_most_1": result["ratio"]["wall"] <= 1.0,
                "better_hit@5_no_dates": ours["retrieval_no_dates"]["hit@5"] > theirs_hit5,
                "better_hit@5_as_of": ours["retrieval_as_of"]["hit@5"] > theirs_hit5,
            }
    for side in (ours, li):
        if side:
            side.pop("rankings", None)
            for key in [k for k in side if k.startswith("hits_")]:
                side.pop(key)
    result["load_end"] = load_line()
    print_table(result)
    print(load_line())
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
