"""Index and ask with no network at all: the command runs in a new, empty network namespace
(`unshare --net`), with none of the offline switches set by the caller, so the app must set them itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLES, SEEDS

pytestmark = pytest.mark.slow

OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "TIKTOKEN_CACHE_DIR",
                    "HF_HUB_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY")


def _no_network_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("`unshare` is not installed, cannot cut the network for this test")
    probe = subprocess.run([unshare, "--net", "true"], check=False, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine does not allow `unshare --net` ({probe.stderr.strip() or probe.returncode}); "
                    "run as root or with user namespaces enabled")
    return [unshare, "--net"]


def _run_offline(prefix, *args, data_dir):
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    return subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", *args], check=False, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def test_the_namespace_really_has_no_network():
    prefix = _no_network_prefix()
    code = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 443), timeout=3)\n    print('online')\n"
            "except OSError as exc:\n    print('offline', exc.errno)")
    proc = subprocess.run([*prefix, sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("offline"), proc.stdout + proc.stderr


def test_index_and_ask_with_no_network(tmp_path):
    prefix = _no_network_prefix()
    data = tmp_path / "data"
    proc = _run_offline(prefix, "index", str(SEEDS), str(SAMPLES), "--json", data_dir=data)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 2 + len(list(SAMPLES.glob("*.md")))  # seeds + samples
    proc = _run_offline(prefix, "ask", "What did Venezuela ask Iran for?", "--json", data_dir=data)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and "drone" in answer["answer"].lower(), answer["answer"]
    assert answer["citations"]
    proc = _run_offline(prefix, "ask", "What did Venezuela ask Iran for?", data_dir=data)
    assert proc.returncode == 0, proc.stderr
    assert "[1]" in proc.stdout


def test_the_static_embedding_works_with_no_network(tmp_path, monkeypatch):
    """The fast bulk-import model needs nothing from the network: the table shipped in the package is used as
    it is (nothing distilled, nothing cached), and where it does not match, it is distilled here from the
    bundled MiniLM."""
    prefix = _no_network_prefix()
    data, models = tmp_path / "data", tmp_path / "models"
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(models))  # an empty cache
    proc = _run_offline(prefix, "index", str(SEEDS), "--embedding", "static", "--json", data_dir=data)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 2
    assert "distilling the static embedding" not in proc.stderr  # the shipped table matched
    assert not list(models.glob("static-minilm-*.npy"))
    # without the shipped table (another MiniLM, another recipe): distilled on this machine, offline
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES}
    code = ("import sys\nfrom index.models import static_embedding as se\n"
            f"t = se.load_table({str(models)!r}, log=lambda m: print(m, file=sys.stderr), shipped=False)\n"
            "print(t.shape[1])")
    proc = subprocess.run([*prefix, sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "256" and "distilling the static embedding" in proc.stderr, proc.stderr
    assert len(list(models.glob("static-minilm-*.npy"))) == 1
