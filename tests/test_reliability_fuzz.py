"""Hostile and broken input through every entry point, fuzzed with hypothesis: article files (random bytes,
invalid UTF-8, NUL bytes, JSON of any shape and depth, wrong field types, duplicate ids, a 50 MB article,
a 1 MB single line), questions (empty, 100k characters, control characters) to `Assistant.ask` and the
CLI, question sets, and upload file names. Each gives an article, an answer, or a clear one-line error;
the process keeps running and the index stays consistent. `RELIABILITY_FULL=1` runs more examples.
"""

from __future__ import annotations

import codecs
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import BadQuestionError, UploadError
from assistant.factory import build_assistant
from index.intake import articles as articles_module
from index.intake.articles import MAX_FILE_BYTES, Article, LoadFailure, read_articles
from tests.conftest import SAMPLES, run_cli
from tests.reliability_support import CLI_ENV, FULL, assert_exact, examples

FUZZ = settings(max_examples=examples(60, 600), deadline=None, derandomize=not FULL,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SLOW_FUZZ = settings(FUZZ, max_examples=examples(12, 120))
SUFFIXES = [".jsonl", ".md", ".txt", ".html", ".htm", ".json", ".pdf", ".MD", ""]


def check_items(items: list, where: Path) -> tuple[list[Article], list[LoadFailure]]:
    """What every reader must give: articles that are usable, failures that are one line naming the input."""
    articles = [i for i in items if isinstance(i, Article)]
    failures = [i for i in items if isinstance(i, LoadFailure)]
    assert len(articles) + len(failures) == len(items)
    for a in articles:
        assert a.id and len(a.id) <= 512 and a.text.strip()
        for value in (a.id, a.text, a.title, a.url, a.source, a.published_at):
            assert "\x00" not in value
        assert a.published_at == "" or (len(a.published_at) == 10 and a.published_at[4] == "-")
    for f in failures:
        assert f.reason and "\n" not in str(f) and "Traceback" not in f.reason
        assert f.origin.startswith(str(where)) or f.origin.startswith(str(where.parent)), f.origin
    assert len({a.id for a in articles}) == len(articles), "duplicate ids must be reported, not returned"
    return articles, failures


# --------------------------------------------------------------------------------------------- loaders

json_scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
field = json_value | st.text(max_size=60) | st.sampled_from(["", " ", "\x00", "2024-02-30", "yesterday", "1e9"])
record = st.fixed_dictionaries({}, optional={
    "id": field | st.integers() | st.text(min_size=500, max_size=600),
    "text": st.text(min_size=1, max_size=400) | field,
    "title": field, "url": field, "source": field,
    "published_at": field | st.dates().map(str) | st.datetimes().map(str),
})
jsonl_line = (record.map(json.dumps) | json_value.map(json.dumps) | st.text(max_size=80)
              | st.sampled_from(["[" * 5000, '{"text": "x", "n": 1' + "1" * 5000 + "}", "{", "\ufeff{}",
                                 '{"text": "a\\u0000b"}', '{"text": "\\ud800 lone surrogate"}'])).map(str.encode)
raw_line = st.binary(max_size=120)


@FUZZ
@given(content=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_in_any_file(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"input{suffix}"
    path.write_bytes(content)
    check_items(list(read_articles([path])), path)


@FUZZ
@given(lines=st.lists(jsonl_line | raw_line, max_size=12))
def test_jsonl_of_any_shape(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("jsonl") / "feed.jsonl"
    path.write_bytes(b"\n".join(lines))
    check_items(list(read_articles([path])), path)


hostile_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400) | st.text(
    st.sampled_from(string.printable + "\x00\x01\x1b\u202e\u200b\ufeff\u2028"), max_size=400)


@FUZZ
@given(body=hostile_text, meta=st.dictionaries(st.sampled_from(["title", "url", "source", "published_at", "id"]),
                                               hostile_text.map(lambda s: s.replace("\n", " ")), max_size=5),
       suffix=st.sampled_from([".md", ".txt", ".html"]))
def test_text_and_html_files_with_hostile_text(tmp_path_factory, body, meta, suffix):
    path = tmp_path_factory.mktemp("text") / f"story{suffix}"
    front = "".join(f"{k}: {v}\n" for k, v in meta.items())
    doc = f"---\n{front}---\n{body}" if suffix != ".html" else f"<html><title>{meta.get('title', '')}</title>{body}"
    path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    check_items(list(read_articles([path])), path)


def _big_inputs(root: Path) -> dict[str, Path]:
    """The named hostile inputs, each a file in `root`."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "50 MB article (JSONL)": ("huge.jsonl", json.dumps({"id": "huge", "text": "word " * 10_000_000})),
        "50 MB text file": ("huge.txt", "A headline here\n" + "word " * 10_000_000),
        "1 MB single line": ("one-line.txt", "x" * 200 + " " + ("longword" * 125_000)),
        "deeply nested JSON": ("nested.jsonl", "[" * 100_000 + "]" * 100_000),
        "huge JSON value": ("wide.jsonl", json.dumps({"id": "wide", "text": "t", "title": list(range(100_000))})),
        "4301-digit number": ("digits.jsonl", '{"id": "digits", "text": "x", "n": ' + "9" * 4301 + "}"),
        "invalid UTF-8": ("latin1.md", "caf\xe9 au lait, a story about coffee prices"),
        "NUL bytes": ("nul.txt", "text\x00with NUL bytes"),
        "wrong field types": ("types.jsonl", "\n".join(json.dumps(r) for r in [
            {"text": 42}, {"text": "ok", "title": ["a"]}, {"text": "ok", "id": 1.5}, {"text": "ok", "url": {}},
            {"text": "ok", "published_at": 20240101}, {"text": "ok", "id": True}])),
        "duplicate ids": ("dupes.jsonl", "\n".join(json.dumps({"id": "same", "text": f"version {i} of a story"})
                                                   for i in range(3))),
        "empty file": ("empty.md", ""),
        "wrong extension": ("story.pdf", "%PDF-1.4 not an article"),
    }
    out = {}
    for name, (filename, content) in files.items():
        path = root / filename
        if name == "invalid UTF-8":
            path.write_bytes(content.encode("latin-1"))
        else:
            path.write_text(content, encoding="utf-8")
        out[name] = path
    return out


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory) -> dict[str, Path]:
    return _big_inputs(tmp_path_factory.mktemp("hostile"))


EXPECT = {  # input -> (articles read, a word the one-line failure must contain)
    "50 MB article (JSONL)": (0, "too long"), "50 MB text file": (0, "too long"), "1 MB single line": (1, ""),
    "deeply nested JSON": (0, "JSON"), "huge JSON value": (0, "title"), "4301-digit number": (0, "JSON"),
    "invalid UTF-8": (0, "UTF-8"), "NUL bytes": (0, "NUL"), "wrong field types": (0, "must be"),
    "duplicate ids": (1, "duplicate article id"), "empty file": (0, "empty"), "wrong extension": (0, "unsupported"),
}


@pytest.mark.parametrize("name", list(EXPECT))
def test_named_hostile_input(big_inputs, name):
    path = big_inputs[name]
    articles, failures = check_items(list(read_articles([path])), path)
    n_articles, word = EXPECT[name]
    assert len(articles) == n_articles, [str(f) for f in failures]
    if word:
        assert failures and all(word in f.reason or word in str(f) for f in failures[:1]), [str(f) for f in failures]


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "giant.txt"
    with open(path, "wb") as fh:  # sparse: no 64 MB written to disk
        fh.truncate(MAX_FILE_BYTES + 1)
    [failure] = list(read_articles([path]))
    assert isinstance(failure, LoadFailure) and "too large" in failure.reason


def test_a_jsonl_archive_over_the_file_limit_is_read_line_by_line(tmp_path, monkeypatch):
    """A JSONL archive is read one line at a time, so the file limit bounds one line (one article), not the
    archive: a newsroom's export of any size is read whole, and only a line over the limit is refused, with
    its line number, while the lines after it are still read."""
    monkeypatch.setattr(articles_module, "MAX_FILE_BYTES", 1_000)
    path = tmp_path / "archive.jsonl"
    lines = [json.dumps({"id": f"story-{i}", "text": f"Story number {i} about the harbour " + "x" * 60})
             for i in range(40)]  # about 4 KB in all, four times the limit
    lines[7] = json.dumps({"id": "giant", "text": "word " * 400})  # 2 KB: this line alone is over it
    lines[12] = "\ufeffnot json at all"
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode() + b"\r\n\n")
    items = list(read_articles([path]))
    read = [item for item in items if isinstance(item, Article)]
    failures = [str(item) for item in items if isinstance(item, LoadFailure)]
    assert [a.id for a in read] == [f"story-{i}" for i in range(40) if i not in (7, 12)]
    assert read[0].text.startswith("Story number 0") and read[-1].text.endswith("x" * 60)
    assert failures[0] == f"{path}:8: line is too long (over 1,000 bytes)"
    assert failures[1].startswith(f"{path}:13: invalid JSON")
    assert len(failures) == 2


def test_a_jsonl_line_that_is_not_utf8_is_refused_alone(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "a", "text": "caf\xc3\xa9 prices rise"}\n'
                     b'{"id": "b", "text": "caf\xe9 prices fall"}\n'
                     b'{"id": "c", "text": "tea prices hold"}\n')
    items = list(read_articles([path]))
    assert [i.id for i in items if isinstance(i, Article)] == ["a", "c"]
    assert [str(i) for i in items if isinstance(i, LoadFailure)] == [f"{path}:2: line is not valid UTF-8 (byte 24)"]


@pytest.mark.slow
def test_indexing_a_hostile_folder_reports_one_line_each_and_keeps_the_rest(tmp_path, big_inputs):
    """`assistant index` on the hostile inputs plus good articles: exit 1, one warning line per bad input, no
    traceback, the good articles (and the 1 MB line) indexed; a second run changes nothing."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in big_inputs.values():
        if path.stat().st_size < 5_000_000:  # the 50 MB files are covered above; keep the copy cheap
            (folder / path.name).write_bytes(path.read_bytes())
    for sample in sorted(SAMPLES.glob("*.md"))[:4]:
        (folder / sample.name).write_bytes(sample.read_bytes())
    env = {**CLI_ENV, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    first = run_cli("index", str(folder), env=env)
    assert first.returncode == 1, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    warnings = [line for line in first.stderr.splitlines() if line.startswith("warning: skipped")]
    expected_failures = [i for i in read_articles([folder]) if isinstance(i, LoadFailure)]
    assert len(warnings) == len(expected_failures) >= 10
    snap = assert_exact(tmp_path / "data", [folder], context="hostile folder", allow_failures=True)
    assert "one-line" in snap.articles and len(snap.articles) == 4 + 2  # samples, one-line, dupes
    again = run_cli("index", str(folder), "--json", env=env)
    summary = json.loads(again.stdout)
    assert summary["unchanged"] == len(snap.articles) and summary["added"] == summary["updated"] == 0


# --------------------------------------------------------------------------------------------- indexing


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    from assistant.settings import Settings

    data = tmp_path_factory.mktemp("fuzz-app") / "data"
    app = build_assistant(Settings(data_dir=data, embedding="hashing", index_samples_on_start=False))
    app.index([SAMPLES])
    return app


@SLOW_FUZZ
@given(lines=st.lists(jsonl_line, min_size=1, max_size=8))
def test_fuzzed_articles_keep_the_index_consistent(tmp_path_factory, fuzz_app, lines):
    """Whatever a feed holds, its good articles are stored completely, once, and nothing else changes."""
    sample_ids = {a.id for a in read_articles([SAMPLES]) if isinstance(a, Article)}
    before = _chunks_of(fuzz_app, sample_ids)
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    path.write_bytes(b"\n".join(lines))
    items = list(read_articles([path]))
    summary = fuzz_app.indexer.index_items(items)
    assert summary.failed == sum(isinstance(i, LoadFailure) for i in items)
    store = fuzz_app.store
    for aid, state in store.article_states([i.id for i in items if isinstance(i, Article)]).items():
        [fp] = state.chunks
        assert state.complete(fp), aid
    assert set(store.lexical().chunk_ids()) == set(store.all_chunk_ids())
    fed = {i.id for i in items if isinstance(i, Article)}
    assert _chunks_of(fuzz_app, sample_ids - fed) == {k: v for k, v in before.items() if k not in fed}


def _chunks_of(app, article_ids: set[str]) -> dict[str, set[str]]:
    return {aid: set(state.ids_except(None)) for aid, state in app.store.article_states(article_ids).items()}


# --------------------------------------------------------------------------------------------- questions

questions = (st.text(max_size=300) | hostile_text
             | st.sampled_from(["", " ", "\t\n", "\x00", "\x1b[2J\x07", "?" * 5000, "a" * 100_000, "\u202e" * 10,
                                "<script>alert(1)</script>", "' OR 1=1 --", "{placeholder}", "%s%s%n"]))


@FUZZ
@given(question=questions)
def test_any_question_gives_an_answer_or_one_line(fuzz_app, question):
    try:
        answer = fuzz_app.ask(question)
    except BadQuestionError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(answer.answer, str)
    assert all(p.chunk.text for p in answer.passages)
    for c in answer.citations:
        assert c.quote and c.quote in c.text


@pytest.mark.slow
@pytest.mark.parametrize("question, ok", [("", False), (" \t ", False), ("a" * 100_000, False),
                                          ("\x1b[31mred\x1b[0m what did\x07 the council decide?", True),
                                          ("\u202eevil\u202c? " * 50, True)],
                         ids=["empty", "whitespace", "100k-chars", "control-chars", "bidi-override"])
def test_cli_ask_with_hostile_questions(tmp_path, question, ok):
    env = {**CLI_ENV, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("ask", question, "--json", env=env)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    # A question that passes the checks reaches the (empty) index, which says how to fill it.
    assert ("nothing is indexed yet" in proc.stderr) == ok, proc.stderr


def test_filters_from_the_outside_are_checked(fuzz_app):
    from index.storage.store import SearchFilters

    for filters in (SearchFilters(("<b>x</b>", "' OR 1=1"), "2024-01-01", "2023-01-01"),
                    SearchFilters(("\x00",), "", ""), SearchFilters((), "0001-01-01", "9999-12-31")):
        answer = fuzz_app.ask("What did the council decide?", filters=filters)
        assert all(p.chunk.source in filters.sources for p in answer.passages) if filters.sources else True


# --------------------------------------------------------------------------------------------- question sets


@FUZZ
@given(lines=st.lists(jsonl_line | raw_line | st.fixed_dictionaries(
    {"question": questions}, optional={"id": field, "answer": field, "evidence_ids": field,
                                       "unanswerable": field, "type": field}).map(json.dumps).map(str.encode),
    max_size=8))
def test_question_sets_of_any_shape(tmp_path_factory, lines):
    from assistant.evaluation.questions import QuestionSetError, load_questions

    path = tmp_path_factory.mktemp("qs") / "questions.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        loaded = load_questions(path)
    except QuestionSetError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert loaded and all(q.question.strip() and q.id for q in loaded)


@pytest.mark.slow
def test_cli_eval_with_a_broken_question_set(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text('{"id": "q1", "question": "What?", "answer": ["x"]}\n' + "[" * 50_000 + "\n")
    env = {**CLI_ENV, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("eval", str(path), "--out", str(tmp_path / "report"), env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1 and ":2:" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------------------------- uploads

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00/", exclude_categories=["Cs"]),
                min_size=1, max_size=60) | st.sampled_from([
                    "..", ".", "...md", "..\\..\\evil.md", ".hidden.md", "con.txt", "a" * 300 + ".md",
                    "story.md.exe", "story.MD", "story.md ", "story.jsonl.", "—.txt", "\u202etxt.exe"])


@FUZZ
@given(name=names)
def test_upload_names_stay_inside_the_uploads_folder(tmp_path_factory, name):
    from assistant.web.library import safe_name

    uploads = tmp_path_factory.mktemp("uploads")
    safe = safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and safe not in (".", "..")
    assert (uploads / safe).resolve().parent == uploads.resolve()
    suffix = Path(safe).suffix
    assert suffix == suffix.lower()


@pytest.fixture
def library(settings, tmp_path):
    from assistant.web.library import Library

    app = build_assistant(settings)
    return Library(app, uploads_dir=tmp_path / "uploads", max_file_mb=0.05, max_files=5)


def test_uploads_with_hostile_names_sizes_and_counts(library, tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    outside = tmp_path / "evil.md"

    def file(name: str, content: str) -> Path:
        folder = incoming / str(len(list(incoming.iterdir())))
        folder.mkdir()
        path = folder / name
        path.write_text(content)
        return path

    files = [
        file("..\\..\\evil.md", "Traversal attempt article text with enough words."),
        file("....md", "Dots article text here."),
        file("report.exe", "not allowed"),
        file("big.md", "x " * 40_000),  # 80 kB > 50 kB limit
        file("fine.md", "A fine article about the harbour council budget."),
    ]
    summary = library.upload(files).summary
    assert not outside.exists()
    written = {p.name for p in library.uploads_dir.iterdir() if not p.name.startswith(".")}
    assert written <= {"evil.md", "md.md", "fine.md", "upload.md"}, written
    reasons = " | ".join(str(f) for f in summary.failures)
    assert "unsupported file type" in reasons and "too large" in reasons, reasons
    assert all("\n" not in str(f) for f in summary.failures)
    assert "fine" in {a.article_id for a in library.articles()}
    with pytest.raises(UploadError) as err:
        library.upload([file(f"n{i}.md", "text") for i in range(6)])
    assert "too many files" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UploadError):
        library.upload([])


def test_deleting_hostile_ids_touches_nothing_outside_the_uploads_folder(library, tmp_path):
    victim = tmp_path / "victim.md"
    victim.write_text("must survive")
    feed = tmp_path / "feed.jsonl"
    hostile_ids = [str(victim.with_suffix("")), "../victim", "../../victim", "/etc/passwd", "x/../../victim"]
    feed.write_text("\n".join(json.dumps({"id": i, "text": f"article {i} text"}) for i in hostile_ids))
    library.assistant.index([feed])
    removed = library.delete(hostile_ids + ["not-indexed"])
    assert sorted(removed) == sorted(hostile_ids)
    assert victim.read_text() == "must survive"
    assert not set(hostile_ids) & {a.article_id for a in library.articles()}

