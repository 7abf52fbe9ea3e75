"""Shared fixtures: user state in a temp dir, a deterministic embedding for logic tests, the real MiniLM
model (loaded once per session) and a real `chroma run` server on a free loopback port."""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The shared material beside the clone (../shared); NEWS_ASSISTANT_SHARED points elsewhere, which is also how
# tests/test_any_clone.py runs the suite as a clone without it.
SHARED = Path(os.environ.get("NEWS_ASSISTANT_SHARED") or ROOT.parent / "shared")
SEEDS = SHARED / "corpus" / "seeds"
REALTIMEQA = SHARED / "datasets" / "realtimeqa-2023"
REALTIMEQA_VAL = SHARED / "datasets" / "realtimeqa-2023-val"
REALTIMEQA_TRAIN = SHARED / "datasets" / "realtimeqa-train"
SAMPLES = ROOT / "samples" / "articles"
TEST_OUTPUT = ROOT / "test-output"
# The one rule for the shared material: a test (or one of its fixtures, or a module-level name derived from
# these) that names one of them is skipped when that folder is missing. Tests and the benchmarks they run
# take these paths from here, never by their own path to ../shared.
_NEEDS_SHARED = {"SEEDS": SEEDS, "REALTIMEQA": REALTIMEQA, "REALTIMEQA_VAL": REALTIMEQA_VAL,
                 "REALTIMEQA_TRAIN": REALTIMEQA_TRAIN, "SHARED": SHARED}

from index.models.offline import offline_environment  # before chromadb or gradio are imported

offline_environment()


def _mentioned(source: str, names) -> list[str]:
    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", source)]


def _shared_names(module) -> dict[str, set[Path]]:
    """SEEDS, REALTIMEQA... and the module-level names a test module derives from them, each with the shared
    folders it needs."""
    names = {name: {path} for name, path in _NEEDS_SHARED.items()}
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return names
    for node in tree.body:
        if isinstance(node, ast.Assign):
            needs = set().union(*(names[n] for n in _mentioned(ast.unparse(node.value), names)))
            if needs:
                for target in (t for t in node.targets if isinstance(t, ast.Name)):
                    names[target.id] = names.get(target.id, set()) | needs
    return names


def pytest_collection_modifyitems(config, items):
    """Without ../shared beside the clone, each test that needs the seed articles or a RealTime QA set (itself
    or through a fixture) is skipped with a reason naming the missing folder; every other test runs."""
    if all(path.is_dir() for path in _NEEDS_SHARED.values()):
        return
    names_of: dict[str, dict[str, set[Path]]] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        names = names_of.setdefault(module.__name__, _shared_names(module))
        functions = [getattr(item, "function", None)]
        for defs in item._fixtureinfo.name2fixturedefs.values():
            functions += [d.func for d in defs]
        needs: set[Path] = set()
        for function in functions:
            try:
                source = inspect.getsource(function)
            except (OSError, TypeError):
                continue
            for name in _mentioned(source, names):
                needs |= names[name]
        missing = [path for path in needs if not path.is_dir()]
        if missing:
            named = min(missing, key=lambda path: (-len(path.parts), str(path)))  # the most specific one
            reason = f"needs the shared material at {named} (not beside this clone)"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _static_table_distilled():
    """The default MiniLM setup shortlists answer sentences with the static model distilled from MiniLM: the
    table shipped in the package, or, when the bundled MiniLM or the recipe differ from the shipped one's,
    one distilled on first use (~30-60 s, cached under ~/.cache/news-assistant/models). Have it ready before
    any test starts an app or a CLI with a startup timeout; tests/test_static_embedding.py distils into its
    own dir."""
    from assistant.settings import Settings
    from index.models.static_embedding import load_table

    load_table(Settings().models_path)


@pytest.fixture(autouse=True)
def _user_state_in_tmp(tmp_path, monkeypatch):
    """Never touch the real data directory: every test gets its own."""
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    for key in ("ASSISTANT_CHROMA_URL", "ASSISTANT_EMBEDDING", "ASSISTANT_COLLECTION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _reliability_chunks(request, monkeypatch):
    """The reliability tests chunk at 256/32 (see CHUNK_ENV in tests/reliability_support.py)."""
    if request.module.__name__.rsplit(".", 1)[-1].startswith("test_reliability_"):
        from tests.reliability_support import CHUNK_ENV

        for key, value in CHUNK_ENV.items():
            monkeypatch.setenv(key, value)


@pytest.fixture
def settings(tmp_path):
    from assistant.settings import Settings

    return Settings(data_dir=tmp_path / "data", embedding="hashing", index_samples_on_start=False)


@pytest.fixture
def hashing_assistant(settings):
    """An assistant on a real embedded Chroma with the deterministic hashing embedding."""
    from assistant.factory import build_assistant

    return build_assistant(settings)


@pytest.fixture(scope="session")
def minilm():
    from index.models.embedding import load_minilm

    return load_minilm()


@pytest.fixture
def minilm_assistant(tmp_path, minilm):
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", embedding="minilm", index_samples_on_start=False)
    return build_assistant(settings, embed_model=minilm)


@pytest.fixture(scope="session")
def seeded_minilm_settings(tmp_path_factory):
    """The settings `seeded_minilm_assistant` is built from (tests that build another assistant on the same
    data start from these: an assistant does not keep its settings)."""
    from assistant.settings import Settings

    data = tmp_path_factory.mktemp("seeded") / "data"
    return Settings(data_dir=data, embedding="minilm", index_samples_on_start=False)


@pytest.fixture(scope="session")
def seeded_minilm_assistant(seeded_minilm_settings, minilm):
    """MiniLM assistant with the two seed articles and the bundled samples indexed (built once)."""
    from assistant.factory import build_assistant

    assistant = build_assistant(seeded_minilm_settings, embed_model=minilm)
    summary = assistant.index([SEEDS, SAMPLES])
    assert summary.failed == 0
    return assistant


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def stop_process(proc: subprocess.Popen, grace: float = 15) -> None:
    """Terminate a server we started; kill it if it does not exit within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def running_app(data: Path, *, embedding: str, timeout: float):
    """`python app.py` on a free loopback port with its own data directory; yields (url, env, log path).
    Fails the test with the end of the app's log when it does not start."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_EMBEDDING": embedding,
           "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(port)}
    env.pop("ASSISTANT_CHROMA_URL", None)
    log_path = data.parent / "app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_for_port(port, timeout=timeout, proc=proc)
            except (RuntimeError, TimeoutError) as exc:
                pytest.fail(f"app did not start: {exc}\n{log_path.read_text()[-3000:]}")
            yield f"http://127.0.0.1:{port}/", env, log_path
        finally:
            stop_process(proc)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on a free 127.0.0.1 port; yields its URL."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    with open(path / "server.log", "w") as log:
        proc = subprocess.Popen([chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, proc=proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(proc)


def run_cli(*args: str, env: dict | None = None, timeout: float = 300, input: str | None = None
            ) -> subprocess.CompletedProcess:
    """Run the real `assistant` command in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=ROOT, input=input, check=False)
