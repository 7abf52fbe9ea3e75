"""Article readers: JSONL, .txt/.md with front matter, .html; ids, hashes, and every bad input reported
(with file or file:line and the reason) while the rest is still read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from index.intake.articles import Article, LoadFailure, html_to_text, read_articles
from tests.conftest import ROOT, SEEDS, run_cli


def _read(*paths) -> tuple[dict[str, Article], list[LoadFailure]]:
    articles, failures = {}, []
    for item in read_articles(paths):
        if isinstance(item, Article):
            articles[item.id] = item
        else:
            failures.append(item)
    return articles, failures


def _jsonl(path: Path, *lines) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


# ----------------------------------------------------------------------------------- JSONL


def test_jsonl_given_and_derived_ids(tmp_path):
    path = _jsonl(
        tmp_path / "feed.jsonl",
        {"id": "given-1", "title": "Given", "text": "Body one.", "url": "https://e.org/1", "source": "Wire",
         "published_at": "2023-01-05T10:00:00Z"},
        {"text": "No id but a URL.", "url": "https://e.org/2"},
        {"text": "No id and no URL."},
        {"id": 42, "text": "An integer id is accepted."},
    )
    articles, failures = _read(path)
    assert failures == []
    given = articles["given-1"]
    assert (given.title, given.source, given.url, given.published_at) == ("Given", "Wire", "https://e.org/1",
                                                                          "2023-01-05")
    assert given.origin == f"{path}:1"
    assert "42" in articles
    derived = sorted(a for a in articles if a.startswith("feed-"))
    assert len(derived) == 2, "ids without one are derived from the file and the URL or text"
    # Derived ids are stable: reading again gives the same ids and hashes.
    again, _ = _read(path)
    assert {k: v.content_hash for k, v in again.items()} == {k: v.content_hash for k, v in articles.items()}
    # The derived id of the URL article depends on its URL, not its position.
    _jsonl(path, {"text": "Something else first."}, {"text": "No id but a URL.", "url": "https://e.org/2"})
    moved, _ = _read(path)
    assert set(derived) & set(moved), "the URL-derived id survives a reorder"


def test_title_defaults_to_first_line(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", {"id": "x", "text": "A headline with many words\nThe body follows here."})
    articles, _ = _read(path)
    assert articles["x"].title == "A headline with many words"


@pytest.mark.parametrize(
    "line,reason",
    [
        ("{not json", "invalid JSON"),
        ('{"text": "unterminated', "invalid JSON"),
        ("[1, 2, 3]", "expected a JSON object"),
        ('"just a string"', "expected a JSON object"),
        ('{"title": "no text"}', "'text' is required"),
        ('{"text": 5}', "'text' is required and must be a string"),
        ('{"text": ["a", "b"]}', "must be a string"),
        ('{"text": "   "}', "'text' is empty"),
        ('{"text": "ok", "title": 7}', "field 'title' must be a string, got int"),
        ('{"text": "ok", "source": ["x"]}', "field 'source' must be a string, got list"),
        ('{"text": "ok", "url": {"a": 1}}', "field 'url' must be a string, got dict"),
        ('{"text": "ok", "id": true}', "field 'id' must be a string, got bool"),
        ('{"text": "ok", "id": 1.5}', "field 'id' must be a string, got float"),
        ('{"text": "ok", "published_at": "not a date"}', "is not a date"),
        ('{"text": "ok", "published_at": 20230105}', "published_at must be a date string"),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_bad_jsonl_line_is_reported_as_file_line(tmp_path, line, reason):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"id": "good-1", "text": "Fine."}) + "\n\n" + line + "\n"
                    + json.dumps({"id": "good-2", "text": "Also fine."}) + "\n")
    articles, failures = _read(path)
    assert set(articles) == {"good-1", "good-2"}, "the other lines are still read"
    [failure] = failures
    assert failure.origin == f"{path}:3", "blank lines count: the reported line is the line in the file"
    assert reason in failure.reason
    message = str(failure)
    assert message.startswith(f"{path}:3: ") and "\n" not in message


def test_duplicate_ids_keep_the_first_and_report_the_rest(tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", {"id": "same", "text": "First."}, {"id": "same", "text": "Second."})
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "same.md").write_text("---\nid: same\n---\nThird.")
    articles, failures = _read(a, tmp_path / "b")
    assert articles["same"].text == "First."
    assert len(failures) == 2
    assert all("duplicate article id 'same'" in f.reason and f"{a}:1" in f.reason for f in failures)
    assert failures[0].origin == f"{a}:2"


# ----------------------------------------------------------------------------------- text and markdown


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "story.md"
    path.write_text('---\ntitle: "Front Title"\nsource: Meridian Tribune\nurl: https://e.org/s\n'
                    "published_at: 2025-10-21\n---\n# Not the title\n\nBody sentence one. Body two.\n")
    articles, failures = _read(path)
    assert failures == []
    art = articles["story"]
    assert (art.title, art.source, art.url, art.published_at) == ("Front Title", "Meridian Tribune",
                                                                  "https://e.org/s", "2025-10-21")
    # A heading that is not the title stays, as a plain line; the front matter never reaches the text.
    assert art.text == "Not the title\n\nBody sentence one. Body two."
    assert "title:" not in art.text and "---" not in art.text and "Meridian" not in art.text


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_first_line_is_the_title_without_front_matter(tmp_path, suffix):
    path = tmp_path / f"plain{suffix}"
    path.write_text("Storm closes mountain pass for two days\n\nThe road reopened on Friday.\n")
    art = _read(path)[0]["plain"]
    assert art.title == "Storm closes mountain pass for two days"
    assert art.text.startswith("Storm closes")


MARKDOWN_STORY = """---
source: Meridian Tribune
published_at: 2025-10-21
---
# Storm closes the **Kessel** pass

The road over the Kessel pass was closed on *Friday* after heavy
snow, the [highways agency](https://example.org/agency "Agency") said. It
expects to reopen it on __Monday__.
![A snowplough on the pass](plough.jpg)

## What drivers should do

- Use the valley road via _Larn_
- Check [the live map][map] before leaving
  * carry snow chains
+ Allow an extra hour

1. Leave early
2. Fill the tank

> "We have never seen this much snow in October,"
> said spokeswoman Ana_Maria Ruiz.

***

A closing line with `code`, a <span class="x">tag</span>, &amp; an entity, a snake_case_name
and a trailing double space  
hard break.

[map]: https://example.org/map
"""


def test_markdown_becomes_clean_text(tmp_path):
    path = tmp_path / "storm.md"
    path.write_text(MARKDOWN_STORY)
    art = _read(path)[0]["storm"]
    assert art.title == "Storm closes the Kessel pass", "the leading heading is the title, without markup"
    assert (art.source, art.published_at) == ("Meridian Tribune", "2025-10-21")
    paragraphs = art.text.split("\n\n")
    assert paragraphs == [
        # hard-wrapped lines joined: one line per paragraph; emphasis and link markup gone, image dropped
        ("The road over the Kessel pass was closed on Friday after heavy snow, the highways agency said. "
         "It expects to reopen it on Monday."),
        "What drivers should do",
        # bullets dropped, each item (nested ones too) on its own line
        "Use the valley road via Larn\nCheck the live map before leaving\ncarry snow chains",
        "Allow an extra hour",
        "1. Leave early\n2. Fill the tank",
        '"We have never seen this much snow in October," said spokeswoman Ana_Maria Ruiz.',
        ("A closing line with code, a tag, & an entity, a snake_case_name and a trailing double space "
         "hard break."),
    ]
    for markup in ("#", "**", "__", "*", "](", "![", "plough.jpg", "https://", "- ", "> ", "[map]"):
        assert markup not in art.text, markup
    assert not art.text.startswith("Storm closes"), "the title heading is not repeated in the text"


def test_markdown_title_heading_is_not_repeated(tmp_path):
    same = tmp_path / "same.md"
    same.write_text("---\ntitle: Dam plan approved\n---\n# Dam plan *approved*\n\nThe council voted.\n")
    setext = tmp_path / "setext.md"
    setext.write_text("Tram line approved\n==================\n\nThe line opens in 2027.\n")
    only = tmp_path / "only.md"
    only.write_text("# Just a heading\n")
    articles, failures = _read(same, setext, only)
    assert failures == []
    assert (articles["same"].title, articles["same"].text) == ("Dam plan approved", "The council voted.")
    assert (articles["setext"].title, articles["setext"].text) == ("Tram line approved", "The line opens in 2027.")
    assert (articles["only"].title, articles["only"].text) == ("Just a heading", "Just a heading")


def test_markdown_without_markup_is_unchanged(tmp_path):
    body = "Headline of a plain article\n\nFirst paragraph, one line.\n\nSecond paragraph."
    path = tmp_path / "plain.md"
    path.write_text(body + "\n")
    art = _read(path)[0]["plain"]
    assert (art.title, art.text) == ("Headline of a plain article", body)


def test_markdown_that_is_only_markup_is_a_failure(tmp_path):
    path = tmp_path / "pictures.md"
    path.write_text("![one](a.png)\n\n---\n\n![two](b.png)\n")
    articles, [failure] = _read(path)
    assert not articles and "empty" in failure.reason


def test_txt_that_looks_like_markdown_is_kept_as_written(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("# A heading in a text file\n\nSome **bold** words and a [link](https://e.org)\nwrapped.\n")
    art = _read(path)[0]["notes"]
    assert art.text == "# A heading in a text file\n\nSome **bold** words and a [link](https://e.org)\nwrapped."
    assert art.title == "A heading in a text file"


def test_bundled_markdown_samples_read_as_written():
    """The samples are plain paragraphs: cleaning them changes nothing (so neither do their hashes)."""
    from index.intake.articles import parse_front_matter

    articles, failures = _read(ROOT / "samples" / "articles")
    assert failures == [] and len(articles) >= 10
    for art in articles.values():
        body = parse_front_matter(Path(art.origin).read_text(encoding="utf-8"))[1].strip("\n")
        assert art.text == body, art.id
        assert art.title and "#" not in art.title


def test_windows_line_endings_and_bom(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffHeadline of a windows file\r\n\r\nBody line.\r\n".encode("utf-8"))
    art = _read(path)[0]["win"]
    assert art.title == "Headline of a windows file" and "\r" not in art.text and "\ufeff" not in art.text


# ----------------------------------------------------------------------------------- HTML


def test_html_title_text_and_entities(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<!doctype html><html><head><title>Caf&eacute; &amp; Bar reopens</title>"
        '<meta property="og:site_name" content="Daily Planet">'
        '<meta property="article:published_time" content="2024-03-02T08:00:00Z">'
        "<style>body { color: red }</style><script>var tracking = 'SECRET_SCRIPT';</script></head>"
        "<body><nav>Home | World</nav><h1>Café &amp; Bar reopens</h1>"
        "<p>The caf&eacute; reopened &lt;today&gt; after &quot;repairs&quot;&nbsp;ended.</p>"
        "<script>document.write('SECRET_INLINE')</script><noscript>SECRET_NOSCRIPT</noscript>"
        "<p>Second&#32;paragraph &#8212; with a dash.</p></body></html>"
    )
    art = _read(path)[0]["page"]
    assert art.title == "Café & Bar reopens"
    assert art.source == "Daily Planet" and art.published_at == "2024-03-02"
    assert 'The café reopened <today> after "repairs" ended.' in art.text
    assert "Second paragraph \u2014 with a dash." in art.text
    for hidden in ("SECRET", "color: red", "Home | World"):
        assert hidden not in art.text
    # Paragraphs stay on their own lines, so sentences never run into each other.
    assert art.text.splitlines()[-1].startswith("Second paragraph")


def test_html_without_title_uses_h1():
    text, meta = html_to_text("<html><body><h1>Only a heading</h1><p>Body.</p></body></html>")
    assert meta["title"] == "Only a heading" and text == "Body.", "the headline is not repeated in the text"


def test_html_with_no_text_is_a_failure(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>T</title><script>x()</script></head><body></body></html>")
    articles, [failure] = _read(path)
    assert not articles and "empty" in failure.reason


# ----------------------------------------------------------------------------------- bad files


BAD_FILES = {
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "empty.md": (b"", "empty"),
    "blank.txt": (b" \n\n\t\n", "empty"),
    "latin1.txt": ("Caf\xe9 au lait".encode("latin-1"), "not valid UTF-8"),
    "broken.html": (b"<html>\xff\xfe</html>", "not valid UTF-8"),
    "empty.jsonl": (b"", "empty"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_skipped_with_its_name(tmp_path, name):
    data, reason = BAD_FILES[name]
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A good article headline here\nBody.")
    articles, [failure] = _read(tmp_path)
    assert set(articles) == {"good"}
    assert failure.origin == str(tmp_path / name)
    assert reason in failure.reason and "\n" not in str(failure)


def test_missing_path_and_unsupported_file_given_explicitly(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    articles, failures = _read(tmp_path / "nope", tmp_path / "notes.pdf")
    assert not articles
    assert [f.origin for f in failures] == [str(tmp_path / "nope"), str(tmp_path / "notes.pdf")]
    assert "no such file" in failures[0].reason and "unsupported file type '.pdf'" in failures[1].reason


def test_folders_skip_hidden_and_unsupported_files(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("Hidden headline with many words\nx")
    (tmp_path / ".draft.md").write_text("Hidden draft headline here\nx")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "kept.txt").write_text("Kept article headline here\nBody.")
    articles, failures = _read(tmp_path)
    assert set(articles) == {"kept"} and failures == []


def _unprivileged() -> list[str] | None:
    """How to run a command as an unprivileged user (root can read a chmod 000 file)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_unreadable_file_is_skipped_with_a_named_warning():
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    # A world-traversable folder (pytest's tmp dirs are private to root).
    folder = Path(tempfile.mkdtemp(prefix="unreadable-"))
    try:
        folder.chmod(0o755)
        (folder / "good.txt").write_text("Readable headline of an article\nBody.")
        locked = folder / "locked.txt"
        locked.write_text("Secret headline nobody can read\nBody.")
        locked.chmod(0o000)
        code = ("import sys; from index.intake.articles import read_articles\n"
                "for item in read_articles([sys.argv[1]]): print(type(item).__name__, item)")
        proc = subprocess.run([*prefix, sys.executable, "-c", code, str(folder)], check=False, capture_output=True, text=True,
                              cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert any(line.startswith("Article") and "id='good'" in line for line in lines), lines
        failures = [line for line in lines if line.startswith("LoadFailure")]
        assert failures == [f"LoadFailure {locked}: cannot read file (Permission denied)"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------------- ids


def test_ids_are_relative_to_the_folder_given(tmp_path):
    nested = tmp_path / "corpus" / "2024" / "march"
    nested.mkdir(parents=True)
    (nested / "story.md").write_text("A nested story headline here\nBody.")
    assert set(_read(tmp_path / "corpus")[0]) == {"2024/march/story"}
    assert set(_read(tmp_path / "corpus" / "2024")[0]) == {"march/story"}
    assert set(_read(nested / "story.md")[0]) == {"story"}


def test_seed_ids_from_a_relative_folder_path(monkeypatch):
    """`assistant index ../shared/corpus/seeds` gives ids like 000_583d8edab110d701."""
    monkeypatch.chdir(ROOT)
    rel = os.path.relpath(SEEDS, ROOT)
    assert rel.startswith("..")
    articles, failures = _read(rel)
    assert failures == []
    assert set(articles) == {"000_583d8edab110d701", "004_04393ed08951e6b7"}
    assert "Maduro" in articles["000_583d8edab110d701"].title


def test_seed_ids_through_the_cli(tmp_path):
    rel = os.path.relpath(SEEDS, ROOT)
    proc = run_cli("index", rel, "--embedding", "hashing", "--json", "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 2
    proc = run_cli("remove", "000_583d8edab110d701", "004_04393ed08951e6b7", "--embedding", "hashing",
                   "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0 and "removed 2 article(s)" in proc.stdout


def test_content_hash_tracks_content_not_origin(tmp_path):
    a = Article(id="x", text="Body.", title="T", origin="a.txt")
    b = Article(id="x", text="Body.", title="T", origin="elsewhere.txt")
    c = Article(id="x", text="Body!", title="T")
    assert a.content_hash == b.content_hash != c.content_hash
    assert Article(id="x", text="Body.", title="T", source="S").content_hash != a.content_hash


def test_markdown_inline_html_is_markup_not_text(tmp_path):
    """In a .md file, raw HTML tags are markup: their text stays, the tags (and any script in them) go."""
    (tmp_path / "gala.md").write_text("# Gala\n\nThe gala had <script>alert('x')</script> fireworks and "
                                      "<img src=x onerror=\"alert(1)\"> boats.\n")
    article = next(a for a in read_articles([tmp_path]) if isinstance(a, Article))
    assert "<script>" not in article.text and "<img" not in article.text and "onerror" not in article.text
    assert "fireworks" in article.text and "boats" in article.text
