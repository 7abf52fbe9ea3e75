"""Concurrent use: two reindexes at once serialize on the write lock (the second says it is waiting, or
exits with a one-line error when `lock_wait` runs out) and leave an exact index; questions asked while a
reindex runs - in the app's own process, from a second process, and while the app itself reindexes - keep
getting answers built from real passages of the old or the new version, and see the new version after.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from assistant.factory import build_assistant
from tests.conftest import TEST_OUTPUT
from tests.reliability_support import (
    _WORDS,
    Corpus,
    assert_exact,
    cli_command,
    cli_env,
    run_and_kill,
    run_ok,
    trials,
)

pytestmark = pytest.mark.slow
N_ARTICLES = 240
RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    TEST_OUTPUT.mkdir(exist_ok=True)
    (TEST_OUTPUT / "reliability-concurrency.json").write_text(json.dumps(RESULTS, indent=1))


def _start(args: list[str], data_dir: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(data_dir, **env))


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """Read the process's stderr until `text` appears; returns what was read."""
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"no {text!r} after {timeout} s: {seen[-500:]}"
        ch = proc.stderr.read(1)
        assert ch, f"process ended before printing {text!r}: {seen[-2000:]}"
        seen += ch
    return seen


def _wait_for_progress(proc: subprocess.Popen) -> str:
    """Once the progress bar shows, the process holds the write lock."""
    return _wait_for(proc, "chunk")


def _finish(proc: subprocess.Popen, already: str = "", timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, already + err


def _question(rng: random.Random) -> str:
    a, b = rng.sample(_WORDS, 2)
    return rng.choice([f"What happened to the {a} {b}?", f"Which outlet reported on the {a} and the {b}?",
                       f"How many {a}s were there near the {b}?"])


def test_two_reindexes_serialize_and_leave_an_exact_index(tmp_path):
    """A second `assistant index --prune` started while the first writes says it is waiting, runs after
    it, and the index ends exactly as its input. The first is paused (SIGSTOP) while it holds the lock, so
    the overlap does not depend on timing; then both are started at the same moment."""
    corpus = Corpus.generate(N_ARTICLES, seed=21)
    data = tmp_path / "data"
    first = corpus.write(tmp_path / "v1")
    newer = corpus.copy()
    newer.mutate(update=60, remove=30, add=30)
    second = newer.write(tmp_path / "v2")

    a = _start(["index", "--prune", *map(str, first)], data)
    a_err = _wait_for_progress(a)
    a.send_signal(signal.SIGSTOP)  # a slow reindex, holding the lock
    try:
        b = _start(["index", "--prune", *map(str, second)], data)
        b_err = _wait_for(b, "waiting for another reindex to finish")
        b_err += _wait_for(b, "\n")
        assert f"lock held by pid {a.pid}" in b_err
    finally:
        a.send_signal(signal.SIGCONT)
    code_a, _, a_err = _finish(a, a_err)
    code_b, out_b, b_err = _finish(b, b_err)
    assert code_a == 0 and code_b == 0, (a_err[-2000:], b_err[-2000:])
    assert "Traceback" not in a_err + b_err
    assert "removed 30" in out_b, out_b
    assert_exact(data, second, context="a reindex that waited for another")

    for trial in range(trials(1, 5)):  # started at the same moment, different inputs
        inputs = []
        for side in ("x", "y"):
            version = newer.copy()
            version.mutate(update=60, remove=20, add=20)
            inputs.append(version.write(tmp_path / f"{trial}-{side}"))
        results = [_finish(p) for p in [_start(["index", "--prune", *map(str, i)], data) for i in inputs]]
        for code, _, err in results:
            assert code == 0 and "Traceback" not in err, err[-2000:]
        waited = [i for i, (_, _, err) in enumerate(results) if "waiting for another reindex" in err]
        assert len(waited) <= 1
        # The one that waited ran last; without overlap either may have run last.
        candidates = [inputs[waited[0]]] if waited else inputs
        errors = []
        for paths in candidates:
            try:
                assert_exact(data, paths, context=f"two reindexes at once, trial {trial}")
                break
            except AssertionError as exc:
                errors.append(str(exc))
        else:
            raise AssertionError(errors)


def test_a_reindex_that_cannot_wait_exits_with_one_line(tmp_path):
    corpus = Corpus.generate(N_ARTICLES, seed=22)
    paths = corpus.write(tmp_path / "input")
    data = tmp_path / "data"
    a = _start(["index", *map(str, paths)], data)
    a_err = _wait_for_progress(a)
    a.send_signal(signal.SIGSTOP)
    try:
        b = _start(["index", *map(str, paths)], data, ASSISTANT_LOCK_WAIT="0.5")
        code_b, _, err_b = _finish(b)
    finally:
        a.send_signal(signal.SIGCONT)
    code_a, _, a_err = _finish(a, a_err)
    assert code_a == 0, a_err[-2000:]
    assert code_b == 1, err_b
    lines = [line for line in err_b.splitlines() if line.strip()]
    assert lines[-1].startswith("error: another reindex is running"), err_b
    assert "waiting for another reindex" in err_b and "Traceback" not in err_b
    assert_exact(data, paths)


_RUNNING: list[_Asker] = []


@pytest.fixture(autouse=True)
def _stop_askers():
    """A failing test must not leave threads asking questions of a deleted data dir."""
    yield
    while _RUNNING:
        asker = _RUNNING.pop()
        asker.stop.set()
        asker.join(60)


class _Asker(threading.Thread):
    """Asks questions in a loop until stopped; records answers, errors and passages that are not real."""

    def __init__(self, app, versions: list[dict[str, dict]], seed: int) -> None:
        super().__init__(daemon=True)
        self.app, self.versions, self.rng = app, versions, random.Random(seed)
        self.stop = threading.Event()
        self.answers = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []
        _RUNNING.append(self)

    def run(self) -> None:
        while not self.stop.is_set():
            question = _question(self.rng)
            started = time.perf_counter()
            try:
                answer = self.app.ask(question)
            except Exception as exc:  # noqa: BLE001 - any error at all fails the test
                self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            self.latencies.append(time.perf_counter() - started)
            self.answers += 1
            for p in answer.passages:
                texts = [v[p.chunk.article_id]["text"] for v in self.versions if p.chunk.article_id in v]
                if not p.chunk.text or not any(p.chunk.text in t for t in texts):
                    self.errors.append(f"passage {p.chunk.chunk_id} of {p.chunk.article_id!r} is no real text")


def _latency(asker: _Asker) -> dict:
    lat = sorted(asker.latencies) or [0.0]
    return {"answers": asker.answers, "errors": len(asker.errors),
            "median_s": round(lat[len(lat) // 2], 3), "max_s": round(lat[-1], 3)}


def test_questions_keep_getting_answers_during_a_reindex(tmp_path, settings):
    """The app (in-process, one embedded client, as `python app.py` runs) answers while `assistant index
    --prune` rewrites a third of the articles in another process, and a second process asks too."""
    corpus = Corpus.generate(N_ARTICLES, seed=23)
    old_paths = corpus.write(tmp_path / "v1")
    app = build_assistant(settings)
    app.index(old_paths)
    old = {k: dict(v) for k, v in corpus.articles.items()}
    corpus.mutate(update=90, retitle=20, remove=40, add=40)
    new_paths = corpus.write(tmp_path / "v2")

    asker = _Asker(app, [old, corpus.articles], seed=1)
    asker.start()
    reindex = _start(["index", "--prune", *map(str, new_paths)], settings.data_dir)
    cli_answers = 0
    while reindex.poll() is None:  # a second process asks, one `assistant ask` after another
        ask = subprocess.run(cli_command("ask", _question(asker.rng), "--json"), capture_output=True,
                             text=True, env=cli_env(settings.data_dir), timeout=120, check=False)
        assert ask.returncode == 0 and "Traceback" not in ask.stderr, ask.stderr[-2000:]
        assert json.loads(ask.stdout)["question"]
        cli_answers += 1
    during = asker.answers
    code, _, err = _finish(reindex)
    time.sleep(0.5)
    asker.stop.set()
    asker.join(60)
    assert code == 0, err[-2000:]
    assert not asker.errors, asker.errors[:5]
    assert during >= 3, f"only {during} answers while the reindex ran"

    # After the reindex the app answers from the new version only.
    for _ in range(5):
        answer = app.ask(_question(asker.rng))
        for p in answer.passages:
            assert p.chunk.text in corpus.articles[p.chunk.article_id]["text"]
    assert_exact(settings.data_dir, new_paths, context="after questions during a reindex")
    RESULTS["other_process_reindex"] = {**_latency(asker), "answers_while_reindexing": during,
                                        "cli_answers_while_reindexing": cli_answers}


def test_questions_keep_getting_answers_while_the_app_itself_reindexes(tmp_path, settings):
    """Upload/reindex in the web app runs in the same process as its chat: threads share one store."""
    corpus = Corpus.generate(N_ARTICLES, seed=24)
    app = build_assistant(settings)
    app.index(corpus.write(tmp_path / "v1"))
    old = {k: dict(v) for k, v in corpus.articles.items()}
    corpus.mutate(update=90, remove=40, add=40)
    new_paths = corpus.write(tmp_path / "v2")
    askers = [_Asker(app, [old, corpus.articles], seed=s) for s in (2, 3)]
    for asker in askers:
        asker.start()
    summary = app.index(new_paths, prune=True)
    for asker in askers:
        asker.stop.set()
        asker.join(60)
    assert summary.removed == 40 and summary.updated == 90
    for asker in askers:
        assert not asker.errors, asker.errors[:5]
    assert sum(a.answers for a in askers) >= 3
    assert set(app.store.lexical().chunk_ids()) == set(app.store.all_chunk_ids())
    assert_exact(settings.data_dir, new_paths, context="after the app reindexed while answering")
    RESULTS["same_process_reindex"] = _latency(askers[0])


def test_a_reindex_killed_under_a_running_app(tmp_path, settings):
    """The app keeps answering from real passages after a reindex in another process dies, its BM25 index
    holds exactly what Chroma holds, and it follows the rerun."""
    rng = random.Random(25)
    corpus = Corpus.generate(N_ARTICLES, seed=25)
    app = build_assistant(settings)
    app.index(corpus.write(tmp_path / "v1"))
    old = {k: dict(v) for k, v in corpus.articles.items()}
    for trial in range(trials(1, 5)):
        corpus.mutate(update=80, remove=20, add=20)
        paths = corpus.write(tmp_path / "v2")
        asker = _Asker(app, [old, corpus.articles], seed=trial)
        asker.start()
        run_and_kill(["index", "--prune", *map(str, paths)], settings.data_dir,
                     at_fraction=rng.uniform(0.1, 0.9))
        asker.stop.set()
        asker.join(60)
        assert not asker.errors, asker.errors[:5]
        assert set(app.store.lexical().chunk_ids()) == set(app.store.all_chunk_ids())
        run_ok(["index", "--prune", *map(str, paths)], settings.data_dir)
        answer = app.ask(_question(rng))
        assert all(p.chunk.text in corpus.articles[p.chunk.article_id]["text"] for p in answer.passages)
        assert_exact(settings.data_dir, paths, context=f"app running, killed reindex {trial}")
        old = {k: dict(v) for k, v in corpus.articles.items()}
