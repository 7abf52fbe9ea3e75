"""The shape of the code, checked: no import cycles, `index` never imports `assistant`, the factory is the
only place that builds, and the light commands load no model (no PyTorch, no transformers, no
llama-index) and close quietly when their reader goes away."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

PACKAGES = ("assistant", "index")
HEAVY = ("torch", "transformers", "sentence_transformers", "llama_index", "gradio")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules `path` imports anywhere (lazy imports inside functions count: a cycle through a
    lazy import is still a cycle), except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def test_the_graph_sees_the_known_edges():
    graph = _graph()
    assert "assistant.factory" in graph["assistant.cli"] or "assistant.factory" in graph["assistant.console"] \
        or any("assistant.factory" in graph[m] for m in graph if m.startswith("assistant.cli"))
    assert "index.store" in graph["index.indexer"]


def test_no_import_cycles():
    graph = _graph()
    # Parent packages import nothing of their children here; an edge to a package is to its __init__.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_index_never_imports_assistant():
    bad = {m: sorted(d for d in deps if d.startswith("assistant"))
           for m, deps in _graph().items() if m.startswith("index")}
    assert not {m: d for m, d in bad.items() if d}


def test_only_the_factory_constructs_the_assistant_and_its_parts():
    constructors = ("Assistant(", "HybridRetriever(", "ExtractiveAnswerer(", "GenerativeAnswerer(", "Indexer(")
    offenders = []
    for name, path in _modules().items():
        if name in ("assistant.factory",):
            continue
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(f" {c}" in code or f"={c}" in code or f"({c}" in code for c in constructors) \
                    and "class " not in code and "def " not in code and '"' not in code:
                offenders.append(f"{path.relative_to(ROOT)}:{line_no}: {line.strip()}")
    assert not offenders, offenders


def _run_and_list_heavy(args: list[str], data_dir: Path) -> tuple[int, list[str], str]:
    code = (
        "import sys, json\n"
        "from assistant.cli import main\n"
        "try:\n"
        f"    rc = main({args!r})\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))\n"
        "print('HEAVY=' + json.dumps(heavy))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**_env(), "ASSISTANT_DATA_DIR": str(data_dir)}, check=False)
    line = [x for x in done.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, done.stdout + done.stderr
    return done.returncode, json.loads(line[-1][len("HEAVY="):]), done.stdout + done.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}


def test_help_loads_nothing_heavy(tmp_path):
    rc, heavy, out = _run_and_list_heavy(["--help"], tmp_path)
    assert rc == 0 and "usage: assistant" in out
    assert heavy == [], f"--help imported {heavy}"


@pytest.fixture(scope="module")
def indexed_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("arch-data")
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(SAMPLES), "--embedding", "hashing"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
                          env={**_env(), "ASSISTANT_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    return data


def test_stats_and_remove_load_no_model(indexed_dir):
    rc, heavy, out = _run_and_list_heavy(["stats", "--json", "--embedding", "hashing"], indexed_dir)
    assert rc == 0, out
    stats = json.loads(out.splitlines()[0])
    assert stats["articles"] > 5 and stats["embedding_model"] == "hashing-256"
    assert heavy == [], f"stats imported {heavy}"
    rc, heavy, out = _run_and_list_heavy(["remove", "no-such-article", "--embedding", "hashing"], indexed_dir)
    assert rc == 1 and "not in the index: no-such-article" in out
    assert heavy == [], f"remove imported {heavy}"


def test_a_closed_pipe_ends_quietly(indexed_dir):
    """`assistant stats | head -0`: the reader is gone before the first line; exit 0, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "stats", "--embedding", "hashing"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**_env(), "ASSISTANT_DATA_DIR": str(indexed_dir)})
    proc.stdout.close()  # before the child has imported anything, so its first write meets a closed pipe
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0, err.decode()
