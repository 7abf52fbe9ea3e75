"""Bad input at the command line: one line starting `error:`, no traceback, exit code 1; a bad file while
indexing is a named one-line warning, the other files are indexed and the exit code says something failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLES, free_port, run_cli

HASHING = ("--embedding", "hashing")


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x01\x02"])
def test_empty_question(question):
    assert_one_line_error(run_cli("ask", question, *HASHING), "question is empty")


def test_over_long_question():
    assert_one_line_error(run_cli("ask", "why " * 1000, *HASHING), "too long")


@pytest.mark.parametrize("command", [
    ["ask", "What did Venezuela ask Iran for?"],
    ["ask", "What did Venezuela ask Iran for?", "--json"],
    ["index", str(SAMPLES)],
    ["stats"],
    ["remove", "some-id"],
])
def test_unreachable_chroma_server(command):
    url = f"http://127.0.0.1:{free_port()}"
    line = assert_one_line_error(run_cli(*command, "--chroma-url", url, *HASHING), url)
    assert "chroma" in line.lower()


def test_unreachable_chroma_server_from_the_environment():
    url = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(run_cli("stats", *HASHING, env={"ASSISTANT_CHROMA_URL": url}), url)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:1", "localhost:8000"])
def test_malformed_chroma_url(url):
    assert_one_line_error(run_cli("stats", "--chroma-url", url, *HASHING), "chroma_url")


@pytest.mark.parametrize("command", [["index", str(SAMPLES)], ["ask", "What happened?"], ["stats"]])
def test_data_dir_below_a_file(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    data = blocker / "data"
    assert_one_line_error(run_cli(*command, "--data-dir", str(data), *HASHING), str(data), "not writable")


def _read_only_runner(folder) -> list[str] | None:
    """A command prefix under which `folder` is read-only (root ignores permission bits)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "--mount", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}'"],
                           check=False, capture_output=True)
    if probe.returncode != 0:
        return None
    return [unshare, "--mount", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}' && exec \"$0\" \"$@\""]


@pytest.mark.parametrize("command", [["index", str(SAMPLES)], ["ask", "What happened?"]])
def test_read_only_data_dir(tmp_path, command):
    data = tmp_path / "ro-data"
    data.mkdir()
    prefix = _read_only_runner(data)
    if prefix is None:
        pytest.skip("cannot make a read-only folder here (root without unshare --mount)")
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", *command, "--data-dir", str(data),
                               *HASHING], check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert_one_line_error(proc, "not writable")
    finally:
        data.chmod(0o755)


@pytest.mark.slow
def test_read_only_data_dir_with_a_chroma_server(tmp_path, chroma_server):
    """With a server the data dir only holds locks and the BM25 cache; it must still fail cleanly."""
    data = tmp_path / "ro-data"
    data.mkdir()
    prefix = _read_only_runner(data)
    if prefix is None:
        pytest.skip("cannot make a read-only folder here (root without unshare --mount)")
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", "index", str(SAMPLES),
                               "--data-dir", str(data), "--chroma-url", chroma_server, "--collection",
                               "rodata", *HASHING], check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert_one_line_error(proc, str(data))
    finally:
        data.chmod(0o755)


@pytest.mark.parametrize("flags,needle", [
    (["--from", "not-a-date"], "--from"),
    (["--to", "2023-13-45"], "--to"),
    (["--top-k", "0"], "top_k"),
    (["--top-k", "-3"], "top_k"),
    (["--top-k", "500"], "top_k"),
])
def test_bad_ask_options(flags, needle):
    assert_one_line_error(run_cli("ask", "What happened?", *flags, *HASHING), needle)


def test_bad_setting_in_the_environment():
    assert_one_line_error(run_cli("stats", *HASHING, env={"ASSISTANT_TOP_K": "many"}), "top_k")


def test_index_with_bad_files_indexes_the_rest(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03 binary")
    (corpus / "latin1.md").write_bytes("Caf\xe9 headline".encode("latin-1"))
    (corpus / "feed.jsonl").write_text(json.dumps({"id": "ok-line", "text": "A fine line of news."}) + "\n{oops\n")
    data = str(tmp_path / "data")
    proc = run_cli("index", str(corpus), "--data-dir", data, *HASHING)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert sorted(warnings) == sorted([
        f"warning: skipped {corpus / 'binary.txt'}: file looks binary (contains NUL bytes)",
        f"warning: skipped {corpus / 'latin1.md'}: file is not valid UTF-8 (byte 3)",
        (f"warning: skipped {corpus / 'feed.jsonl'}:2: invalid JSON (Expecting property name enclosed in double "
         "quotes at column 2)"),
    ])
    n_good = len(list(SAMPLES.glob("*.md"))) + 1  # the samples and feed.jsonl's one good line
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"added {n_good}, updated 0, unchanged 0, removed 0, failed 3"), summary
    stats = json.loads(run_cli("stats", "--json", "--data-dir", data, *HASHING).stdout)
    assert stats["articles"] == n_good

    # Fix nothing, run again: nothing changes, the failures are still reported and still exit 1.
    again = run_cli("index", str(corpus), "--json", "--data-dir", data, *HASHING)
    assert again.returncode == 1
    result = json.loads(again.stdout)
    assert (result["added"], result["unchanged"], result["failed"]) == (0, n_good, 3)


def test_index_missing_path(tmp_path):
    proc = run_cli("index", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "d"), *HASHING)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"warning: skipped {tmp_path / 'nope'}: no such file or folder" in proc.stderr


def test_remove_unknown_article(tmp_path):
    proc = run_cli("remove", "never-indexed", "--data-dir", str(tmp_path / "d"), *HASHING)
    assert_one_line_error(proc, "not in the index: never-indexed")
    assert proc.stdout == ""


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_ask_on_an_empty_index_says_how_to_fill_it(tmp_path, json_flag):
    data = tmp_path / "empty"
    proc = run_cli("ask", "What did Venezuela ask Iran for?", *json_flag, "--data-dir", str(data), *HASHING)
    line = assert_one_line_error(proc, "nothing is indexed yet", str(data))
    assert "`assistant index samples/articles`" in line, line
    assert proc.stdout == ""


def test_a_malformed_line_is_named_before_indexing_starts(tmp_path):
    """The warning for a bad JSONL line comes as the line is read, before the progress bar, not at the end."""
    feed = tmp_path / "feed.jsonl"
    good = [json.dumps({"id": f"ok-{i}", "text": f"Harbour note {i}: the ferry left on time."}) for i in range(3)]
    feed.write_text("\n".join([good[0], "{broken", *good[1:]]) + "\n")
    proc = run_cli("index", str(feed), "--data-dir", str(tmp_path / "d"), *HASHING)
    assert proc.returncode == 1, proc.stderr
    warning = f"warning: skipped {feed}:2: invalid JSON"
    assert proc.stderr.count(warning) == 1, proc.stderr
    bar = proc.stderr.find("chunk")  # tqdm's bar: "...| 0/3 [00:00<?, ?chunk/s]"
    assert bar > proc.stderr.find(warning) >= 0, proc.stderr


def test_usage_error_exit_code():
    proc = run_cli("ask")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
