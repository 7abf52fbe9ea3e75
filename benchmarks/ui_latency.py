"""Latency of the browser chat: time to the first streamed words and to the full cited answer.

Starts `python app.py` (fresh data directory, bundled samples indexed on first start, free loopback port),
then asks the example question N times through the chat event the page itself uses (`/chat`, via
`gradio_client`, streaming), each in a fresh session. Measured on the client, from submit to:
  first token  - the first update whose answer bubble holds answer text (not the "Searching" placeholder);
  full answer  - the final update (answer with markers and the sources panel).
Also reports the server-side `first_token` from the answer's own timings (`/ask`), for comparison.

    python benchmarks/ui_latency.py            # 20 runs (+2 warm-up), default MiniLM embedding
    python benchmarks/ui_latency.py --quick    # 5 runs (+1 warm-up)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, free_port, stop_process, wait_for_port

from index.models.offline import offline_environment

EXAMPLE = "What did Venezuela ask Iran for?"


def wait_for(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    try:
        wait_for_port(port, proc, timeout, "the app")
    except (RuntimeError, TimeoutError) as exc:
        raise SystemExit(f"error: {exc}") from None


def _bubble_text(output) -> str:
    messages = output[1] if output and len(output) > 1 else None
    if not messages or messages[-1].get("role") != "assistant":
        return ""
    content = messages[-1]["content"]
    return content[0].get("text", "") if isinstance(content, list) and content else str(content or "")


def one_run(client, question: str) -> tuple[float, float]:
    client.reset_session()
    started = time.perf_counter()
    first = None
    job = client.submit(question, [], "", "", api_name="/chat")
    for output in job:
        text = _bubble_text(output)
        if first is None and text and 'class="thinking"' not in text:
            first = time.perf_counter() - started
    full = time.perf_counter() - started
    final = _bubble_text(job.outputs()[-1])
    if "cite-marker" not in final and "abstained" not in final:
        raise SystemExit(f"error: unexpected final answer: {final[:200]}")
    return (first if first is not None else full), full


def measure(port: int, args: argparse.Namespace) -> tuple[list[float], list[float], list[float]]:
    from gradio_client import Client

    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    try:
        for _ in range(args.warmup):
            one_run(client, args.question)
        firsts, fulls = [], []
        for _ in range(args.runs):
            first, full = one_run(client, args.question)
            firsts.append(first * 1000)
            fulls.append(full * 1000)
        server = [client.predict(args.question, api_name="/ask")["timings_ms"].get("first_token", 0.0)
                  for _ in range(min(args.runs, 5))]
    finally:
        client.close()
    return firsts, fulls, server


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="5 runs, 1 warm-up")
    parser.add_argument("--embedding", default="minilm", choices=["minilm", "hashing"])
    parser.add_argument("--question", default=EXAMPLE)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.warmup = 5, 1

    offline_environment()  # before gradio_client is imported: no telemetry, no hub lookups
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ui-latency-") as tmp:
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(Path(tmp) / "data"), "ASSISTANT_HOST": "127.0.0.1",
               "ASSISTANT_PORT": str(port), "ASSISTANT_EMBEDDING": args.embedding}
        env.pop("ASSISTANT_CHROMA_URL", None)
        t0 = time.perf_counter()
        with open(Path(tmp) / "app.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
            try:
                wait_for(port, proc)
                startup = time.perf_counter() - t0
                firsts, fulls, server = measure(port, args)
            finally:
                stop_process(proc, grace=15)

    figures = {
        "question": args.question, "embedding": args.embedding, "runs": args.runs,
        "first_token_ms": {"p50": round(statistics.median(firsts), 1), "p90": round(pct(firsts, 0.9), 1)},
        "full_answer_ms": {"p50": round(statistics.median(fulls), 1), "p90": round(pct(fulls, 0.9), 1)},
        "server_first_token_ms_p50": round(statistics.median(server), 1),
        "app_start_s": round(startup, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"question: {args.question!r}  embedding: {args.embedding}  runs: {args.runs} (+{args.warmup} warm-up)")
    print(f"first token (client, /chat stream)  p50 {figures['first_token_ms']['p50']:8.1f} ms   "
          f"p90 {figures['first_token_ms']['p90']:8.1f} ms")
    print(f"full answer (client, /chat stream)  p50 {figures['full_answer_ms']['p50']:8.1f} ms   "
          f"p90 {figures['full_answer_ms']['p90']:8.1f} ms")
    print(f"first token (server, answer timings) p50 {figures['server_first_token_ms_p50']:7.1f} ms")
    print(f"app start to listening: {figures['app_start_s']} s   ({figures['machine']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
