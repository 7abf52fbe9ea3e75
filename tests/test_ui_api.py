"""The web app's named API, called with `gradio_client` against a real `python app.py` (and a real in-process
launch for the login), on free loopback ports. Uses the hashing embedding: these tests check plumbing and
contracts (same JSON as the CLI, streaming, errors, filters, auth), not answer quality."""

from __future__ import annotations

import datetime
import itertools
import json
import re
import time

import pytest

from tests.conftest import ROOT, SAMPLES, free_port, run_cli, running_app

pytestmark = pytest.mark.slow
QUESTION = "What did Venezuela ask Iran for?"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """`python app.py` with its own data directory; yields (url, env, log path)."""
    data = tmp_path_factory.mktemp("ui-api") / "data"
    with running_app(data, embedding="hashing", timeout=180) as started:
        yield started


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app[0], verbose=False)


def _without_timings(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k != "timings_ms"}


def test_first_start_indexes_the_samples_and_binds_loopback(app, client):
    client.predict(QUESTION, api_name="/ask")  # answered once the background first-start work is done
    log = app[2].read_text()
    assert f"indexed the bundled samples: added {len(list(SAMPLES.glob('*.md')))}," in log
    assert f"Running on local URL:  {app[0].rstrip('/')}" in log
    assert "warning:" not in log


def test_ask_endpoint_returns_the_cli_json(app, client):
    got = client.predict(QUESTION, api_name="/ask")
    cli = run_cli("ask", QUESTION, "--json", env={k: app[1][k] for k in ("ASSISTANT_DATA_DIR", "ASSISTANT_EMBEDDING")})
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    assert set(got) == set(expected)
    assert _without_timings(got) == _without_timings(expected)
    assert not got["abstained"] and got["citations"]
    assert got["citations"][0]["article_id"] == "venezuela-seeks-military-aid"
    assert "total" in got["timings_ms"]
    assert {"short_answer", "as_of", "window"} <= set(got) and isinstance(got["short_answer"], str)
    assert datetime.date.fromisoformat(got["as_of"]) and got["window"] is None  # today; no time expression


def test_ask_endpoint_as_of_uses_nothing_published_later(client):
    got = client.predict(QUESTION, [], "", "", "2025-01-01", api_name="/ask")  # before every sample article
    assert got["abstained"] and got["citations"] == [] and got["short_answer"] == ""
    assert got["as_of"] == "2025-01-01" and got["window"] is None


def test_ask_endpoint_time_expression_counts_from_as_of_like_the_cli(app, client):
    question = "What did Venezuela ask Iran for this week?"
    got = client.predict(question, [], "", "", "2025-11-05", api_name="/ask")
    assert got["as_of"] == "2025-11-05"
    assert got["window"] == {"start": "2025-10-30", "end": "2025-11-05", "expression": "this week"}
    assert got["citations"] and all("2025-10-30" <= c["published_at"] <= "2025-11-05" for c in got["citations"])
    cli = run_cli("ask", question, "--as-of", "2025-11-05", "--json",
                  env={k: app[1][k] for k in ("ASSISTANT_DATA_DIR", "ASSISTANT_EMBEDDING")})
    assert cli.returncode == 0, cli.stderr
    assert _without_timings(got) == _without_timings(json.loads(cli.stdout))


def test_ask_endpoint_applies_filters(client):
    got = client.predict(QUESTION, ["Harbor Ledger"], "2025-01-01", "2025-12-31", api_name="/ask")
    assert got["citations"] and all(c["source"] == "Harbor Ledger" for c in got["citations"])
    other = client.predict(QUESTION, ["No Such Outlet"], api_name="/ask")
    assert other["abstained"] and other["citations"] == [] and other["retrieved"] == []


@pytest.mark.parametrize(("args", "message"), [
    (("",), "the question is empty"),
    ((QUESTION, [], "not a date"), "YYYY-MM-DD"),
    ((QUESTION, [], "2025-12-31", "2025-01-01"), "is after"),
    ((QUESTION, [], "", "", "2025-13-01"), "as-of date '2025-13-01' is not a valid YYYY-MM-DD date"),
    ((QUESTION, [], "", "", "next week"), "as-of date 'next week' is not a valid YYYY-MM-DD date"),
])
def test_ask_endpoint_errors_are_one_line_messages(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/ask")


def test_chat_endpoint_streams_then_shows_cited_answer(client):
    job = client.submit(QUESTION, [], "", "", api_name="/chat")
    texts = []
    for output in job:
        messages = output[1]
        if messages and messages[-1]["role"] == "assistant":
            content = messages[-1]["content"]
            texts.append(content[0]["text"] if isinstance(content, list) else str(content))
    words = [t for t in texts if "thinking" not in t]
    assert len(words) >= 3, texts  # the answer arrives in pieces
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(words))
    assert 'class="cite-marker"' in words[-1] and "Venezuela" in words[-1]
    sources_html = job.outputs()[-1][2]
    assert "<mark id=\"src-1-1\"" in sources_html and "source-card" in sources_html


def test_chat_endpoint_passes_the_as_of_date(client):
    final = list(client.submit(QUESTION, [], "", "", "2025-01-01", api_name="/chat"))[-1]
    content = final[1][-1]["content"]
    text = content[0]["text"] if isinstance(content, list) else str(content)
    assert 'class="abstained"' in text and "cite-marker" not in text
    latest = re.search(r'<section class="turn-sources".*?</section>', final[2], re.DOTALL)[0]  # earlier turns fold
    assert "source-card" not in latest and "No sources" in latest


def test_login_is_required_when_configured(tmp_path, hashing_assistant):
    from gradio_client import Client

    from assistant.factory import build_web_parts
    from assistant.settings import Settings
    from assistant.web.ui import build_ui, launch_options

    hashing_assistant.index([ROOT / "samples" / "articles"])
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", port=port, auth_username="reader", auth_password="s3cret")
    demo = build_ui(hashing_assistant, build_web_parts(settings, hashing_assistant))
    demo.launch(**launch_options(settings), prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(ValueError, match="(?i)auth|login|credentials"):
            Client(url, verbose=False)
        with pytest.raises(ValueError):
            Client(url, auth=("reader", "wrong"), verbose=False)
        started = time.perf_counter()
        got = Client(url, auth=("reader", "s3cret"), verbose=False).predict(QUESTION, api_name="/ask")
        assert got["citations"] and time.perf_counter() - started < 60
    finally:
        demo.close()


def test_saved_test_question_round_trips_through_assistant_eval(app, client, tmp_path):
    """/save_test_question writes the data dir's question set; `assistant eval` reads it as is and scores it."""
    data = app[1]["ASSISTANT_DATA_DIR"]
    saved = client.predict(QUESTION, "", [], "2025-11-20", api_name="/save_test_question")  # from the answer
    assert saved["question"] == QUESTION and saved["asked_at"] == "2025-11-20"
    assert saved["evidence_ids"] == ["venezuela-seeks-military-aid"]
    given = client.predict("How far can the drones Venezuela asked Iran for fly?", "1,000 km",
                           ["venezuela-seeks-military-aid"], "2025-11-20", api_name="/save_test_question")
    assert given["answer"] == ["1,000 km"]
    wrong = client.predict("What did Venezuela ask Iran for?", "a submarine", ["voltic-power-bank-recall"],
                           "2025-11-20", api_name="/save_test_question")  # a test the assistant must fail
    path = f"{data}/saved-questions.jsonl"
    out = tmp_path / "eval"
    done = run_cli("eval", path, "--out", str(out), "--top-k", "5",
                   env={k: app[1][k] for k in ("ASSISTANT_DATA_DIR", "ASSISTANT_EMBEDDING")})
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    rows = {r["id"]: r for r in report["questions"]}
    assert set(rows) == {saved["id"], given["id"], wrong["id"]}
    first = rows[saved["id"]]  # saved from the assistant's own answer: it passes as it was answered
    assert first["passed"] is True and first["first_hit_rank"] == 1 and first["as_of"] == "2025-11-20"
    if saved.get("answer"):
        assert first["correct"] is True and first["short_answer_em"] == 1
    assert rows[given["id"]]["first_hit_rank"] == 1
    assert rows[given["id"]]["correct"] is ("1,000 km" in rows[given["id"]]["answer"])
    assert rows[wrong["id"]]["correct"] is False and rows[wrong["id"]]["passed"] is False
    assert report["counts"]["questions"] == 3
