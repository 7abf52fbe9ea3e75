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


def status_kb(pid: int, field: str) -> int:
    """A field of /proc/PID/status in kB ("VmRSS", "VmHWM": the peak)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


@dataclass
class RunningApp:
    proc: subprocess.Popen
    client: object  # a gradio_client.Client on the app
    started: float  # time.monotonic() when the process was started
    listening_s: float  # from start until the client connected


@contextmanager
def running_app(data: Path, log_prefix: str, timeout: float, poll: float = 0.5):
    """`python app.py` on the embedded index in `data` (no samples indexed, a free loopback port), with a
    connected gradio client; its output goes to a kept temporary log named in any error. RuntimeError if it
    exits, TimeoutError if it does not answer within `timeout` seconds; stopped on leaving."""
    import tempfile

    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_INDEX_SAMPLES_ON_START": "false",
           "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(free_port())}
    env.pop("ASSISTANT_CHROMA_URL", None)
    url = f"http://127.0.0.1:{env['ASSISTANT_PORT']}/"
    log = tempfile.NamedTemporaryFile("w", prefix=log_prefix, suffix=".log", delete=False)  # noqa: SIM115 - kept for the reader
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        from gradio_client import Client

        client = None
        while client is None:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with code {proc.returncode}; log: {log.name}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the app did not start within {timeout:.0f} s; log: {log.name}")
            try:
                client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(poll)
        yield RunningApp(proc, client, started, time.monotonic() - started)
    finally:
        stop_process(proc, grace=15)
        log.close()
