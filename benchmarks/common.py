"""Shared pieces of the benchmark scripts: the offline environment, the dev corpus, the embedding texts,
a timer that records wall and CPU time, percentiles, and a line describing the machine's load.

Benchmarks run on shared machines; every report prints the load average next to the figures, and each
comparison is measured in the same process, interleaved, so that a busy neighbour slows both sides.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The shared material beside the clone (../shared), or where NEWS_ASSISTANT_SHARED says;
# the same rule as tests/conftest.py.
SHARED = Path(os.environ.get("NEWS_ASSISTANT_SHARED") or ROOT.parent / "shared")
DEV_ARTICLES = SHARED / "datasets" / "realtimeqa-2023" / "articles.jsonl"
DEV_QUESTIONS = SHARED / "datasets" / "realtimeqa-2023" / "questions.jsonl"


def offline_env() -> None:
    from index.models.offline import offline_environment

    offline_environment()


def dev_articles(limit: int | None = None) -> list:
    from index.intake.articles import Article, read_articles

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


# ------------------------------------------------------------------ servers the scripts start (loopback only)

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, what: str) -> None:
    """Return once something listens on 127.0.0.1:port; RuntimeError if `proc` exits, TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what}: nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a process we started; kill it if it has not exited after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
