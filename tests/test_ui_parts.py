"""The pieces behind the browser app, without a browser: safe HTML, follow-up condensing, the library
(uploads, deletes, reindex on a real embedded Chroma with the hashing embedding) and serving settings."""

from __future__ import annotations

import datetime
import html
import re
from pathlib import Path

import pytest

from assistant.answering.chat import ChatSession, RuleCondenser, Turn
from assistant.errors import AssistantError, ConfigError, UploadError
from assistant.retrieval.timewindow import TimeWindow
from assistant.settings import Settings
from assistant.types import Answer, Citation
from assistant.web import render
from assistant.web.library import Library, safe_name

XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](javascript:alert(1))',
       '**bold** _em_ `code` # head', '$$x^2$$', 'https://evil.example/x www.evil.example', '1. list\n- item',
       'a &amp; b &lt;', '"quoted" \'single\'', '{{7*7}} ${alert(1)}', 'user@example.com']


def _citation(n: int = 1, *, text: str = "Alpha beta. Gamma delta epsilon. Zeta.", quote: str = "Gamma delta epsilon.",
              url: str = "https://example.org/a", title: str = "Title", passage_start: int = 100) -> Citation:
    start = passage_start + text.index(quote)
    return Citation(n=n, article_id="a1", title=title, source="Outlet", url=url, published_at="2025-01-02",
                    text=text, quote=quote, start=start, end=start + len(quote), passage_start=passage_start,
                    passage_end=passage_start + len(text), chunk_id="c1")


# ---------------------------------------------------------------------------------------------- render


@pytest.mark.parametrize("text", XSS)
def test_inert_text_has_no_markup_and_round_trips(text):
    out = render.inert(text)
    assert not re.search(r"[<>&*_`\[\]()$#:/@]", re.sub(r"&#\d+;", "", out))  # nothing markup could act on
    assert html.unescape(out) == text


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.org/a?b=1#c", True), ("http://example.org", True), ("HTTPS://EXAMPLE.ORG/x", True),
    ("javascript:alert(1)", False), (" javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False), ("vbscript:x", False), ("//example.org", False),
    ("https://", False), ("https://exa mple.org", False), ('https://example.org/"onmouseover=alert(1)', False),
    ("", False), ("ftp://example.org/file", False), ("https://example.org/\x00", False),
])
def test_only_http_urls_become_links(url, ok):
    assert (render.safe_url(url) is not None) is ok
    card = render.source_card(_citation(url=url), 1)
    assert ("<a " in card) is ok


def test_card_escapes_everything_and_highlights_the_quote():
    text = "Intro <script>alert(1)</script>. The <img src=x onerror=alert(1)> quote here. Tail."
    quote = "The <img src=x onerror=alert(1)> quote here."
    card = render.source_card(_citation(text=text, quote=quote, title="<b>T</b>", url="javascript:alert(1)"), 2)
    assert "<script" not in card and "<img" not in card and "<b>" not in card
    assert 'id="src-2-1"' in card
    assert re.search(r"<mark>The &lt;img src=x onerror=alert\(1\)&gt; quote here\.</mark>", card)
    assert "javascript:alert(1)" in card and 'href="javascript' not in card


def test_highlight_falls_back_to_searching_the_quote_when_offsets_are_off():
    c = _citation()
    shifted = Citation(**{**c.__dict__, "start": c.start + 3, "end": c.end + 3})
    assert "<mark>Gamma delta epsilon.</mark>" in render.highlighted_passage(shifted)


def test_answer_markers_link_to_cards_of_the_same_turn_only_when_cited():
    answer = Answer("q", "First claim [1]. Second claim [2]. Literal [9].", False,
                    citations=(_citation(1), _citation(2)))
    out = render.answer_message(answer, 3)
    assert out.count('class="cite-marker"') == 2
    assert 'href="#src-3-1"' in out and 'href="#src-3-2"' in out and "src-3-9" not in out


def _strip_tags(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_short_answer_comes_first_in_bold_with_its_marker_then_the_sentence():
    answer = Answer("Who won the women's race?", "Amara Chelimo won the women's race in 2:18:41 [1]. Tail [2].",
                    False, citations=(_citation(1), _citation(2)), short_answer="Amara Chelimo")
    out = render.answer_message(answer, 2)
    marker = '<a class="cite-marker" href="#src-2-1" title="Show source 1">&#91;1&#93;</a>'
    assert out.startswith(f'<span class="short-answer"><strong>Amara Chelimo</strong> {marker}</span><br>')
    sentence = out[out.index("<br>") + len("<br>"):]
    assert _strip_tags(sentence) == "Amara Chelimo won the women's race in 2:18:41 [1]. Tail [2]."
    assert sentence.count('class="cite-marker"') == 2 and 'href="#src-2-2"' in sentence
    assert _strip_tags(out).startswith("Amara Chelimo [1]Amara Chelimo won")
    assert "window-note" not in out


@pytest.mark.parametrize("short", ["<b>42</b> * 2", "**7** _x_", "[1](javascript:alert(1))", "$5 million"])
def test_short_answer_shows_as_characters(short):
    answer = Answer("How many?", f"It was {short} in total [1].", False, citations=(_citation(1),),
                    short_answer=short)
    out = render.answer_message(answer, 1)
    strong = re.search(r'<span class="short-answer"><strong>(.*?)</strong>', out)
    assert strong and strong[1] == render.inert(short) and html.unescape(strong[1]) == short
    assert "<b>" not in out and "**" not in out and "javascript:" not in out and "$" not in out
    assert out.count("<strong>") == 1


def test_window_line_under_the_answer_is_escaped():
    window = TimeWindow(datetime.date(2025, 11, 14), datetime.date(2025, 11, 20), "this week")
    answer = Answer("What happened this week?", "Something happened [1].", False, citations=(_citation(1),),
                    window=window)
    out = render.answer_message(answer, 1)
    assert "short-answer" not in out and "<strong>" not in out
    body, note = out.split("<br>")
    assert _strip_tags(body) == "Something happened [1]."
    assert note == f'<span class="window-note">{render.inert("Articles published since 2025-11-14 (this week)")}</span>'
    odd = TimeWindow(window.start, window.start, "<script>alert(1)</script> *x*")
    out = render.answer_message(Answer("q", "x [1].", False, citations=(_citation(1),), window=odd), 1)
    assert "<script" not in out and "*" not in out
    assert _strip_tags(out).endswith("Articles published on 2025-11-14 (<script>alert(1)</script> *x*)")


def test_no_short_answer_or_window_adds_nothing():
    answer = Answer("What did they ask for?", "Drones and scramblers [1].", False, citations=(_citation(1),))
    out = render.answer_message(answer, 1)
    marker = '<a class="cite-marker" href="#src-1-1" title="Show source 1">&#91;1&#93;</a>'
    assert out == f"Drones and scramblers {marker}&#46;"
    assert "<strong>" not in out and "<br>" not in out


def test_abstention_shows_no_short_answer_but_its_window():
    window = TimeWindow(datetime.date(2025, 11, 14), datetime.date(2025, 11, 20), "this week")
    answer = Answer("Who won this week?", "The indexed articles don't say anything that answers it.", True,
                    short_answer="Amara Chelimo", window=window)
    out = render.answer_message(answer, 1)
    assert "Amara" not in out and "<strong>" not in out and "cite-marker" not in out
    assert out.startswith('<span class="abstained">')
    assert _strip_tags(out).endswith("answers it.Articles published since 2025-11-14 (this week)")


def test_streaming_answer_has_no_short_answer_yet():
    answer = Answer("Who won?", "Amara Chelimo won", False, short_answer="Amara Chelimo")
    out = render.answer_message(answer, 1, final=False)
    assert "<strong>" not in out and _strip_tags(out) == "Amara Chelimo won"


def test_abstention_shows_no_sources():
    answer = Answer("off topic?", "The indexed articles don't say anything that answers it.", True)
    assert "cite-marker" not in render.answer_message(answer, 1)
    panel = render.sources_panel([answer])
    assert "source-card" not in panel and "No sources" in panel


def test_sources_panel_shows_latest_turn_open_and_earlier_turns_folded():
    a1 = Answer("first <q>", "x [1]", False, citations=(_citation(1),))
    a2 = Answer("second", "y [1]", False, citations=(_citation(1),))
    panel = render.sources_panel([a1, a2])
    assert panel.index('id="src-2-1"') < panel.index('id="src-1-1"')
    assert "<details" in panel and "first &lt;q&gt;" in panel


# ---------------------------------------------------------------------------------------------- chat


def _history(*questions: str) -> list[Turn]:
    return [Turn(q, Answer(q, "answer", False)) for q in questions]


@pytest.mark.parametrize(("previous", "follow_up", "expected"), [
    ("What did Venezuela ask Iran for?", "And what about China?", "What did Venezuela ask China for?"),
    ("What did Venezuela ask Iran for?", "what about Russia", "What did Venezuela ask Russia for?"),
    ("What did Venezuela ask Iran for?", "And China?", "What did Venezuela ask China for?"),
    ("Why is Voltic recalling its PowerCore 20 power banks?", "How much did they cost?", "Voltic"),
    ("Who won the Lakeport Marathon women's race?", "And what about the men's race?", "men's race"),
])
def test_rule_condenser_rewrites_follow_ups(previous, follow_up, expected):
    out = RuleCondenser().condense(follow_up, _history(previous))
    assert out is not None and expected in out


@pytest.mark.parametrize(("history", "question"), [
    ((), "And what about China?"),
    (("What did Venezuela ask Iran for?",), "Who won the Lakeport Marathon?"),
    (("What did Venezuela ask Iran for?",), "How effective was Norvance's RSV vaccine?"),
    (("What did Venezuela ask Iran for?",), "And how many drones did Iran send?"),
])
def test_rule_condenser_leaves_standalone_questions_alone(history, question):
    assert RuleCondenser().condense(question, _history(*history)) is None


def test_condenser_uses_the_previous_rewrite_not_the_raw_follow_up():
    first = Turn("And what about China?", Answer("And what about China?", "x", False,
                                                 standalone_question="What did Venezuela ask China for?"))
    assert RuleCondenser().condense("And Russia?", [first]) == "What did Venezuela ask Russia for?"


def test_chat_session_keeps_a_bounded_history():
    session = ChatSession()
    for i in range(60):
        session.add(Answer(f"q{i}", "a", False))
    assert len(session.turns) == 50 and session.turns[-1].question == "q59"
    session.clear()
    assert session.turns == []


# ---------------------------------------------------------------------------------------------- library


@pytest.mark.parametrize(("name", "expected"), [
    ("article.md", "article.md"), ("../../etc/passwd.md", "passwd.md"), ("..\\..\\win.TXT", "win.txt"),
    ("/abs/path/x.html", "x.html"), ("..md", "upload.md"), ("weird name (1).jsonl", "weird-name-1.jsonl"),
    (".hidden.txt", "hidden.txt"), ("noext", "noext"), ("ünïcødé.md", "n-c-d.md"),
])
def test_safe_name_stays_inside_the_uploads_folder(name, expected):
    assert safe_name(name) == expected


ARTICLE = """---
title: Quokka Festival Sets Attendance Record
source: Island Courier
url: https://example.org/quokka
published_at: 2025-11-05
---
The annual Quokka Festival drew 48,213 visitors this year, organisers said on Tuesday.
"""


@pytest.fixture
def library(hashing_assistant, tmp_path):
    return Library(hashing_assistant, uploads_dir=tmp_path / "data" / "uploads", max_file_mb=0.01, max_files=3,
                   samples_dir=None)


def _files(tmp_path: Path, **named: str | bytes) -> list[Path]:
    incoming = tmp_path / "incoming"
    incoming.mkdir(exist_ok=True)
    out = []
    for name, content in named.items():
        path = incoming / name.replace("__", ".")
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out.append(path)
    return out


def test_upload_indexes_good_files_and_lists_the_failures(library, tmp_path):
    files = _files(tmp_path, quokka__md=ARTICLE, notes__pdf="%PDF", big__txt="word " * 5000, empty__txt="  ")
    with pytest.raises(UploadError, match="too many files"):
        library.upload(files)
    summary = library.upload(files[:3])
    assert summary.line().startswith("added 1, updated 0, unchanged 0, removed 0, failed 2 ")
    reasons = " | ".join(str(f) for f in summary.failures)
    assert "notes.pdf: unsupported file type '.pdf'" in reasons and "big.txt: file is too large" in reasons
    summary = library.upload(files[3:])
    assert summary.failed == 1 and str(summary.failures[0]).startswith("empty.txt: ")
    assert not (library.uploads_dir / "empty.txt").exists()  # unreadable uploads are not kept
    rows = library.articles("quokka")
    assert [(r.article_id, r.source, r.published_at, r.chunks) for r in rows] == [
        ("quokka", "Island Courier", "2025-11-05", 1)]
    assert library.outlets() == ["Island Courier"]


def test_delete_survives_reindex_and_reupload_brings_it_back(library, tmp_path):
    jsonl = '{"id": "j1", "text": "Jsonl article one about otters."}\n{"id": "j2", "text": "Second about owls."}\n'
    files = _files(tmp_path, quokka__md=ARTICLE, batch__jsonl=jsonl)
    assert library.upload(files).added == 3
    assert sorted(library.delete(["quokka", "j1", "missing"])) == ["j1", "quokka"]
    assert not (library.uploads_dir / "quokka.md").exists()
    summary = library.reindex()
    assert summary.added == 0 and summary.unchanged == 1
    assert {a.article_id for a in library.articles()} == {"j2"}
    assert library.upload(files[:1]).added == 1
    assert library.reindex().added == 0 and {a.article_id for a in library.articles()} == {"j2", "quokka"}


def test_list_articles_counts_chunks_per_article(hashing_assistant):
    from tests.conftest import SAMPLES

    summary = hashing_assistant.index([SAMPLES])
    rows = hashing_assistant.store.list_articles()
    assert len(rows) == summary.added == len(list(SAMPLES.glob("*.md")))
    assert sum(r.chunks for r in rows) == hashing_assistant.store.count()
    assert [r.published_at for r in rows] == sorted((r.published_at for r in rows), reverse=True)
    venezuela = next(r for r in rows if r.article_id == "venezuela-seeks-military-aid")
    assert venezuela.source == "Harbor Ledger" and venezuela.title.startswith("Venezuela")


# ---------------------------------------------------------------------------------------------- serving


def test_warns_only_for_open_non_loopback_binds(tmp_path):
    from assistant.web.ui import serving_warnings

    base = {"data_dir": tmp_path}
    assert serving_warnings(Settings(**base)) == []
    assert serving_warnings(Settings(**base, host="::1")) == []
    assert "without a login" in serving_warnings(Settings(**base, host="0.0.0.0"))[0]
    assert serving_warnings(Settings(**base, host="0.0.0.0", auth_username="u", auth_password="p")) == []


def test_launch_options(tmp_path):
    from assistant.web.ui import launch_options

    opts = launch_options(Settings(data_dir=tmp_path, auth_username="u", auth_password="p", upload_max_mb=2))
    assert opts["auth"] == ("u", "p") and opts["max_file_size"] == 2_000_000
    assert opts["server_name"] == "127.0.0.1"
    assert "fonts.googleapis" not in str(opts["theme"]._stylesheets)
    with pytest.raises(ConfigError, match="both"):
        launch_options(Settings(data_dir=tmp_path, auth_username="u"))


def test_bad_filters_are_one_line_errors():
    from assistant.web.ui import parse_filters

    assert parse_filters(["A"], "2025-01-01", "2025-12-31").sources == ("A",)
    with pytest.raises(AssistantError, match="YYYY-MM-DD"):
        parse_filters([], "yesterday-ish", "")
    with pytest.raises(AssistantError, match="after"):
        parse_filters([], "2025-12-31", "2025-01-01")
