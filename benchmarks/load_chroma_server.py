"""Load through a Chroma server: concurrent askers against the web app while a reindex writes.

Starts everything itself, on 127.0.0.1 only, in a temp directory:
  1. a real `chroma run --path TMP --host 127.0.0.1 --port FREE`;
  2. `assistant index samples/articles ../shared/corpus/seeds --chroma-url URL` (the initial corpus);
  3. `python app.py` against that server (ASSISTANT_CHROMA_URL, no sample indexing on start);
  4. for --duration seconds, --askers threads, each with its own `gradio_client.Client`, call the app's
     named `/ask` API with questions cycled from samples/questions.jsonl and the RealTime QA dev set;
  5. meanwhile, in separate processes through the same server: `assistant index` of the first
     --reindex-articles RealTime QA articles, then, while the window is still open, churn: `assistant
     remove` a few of those articles and `assistant index` them again, over and over.
Reports requests served, requests/s, errors (exceptions, error payloads, nonzero reindex exits; an
abstention is a valid answer), latency p50/p95/max, what the reindex did, and the load average. Exits 1
if any error occurred. Bounded: every wait has a timeout and a watchdog ends the run after --hard-timeout.

    python benchmarks/load_chroma_server.py                      # 16 askers, 60 s, MiniLM
    python benchmarks/load_chroma_server.py --quick              # 16 askers, 15 s
    python benchmarks/load_chroma_server.py --embedding hashing --duration 30 --reindex-articles 40 --json F

Requests/s counts the answers received within the window; latency covers every answer (those in flight
when the window closes finish and count). Default --reindex-articles: minilm 10, static and hashing 200
(under 16 askers on 2 busy cores a MiniLM reindex process needs ~40 s to start indexing, then ~30 s for
those 10 articles).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, SHARED, free_port, load_line, percentile, stop_process, wait_for_port, write_json

SAMPLES = ROOT / "samples" / "articles"
SAMPLE_QUESTIONS = ROOT / "samples" / "questions.jsonl"
DEFAULT_REINDEX_ARTICLES = {"minilm": 10, "static": 200, "hashing": 200}
REQUEST_TIMEOUT = 120.0  # one /ask call; past it the request is an error


# ---------------------------------------------------------------------------------------------- processes


class Processes:
    """Every process this run started, so `finally` (or the watchdog) can stop each one by its own id."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def start(self, cmd: list[str], *, log: Path, env: dict[str, str]) -> subprocess.Popen:
        with open(log, "ab") as out:
            return self.register(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL))

    def register(self, proc: subprocess.Popen) -> subprocess.Popen:
        with self._lock:
            self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 10.0) -> None:
        stop_process(proc, grace)

    def stop_all(self, grace: float = 10.0) -> None:
        with self._lock:
            procs = list(reversed(self._procs))
        for proc in procs:
            self.stop(proc, grace)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                try:
                    proc.kill()
                except OSError:
                    pass


def run_step(procs: Processes, args: list[str], *, log: Path, env: dict[str, str], timeout: float
             ) -> tuple[int | None, str]:
    """Run `python -m assistant.cli ARGS` to completion (bounded); returns (exit code or None, stdout)."""
    out_path = log.with_suffix(f".{time.monotonic_ns()}.out")
    with open(out_path, "wb") as out, open(log, "ab") as err:
        err.write(f"\n$ assistant {' '.join(args)}\n".encode())
        err.flush()
        cmd = [sys.executable, "-m", "assistant.cli", *args]
        proc = procs.register(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err,
                                               stdin=subprocess.DEVNULL))
        try:
            code: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            procs.stop(proc)
            code = None
    stdout = out_path.read_text(errors="replace")
    out_path.unlink(missing_ok=True)
    with open(log, "a") as err:
        err.write(stdout)
    return code, stdout


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc), None when unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float | None]:
    """CPU seconds so far of the named processes, this process (the askers) and its finished children
    (the reindex runs, once waited for)."""
    import resource

    snap = {name: proc_cpu_s(pid) for name, pid in pids.items()}
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    snap["askers (this process)"] = own.ru_utime + own.ru_stime
    snap["reindex runs"] = kids.ru_utime + kids.ru_stime
    return snap


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------- askers


def load_questions(paths: list[Path]) -> list[str]:
    """Questions from each file, interleaved so every asker sees both sets."""
    lists = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            lists.append([json.loads(line)["question"] for line in fh if line.strip()])
    merged = []
    for i in range(max(len(q) for q in lists)):
        merged += [q[i] for q in lists if i < len(q)]
    return merged


@dataclass
class AskerResult:
    served: int = 0
    served_in_window: int = 0
    abstained: int = 0
    with_notice: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def check_payload(payload) -> str | None:
    """None for a valid answer (cited answer or abstention), else why it is an error payload."""
    if not isinstance(payload, dict):
        return f"payload is not a JSON object: {str(payload)[:200]}"
    missing = {"question", "answer", "abstained", "citations", "retrieved"} - set(payload)
    if missing:
        return f"payload lacks {sorted(missing)}: {str(payload)[:200]}"
    if not payload["abstained"]:
        if not str(payload["answer"]).strip():
            return "empty answer that is not an abstention"
        if not payload["citations"]:
            return f"answer without citations that is not an abstention: {payload['answer'][:150]!r}"
    return None


def asker(no: int, url: str, questions: list[str], ready: threading.Barrier, window: dict,
          result: AskerResult) -> None:
    from gradio_client import Client

    client = None
    try:
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is an error of the run
        result.errors.append({"asker": no, "t_s": None, "error": f"client: {type(exc).__name__}: {exc}"})
    try:
        ready.wait(timeout=180)
    except threading.BrokenBarrierError:
        return
    if client is None:
        return
    start, end = window["start"], window["end"]
    i = no * 7  # each asker starts at a different place in the cycle
    try:
        while time.monotonic() < end:
            question = questions[i % len(questions)]
            i += 1
            t0 = time.monotonic()
            try:
                payload = client.submit(question, api_name="/ask").result(timeout=REQUEST_TIMEOUT)
                problem = check_payload(payload)
            except Exception as exc:  # noqa: BLE001 - AppError, connection errors, timeouts: all errors
                payload, problem = None, f"{type(exc).__name__}: {str(exc)[:300] or repr(exc)}"
            elapsed = (time.monotonic() - t0) * 1000
            if problem:
                result.errors.append({"asker": no, "t_s": round(t0 - start, 2), "question": question,
                                      "error": problem})
                continue
            result.served += 1
            result.served_in_window += time.monotonic() <= end
            result.latencies_ms.append(round(elapsed, 2))
            result.abstained += bool(payload["abstained"])
            result.with_notice += bool(payload.get("notice"))
    finally:
        try:
            client.close()
        except Exception:  # noqa: BLE001, S110 - closing is best effort
            pass


# ---------------------------------------------------------------------------------------------- reindex


def reindex_and_churn(procs: Processes, subset: Path, ids: list[str], common: list[str], env: dict[str, str],
                      window: dict, log: Path, step_timeout: float, churn_size: int, report: dict) -> None:
    """Index the subset, then remove and re-index `churn_size` of its articles until the window closes.
    Fills `report` as it goes (so a watchdog abort still has what happened)."""
    start = window["start"]
    steps = report["steps"]

    def step(kind: str, args: list[str]) -> tuple[int | None, str]:
        t0 = time.monotonic()
        code, stdout = run_step(procs, args, log=log, env=env, timeout=step_timeout)
        entry = {"kind": kind, "start_s": round(t0 - start, 2), "end_s": round(time.monotonic() - start, 2),
                 "exit_code": code}
        if kind == "index":
            try:
                summary = json.loads(stdout.strip().splitlines()[-1])
                entry.update({k: summary[k] for k in ("added", "updated", "unchanged", "removed", "failed",
                                                      "chunks_embedded")})
                # the indexer's own time (plan, embed, write), i.e. after the process started up
                entry["work_start_s"] = round(entry["end_s"] - summary["seconds"], 2)
                if summary["added"] and "first_write_s" not in report:
                    report["first_write_s"] = entry["work_start_s"]
                report["articles_added"] += summary["added"]
                report["articles_updated"] += summary["updated"]
                report["chunks_embedded"] += summary["chunks_embedded"]
            except (ValueError, IndexError, KeyError, TypeError):
                entry["stdout"] = stdout[-300:]
        else:
            entry["output"] = stdout.strip()[-300:]
            if stdout.startswith("removed "):
                try:
                    report["articles_removed"] += int(stdout.split()[1])
                except ValueError:
                    pass
        steps.append(entry)
        if code != 0:
            report["errors"].append(f"`assistant {kind}` step {len(steps)} exited with "
                                    f"{'a timeout' if code is None else code} at {entry['end_s']} s "
                                    f"(see {log.name})")
        return code, stdout

    report["started_s"] = round(time.monotonic() - start, 2)
    rounds = 0
    try:
        code, _ = step("index", ["index", str(subset), "--json", *common])
        report["initial_index_end_s"] = steps[-1]["end_s"]
        while code == 0 and time.monotonic() < window["end"] and not window.get("abort"):
            first = (rounds * churn_size) % len(ids)
            chosen = (ids + ids)[first:first + churn_size]
            code, _ = step("remove", ["remove", *chosen, *common])
            if code != 0:
                break
            code, _ = step("index", ["index", str(subset), "--json", *common])
            rounds += 1
    except Exception as exc:  # noqa: BLE001 - the driver itself failed: an error of the run
        report["errors"].append(f"reindex driver: {type(exc).__name__}: {exc}")
    report["churn_rounds"] = rounds
    report["ended_s"] = round(time.monotonic() - start, 2)


def write_subset(source: Path, n: int, dest: Path) -> list[str]:
    ids = []
    with open(source, encoding="utf-8") as fh, open(dest, "w", encoding="utf-8") as out:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            ids.append(record["id"])
            out.write(line if line.endswith("\n") else line + "\n")
            if len(ids) >= n:
                break
    return ids


# ---------------------------------------------------------------------------------------------- main


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(args: argparse.Namespace, tmp: Path, procs: Processes, window: dict, figures: dict) -> None:
    from index.models.offline import offline_environment

    offline_environment()  # before gradio_client is imported; inherited by every child process
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    data = tmp / "data"
    data.mkdir(parents=True)
    t_begin = time.monotonic()

    # 1. the Chroma server
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    chroma_port = free_port()
    url = f"http://127.0.0.1:{chroma_port}"
    server = procs.start([chroma, "run", "--path", str(tmp / "chroma-db"), "--host", "127.0.0.1",
                          "--port", str(chroma_port)], log=tmp / "chroma.log", env=env)
    wait_for_port(chroma_port, server, 60, "chroma run")
    figures["startup_s"]["chroma"] = round(time.monotonic() - t_begin, 1)
    print(f"chroma server {url} (pid {server.pid})", flush=True)

    # 2. the initial corpus, through the server
    common = ["--chroma-url", url, "--data-dir", str(data), "--embedding", args.embedding]
    t0 = time.monotonic()
    code, stdout = run_step(procs, ["index", str(SAMPLES), str(args.seeds), "--json", *common],
                            log=tmp / "initial-index.log", env=env, timeout=args.step_timeout)
    if code != 0:
        raise RuntimeError(f"initial index exited with {code}:\n{log_tail(tmp / 'initial-index.log')}")
    initial = json.loads(stdout.strip().splitlines()[-1])
    figures["initial_index"] = {k: initial[k] for k in ("added", "chunks_embedded", "seconds")}
    figures["startup_s"]["initial_index"] = round(time.monotonic() - t0, 1)
    print(f"initial corpus: {initial['added']} articles, {initial['chunks_embedded']} chunks "
          f"in {time.monotonic() - t0:.1f} s", flush=True)

    # 3. the web app
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}/"
    app_env = {**env, "ASSISTANT_CHROMA_URL": url, "ASSISTANT_DATA_DIR": str(data),
               "ASSISTANT_EMBEDDING": args.embedding, "ASSISTANT_HOST": "127.0.0.1",
               "ASSISTANT_PORT": str(app_port), "ASSISTANT_INDEX_SAMPLES_ON_START": "false"}
    t0 = time.monotonic()
    app = procs.start([sys.executable, "app.py"], log=tmp / "app.log", env=app_env)
    try:
        wait_for_port(app_port, app, args.step_timeout, "python app.py")
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{exc}\n{log_tail(tmp / 'app.log')}") from exc
    from gradio_client import Client

    warm = Client(app_url, verbose=False, download_files=False, analytics_enabled=False)
    warm_answer = warm.submit("What did Venezuela ask Iran for?", api_name="/ask").result(REQUEST_TIMEOUT)
    if check_payload(warm_answer):
        raise RuntimeError(f"the app's warm-up answer is not valid: {check_payload(warm_answer)}")
    warm.close()
    figures["startup_s"]["app"] = round(time.monotonic() - t0, 1)
    print(f"app {app_url} (pid {app.pid}) answered its warm-up question in {time.monotonic() - t0:.1f} s",
          flush=True)

    # 4 + 5. askers and the reindex, in the same window
    subset = tmp / "reindex-articles.jsonl"
    ids = write_subset(args.dataset / "articles.jsonl", args.reindex_articles, subset)
    questions = load_questions([SAMPLE_QUESTIONS, args.dataset / "questions.jsonl"])
    results = [AskerResult() for _ in range(args.askers)]

    def open_window() -> None:  # run by the last thread to reach the barrier, before any is released
        window["start"] = time.monotonic()
        window["end"] = window["start"] + args.duration

    ready = threading.Barrier(args.askers + 1, action=open_window)
    threads = [threading.Thread(target=asker, args=(n, app_url, questions, ready, window, results[n]),
                                name=f"asker-{n}", daemon=True) for n in range(args.askers)]
    pids = {"app": app.pid, "chroma server": server.pid}
    for thread in threads:
        thread.start()
    figures["load_average"]["before_window"] = loadavg()
    try:
        ready.wait(timeout=180)
    except threading.BrokenBarrierError as exc:
        raise RuntimeError("the askers did not all connect within 180 s") from exc
    reindex = figures["reindex"]
    churn = max(1, min(10, len(ids) // 4))
    reindex.update({"articles": len(ids), "churn_size": churn})
    writer = threading.Thread(target=reindex_and_churn, name="reindex", daemon=True,
                              args=(procs, subset, ids, common, env, window, tmp / "reindex.log",
                                    args.step_timeout, churn, reindex))
    writer.start()
    cpu_start = cpu_snapshot(pids)
    print(f"window: {args.askers} askers for {args.duration:.0f} s, reindex of {len(ids)} articles "
          f"(churn {churn} at a time) -- {load_line()}", flush=True)
    for thread in threads:
        thread.join(max(0.1, window["end"] + REQUEST_TIMEOUT + 30 - time.monotonic()))
    askers_end = time.monotonic()
    cpu_window = cpu_snapshot(pids)
    stuck = [t.name for t in threads if t.is_alive()]
    figures["load_average"]["end_of_window"] = loadavg()
    writer.join(max(0.1, window["end"] + args.step_timeout * 3 - time.monotonic()))
    if writer.is_alive():
        window["abort"] = True
        reindex["errors"].append("the reindex was still running long after the window; stopped")
    cpu_end = cpu_snapshot(pids)
    # CPU seconds used during the askers' window (the reindex runs: all of them, counted once waited for)
    cpu = {name: round(cpu_window[name] - cpu_start[name], 1)
           for name in cpu_start if cpu_start[name] is not None and cpu_window[name] is not None}
    cpu["reindex runs"] = round(cpu_end["reindex runs"] - cpu_start["reindex runs"], 1)
    figures["cpu_s"] = cpu
    if "first_write_s" in reindex:
        overlap = askers_end - window["start"] - reindex["first_write_s"]
        reindex["indexing_overlap_s"] = round(max(0.0, overlap), 2)

    # figures
    latencies = [x for r in results for x in r.latencies_ms]
    errors = [e for r in results for e in r.errors]
    errors += [{"asker": None, "t_s": None, "error": f"{name} did not finish"} for name in stuck]
    errors += [{"asker": None, "t_s": None, "error": f"reindex: {e}"} for e in reindex["errors"]]
    errors.sort(key=lambda e: (e["t_s"] is None, e["t_s"] or 0))
    served = sum(r.served for r in results)
    in_window = sum(r.served_in_window for r in results)
    actual = askers_end - window["start"]
    figures.update({
        "window_s": {"planned": args.duration, "askers_end": round(actual, 2)},
        "requests": {"served": served, "served_in_window": in_window,
                     "per_s": round(in_window / args.duration, 2),
                     "abstained": sum(r.abstained for r in results),
                     "with_notice": sum(r.with_notice for r in results),
                     "per_asker": [r.served for r in results]},
        "errors": {"count": len(errors), "first": errors[:5]},
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 1),
                       "p95": round(percentile(latencies, 0.95), 1),
                       "max": round(max(latencies), 1) if latencies else None, "count": len(latencies)},
        "latencies_ms": latencies,
    })
    app_log = (tmp / "app.log").read_text(errors="replace")
    figures["app_log"] = {"tracebacks": app_log.count("Traceback")}
    if errors or figures["app_log"]["tracebacks"]:
        print("--- end of app.log ---\n" + log_tail(tmp / "app.log", 40), flush=True)
    if reindex["errors"]:
        print("--- end of reindex.log ---\n" + log_tail(tmp / "reindex.log", 40), flush=True)


def print_report(figures: dict) -> None:
    cfg = figures["config"]
    req, lat, rx = figures.get("requests", {}), figures.get("latency_ms", {}), figures["reindex"]
    print()
    print(f"load through a Chroma server: {cfg['askers']} askers, {cfg['duration']:.0f} s window, "
          f"embedding {cfg['embedding']}")
    if req:
        print(f"requests served   {req['served']}, {req['served_in_window']} of them within the window "
              f"({req['per_s']:.2f}/s; {req['abstained']} abstentions; "
              f"per asker {min(req['per_asker'])}-{max(req['per_asker'])})")
        print(f"latency           p50 {lat['p50']:.0f} ms   p95 {lat['p95']:.0f} ms   "
              f"max {lat['max'] or 0:.0f} ms")
    err = figures.get("errors", {"count": "?", "first": []})
    print(f"errors            {err['count']}")
    for e in err["first"]:
        print(f"  - [{e.get('t_s')} s, asker {e.get('asker')}] {e['error']}")
    if rx.get("steps"):
        kinds = [s["kind"] for s in rx["steps"]]
        print(f"reindex           {rx['articles']} articles; first process started at {rx.get('started_s')} s, "
              f"indexing from {rx.get('first_write_s')} s to {rx.get('initial_index_end_s')} s "
              f"(overlapping the askers for {rx.get('indexing_overlap_s', 0)} s)")
        print(f"                  {kinds.count('index')} index + {kinds.count('remove')} remove runs "
              f"({rx.get('churn_rounds', 0)} churn rounds of {rx['churn_size']}), last ended at "
              f"{rx.get('ended_s')} s; added {rx['articles_added']}, removed {rx['articles_removed']}, "
              f"{rx['chunks_embedded']} chunks embedded; exit codes "
              f"{sorted({s['exit_code'] for s in rx['steps']}, key=str)}")
    la = figures["load_average"]
    print(f"load average      before {la.get('before_window')}  end of window {la.get('end_of_window')}  "
          f"({os.cpu_count()} cores)")
    if "cpu_s" in figures:
        print(f"CPU seconds       {figures['cpu_s']} (window of {figures['window_s']['askers_end']:.0f} s "
              f"on {os.cpu_count()} cores; reindex runs: all of them)")
    print(f"startup           {figures['startup_s']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--askers", type=int, default=16, help="concurrent askers (threads, one client each)")
    parser.add_argument("--duration", type=float, default=None, help="window in seconds (default 60; quick 15)")
    parser.add_argument("--quick", action="store_true", help="a 15 s window")
    parser.add_argument("--embedding", default="minilm", choices=["minilm", "static", "hashing"])
    parser.add_argument("--reindex-articles", type=int, default=None,
                        help="first N RealTime QA articles indexed during the window (default: "
                             + ", ".join(f"{k} {v}" for k, v in DEFAULT_REINDEX_ARTICLES.items()) + ")")
    parser.add_argument("--dataset", type=Path, default=SHARED / "datasets" / "realtimeqa-2023",
                        help="RealTime QA folder (articles.jsonl, questions.jsonl)")
    parser.add_argument("--seeds", type=Path, default=SHARED / "corpus" / "seeds",
                        help="extra articles in the initial corpus (with samples/articles)")
    parser.add_argument("--step-timeout", type=float, default=600,
                        help="longest one start-up or reindex step may take (s)")
    parser.add_argument("--hard-timeout", type=float, default=None,
                        help="the whole run is aborted after this many seconds (default: 1800 + window)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, data)")
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 15.0 if args.quick else 60.0
    if args.reindex_articles is None:
        args.reindex_articles = DEFAULT_REINDEX_ARTICLES[args.embedding]
    if args.askers < 1 or args.duration <= 0 or args.reindex_articles < 1:
        parser.error("--askers, --duration and --reindex-articles must be positive")
    for path in (args.dataset / "articles.jsonl", args.dataset / "questions.jsonl", args.seeds):
        if not path.exists():
            parser.error(f"{path} is missing")
    hard_timeout = args.hard_timeout or 1800 + args.duration

    tmp = Path(tempfile.mkdtemp(prefix="load-chroma-"))
    procs = Processes()
    window: dict = {"start": time.monotonic(), "end": time.monotonic()}
    figures: dict = {
        "config": {"askers": args.askers, "duration": args.duration, "embedding": args.embedding,
                   "reindex_articles": args.reindex_articles, "quick": args.quick, "cores": os.cpu_count()},
        "startup_s": {}, "load_average": {"start": loadavg()},
        "reindex": {"steps": [], "errors": [], "articles_added": 0, "articles_updated": 0,
                    "articles_removed": 0, "chunks_embedded": 0, "articles": 0, "churn_size": 0},
    }

    def watchdog() -> None:
        print(f"error: hard timeout of {hard_timeout:.0f} s reached; killing everything", file=sys.stderr,
              flush=True)
        window["abort"] = True
        procs.kill_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        os._exit(2)

    timer = threading.Timer(hard_timeout, watchdog)
    timer.daemon = True
    timer.start()
    print(f"{load_line()}; temp dir {tmp}", flush=True)
    failed: str | None = None
    try:
        run(args, tmp, procs, window, figures)
    except Exception as exc:  # noqa: BLE001 - reported as the run's failure, after cleanup
        failed = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        window["abort"] = True
    finally:
        window["end"] = min(window["end"], time.monotonic())
        procs.stop_all()
        timer.cancel()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    figures["load_average"]["end"] = loadavg()
    if failed:
        figures["failed"] = failed
    error_count = figures.get("errors", {}).get("count", 0)
    figures["ok"] = not failed and error_count == 0
    print_report(figures)
    print(load_line())
    if failed:
        print(f"error: the run did not complete: {failed}", file=sys.stderr)
    write_json(args.json, figures)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
