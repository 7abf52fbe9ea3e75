"""The Chroma server path: `assistant index` and `assistant ask` through `--chroma-url` against a real
`chroma run` on a free loopback port, with the real MiniLM model, as a user who outgrew one machine would."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLES, SEEDS, run_cli

pytestmark = pytest.mark.slow
N_ARTICLES = 2 + len(list(SAMPLES.glob("*.md")))  # the two seeds and the bundled samples


def test_index_ask_stats_through_a_chroma_server(chroma_server, tmp_path):
    common = ["--chroma-url", chroma_server, "--collection", "server-path", "--data-dir", str(tmp_path / "data")]
    proc = run_cli("index", str(SEEDS), str(SAMPLES), "--json", *common)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["added"], summary["failed"]) == (N_ARTICLES, 0)
    assert summary["chunks_embedded"] >= N_ARTICLES  # one 1,024-token chunk or more each
    assert not (tmp_path / "data" / "chroma").exists(), "nothing written to an embedded store"

    proc = run_cli("ask", "What did Venezuela ask Iran for?", "--json", *common)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"], answer["answer"]
    assert "drone" in answer["answer"].lower()
    cited = {c["article_id"] for c in answer["citations"]}
    assert cited & {"000_583d8edab110d701", "004_04393ed08951e6b7", "venezuela-seeks-military-aid"}, cited

    proc = run_cli("ask", "What is the recipe for traditional Polish pierogi dough?", "--json", *common)
    assert proc.returncode == 0, proc.stderr
    off_topic = json.loads(proc.stdout)
    assert off_topic["abstained"] and off_topic["citations"] == []

    proc = run_cli("stats", "--json", *common)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["articles"] == N_ARTICLES
    assert stats["chunks"] == stats["lexical_chunks"] == summary["chunks_embedded"]
    assert chroma_server in stats["store"]

    # Running the same index again through the server changes nothing.
    proc = run_cli("index", str(SEEDS), str(SAMPLES), "--json", *common)
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert (again["added"], again["updated"], again["unchanged"], again["chunks_embedded"]) == (0, 0, N_ARTICLES, 0)


def test_server_and_embedded_stores_are_separate(chroma_server, tmp_path):
    data = str(tmp_path / "data")
    server = ["--chroma-url", chroma_server, "--collection", "separate", "--data-dir", data, "--embedding", "hashing"]
    embedded = ["--collection", "separate", "--data-dir", data, "--embedding", "hashing"]
    assert run_cli("index", str(SEEDS), *server).returncode == 0
    assert json.loads(run_cli("stats", "--json", *server).stdout)["articles"] == 2
    assert json.loads(run_cli("stats", "--json", *embedded).stdout)["articles"] == 0
    proc = run_cli("remove", "000_583d8edab110d701", *server)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(run_cli("stats", "--json", *server).stdout)
    assert stats["articles"] == 1 and stats["chunks"] == stats["lexical_chunks"]
