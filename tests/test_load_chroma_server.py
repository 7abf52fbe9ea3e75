"""The load script `benchmarks/load_chroma_server.py`, run for real in a small bounded configuration: a real
`chroma run`, `python app.py` against it, 16 concurrent `/ask` clients for a short window while a reindex
writes through the same server in other processes. Any error (an exception or error payload seen by a
client, a nonzero reindex exit) fails it. Uses the hashing embedding: this checks that the app keeps answering
under concurrent load and writes, not answer quality."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REALTIMEQA, ROOT, SEEDS, TEST_OUTPUT

pytestmark = pytest.mark.slow
SCRIPT = ROOT / "benchmarks" / "load_chroma_server.py"
ASKERS, DURATION = 16, 30  # under this load a reindex process needs ~20 s to start indexing


def test_sixteen_askers_get_answers_without_errors_while_a_reindex_writes(tmp_path):
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(SCRIPT), "--askers", str(ASKERS), "--duration", str(DURATION),
           "--embedding", "hashing", "--reindex-articles", "40", "--hard-timeout", "540", "--json", str(out),
           # the shared material from conftest, so that its skip rule covers this test too
           "--seeds", str(SEEDS), "--dataset", str(REALTIMEQA)]
    proc = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = proc.stdout[-4000:] + "\n" + proc.stderr[-3000:]
    assert out.exists(), report
    figures = json.loads(out.read_text())
    TEST_OUTPUT.mkdir(exist_ok=True)
    shutil.copy(out, TEST_OUTPUT / "load-chroma-server.json")

    assert "failed" not in figures, report
    assert figures["errors"]["count"] == 0, figures["errors"]["first"]
    assert proc.returncode == 0 and figures["ok"], report

    # Every client was served, and the app served a meaningful number of requests in the window.
    requests = figures["requests"]
    assert len(requests["per_asker"]) == ASKERS
    assert min(requests["per_asker"]) >= 1, requests
    assert requests["served"] >= 2 * ASKERS, requests
    # Every served request has its latency.
    latencies = figures["latencies_ms"]
    assert len(latencies) == requests["served"] == figures["latency_ms"]["count"]
    assert all(x > 0 for x in latencies)
    assert 0 < figures["latency_ms"]["p50"] <= figures["latency_ms"]["p95"] <= figures["latency_ms"]["max"]

    # The reindex ran in its own processes during the window, and every run of it succeeded.
    reindex = figures["reindex"]
    assert reindex["articles_added"] > 0 and reindex["chunks_embedded"] > 0, reindex
    assert reindex["started_s"] < figures["window_s"]["askers_end"], reindex
    assert reindex["first_write_s"] < figures["window_s"]["askers_end"], reindex  # indexing, not just starting
    assert reindex["steps"] and all(step["exit_code"] == 0 for step in reindex["steps"]), reindex["steps"]
    assert reindex["steps"][0]["start_s"] < DURATION
    assert figures["app_log"]["tracebacks"] == 0


@pytest.fixture
def load_script(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("load_chroma_server")


def test_the_script_counts_error_payloads_but_not_abstentions(load_script):
    check = load_script.check_payload
    base = {"question": "q", "retrieved": []}
    assert check({**base, "answer": "They asked for drones [1].", "abstained": False,
                  "citations": [{"n": 1}]}) is None
    abstention = {**base, "answer": "The indexed articles don't say.", "abstained": True, "citations": []}
    assert check(abstention) is None
    assert "not a JSON object" in check("Traceback (most recent call last): ...")
    assert "lacks" in check({"error": "boom"})
    assert "empty answer" in check({**base, "answer": " ", "abstained": False, "citations": []})
    assert "without citations" in check({**base, "answer": "Drones.", "abstained": False, "citations": []})
