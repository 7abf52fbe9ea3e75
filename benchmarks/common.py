"""Shared pieces of the benchmark scripts: the offline environment, the dev corpus, the embedding texts,
a timer that records wall and CPU time, percentiles, and a line describing the machine's load.

Benchmarks run on shared machines; every report prints the load average next to the figures, and each
comparison is measured in the same process, interleaved, so that a busy neighbour slows both sides.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEV_ARTICLES = ROOT.parent / "shared" / "datasets" / "realtimeqa-2023" / "articles.jsonl"
DEV_QUESTIONS = ROOT.parent / "shared" / "datasets" / "realtimeqa-2023" / "questions.jsonl"


def offline_env() -> None:
    from assistant.factory import quiet_environment

    quiet_environment()


def dev_articles(limit: int | None = None) -> list:
    from index.articles import Article, read_articles

    if not DEV_ARTICLES.exists():
        sys.exit(f"error: the RealTime QA dev set is missing at {DEV_ARTICLES}")
    articles = [a for a in read_articles([DEV_ARTICLES]) if isinstance(a, Article)]
    return articles[:limit] if limit else articles


def dev_questions(limit: int | None = None) -> list[str]:
    with open(DEV_QUESTIONS) as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()]
    return questions[:limit] if limit else questions


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed(into: Timing):
    """Add the wall-clock and process CPU seconds (all threads) of the block to `into`."""
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        into.wall += time.perf_counter() - w0
        into.cpu += time.process_time() - c0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json(path: str | None, payload: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {path}")
