"""A clone without ../shared beside it. Simulated by pointing NEWS_ASSISTANT_SHARED at a folder that does not
exist: every test module still imports and collects; the tests that need the shared material skip through
tests/conftest.py's one rule, naming the missing folder, and the run exits 0 (run here over the modules that
mix shared-based and self-contained tests, and over the slow tests that need it, which skip before they
start anything); and no test, benchmark or script finds ../shared by its own path, around that rule."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

from tests.conftest import ROOT, SEEDS

MODULES = ["tests/test_articles.py", "tests/test_answer_seeds.py", "tests/test_static_embedding.py",
           "tests/test_dataset_split.py"]
# Slow tests that need the shared material: without it they must skip at once, not start servers or builds.
SLOW_NEEDING_SHARED = [
    "tests/test_load_chroma_server.py::test_sixteen_askers_get_answers_without_errors_while_a_reindex_writes",
    "tests/test_llm_real.py", "tests/test_chroma_server.py"]
# Where the path to the shared material is spelled: the rule (conftest) and the benchmarks' copy of it.
SPELL_SHARED = {"tests/conftest.py", "benchmarks/common.py"}
# Scripts that still find the shared material by their own path (none: keep it so).
KNOWN_OWN_PATH: set[str] = set()


def _pytest_without_shared(missing, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWS_ASSISTANT_SHARED": str(missing)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900, check=False)


def test_every_test_module_collects_in_a_clone_without_shared(tmp_path):
    done = _pytest_without_shared(tmp_path / "no-shared-here", "--collect-only", "tests")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")}
    assert modules - collected == set(), "modules that collected no test without ../shared"


def test_the_suite_passes_in_a_clone_without_shared(tmp_path):
    missing = tmp_path / "no-shared-here"
    done = _pytest_without_shared(missing, "-rs", "-m", "not slow", *MODULES)
    tail = done.stdout[-3000:]
    assert done.returncode == 0, tail
    assert f"needs the shared material at {missing / 'corpus' / 'seeds'}" in done.stdout, tail
    assert f"needs the shared material at {missing / 'datasets' / 'realtimeqa-2023'}" in done.stdout, tail
    assert " passed" in tail, "the tests that do not need the shared material still ran"


def test_the_slow_tests_that_need_shared_skip_before_starting_anything(tmp_path):
    missing = tmp_path / "no-shared-here"
    done = _pytest_without_shared(missing, "-rs", *SLOW_NEEDING_SHARED)
    tail = done.stdout[-3000:]
    assert done.returncode == 0 and re.search(r"^\d+ skipped in ", tail.splitlines()[-1]), tail
    reason = r"^SKIPPED \[\d+\] (\S+?)(?::\d+)?: needs the shared material at "
    skipped = re.findall(reason, tail, re.MULTILINE)
    assert set(skipped) == {node.split("::")[0] for node in SLOW_NEEDING_SHARED}, tail


def _spells_shared(path) -> bool:
    """A path string in the code (no spaces, not a docstring) to the folder: "shared", "../shared/x", "x/shared"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return any(isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
               and re.fullmatch(r"(\S*/)?shared(/\S*)?", node.value) for node in ast.walk(tree))


def test_nothing_finds_the_shared_material_by_its_own_path():
    files = [*ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")]
    own = {str(p.relative_to(ROOT)) for p in files if _spells_shared(p)} - SPELL_SHARED
    assert own <= KNOWN_OWN_PATH, f"take it from tests/conftest.py (tests) or benchmarks/common.py: {own}"


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
