"""Peak memory (RSS) of the web app serving an existing index, after it has answered real questions.

    python benchmarks/bench_query.py --sizes 100k --no-incremental --keep-data   # prints the index's dir
    python benchmarks/app_memory.py --data-dir /tmp/bench-query-XXXX              # the app on that index

Starts `python app.py` on a free 127.0.0.1 port with ASSISTANT_DATA_DIR pointing at the index (no sample
indexing), asks `--questions` RealTime QA dev questions through its `/ask` API one after the other, then
reads the app process's peak resident set size (VmHWM in /proc/<pid>/status) and current RSS, and stops it.
The number of chunks served is read from `assistant stats`. Target (issue 6): under 2 GB at 100k chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, dev_questions, free_port, load_line, running_app, status_kb, write_json


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True, help="data directory holding the index (ASSISTANT_DATA_DIR)")
    p.add_argument("--questions", type=int, default=30)
    p.add_argument("--startup-timeout", type=float, default=600)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    data = Path(args.data_dir)
    if not (data / "chroma").is_dir():
        sys.exit(f"error: no embedded Chroma index in {data}")

    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_INDEX_SAMPLES_ON_START": "false",
           "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(free_port())}
    env.pop("ASSISTANT_CHROMA_URL", None)
    stats = subprocess.run([sys.executable, "-m", "assistant.cli", "stats", "--json"], cwd=ROOT, env=env, check=False,
                           capture_output=True, text=True, timeout=600)
    if stats.returncode != 0:
        sys.exit(f"error: assistant stats failed: {stats.stderr.strip()[-300:]}")
    chunks = json.loads(stats.stdout)["chunks"]
    try:
        with running_app(data, "app-memory-", args.startup_timeout, poll=1.0) as app:
            client, proc, startup_s = app.client, app.proc, app.listening_s
            rss_ready = status_kb(proc.pid, "VmRSS") / 1024
            latencies = []
            for question in dev_questions(args.questions):
                t0 = time.perf_counter()
                client.predict(question, api_name="/ask")
                latencies.append((time.perf_counter() - t0) * 1000)
            result = {
                "chunks": chunks, "questions": len(latencies), "startup_s": round(startup_s, 1),
                "rss_after_start_mb": round(rss_ready), "rss_mb": round(status_kb(proc.pid, "VmRSS") / 1024),
                "peak_rss_mb": round(status_kb(proc.pid, "VmHWM") / 1024),
                "ask_via_http_p50_ms": round(sorted(latencies)[len(latencies) // 2], 1), "load": load_line(),
            }
    except (RuntimeError, TimeoutError) as exc:
        sys.exit(f"error: {exc}")
    print(f"app on {chunks:,} chunks: started in {result['startup_s']} s, RSS {result['rss_after_start_mb']} MB "
          f"after start, {result['rss_mb']} MB after {result['questions']} questions, peak "
          f"{result['peak_rss_mb']} MB (target < 2048 MB); /ask over HTTP p50 {result['ask_via_http_p50_ms']} ms")
    print(result["load"])
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
