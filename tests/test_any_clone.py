"""A clone without ../shared beside it: tests that need the seed articles skip, naming the missing folder,
and the run still exits 0. Simulated by pointing NEWS_ASSISTANT_SHARED at a folder that does not exist, over
the modules that mix seed-based and self-contained tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT, SEEDS

MODULES = ["tests/test_articles.py", "tests/test_answer_seeds.py", "tests/test_static_embedding.py"]


def test_the_suite_passes_in_a_clone_without_shared(tmp_path):
    missing = tmp_path / "no-shared-here"
    env = {**os.environ, "NEWS_ASSISTANT_SHARED": str(missing)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "not slow", "-p", "no:cacheprovider",
                           *MODULES], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900, check=False)
    tail = done.stdout[-3000:]
    assert done.returncode == 0, tail
    assert f"needs the shared material at {missing / 'corpus' / 'seeds'}" in done.stdout, tail
    assert " passed" in tail, "the tests that do not need the seeds still ran"


# scripts/test.sh builds llama-cpp-python (minutes) only when scripts/real_model_tests.py says the real-model
# tests will run; CI has ../shared, so there they must.

def _real_model_tests(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/real_model_tests.py", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300, check=False)


def test_without_shared_the_real_model_tests_say_why_and_nothing_is_built(tmp_path):
    missing = tmp_path / "no-shared-here"
    done = _real_model_tests(env={"NEWS_ASSISTANT_SHARED": str(missing)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"skipped: needs the shared material at {missing / 'corpus' / 'seeds'}" in done.stdout
    deselected = _real_model_tests("-m", "not slow")
    assert deselected.returncode == 1 and "deselected" in deselected.stdout, deselected.stdout + deselected.stderr


def test_with_shared_the_real_model_tests_will_run_so_they_are_built():
    done = _real_model_tests()
    assert done.returncode == 0, f"{SEEDS} is here, yet: {done.stdout}{done.stderr}"
    assert re.match(r"[1-9]\d* of the real-model tests will run", done.stdout), done.stdout
    assert _real_model_tests("-k", "cli_ask").stdout.startswith("1 of the real-model tests will run")
    assert _real_model_tests("--no-such-option").returncode == 2  # unsure: the script builds, to be safe
