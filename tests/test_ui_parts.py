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
    assert re.search(r'<mark id="src-2-1" data-quote="2-1">The &lt;img src=x onerror=alert\(1\)&gt; quote here\.</mark>',
                     card)
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
    """The text a reader sees (a marker's hover tip is hidden until hovered)."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<span class="tip">.*?</span>', "", html_text)))


def _marker(turn: int, n: int, tip: str = "Outlet · 2025-01-02") -> str:
    return (f'<a class="cite-marker" href="#src-{turn}-{n}"><span class="br">&#91;</span>{n}<span class="br">&#93;'
            f'</span><span class="tip">{render.inert(tip)}</span></a>')


def test_short_answer_comes_first_in_bold_with_its_marker_then_the_sentence():
    answer = Answer("Who won the women's race?", "Amara Chelimo won the women's race in 2:18:41 [1]. Tail [2].",
                    False, citations=(_citation(1), _citation(2)), short_answer="Amara Chelimo")
    out = render.answer_message(answer, 2)
    marker = _marker(2, 1)
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
    assert "Outlet" in body  # in the marker's hover tip
    assert _strip_tags(body) == "Something happened [1]."
    assert note == f'<span class="window-note">{render.inert("Articles published since 2025-11-14 (this week)")}</span>'
    odd = TimeWindow(window.start, window.start, "<script>alert(1)</script> *x*")
    out = render.answer_message(Answer("q", "x [1].", False, citations=(_citation(1),), window=odd), 1)
    assert "<script" not in out and "*" not in out
    assert _strip_tags(out).endswith("Articles published on 2025-11-14 (<script>alert(1)</script> *x*)")


def test_no_short_answer_or_window_adds_nothing():
    answer = Answer("What did they ask for?", "Drones and scramblers [1].", False, citations=(_citation(1),))
    out = render.answer_message(answer, 1)
    marker = _marker(1, 1)
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
    result = library.upload(files[:3])
    summary = result.summary
    assert summary.line().startswith("added 1, updated 0, unchanged 0, removed 0, failed 2 ")
    reasons = " | ".join(str(f) for f in summary.failures)
    assert "notes.pdf: unsupported file type '.pdf'" in reasons and "big.txt: file is too large" in reasons
    lines = result.text().splitlines()
    assert lines[0] == "Uploaded 1 file, 2 failed. 1 article: 1 added (1 passage embedded in " \
        f"{summary.seconds:.1f} s); 2 files or lines failed."
    assert lines[1] == "\u2713 quokka.md \u2192 \u201cQuokka Festival Sets Attendance Record\u201d (added)"
    assert any(line.startswith("\u2717 notes.pdf: unsupported file type '.pdf'") for line in lines)
    assert any(line.startswith("\u2717 big.txt: file is too large") for line in lines)
    summary = library.upload(files[3:]).summary
    assert summary.failed == 1 and str(summary.failures[0]).startswith("empty.txt: ")
    assert not (library.uploads_dir / "empty.txt").exists()  # unreadable uploads are not kept
    rows = library.articles("quokka")
    assert [(r.article_id, r.source, r.published_at, r.chunks) for r in rows] == [
        ("quokka", "Island Courier", "2025-11-05", 1)]
    assert library.outlets() == ["Island Courier"]


def test_delete_survives_reindex_and_reupload_brings_it_back(library, tmp_path):
    jsonl = '{"id": "j1", "text": "Jsonl article one about otters."}\n{"id": "j2", "text": "Second about owls."}\n'
    files = _files(tmp_path, quokka__md=ARTICLE, batch__jsonl=jsonl)
    result = library.upload(files)
    assert result.summary.added == 3
    assert ("\u2713 batch.jsonl \u2192 \u201cJsonl article one about otters.\u201d; \u201cSecond about owls.\u201d "
            "(added)") in result.text().splitlines()
    assert library.upload(files).text().startswith("Uploaded 2 files. 3 articles: 3 unchanged.")
    assert sorted(library.delete(["quokka", "j1", "missing"])) == ["j1", "quokka"]
    assert not (library.uploads_dir / "quokka.md").exists()
    summary = library.reindex()
    assert summary.added == 0 and summary.unchanged == 1
    assert {a.article_id for a in library.articles()} == {"j2"}
    assert library.upload(files[:1]).summary.added == 1
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


# ---------------------------------------------------------------------------------------------- the page

# Every element id of the page, in the order the layout holds them: the browser tests and the CSS find the
# page's parts by these (`render.CSS`, `render.CLICK_SCRIPT`, tests/test_ui_*e2e.py).
PAGE_IDS = [
    "intro", "chat", "question", "as-of", "send", "as-of-row", "as-of-pick", "as-of-note", "chat-note",
    "save-form", "save-question", "save-answer", "save-evidence", "save-asked", "save-confirm", "save-cancel",
    "new-chat", "filters", "outlets", "date-from", "date-to", "sources-col", "sources",
    "library-files-help", "library-files", "library-status", "library-stats", "library-reindex",
    "download-questions", "library-search", "library-refresh", "library-table", "library-selected",
    "library-delete", "delete-confirm", "delete-yes", "delete-no", "library-undo",
    "library-sources-intro", "source-location", "source-add", "sources-table", "source-selected",
    "source-remove", "sources-refresh", "sources-note", "sources-status",
]


def _layout_ids(config: dict) -> list[str]:
    props = {c["id"]: c.get("props", {}) for c in config["components"]}
    found: list[str] = []

    def walk(node: dict) -> None:
        elem_id = props.get(node["id"], {}).get("elem_id")
        if elem_id:
            found.append(elem_id)
        for child in node.get("children", []):
            walk(child)

    walk(config["layout"])
    return found


def test_the_page_keeps_its_element_ids_and_public_endpoints(hashing_assistant, settings):
    """`build_ui` is put together from sections (chat_tab, save_form, library_tab, api): the page they
    build has every id in its place, and only the four named endpoints are public."""
    from assistant.factory import build_web_parts
    from assistant.web.startup import Readiness
    from assistant.web.ui import build_ui

    parts = build_web_parts(settings, hashing_assistant)
    config = build_ui(hashing_assistant, parts, examples=["q"], readiness=Readiness.ready()).get_config_file()
    assert _layout_ids(config) == PAGE_IDS
    public = {d["api_name"] for d in config["dependencies"] if d.get("api_visibility") != "private"}
    assert public == {"chat", "new_chat", "ask", "save_test_question"}
    events = {(props_id, event) for d in config["dependencies"] for props_id, event in d["targets"]}
    by_id = {c["props"].get("elem_id"): c["id"] for c in config["components"] if c["props"].get("elem_id")}
    for elem_id, event in [("question", "submit"), ("send", "click"), ("as-of", "change"), ("chat", "like"),
                           ("save-confirm", "click"), ("save-cancel", "click"), ("new-chat", "click"),
                           ("library-files", "upload"), ("library-reindex", "click"), ("library-delete", "click"),
                           ("delete-yes", "click"), ("delete-no", "click"), ("library-undo", "click"),
                           ("library-search", "change"), ("library-refresh", "click"), ("library-table", "select"), ("source-add", "click"),
                           ("source-location", "submit"), ("source-remove", "click"), ("sources-refresh", "click")]:
        assert (by_id[elem_id], event) in events, f"#{elem_id} has no {event} handler"


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
    from assistant.web.widgets import parse_filters

    assert parse_filters(["A"], "2025-01-01", "2025-12-31").sources == ("A",)
    with pytest.raises(AssistantError, match="YYYY-MM-DD"):
        parse_filters([], "yesterday-ish", "")
    with pytest.raises(AssistantError, match="after"):
        parse_filters([], "2025-12-31", "2025-01-01")


# ---------------------------------------------------------------------------------------------- cards, feedback


def _chunk_passage(text: str, chunk_id: str = "c1", start: int = 100):
    from assistant.types import Passage, StoredChunk

    return Passage(StoredChunk(chunk_id, "a1", text, start, start + len(text), title="Title", source="Outlet",
                               published_at="2025-01-02"), 1.0)


CHUNK = ("One opens the story. Two sets the scene. Three is the first quote. Four follows it. Five is filler. "
         "Six is more filler. Seven is the second quote. Eight closes.")


def _cite(n: int, sentence: str, *, article: str = "a1", chunk_id: str = "c1", base: int = 100) -> Citation:
    """Citation [n] of `sentence` in CHUNK (which starts at article offset `base`), with one sentence around."""
    from assistant.types import StoredChunk

    chunk = StoredChunk(chunk_id, article, CHUNK, base, base + len(CHUNK), title=f"Title {article}",
                        source="Outlet", published_at="2025-01-02")
    start = base + CHUNK.index(sentence)
    return Citation.from_chunk(n, chunk, start, start + len(sentence))


def test_one_card_per_article_with_every_quote_highlighted_and_a_whole_passage_toggle():
    c1 = _cite(1, "Three is the first quote.")
    c2 = _cite(2, "Seven is the second quote.")
    other = _cite(3, "Two sets the scene.", article="b2", chunk_id="c9")
    answer = Answer("q", "First [1]. Second [2]. Third [3].", False, citations=(c1, c2, other),
                    passages=(_chunk_passage(CHUNK),))
    panel = render.sources_panel([answer])
    assert panel.count('class="source-card"') == 2  # a1 (cited twice) and b2
    card = panel[:panel.index('data-article="b2"')]
    assert card.count("<mark id=") == 2 and 'id="src-1-1"' in card and 'id="src-1-2"' in card
    assert '<span class="card-n">1</span><span class="card-n">2</span>' in card
    excerpts = re.findall(r'<div class="excerpt">(.*?)</div>', card)
    assert [_strip_tags(e) for e in excerpts] == [  # trimmed: the quote with a sentence on each side
        "Two sets the scene. Three is the first quote. Four follows it.",
        "Six is more filler. Seven is the second quote. Eight closes."]
    whole = re.findall(r'<div class="passage-full">(.*?)</div>', card)
    assert len(whole) == 2 and _strip_tags(whole[0]) == CHUNK and whole[0].count("<mark") == 1
    assert "Show the whole passage" in card
    # the b2 card has no chunk to expand: no toggle
    assert "passage-full" not in panel[panel.index('data-article="b2"'):]


def test_overlapping_excerpts_of_one_chunk_merge_into_one_with_both_quotes():
    c1 = _cite(1, "Three is the first quote.")
    c2 = _cite(2, "Four follows it.")
    answer = Answer("q", "A [1]. B [2].", False, citations=(c1, c2), passages=(_chunk_passage(CHUNK),))
    card = render.sources_panel([answer])
    excerpts = re.findall(r'<div class="excerpt">(.*?)</div>', card)
    assert len(excerpts) == 1 and excerpts[0].count("<mark") == 2
    assert _strip_tags(excerpts[0]) == "Two sets the scene. Three is the first quote. Four follows it. Five is filler."


def test_marker_tip_and_card_show_uploaded_file_and_the_upload_day_when_outlet_and_date_are_missing():
    bare = Citation(n=1, article_id="notes", title="Notes", source="", url="", published_at="", text="A fact.",
                    quote="A fact.", start=0, end=7, passage_end=7)
    answer = Answer("q", "A fact [1].", False, citations=(bare,))
    uploads = {"notes": "2026-12-02T09:30:00+00:00"}
    card = render.sources_panel([answer], uploads=uploads)
    assert '<div class="card-meta">uploaded file &#183; 2026-12-02</div>' in card
    assert '<span class="tip">uploaded file &#183; 2026&#45;12&#45;02</span>' in render.answer_message(
        answer, 1, uploads=uploads).replace(" \u00b7 ", " &#183; ")
    assert '<div class="card-meta"></div>' in render.sources_panel([answer])  # not an upload: nothing made up
    dated = Citation(**{**bare.__dict__, "source": "Courier"})
    assert "Courier &#183; uploaded 2026-12-02" in render.sources_panel(
        [Answer("q", "x [1].", False, citations=(dated,))], uploads=uploads)


def test_also_published_by_shows_when_the_citation_carries_it():
    from dataclasses import replace

    base = _citation()
    grouped = replace(base, also_published_by=("Outlet", "Bay Times",
                                               {"source": "<b>Wire</b>", "url": "https://w.example/x"}))
    card = render.source_card(grouped, 1)
    assert 'Also published by Bay Times, <a href="https://w.example/x"' in card and "&lt;b&gt;Wire" in card
    assert "Also published" not in render.source_card(base, 1)


def _answer_citing(*articles: str, short: str = "48,213", abstained: bool = False, as_of: str = "2025-11-20"):
    cites = tuple(Citation(n=i, article_id=a, title=a, source="S", url="", published_at="2025-11-05", text="t.",
                           quote="t.", start=0, end=2) for i, a in enumerate(articles, start=1))
    return Answer("How many came?", "text", abstained, citations=cites, short_answer=short, as_of=as_of,
                  standalone_question="How many visitors came to the festival?")


def test_saved_test_questions_are_a_question_set_that_eval_reads(tmp_path):
    from assistant.evaluation.questions import load_questions
    from assistant.web.feedback import FeedbackStore, SavedQuestion

    store = FeedbackStore(tmp_path)
    first = store.save_test_question(SavedQuestion.from_answer(_answer_citing("quokka", "quokka", "other")))
    assert first["question"] == "How many visitors came to the festival?"  # the follow-up as understood
    assert (first["answer"], first["evidence_ids"], first["asked_at"]) == (["48,213"], ["quokka", "other"],
                                                                           "2025-11-20")
    corrected = store.save_test_question(SavedQuestion.from_answer(_answer_citing("quokka"), correction=" 48,000 "))
    assert corrected["answer"] == ["48,000"]
    unanswerable = store.save_test_question(SavedQuestion.from_answer(
        Answer("Who is the mayor?", "The indexed articles don't say.", True, as_of="")))
    assert unanswerable["unanswerable"] is True and "answer" not in unanswerable and unanswerable["asked_at"] is None
    questions = load_questions(store.questions_path)
    assert [q.answers for q in questions] == [("48,213",), ("48,000",), ()]
    assert questions[0].evidence_ids == ("quokka", "other") and questions[0].asked_at == "2025-11-20"
    assert questions[2].unanswerable and store.saved_count() == 3
    with pytest.raises(AssistantError, match="cannot save this as a test question"):
        store.save_test_question(SavedQuestion("What?", "", (), ""))  # nothing to score


def test_feedback_is_one_local_jsonl_line_per_rating(tmp_path):
    import json

    from assistant.web.feedback import FeedbackStore

    store = FeedbackStore(tmp_path)
    store.record_feedback(_answer_citing("quokka"), "up")
    store.record_feedback(_answer_citing("quokka"), "down", "wrong number")
    lines = [json.loads(x) for x in store.feedback_path.read_text().splitlines()]
    assert [(x["rating"], x["cited"], x["comment"]) for x in lines] == [("up", ["quokka"], ""),
                                                                       ("down", ["quokka"], "wrong number")]


def test_summary_text_uses_plurals():
    from assistant.web.library import summary_text
    from index.indexer import IndexSummary

    assert summary_text(IndexSummary(added=1, chunks_embedded=1, seconds=0.1)) == \
        "1 article: 1 added (1 passage embedded in 0.1 s)."
    assert summary_text(IndexSummary(added=2, unchanged=3, failed=1, chunks_embedded=4, seconds=1.0)) == \
        "5 articles: 2 added, 3 unchanged (4 passages embedded in 1.0 s); 1 file or line failed."
    assert summary_text(IndexSummary()) == "No articles indexed."


def test_library_lists_undated_uploads_first_then_newest(library, tmp_path, hashing_assistant):
    from index.intake.articles import Article

    hashing_assistant.index_items([Article(id="old", text="An old story about ferries.", published_at="2024-01-01"),
                                   Article(id="new", text="A new story about bridges.", published_at="2025-06-01"),
                                   Article(id="nodate", text="A story without a date.")])
    files = _files(tmp_path, plain__txt="Harbour notes\nThe harbour reopened after the storm on Monday.",
                   dated__md=ARTICLE)
    library.upload(files)
    rows = library.articles()
    assert [r.article_id for r in rows] == ["plain", "dated", "new", "old", "nodate"]
    today = datetime.date.today().isoformat()
    assert (rows[0].source, rows[0].published_at) == ("uploaded file", today)
    assert (rows[1].source, rows[1].published_at) == ("Island Courier", "2025-11-05")
    assert rows[-1].source == "" and rows[-1].published_at == ""  # not an upload: shown as it is


def test_readiness_note_until_ready_and_errors_are_kept():
    import threading

    from assistant.web.startup import GETTING_READY, Readiness

    gate = threading.Event()
    ready = Readiness([("waiting", gate.wait)]).start()
    assert ready.note() == GETTING_READY and not ready.is_ready and not ready.wait(0.05)
    gate.set()
    assert ready.wait(5) and ready.is_ready and ready.note() == ""

    def broken():
        raise AssistantError("the samples folder is unreadable")

    failed = Readiness([("indexing the bundled samples", broken)]).start()
    assert not failed.wait(5) and not failed.is_ready
    assert failed.note() == ("The assistant could not get ready: indexing the bundled samples failed: "
                             "the samples folder is unreadable")
    assert Readiness.ready().is_ready


def test_an_outlet_stored_with_and_without_www_is_one_choice_that_filters_both():
    from assistant.web.library_tab import outlet_choices
    from assistant.web.widgets import parse_filters

    choices = outlet_choices(["www.usatoday.com", "usatoday.com", "The Fennick Gazette", "uploaded file", "",
                              "usatoday.com"])
    assert [label for label, _ in choices] == ["The Fennick Gazette", "usatoday.com"]
    value = dict(choices)["usatoday.com"]
    assert set(parse_filters([value], "", "").sources) == {"www.usatoday.com", "usatoday.com"}
    assert parse_filters(["The Fennick Gazette"], "", "").sources == ("The Fennick Gazette",)
