"""HTML reader on realistic news pages (tests/pages/, invented stories with real pages' clutter).

For every page: each story paragraph is kept whole, as a paragraph of its own (blank lines between
paragraphs, list items one per line), so the sentence splitter finds the story's sentences intact; none of
the clutter (menus, ads, cookie banners, comments, related links, share buttons, newsletter boxes,
footers, scripts, styles) reaches the text; title, date and outlet are those the page states. Also: the
hand-written fallback, charsets, and that reading never touches the network.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from index.intake import html as html_reader
from index.intake.articles import Article, LoadFailure, read_articles
from index.text.sentences import split_sentences

PAGES = Path(__file__).parent / "pages"
SPEC = json.loads((PAGES / "pages.json").read_text(encoding="utf-8"))["pages"]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _read_page(name: str) -> Article:
    [item] = list(read_articles([PAGES / name]))
    assert isinstance(item, Article), str(item)
    return item


def test_every_page_has_expectations():
    assert sorted(p.name for p in PAGES.glob("*.html")) == sorted(SPEC)
    assert len(SPEC) >= 10


@pytest.mark.parametrize("name", sorted(SPEC))
def test_story_is_kept_paragraph_by_paragraph(name):
    art, spec = _read_page(name), SPEC[name]
    blocks = [_norm(b) for b in art.text.split("\n\n")]
    used: list[int] = []
    for paragraph in spec["story"]:
        items = paragraph if isinstance(paragraph, list) else [paragraph]
        where = [i for i, block in enumerate(blocks) if _norm(items[0]) in block]
        assert where, f"story paragraph missing: {items[0][:70]!r}"
        assert where[0] not in used, f"two story paragraphs run together: {items[0][:70]!r}"
        used.append(where[0])
        if isinstance(paragraph, list):  # a list: its items in one paragraph, each on its own line
            lines = [_norm(line) for line in art.text.split("\n\n")[where[0]].split("\n")]
            assert all(_norm(item) in lines for item in items), lines
    assert used == sorted(used), "story paragraphs keep their order"


@pytest.mark.parametrize("name", sorted(SPEC))
def test_story_sentences_survive_the_sentence_splitter(name):
    art, spec = _read_page(name), SPEC[name]
    found = {art.text[s.start : s.end] for s in split_sentences(art.text)}
    for paragraph in spec["story"]:
        for text in paragraph if isinstance(paragraph, list) else [paragraph]:
            for span in split_sentences(text):
                assert text[span.start : span.end] in found


@pytest.mark.parametrize("name", sorted(SPEC))
def test_clutter_is_dropped(name):
    text = _norm(_read_page(name).text)
    leaked = [c for c in SPEC[name]["clutter"] if c in text]
    assert leaked == []


@pytest.mark.parametrize("name", sorted(SPEC))
def test_title_date_and_outlet(name):
    art, spec = _read_page(name), SPEC[name]
    assert (art.title, art.published_at, art.source) == (spec["title"], spec["published_at"], spec["source"])
    assert not _norm(art.text).startswith(_norm(spec["title"])), "the headline is the title, not the text"


def test_reading_pages_never_touches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while reading HTML: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    items = list(read_articles([PAGES]))
    assert len(items) == len(SPEC) and all(isinstance(i, Article) for i in items)


# ------------------------------------------------------------------------------- fallback, metadata


def test_fallback_parser_when_trafilatura_finds_nothing(monkeypatch):
    monkeypatch.setattr(html_reader, "_trafilatura", lambda raw: None)
    raw = (PAGES / "ferry-article-tag.html").read_text(encoding="utf-8")
    text, meta = html_reader.html_to_text(raw)
    story = SPEC["ferry-article-tag.html"]["story"]
    assert all(_norm(p) in text.split("\n\n") for p in story), "paragraphs still separated by blank lines"
    assert "trackPageView" not in text and "Privacy policy" not in text
    assert meta["source"] == "The Coastline Herald"
    assert meta["title"] == "Harbour authority approves night ferry to Kestrel Island", "outlet suffix trimmed"


def test_fallback_when_trafilatura_fails(monkeypatch):
    import trafilatura

    def broken(*args, **kwargs):
        raise RuntimeError("extractor bug")

    monkeypatch.setattr(trafilatura, "bare_extraction", broken)
    text, _ = html_reader.html_to_text("<html><body><h1>Head line</h1><p>Only text.</p></body></html>")
    assert text == "Only text."


def test_a_host_name_is_not_an_outlet_and_an_undated_page_has_no_date():
    body = "".join(f"<p>Paragraph {i} of a story about the harbour wall, which was built in 1887 and "
                   "repaired in May after the winter storms damaged its northern end.</p>" for i in range(4))
    raw = ('<html><head><title>Harbour wall repairs approved</title>'
           '<meta property="og:url" content="https://news.example.org/harbour-wall"></head>'
           f"<body><article><h1>Harbour wall repairs approved</h1>{body}</article></body></html>")
    text, meta = html_reader.html_to_text(raw)
    assert meta == {"title": "Harbour wall repairs approved", "url": "https://news.example.org/harbour-wall",
                    "source": "", "published_at": ""}
    assert text.count("\n\n") == 3


@pytest.mark.parametrize("title,outlet,expected", [
    ("Valley Courier - Council freezes charges", "Valley Courier", "Council freezes charges"),
    ("Council freezes charges | Valley Courier", "Valley Courier", "Council freezes charges"),
    ("Hillcrest Gazette: Bakery wins award", "Hillcrest Gazette", "Bakery wins award"),
    ("Valley Courier", "Valley Courier", "Valley Courier"),
    ("Courier strike ends", "Courier", "Courier strike ends"),
])
def test_outlet_is_trimmed_from_titles(title, outlet, expected):
    assert html_reader._strip_outlet(title, outlet) == expected


# ------------------------------------------------------------------------------- charsets


def _page(charset_tag: str, words: str) -> str:
    return (f"<html><head>{charset_tag}<title>Caf\u00e9 prices rise</title></head><body><article>"
            + f"<p>{words} The price of a coffee at the caf\u00e9 rose again this month, owners said.</p>" * 3
            + "</article></body></html>")


@pytest.mark.parametrize("tag,encoding", [
    ('<meta charset="windows-1252">', "cp1252"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">', "cp1252"),
    ("<meta charset='iso-8859-15'>", "iso8859-15"),
    ('<meta charset="utf-8">', "utf-8"),
])
def test_declared_charset_is_used(tmp_path, tag, encoding):
    path = tmp_path / "page.html"
    path.write_bytes(_page(tag, "\u201cNa\u00efve\u201d pricing \u2013 they said.").encode(encoding, "replace"))
    art = _read_page_at(path)
    assert art.title == "Caf\u00e9 prices rise" and "caf\u00e9 rose again" in art.text
    if encoding == "cp1252":
        assert "\u201cNa\u00efve\u201d pricing \u2013 they said." in art.text


@pytest.mark.parametrize("label", ["rot13", "base64", "utf-16", "x-no-such-charset"])
def test_a_charset_label_no_page_is_written_in_means_utf8(tmp_path, label):
    path = tmp_path / "page.html"
    path.write_bytes(_page(f'<meta charset="{label}">', "Plain words.").encode("utf-8"))
    assert "caf\u00e9 rose again" in _read_page_at(path).text


def test_wrongly_declared_or_undeclared_bytes_are_a_one_line_failure(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_bytes(_page('<meta charset="utf-8">', "x").encode("latin-1"))
    bare = tmp_path / "bare.html"
    bare.write_bytes(_page("", "x").encode("latin-1"))
    for path in (bad, bare):
        [failure] = list(read_articles([path]))
        assert isinstance(failure, LoadFailure) and "not valid UTF-8" in failure.reason
        assert "\n" not in str(failure)


def _read_page_at(path: Path) -> Article:
    [item] = list(read_articles([path]))
    assert isinstance(item, Article), str(item)
    return item
