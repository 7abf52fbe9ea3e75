"""The lexical side alone at scale (issue 21): search time and process memory at N chunks, no Chroma.

Real text: the dev and training articles (../shared/datasets), chunked as the indexer does (1,024 tokens,
128 overlap: 29,174 chunks), then repeated with changed article ids, publication dates (each copy 70 days
later: 1M chunks are 35 copies over about 6.5 years) and numbers (every number in copy r is raised by r).
Questions: the dev questions, each asked once without a date and once as of its `asked_at` moved into a
random copy's years (the as-of bound filters the search), taking 40 candidates as retrieval does.

    python benchmarks/bench_lexical.py --chunks 1000000 --backend tantivy --dir /tmp/lex-1m
    python benchmarks/bench_lexical.py --chunks 1000000 --backend old --dir /tmp/lex-1m-old   # main's index
    python benchmarks/bench_lexical.py --chunks 200000 --backend fts5 --dir /tmp/lex-200k-fts5

`tantivy` is `index.storage.lexical.LexicalIndex`; `old` is the hand-written in-memory index it replaced, read from
git (`--old-rev`, default the commit before it) and pickled as the store did; `fts5` is a minimal SQLite
FTS5 candidate (pre-tokenized text, `bm25()`, the day filter in SQL). The build runs in this process with
tokenization done once per base chunk (numbers shifted on the terms), so build times leave out the
tokenizer, which costs every backend the same. The questions run in a fresh process that opens the saved
index, as an app does on start: its open time, search p50/p95 and resident memory are what is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, load_line

DATASETS = ("realtimeqa-2023", "realtimeqa-train")
COPY_DAYS = 70
CANDIDATES = 40


def memory_mb() -> tuple[float, float]:
    """(resident now, peak resident) of this process, MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def shift_day(day: int, days: int) -> int:
    if not day:
        return 0
    d = dt.date(day // 10000, day // 100 % 100, day % 100) + dt.timedelta(days=days)
    return d.year * 10000 + d.month * 100 + d.day


def source_articles():
    """(article id, the JSON object) of every dev and training article; ids are prefixed with the data set's
    name (the two sets share some ids)."""
    for name in DATASETS:
        path = SHARED / "datasets" / name / "articles.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            art = json.loads(line)
            yield f"{name}/{art['id']}", art


_NUMBER = re.compile(r"\d+")


def shift_numbers(text: str, copy: int) -> str:
    """Every number in `text` raised by `copy` (what copy r of a chunk does to its numbers)."""
    return _NUMBER.sub(lambda m: str(int(m.group()) + copy), text) if copy else text


def base_chunks(cache: Path | None = None) -> list[tuple[str, str, int, list[str]]]:
    """(article id, source, day, terms) of every chunk of the dev and training articles (kept in `cache`,
    a JSON file, when given: chunking and tokenizing them takes minutes on a busy machine)."""
    if cache is not None and cache.exists():
        return [tuple(row) for row in json.loads(cache.read_text())]
    from index.storage.filters import day_number
    from index.text.chunking import chunk_text
    from index.text.terms import tokenize

    out = []
    for article_id, art in source_articles():
        text = art.get("text") or ""
        for span in chunk_text(text, 1024, 128):
            terms = tokenize(f"{art.get('title', '')}\n{text[span.start:span.end]}")
            out.append((article_id, art.get("source") or "", day_number(art.get("published_at") or ""), terms))
    if cache is not None:
        cache.write_text(json.dumps(out))
    return out


def corpus(n: int, base: list[tuple[str, str, int, list[str]]]):
    """N lexical docs whose `text` is already the space-joined terms (see the module docstring)."""
    from index.storage.lexical import LexicalDoc

    for i in range(n):
        copy, k = divmod(i, len(base))
        article, source, day, terms = base[k]
        if copy:
            terms = [str(int(t) + copy) if t.isascii() and t.isdigit() else t for t in terms]
        yield LexicalDoc(f"{i:07d}", f"{article}~{copy}", source, shift_day(day, copy * COPY_DAYS), " ".join(terms))


def old_module(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:index/storage/lexical.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_lexical.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_lexical", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_lexical"] = module  # dataclasses and pickle look the module up by name
    spec.loader.exec_module(module)
    return module


class Fts5:
    """The SQLite FTS5 candidate: one row per chunk, pre-tokenized text, bm25() ranking."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, article_id TEXT,
                                              source TEXT, day INTEGER);
            CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(body, tokenize='ascii', content='');""")

    def add(self, docs) -> None:
        with self.db:
            for doc in docs:
                cur = self.db.execute("INSERT INTO chunks(chunk_id, article_id, source, day) VALUES (?,?,?,?)",
                                      (doc.chunk_id, doc.article_id, doc.source, doc.published_day))
                self.db.execute("INSERT INTO terms(rowid, body) VALUES (?, ?)", (cur.lastrowid, doc.text))

    def search(self, query: str, top_k: int, as_of_day: int | None = None) -> list[tuple[str, float]]:
        from index.text.terms import tokenize

        terms = sorted(set(tokenize(query)))
        if not terms:
            return []
        sql = ("SELECT c.chunk_id, -bm25(terms) AS s FROM terms JOIN chunks c ON c.id = terms.rowid "
               "WHERE terms MATCH ?" + (" AND c.day <= ?" if as_of_day else "") + " ORDER BY s DESC LIMIT ?")
        args = [" OR ".join(f'"{t}"' for t in terms)] + ([as_of_day] if as_of_day else []) + [top_k]
        return self.db.execute(sql, args).fetchall()


def build(args) -> None:
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    t0 = time.perf_counter()
    base = base_chunks(args.base_cache)
    (args.dir / "bench.json").write_text(json.dumps({"base_chunks": len(base), "chunks": args.chunks}))
    docs = corpus(args.chunks, base)
    batch: list = []
    if args.backend == "tantivy":
        from index.storage import lexical

        lexical.tokenize = str.split  # the texts are terms already
        index = lexical.LexicalIndex(args.dir / "index")
        index.hold_writer()
    elif args.backend == "old":
        old = old_module(args.old_rev)
        old.tokenize = str.split
        index = old.LexicalIndex()
    else:
        index = Fts5(args.dir / "fts5.sqlite")
    for doc in docs:
        batch.append(doc)
        if len(batch) == 5000:
            index.add(batch)
            batch = []
    index.add(batch)
    if args.backend == "tantivy":
        index.release_writer()
    elif args.backend == "old":
        index.save(args.dir / "index.pkl")
    now, peak = memory_mb()
    size = sum(p.stat().st_size for p in args.dir.rglob("*") if p.is_file())
    print(json.dumps({"phase": "build", "backend": args.backend, "chunks": args.chunks,
                      "seconds": round(time.perf_counter() - t0, 1), "rss_mb": round(now), "peak_rss_mb": round(peak),
                      "disk_mb": round(size / 2**20)}), flush=True)


def questions(n_copies: int, limit: int | None) -> list[tuple[str, int | None]]:
    from index.storage.filters import day_number

    rng = random.Random(21)
    out: list[tuple[str, int | None]] = []
    for line in (SHARED / "datasets" / "realtimeqa-2023" / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        out.append((q["question"], None))
        out.append((q["question"], shift_day(day_number(q.get("asked_at") or ""), rng.randrange(n_copies) * COPY_DAYS)))
    return out[:limit] if limit else out


def query(args) -> None:
    t0 = time.perf_counter()
    if args.backend == "tantivy":
        from index.storage.lexical import LexicalIndex

        index = LexicalIndex(args.dir / "index")
        n = len(index)
    elif args.backend == "old":
        index = old_module(args.old_rev).LexicalIndex.load(args.dir / "index.pkl")
        n = len(index)
    else:
        index = Fts5(args.dir / "fts5.sqlite")
        n = index.db.execute("SELECT max(id) FROM chunks").fetchone()[0]
    opened = time.perf_counter() - t0
    if args.backend == "tantivy":  # the product's index takes SearchFilters (ISO days); the others a day number
        from index.storage.filters import SearchFilters

        def search(text: str, day: int) -> list[tuple[str, float]]:
            return index.search(text, CANDIDATES, SearchFilters(as_of=f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"))
    else:
        def search(text: str, day: int) -> list[tuple[str, float]]:
            return index.search(text, CANDIDATES, as_of_day=day)
    n_copies = -(-n // json.loads((args.dir / "bench.json").read_text())["base_chunks"])
    times: dict[str, list[float]] = {"no date": [], "as of": []}
    hits = 0
    for text, as_of in questions(n_copies, args.questions):
        t = time.perf_counter()
        got = search(text, as_of) if as_of else index.search(text, CANDIDATES)
        times["as of" if as_of else "no date"].append((time.perf_counter() - t) * 1000)
        hits += bool(got)
    reads: dict[str, float] = {}
    if args.backend == "tantivy":  # the other reads the store makes, once each
        for name in ("refresh", "day_range", "article_chunk_counts", "chunk_ids"):
            t = time.perf_counter()
            getattr(index, name)()
            reads[f"{name} s"] = round(time.perf_counter() - t, 3)
    now, peak = memory_mb()
    report = {"phase": "query", "backend": args.backend, "chunks": n, "open_s": round(opened, 2),
              "rss_mb": round(now), "peak_rss_mb": round(peak), "questions_with_hits": hits}
    for name, ms in times.items():
        ms.sort()
        report[f"{name} p50 ms"] = round(statistics.median(ms), 1)
        report[f"{name} p95 ms"] = round(ms[int(0.95 * (len(ms) - 1))], 1)
    print(json.dumps(report | reads), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["tantivy", "old", "fts5"], default="tantivy")
    parser.add_argument("--dir", type=Path, required=True, help="where the index is built (emptied first)")
    parser.add_argument("--old-rev", default="2da48c4", help="git revision of the hand-written index")
    parser.add_argument("--questions", type=int, default=None, help="ask only the first N (fts5 is slow)")
    parser.add_argument("--base-cache", type=Path, default=None, help="JSON file keeping the base chunks' terms")
    parser.add_argument("--phase", choices=["all", "build", "query"], default="all")
    args = parser.parse_args()
    if not (SHARED / "datasets" / DATASETS[0]).exists():
        sys.exit(f"error: {SHARED / 'datasets'} is missing (the articles this benchmark repeats)")
    print(load_line(), flush=True)
    if args.phase in ("all", "build"):
        build(args)
    if args.phase in ("all", "query"):
        cmd = [sys.executable, __file__, "--phase", "query", "--backend", args.backend, "--dir", str(args.dir),
               "--old-rev", args.old_rev] + (["--questions", str(args.questions)] if args.questions else [])
        if args.phase == "all":
            subprocess.run(cmd, check=True)  # a fresh process, as an app opening the index
        else:
            query(args)


if __name__ == "__main__":
    main()
