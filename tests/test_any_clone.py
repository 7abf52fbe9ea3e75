"""A clone without ../shared beside it: tests that need the seed articles skip, naming the missing folder,
and the run still exits 0. Simulated by pointing NEWS_ASSISTANT_SHARED at a folder that does not exist, over
the modules that mix seed-based and self-contained tests."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

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
