"""How long each `assistant` command takes as a whole process, the way a person at a terminal sees it.

Indexes the bundled samples into a temp data dir once, then runs each command N times (default 5) as a
fresh process and prints the median and the spread of wall time. Targets (architecture issue): --help < 0.3 s; stats and remove < 1.5 s with no model loaded;
ask cold < 4 s.

    python benchmarks/bench_cli.py [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Which bridge opened across the harbour?"


def _run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one `python -m assistant.cli ARGS` process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=env, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"assistant {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data)
    try:
        subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(ROOT / "samples" / "articles")],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        commands = {
            "assistant --help": ["--help"],
            "assistant stats": ["stats"],
            "assistant remove (unknown id)": ["remove", "no-such-article"],
            "assistant ask (cold)": ["ask", QUESTION],
        }
        rows = {}
        for label, argv in commands.items():
            _run(argv, env)  # one unmeasured run: the OS page cache, as a second use at a terminal has it
            walls = [_run(argv, env) for _ in range(args.runs)]
            rows[label] = {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls)}
        load = os.getloadavg()[0]
        print(f"{args.runs} runs each, load average {load:.2f}, {os.cpu_count()} cores")
        print(f"{'command':32} {'median':>8} {'min':>7} {'max':>7}")
        for label, row in rows.items():
            print(f"{label:32} {row['median_s']:7.2f}s {row['min_s']:6.2f}s {row['max_s']:6.2f}s")
        if args.json:
            args.json.write_text(json.dumps({"runs": args.runs, "load": load, "commands": rows}, indent=1))
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
