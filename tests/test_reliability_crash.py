"""Crash safety: `assistant index` (also with --prune) and `assistant remove` are killed with SIGKILL at random
moments, rerun, and the index must then be exact - every article's chunks once, nothing of a removed or
older version, Chroma's records, its vector index and the BM25 index holding the same ids, and
`assistant stats --json` counting what a clean build of the same input counts.

CI runs 11 kills; `RELIABILITY_FULL=1` runs 48. The moments are drawn from a seeded generator (printed; set
`RELIABILITY_SEED` to replay): a random share of the embedding progress, a random time after the start
(which also lands in start-up, planning or the final deletes), or just after the last batch (where
`--prune` deletes). The UI's delete button calls the same `Indexer.remove` as `assistant remove`.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_OUTPUT
from tests.reliability_support import (
    FULL,
    Corpus,
    Killed,
    assert_exact,
    run,
    run_and_kill,
    run_ok,
    snapshot,
    stats_json,
    trials,
)

SEED = int(os.environ.get("RELIABILITY_SEED", random.SystemRandom().randrange(1 << 30)))
N_ARTICLES = 400 if FULL else 200
LOG: list[dict] = []

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _report():
    print(f"\nreliability crash trials: RELIABILITY_SEED={SEED}")
    yield
    TEST_OUTPUT.mkdir(exist_ok=True)
    (TEST_OUTPUT / "reliability-crash.json").write_text(json.dumps({"seed": SEED, "trials": LOG}, indent=1))


def _kill(rng: random.Random, args: list[str], data_dir: Path, *, expected_seconds: float,
          late: bool = False) -> Killed:
    """Kill `assistant ARGS` at a moment drawn from `rng`; `late` aims at the end (prune deletes)."""
    mode = "late" if late else rng.choice(["progress", "progress", "time"]) if args[0] == "index" else "time"
    if mode == "progress":
        killed = run_and_kill(args, data_dir, at_fraction=rng.uniform(0.02, 0.98))
    elif mode == "late":
        killed = run_and_kill(args, data_dir, at_fraction=1.0, linger=rng.uniform(0.0, 0.4))
    else:
        killed = run_and_kill(args, data_dir, after_seconds=rng.uniform(0.3, expected_seconds))
    LOG.append({"command": args[0], "mode": mode, "killed_after_s": round(killed.seconds, 2),
                "progress": killed.progress, "had_finished": killed.finished})
    print(f"  kill {args[0]:6} {mode:8} after {killed.seconds:5.2f} s, progress {killed.progress}, "
          f"finished by itself: {killed.finished}")
    return killed


def _timed_index(args: list[str], data_dir: Path) -> float:
    started = time.monotonic()
    run_ok(args, data_dir)
    return time.monotonic() - started


def _clean_build_matches(tmp_path: Path, paths: list[Path], data_dir: Path, name: str, cli: bool = True) -> None:
    """A clean build of the same input into another data dir has the same chunk ids, and `assistant stats
    --json` (or, to save two start-ups, the `Assistant.stats` it prints) counts the same in both."""
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    clean = tmp_path / f"clean-{name}"
    clean_app = build_assistant(Settings(data_dir=clean, embedding="hashing", index_samples_on_start=False))
    assert clean_app.index(paths).failed == 0
    clean_app.store.close()
    clean_snap, snap = snapshot(clean), snapshot(data_dir)
    assert set(clean_snap.ids) == set(snap.ids)
    if cli:
        assert stats_json(clean) == stats_json(data_dir)
    else:
        keys = ("articles", "chunks", "lexical_chunks")
        assert {k: clean_snap.stats[k] for k in keys} == {k: snap.stats[k] for k in keys}


def test_killed_first_build_recovers(tmp_path):
    rng = random.Random(SEED)
    corpus = Corpus.generate(N_ARTICLES, seed=SEED)
    paths = corpus.write(tmp_path / "input")
    args = ["index", *map(str, paths)]
    mid_write = 0
    expected = 8.0
    for trial in range(trials(3, 10)):
        data = tmp_path / f"data-{trial}"
        killed = _kill(rng, args, data, expected_seconds=expected)
        mid_write += bool(killed.progress and not killed.finished)
        if rng.random() < 0.4:  # crash twice in a row before a run gets to finish
            _kill(rng, args, data, expected_seconds=expected)
        expected = _timed_index(args, data)
        assert_exact(data, paths, context=f"first build, trial {trial}")
    assert mid_write >= 1, "no kill landed while chunks were being written; the trials proved nothing"
    _clean_build_matches(tmp_path, paths, data, "first")


def test_killed_update_recovers(tmp_path):
    """Updated, retitled and new articles; in some trials the input changes again before the rerun."""
    rng = random.Random(SEED + 1)
    corpus = Corpus.generate(N_ARTICLES, seed=SEED + 1)
    data = tmp_path / "data"
    paths = corpus.write(tmp_path / "input")
    expected = _timed_index(["index", *map(str, paths)], data)
    mid_write = 0
    for trial in range(trials(4, 16)):
        corpus.mutate(update=rng.randint(30, 90), retitle=rng.randint(0, 20), add=rng.randint(0, 15))
        paths = corpus.write(tmp_path / "input")
        killed = _kill(rng, ["index", *map(str, paths)], data, expected_seconds=expected)
        mid_write += bool(killed.progress and not killed.finished)
        if trial % 2 == 1:  # the input changed between the killed run and the rerun
            corpus.mutate(update=rng.randint(10, 40), retitle=rng.randint(0, 5))
            paths = corpus.write(tmp_path / "input")
        expected = max(2.0, _timed_index(["index", *map(str, paths)], data))
        assert_exact(data, paths, context=f"update, trial {trial}")
    assert mid_write >= 1, "no kill landed while chunks were being written; the trials proved nothing"
    _clean_build_matches(tmp_path, paths, data, "update")


def test_killed_prune_recovers(tmp_path):
    rng = random.Random(SEED + 2)
    corpus = Corpus.generate(N_ARTICLES, seed=SEED + 2)
    data = tmp_path / "data"
    paths = corpus.write(tmp_path / "input")
    expected = _timed_index(["index", *map(str, paths)], data)
    for trial in range(trials(2, 12)):
        changed = corpus.mutate(update=rng.randint(10, 40), remove=rng.randint(10, 40), add=rng.randint(0, 10))
        paths = corpus.write(tmp_path / "input")
        args = ["index", "--prune", *map(str, paths)]
        _kill(rng, args, data, expected_seconds=expected, late=trial % 2 == 0)
        expected = max(2.0, _timed_index(args, data))
        snap = assert_exact(data, paths, context=f"prune, trial {trial}")
        assert not set(changed["removed"]) & set(snap.articles)
    _clean_build_matches(tmp_path, paths, data, "prune", cli=False)


def test_killed_remove_recovers(tmp_path):
    rng = random.Random(SEED + 3)
    corpus = Corpus.generate(N_ARTICLES, seed=SEED + 3)
    data = tmp_path / "data"
    paths = corpus.write(tmp_path / "input")
    run_ok(["index", *map(str, paths)], data)
    expected = 6.0
    for trial in range(trials(2, 10)):
        victims = rng.sample(sorted(corpus.articles), min(rng.randint(20, 80), len(corpus.articles) // 4))
        _kill(rng, ["remove", *victims], data, expected_seconds=expected)
        started = time.monotonic()
        rerun = run(["remove", *victims], data)
        expected = time.monotonic() - started
        # 0: it removed the rest; 1: the killed run had already removed some ("not in the index").
        assert rerun.returncode in (0, 1), rerun.stderr
        assert "Traceback" not in rerun.stderr
        for aid in victims:
            del corpus.articles[aid]
        paths = corpus.write(tmp_path / "input")
        snap = assert_exact(data, paths, context=f"remove, trial {trial}")
        assert not set(victims) & set(snap.articles)
    _clean_build_matches(tmp_path, paths, data, "remove", cli=False)
