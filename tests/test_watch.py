"""`assistant watch DIR` as a real process on real folders: files indexed as they appear, change and
disappear (prune semantics), 1,000 files dropped at once indexed once each with a progress line, and
Ctrl-C (SIGINT) stopping cleanly after the batch in hand."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web_support import story


def _write(folder: Path, name: str, n: int, revision: int = 0) -> Path:
    s = story(n, revision=revision)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {s['title']}\n\n" + "\n\n".join(s["paragraphs"]) + "\n")
    return path


class Watcher:
    """`assistant watch` in a subprocess; reads its stdout and stderr as they come."""

    def __init__(self, folder: Path, data: Path) -> None:
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_EMBEDDING": "hashing"}
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "watch", str(folder), "--debounce-ms",
                                      "3000", "--quiet-ms", "400"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = ""
        self.err = ""
        self._sel = selectors.DefaultSelector()
        for stream in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
            self._sel.register(stream, selectors.EVENT_READ)

    def _pump(self, timeout: float) -> None:
        for key, _ in self._sel.select(timeout=timeout):
            data = key.fileobj.read(65536)
            if data:
                if key.fileobj is self.proc.stdout:
                    self.out += data.decode(errors="replace")
                else:
                    self.err += data.decode(errors="replace")

    def wait_for(self, pattern: str, *, stream: str = "out", timeout: float = 90, after: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = (self.out if stream == "out" else self.err)[after:]
            match = re.search(pattern, text)
            if match:
                return match
            if self.proc.poll() is not None:
                self._pump(0.1)
                break
            self._pump(0.1)
        raise AssertionError(f"no {pattern!r} in {stream}:\nstdout: {self.out[-2000:]}\nstderr: {self.err[-2000:]}")

    def stop(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.1)
        self._pump(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError("watch did not stop on SIGINT")
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._sel.close()


@pytest.fixture
def watcher(tmp_path):
    made: list[Watcher] = []

    def start(folder: Path) -> Watcher:
        w = Watcher(folder, tmp_path / "data")
        made.append(w)
        return w

    yield start
    for w in made:
        w.close()


def _stats(data: Path) -> dict:
    import json

    from tests.conftest import run_cli

    done = run_cli("stats", "--json", "--embedding", "hashing", env={"ASSISTANT_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_files_appear_change_and_disappear(tmp_path, watcher):
    folder = tmp_path / "inbox"
    folder.mkdir()
    _write(folder, "early.md", 0)
    w = watcher(folder)
    w.wait_for(r"synced: added 1, ")
    w.wait_for(r"watching ", stream="err")
    mark = len(w.out)
    _write(folder, "desk/one.md", 1)
    _write(folder, "two.md", 2)
    (folder / ".hidden.md").write_text("# not read\n\nhidden files are left alone like `assistant index` does")
    (folder / "notes.docx").write_bytes(b"not a supported type")
    w.wait_for(r"2 file\(s\): added 2, updated 0, unchanged 0, removed 0, failed 0", after=mark)
    mark = len(w.out)
    _write(folder, "two.md", 2, revision=1)
    w.wait_for(r"1 file\(s\): added 0, updated 1, unchanged 0, removed 0", after=mark)
    mark = len(w.out)
    (folder / "early.md").unlink()
    w.wait_for(r"1 file\(s\): added 0, updated 0, unchanged 0, removed 1", after=mark)
    mark = len(w.out)
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00\x01 binary")
    w.wait_for(r"1 file\(s\): .*failed 1", after=mark)
    w.wait_for(r"warning: skipped .*bad.txt: file looks binary", stream="err")
    assert w.stop() == 0
    assert "stopped watching" in w.err and "Traceback" not in w.err
    assert _stats(tmp_path / "data")["articles"] == 2  # desk/one and two


@pytest.mark.slow
def test_a_thousand_files_at_once_are_indexed_once_each(tmp_path, watcher):
    folder = tmp_path / "drop"
    folder.mkdir()
    w = watcher(folder)
    w.wait_for(r"watching ", stream="err")
    staging = tmp_path / "staging"
    staging.mkdir()
    for n in range(1000):
        _write(staging, f"batch/story-{n:04d}.md", n)
    (staging / "batch").rename(folder / "batch")  # dropped at once
    totals = {"added": 0, "updated": 0, "unchanged": 0, "chunks": 0}
    deadline = time.monotonic() + 240
    while totals["added"] + totals["unchanged"] < 1000 and time.monotonic() < deadline:
        w._pump(0.2)
        totals = {"added": 0, "updated": 0, "unchanged": 0, "chunks": 0}
        for m in re.finditer(r"file\(s\): added (\d+), updated (\d+), unchanged (\d+), .*?\((\d+) chunks", w.out):
            for key, value in zip(totals, m.groups()):
                totals[key] += int(value)
    assert totals == {"added": 1000, "updated": 0, "unchanged": 0, "chunks": 1000}, (totals, w.out[-2000:])
    assert re.search(r"1000 file\(s\) changed, indexing", w.err) or "file(s) changed, indexing" in w.err
    assert re.search(r"embedding: +100%.*1000/1000", w.err), w.err[-1500:]
    assert w.stop() == 0
    assert _stats(tmp_path / "data")["articles"] == 1000


@pytest.mark.slow
def test_ctrl_c_during_a_batch_finishes_that_batch(tmp_path, watcher):
    folder = tmp_path / "drop"
    folder.mkdir()
    w = watcher(folder)
    w.wait_for(r"watching ", stream="err")
    staging = tmp_path / "staging"
    for n in range(400):
        _write(staging, f"b/s{n:03d}.md", n)
    (staging / "b").rename(folder / "b")
    w.wait_for(r"file\(s\) changed, indexing", stream="err")
    assert w.stop() == 0
    assert "stopping after the current batch" in w.err and "Traceback" not in w.err
    match = re.search(r"400 file\(s\): added 400", w.out)
    assert match, (w.out, w.err[-2000:])
    assert _stats(tmp_path / "data")["articles"] == 400
