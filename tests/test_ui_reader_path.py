"""The pieces behind issue 20, without a browser: the As-of box's dates, the paced reveal of an answer, the
empty chat's corpus line, the save form's article choices, delete with undo, the titles a refresh added,
checking a source when it is added, outlets and datelines of articles, and warnings printed as read."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from contextlib import redirect_stderr
from dataclasses import replace

import pytest

from assistant.types import Answer, ArticleInfo, Citation, Passage, StoredChunk
from assistant.web import render
from assistant.web.chat_tab import REVEAL_STEP_S, REVEAL_STEPS, as_of_note, reveal_steps
from assistant.web.dates import DateNotUnderstood, said_back, understand_date
from assistant.web.feedback import article_choices
from assistant.web.library import Deleted, Library, added_titles, corpus_summary
from index.indexer import IndexSummary
from index.intake.articles import Article, dateline, read_articles
from tests.web_support import Route, WebServer, article_page, rss_feed

TODAY = dt.date(2026, 3, 31)


# ---------------------------------------------------------------------------------------------- As of


@pytest.mark.parametrize("text, day", [
    ("", TODAY), ("today", TODAY), ("  Today ", TODAY), ("yesterday", dt.date(2026, 3, 30)),
    ("3 Feb 2023", dt.date(2023, 2, 3)), ("2023-02-03", dt.date(2023, 2, 3)), ("Feb 3, 2023", dt.date(2023, 2, 3)),
    ("February 3rd, 2023", dt.date(2023, 2, 3)), ("3rd of February 2023", dt.date(2023, 2, 3)),
    ("2023/02/03", dt.date(2023, 2, 3)), ("13/02/2023", dt.date(2023, 2, 13)), ("02/13/2023", dt.date(2023, 2, 13)),
    ("05/05/2023", dt.date(2023, 5, 5)), ("3 February", dt.date(2026, 2, 3)),
    ("a week ago", dt.date(2026, 3, 24)), ("a month ago", dt.date(2026, 2, 28)), ("2 weeks ago", dt.date(2026, 3, 17)),
])
def test_the_as_of_box_understands_the_dates_people_type(text, day):
    assert understand_date(text, today=TODAY) == day


@pytest.mark.parametrize("text, needle", [
    ("03/02/2023", "could be 3 February 2023 or 2 March 2023"),  # day-first or month-first: refused, not guessed
    ("3.2.2023", "could be 3 February 2023 or 2 March 2023"),
    ("Feb 2023", "names no day of the month"),
    ("2023-13-01", "is not a real day"),
    ("31/02/2023", "is not a date"),
    ("next blue moon", "does not name a day"),
])
def test_unclear_dates_are_refused_with_one_line_that_says_what_to_type(text, needle):
    with pytest.raises(DateNotUnderstood) as refused:
        understand_date(text, today=TODAY)
    message = str(refused.value)
    assert needle in message and "\n" not in message and ("3 Feb 2023" in message or "YYYY-MM-DD" in message)


def test_the_day_understood_is_said_back():
    assert said_back(dt.date(2023, 2, 3), today=TODAY) == "Friday 3 February 2023"
    assert said_back(TODAY, today=TODAY) == "Tuesday 31 March 2026 (today)"
    assert "As of Friday 3 February 2023" in as_of_note("3 Feb 2023")
    assert "could be" in as_of_note("03/02/2023") and "as-of-bad" in as_of_note("03/02/2023")
    assert as_of_note("").count("As of today, ") == 1


# ---------------------------------------------------------------------------------------------- reveal


def _answer(**fields) -> Answer:
    text = "Amara Chelimo won the race in 2:18:41, a course record on a cold morning [1]."
    quote = "Amara Chelimo won the race in 2:18:41."
    citation = Citation(n=1, article_id="marathon", title="Chelimo wins", source="Coast Daily", url="",
                        published_at="2025-10-26", text=quote, quote=quote, start=0, end=len(quote),
                        passage_start=0, passage_end=len(quote), chunk_id="c1")
    base = {"question": "Who won?", "answer": text, "abstained": False, "citations": (citation,),
            "short_answer": "Amara Chelimo"}
    return Answer(**{**base, **fields})


def test_reveal_steps_grow_to_all_the_words_in_a_few_steps():
    assert reveal_steps(0) == []
    assert reveal_steps(1) == [1] and reveal_steps(3) == [1, 2, 3]
    for n in (4, 12, 25, 80, 400):
        steps = reveal_steps(n)
        assert steps[-1] == n and steps == sorted(set(steps)) and len(steps) == REVEAL_STEPS, (n, steps)
    # however long the answer, the reveal adds at most REVEAL_STEPS pauses before the sources come
    assert REVEAL_STEPS * REVEAL_STEP_S <= 0.25


def test_a_revealed_answer_leads_with_the_short_answer_then_grows_word_by_word():
    answer = _answer(standalone_question="Who won the Lakeport Marathon?")
    lead = render.answer_message(answer, 1, words=0)
    assert '<span class="short-answer"><strong>Amara Chelimo</strong>' in lead and 'class="typing"' in lead
    assert "Understood as" not in lead and "course" not in lead
    growing = [render.answer_message(answer, 1, words=n) for n in (3, 8)]
    assert len(lead) < len(growing[0]) < len(growing[1])
    assert "won" in growing[0] and "course" not in growing[0]
    final = render.answer_message(answer, 1)
    assert "typing" not in final and "Understood as: Who won the Lakeport Marathon?" in final
    assert render.word_count(answer.answer) == 15


class _WrittenAtOnce:
    """An assistant whose answer is written at once (as the extractive answerer's is): its pieces, then it."""

    def __init__(self, final: Answer) -> None:
        self.final = final

    def ask_stream(self, question, **_):
        yield from (replace(self.final, answer=w, citations=(), short_answer="")
                    for w in re.findall(r"\S+\s*", self.final.answer))
        yield self.final


class _NoLibrary:
    def upload_dates(self) -> dict[str, str]:
        return {}


class _AsTyped:
    def condense(self, question, turns):
        return question


def test_the_reveal_starts_when_the_answer_is_known_and_renders_the_sources_in_its_first_pause(monkeypatch):
    from assistant.answering.chat import ChatSession
    from assistant.web import chat_tab
    from assistant.web.startup import Readiness

    events: list[str] = []
    panel = render.sources_panel
    monkeypatch.setattr(chat_tab.render, "sources_panel",
                        lambda answers, **kw: events.append(f"panel of {len(answers)}") or panel(answers, **kw))
    monkeypatch.setattr(chat_tab.time, "sleep", lambda s: events.append("pause"))
    final = _answer()
    chat = chat_tab.Conversation(_WrittenAtOnce(final), _AsTyped(), _NoLibrary(), Readiness.ready(), [])
    session = ChatSession()
    shown = []
    for out in chat.respond("Who won?", session, [], "", "", ""):
        bubble = out[1][-1]["content"] if isinstance(out[1], list) else ""
        shown.append(bubble)
        events.append("closing" if out[3] is session else "step")
    # the echo, the short answer alone, the sentences growing, then the whole answer with its sources
    assert "Searching" in shown[0]
    assert '<strong>Amara Chelimo</strong>' in shown[1] and "won" not in shown[1].split("</span>", 1)[1]
    sizes = [render.word_count(re.sub(r"<[^>]+>", " ", b)) for b in shown[1:]]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes) == 1 + REVEAL_STEPS, sizes
    assert 'class="typing"' in shown[-2] and 'class="typing"' not in shown[-1]
    assert session.turns and session.turns[-1].answer is final
    # the echo's empty panel, then the final panel rendered right after the first step, before any pause
    first_step = events.index("step", events.index("step") + 1)
    assert events[first_step + 1] == "panel of 1" and events[first_step + 2] == "pause", events
    assert events.count("panel of 1") == 1 and events[-1] == "closing" and events.count("pause") == REVEAL_STEPS


def test_the_empty_chat_says_what_the_index_holds_and_the_getting_ready_note_sits_inside_it():
    html = render.empty_chat("11 articles from 9 outlets, 8 Oct \u2013 19 Nov 2025", "Getting ready <now>")
    assert 'class="corpus-summary"' in html and "11 articles from 9 outlets" in html
    assert 'id="ready-note"' in html and "<now>" not in html
    assert "ready-note" not in render.empty_chat("x")


def _info(article_id: str, source: str, day: str) -> ArticleInfo:
    return ArticleInfo(article_id, f"Title {article_id}", source, "", day, 1)


def test_corpus_summary_counts_articles_outlets_and_the_dates_they_span():
    rows = [_info(str(i), src, day) for i, (src, day) in enumerate([
        ("CNN", "2023-01-06"), ("cnn", "2023-02-01"), ("USA Today", "2023-03-10"), ("", ""),
        ("uploaded file", "2023-02-02")])]
    assert corpus_summary(rows) == "5 articles from 2 outlets, 6 Jan \u2013 10 Mar 2023"
    rows.append(_info("old", "The Week", "2022-12-30"))
    assert corpus_summary(rows) == "6 articles from 3 outlets, 30 Dec 2022 \u2013 10 Mar 2023"
    assert corpus_summary([_info("a", "", "")]) == "1 article"
    assert corpus_summary([_info("a", "X", "2025-01-02")]) == "1 article from 1 outlet, 2 Jan 2025"
    assert "No articles" in corpus_summary([])
    big = [_info(str(i), f"Outlet {i % 212}", "2023-01-06") for i in range(1371)]
    assert corpus_summary(big).startswith("1,371 articles from 212 outlets, 6 Jan 2023")


class _Panel:
    """The saved sources as the Library sees them: their locations and one refresh's outcome."""

    def __init__(self, locations: list[str], outcome) -> None:
        self._locations, self.outcome, self.refreshes = locations, outcome, 0

    def locations(self) -> list[str]:
        return self._locations

    def refresh(self, progress=None):
        self.refreshes += 1
        return self.outcome


class _Listed:
    def __init__(self, rows: list[ArticleInfo]) -> None:
        self.rows = rows

    def articles(self, query: str = "") -> list[ArticleInfo]:
        return self.rows


def test_the_library_refresh_button_refreshes_the_saved_sources_and_names_what_it_added():
    from assistant.web.library_tab import SavedSources
    from assistant.web.sources_panel import REFRESH_BUSY, RefreshOutcome, refresh_text

    summary = IndexSummary(added=2, unchanged=1, added_ids=["a", "b"])
    rows = [_info("a", "Harbour Post", "2025-10-30"), _info("b", "Harbour Post", "2025-10-31")]
    panel = _Panel(["https://news.example/feed.xml"], RefreshOutcome(refresh_text(summary), ran=True, summary=summary))
    shown = html.unescape(re.sub(r"<[^>]+>", "", SavedSources(panel, _Listed(rows)).refresh_library(progress=None)))
    assert panel.refreshes == 1  # it polled the sources, not only listed the table again
    head, *added = shown.splitlines()
    assert head.startswith("Refreshed 1 saved source: added 2, updated 0, unchanged 1"), shown
    assert added == ["+ \u201cTitle a\u201d (Harbour Post, 2025-10-30)", "+ \u201cTitle b\u201d (Harbour Post, 2025-10-31)"]
    busy = _Panel(["x"], RefreshOutcome(REFRESH_BUSY, ran=False))
    assert html.unescape(re.sub(r"<[^>]+>", "", SavedSources(busy, _Listed([])).refresh_library(progress=None))) == REFRESH_BUSY
    none = _Panel([], None)
    said = SavedSources(none, _Listed(rows)).refresh_library(progress=None)
    assert none.refreshes == 0 and "No saved sources to refresh" in said


def test_a_refresh_names_the_titles_it_added():
    summary = IndexSummary(added=3, added_ids=["a", "b", "gone"])
    rows = [_info("a", "Harbour Post", "2025-10-30"), _info("b", "", "")]
    assert added_titles(summary, rows) == ["+ \u201cTitle a\u201d (Harbour Post, 2025-10-30)", "+ \u201cTitle b\u201d",
                                           "+ gone"]
    many = IndexSummary(added=12, added_ids=[str(i) for i in range(12)])
    assert added_titles(many, [], limit=10)[-1] == "+ and 2 more (listed in the table)"


def test_the_save_form_offers_the_cited_article_first_then_the_other_retrieved_ones():
    def passage(article_id: str, title: str) -> Passage:
        chunk = StoredChunk(chunk_id=f"{article_id}-0", article_id=article_id, text="x", start=0, end=1,
                            title=title, source="Coast Daily", url="", published_at="2025-10-26")
        return Passage(chunk=chunk, score=1.0)

    answer = _answer(passages=(passage("other", "Another race"), passage("marathon", "Chelimo wins")))
    assert article_choices(answer) == [("Chelimo wins (Coast Daily, 2025-10-26)", "marathon"),
                                       ("Another race (Coast Daily, 2025-10-26)", "other")]


# ---------------------------------------------------------------------------------------------- library


@pytest.fixture
def library(hashing_assistant, tmp_path):
    return Library(hashing_assistant, uploads_dir=tmp_path / "uploads", samples_dir=None)


NOTE = """Kestrel Bay ferry adds a dawn crossing
The harbour office said on Monday that a 05:40 crossing will run from next week, for hospital staff on the
early shift. The first bus from the pier will wait for it.
"""


def test_delete_names_the_article_and_undo_brings_it_back_as_it_was(library, hashing_assistant, tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    (incoming / "dawn-ferry.txt").write_text(NOTE)
    feed = incoming / "wire.jsonl"
    long_text = " ".join(f"Sentence {i} about the night bus timetable and the pier works." for i in range(400))
    feed.write_text(json.dumps({"id": "night-bus", "title": "Night buses return", "source": "Pier Gazette",
                                "published_at": "2025-10-30", "text": long_text}) + "\n")
    library.upload([incoming / "dawn-ferry.txt"])
    hashing_assistant.index([feed])
    assert hashing_assistant.store.article_states(["night-bus"])["night-bus"].chunks  # several passages
    taken = library.snapshot(["dawn-ferry", "night-bus", "never-there"])
    assert taken.ids == ["dawn-ferry", "night-bus"]
    assert taken.names() == "\u201cKestrel Bay ferry adds a dawn crossing\u201d and \u201cNight buses return\u201d"
    assert [name for name, _ in taken.files] == ["dawn-ferry.txt"]
    bus = taken.articles[1]
    assert bus.text == long_text and (bus.source, bus.published_at) == ("Pier Gazette", "2025-10-30")
    assert sorted(library.delete(taken.ids)) == ["dawn-ferry", "night-bus"]
    assert library.articles() == [] and not (library.uploads_dir / "dawn-ferry.txt").exists()
    summary = library.undo(taken)
    assert summary.added == 2 and summary.failed == 0
    assert {a.article_id for a in library.articles()} == {"dawn-ferry", "night-bus"}
    assert (library.uploads_dir / "dawn-ferry.txt").read_text() == NOTE
    assert library.reindex().unchanged == 1  # no longer remembered as deleted: reindex keeps it
    one = Deleted((Article(id="x", text="t", title="The harbour gala"),))
    assert one.names() == "\u201cThe harbour gala\u201d (x)"


# ---------------------------------------------------------------------------------------------- sources


@pytest.fixture
def web():
    with WebServer() as server:
        yield server


def test_adding_a_source_checks_it_once_and_says_what_it_found(web, settings, tmp_path):
    from assistant.factory import build_assistant, build_web_parts
    from assistant.web.sources_panel import SourceRefused

    settings = settings.model_copy(update={"fetch_timeout": 3.0, "fetch_deadline": 8.0})
    assistant = build_assistant(settings)
    panel = build_web_parts(settings, assistant).sources_panel
    for n in range(3):
        web.routes[f"/news/{n}"] = Route(article_page(n))
    web.routes["/feed.xml"] = Route(rss_feed([(n, web.url(f"/news/{n}")) for n in range(3)], title="Harbour Wire"),
                                    content_type="application/rss+xml")
    feed = web.url("/feed.xml")
    assert panel.add(feed) == f"Saved {feed} (feed \u201cHarbour Wire\u201d, 3 entries); Refresh now reads it."
    assert [h.path for h in web.hits] == ["/feed.xml"]  # one fetch: the entries' pages wait for a refresh
    page = web.url("/news/1")
    assert panel.add(page).startswith(f"Saved {page} (page \u201c")
    missing = web.url("/gone.xml")
    with pytest.raises(SourceRefused, match=re.escape(f"not saved: {missing}: HTTP 404 Not Found")):
        panel.add(missing)
    assert missing not in panel.locations()
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.txt").write_text(NOTE)
    assert panel.add(str(folder)) == (f"Saved {folder.resolve()} (a folder): 1 article file in it; Refresh now "
                                      "reads it.")
    assert assistant.store.count() == 0  # checking indexes nothing


# ---------------------------------------------------------------------------------------------- articles


@pytest.mark.parametrize("text, day", [
    ("Ferry adds a dawn crossing\nOctober 31, 2025\nThe harbour office said...", "2025-10-31"),
    ("Ferry adds a dawn crossing\nPublished: 31 Oct 2025, 09:12\nThe harbour office said...", "2025-10-31"),
    ("Ferry adds a dawn crossing\nBy Ana Ruiz | Oct. 31, 2025\nThe harbour office said...", "2025-10-31"),
    ("PORTLEVEN, October 31, 2025 \u2014 The harbour office said a dawn crossing will run from next week.",
     "2025-10-31"),
    ("Ferry adds a dawn crossing\n2025-10-31\nbody", "2025-10-31"),
    # a date inside a sentence is what the story is about, not when it was published
    ("Ferry adds a dawn crossing\nThe council first voted on the crossing on March 3, 2024, after a long campaign.",
     ""),
    ("Ferry adds a dawn crossing\nThe harbour office said on Monday that a crossing will run.", ""),
    ("Ferry\nFebruary 30, 2024\nbody", ""),
])
def test_a_dateline_near_the_top_dates_a_file_without_metadata(text, day):
    assert dateline(text) == day


def test_txt_and_md_without_a_date_take_their_dateline_but_front_matter_wins(tmp_path):
    (tmp_path / "plain.txt").write_text("Dawn crossing for the ferry\nOctober 31, 2025\n\n" + NOTE)
    (tmp_path / "dated.md").write_text("---\npublished_at: 2025-11-02\n---\n# Dawn crossing\n\nOctober 31, 2025\n\n"
                                       + NOTE)
    (tmp_path / "undated.md").write_text("# Dawn crossing\n\n" + NOTE)
    days = {a.id: a.published_at for a in read_articles([tmp_path])}
    assert days == {"plain": "2025-10-31", "dated": "2025-11-02", "undated": ""}


def test_a_page_without_a_site_name_is_named_by_its_host(web):
    from index.intake.feeds import page_article
    from index.intake.fetch import Fetcher, FetchPolicy

    body = ("<html><head><title>Dawn crossing for the ferry</title></head><body><article><h1>Dawn crossing</h1>"
            + "".join(f"<p>{line} The harbour office gave the times on Monday.</p>" for line in NOTE.splitlines())
            + "</article></body></html>").encode()
    web.routes["/story"] = Route(body, content_type="text/html")
    fetcher = Fetcher(FetchPolicy(timeout=2.0, deadline=5.0, max_bytes=1_000_000, max_redirects=2))
    try:
        result = fetcher.fetch(web.url("/story"))
    finally:
        fetcher.close()
    assert page_article(result).source == "127.0.0.1"
    assert page_article(result, source_fallback="Harbour Wire").source == "Harbour Wire"


# ---------------------------------------------------------------------------------------------- console


def test_failure_warnings_are_printed_as_read_and_not_again():
    from assistant.cli.console import FailureWarnings, reported
    from index.intake.articles import LoadFailure

    warnings = FailureWarnings()
    bad = LoadFailure("feed.jsonl:2", "invalid JSON")
    seen = []
    err = io.StringIO()
    with redirect_stderr(err):
        for item in reported(iter(["a", bad, "b"]), warnings):
            seen.append((item, err.getvalue()))
    assert seen[1] == (bad, "warning: skipped feed.jsonl:2: invalid JSON\n")  # printed before it is passed on
    assert warnings.rest([bad, LoadFailure("x", "y")]) == [LoadFailure("x", "y")]


@pytest.mark.parametrize("stored, shown", [
    ("www.usatoday.com", "usatoday.com"), ("www.USAToday.com.", "USAToday.com"), ("www2.cnn.com", "cnn.com"),
    ("usatoday.com", "usatoday.com"), ("news.bbc.co.uk", "news.bbc.co.uk"),
    # names are left as they are: nothing is made up from a host, and a name is not a host
    ("USA Today", "USA Today"), ("The Fennick Gazette", "The Fennick Gazette"), ("Reuters.com Staff", "Reuters.com Staff"),
    ("uploaded file", "uploaded file"), ("", ""),
])
def test_an_outlet_stored_as_a_bare_host_name_is_shown_without_www(stored, shown):
    assert render.outlet_name(stored) == shown


def test_cards_tips_the_library_and_the_corpus_line_show_the_tidied_outlet(tmp_path):
    from assistant.web.feedback import FeedbackStore
    from assistant.web.library_tab import Articles

    answer = _answer()
    answer = replace(answer, citations=(replace(answer.citations[0], source="www.usatoday.com"),))
    card = render.sources_panel([answer])
    assert "usatoday.com &#183; 2025-10-26" in card and "www.usatoday" not in card
    tips = re.findall(r'<span class="tip">(.*?)</span>', html.unescape(render.answer_message(answer, 1)))
    assert tips and set(tips) == {"usatoday.com \u00b7 2025-10-26"}, tips
    rows = [_info("a", "www.usatoday.com", "2023-01-06"), _info("b", "usatoday.com", "2023-01-07"),
            _info("c", "USA Today", "2023-01-08")]
    assert corpus_summary(rows).startswith("3 articles from 2 outlets")  # the two spellings of one host are one
    listed = Articles(_Listed(rows), FeedbackStore(tmp_path))
    assert [row[2] for row in listed.library_rows("")] == ["usatoday.com", "usatoday.com", "USA Today"]
    filter_choices = listed.refresh("", [])[2].choices  # the filter shows the tidy name, matches the stored one
    # one choice for both spellings, whose value names both stored outlets
    assert [tuple(c) for c in filter_choices] == [("USA Today", "USA Today"), ("usatoday.com", "usatoday.com\nwww.usatoday.com")]
    assert added_titles(IndexSummary(added=1, added_ids=["a"]), rows) == ["+ \u201cTitle a\u201d (usatoday.com, 2023-01-06)"]


def test_files_without_an_outlet_are_named_by_their_url_host_only_when_nothing_names_them(tmp_path):
    (tmp_path / "plain.txt").write_text("---\nurl: https://www.harbour-post.example/ferry\n---\n" + NOTE)
    (tmp_path / "named.md").write_text("---\nurl: https://www.harbour-post.example/ferry2\nsource: Harbour Post\n---\n"
                                       + NOTE)
    (tmp_path / "bare.txt").write_text(NOTE)
    (tmp_path / "page.html").write_text(
        '<html><head><title>Dawn crossing for the ferry</title>'
        '<meta property="og:url" content="https://www.harbour-post.example/ferry3"></head><body><article>'
        + "".join(f"<p>{line} The harbour office gave the times on Monday.</p>" for line in NOTE.splitlines())
        + "</article></body></html>")
    (tmp_path / "site.html").write_text(
        '<html><head><title>Dawn crossing</title><meta property="og:site_name" content="Harbour Post">'
        '<meta property="og:url" content="https://www.harbour-post.example/ferry4"></head><body><article>'
        + "".join(f"<p>{line} The harbour office gave the times on Monday.</p>" for line in NOTE.splitlines())
        + "</article></body></html>")
    outlets = {a.id: a.source for a in read_articles([tmp_path])}
    assert outlets == {"plain": "harbour-post.example", "named": "Harbour Post", "bare": "",
                       "page": "harbour-post.example", "site": "Harbour Post"}


class _Held:
    def __init__(self, *ids: str) -> None:
        self.ids = ids

    def articles(self, query: str = "") -> list[ArticleInfo]:
        return [_info(i, "Port Weekly", "2025-01-02") for i in self.ids]


def test_the_examples_are_offered_only_while_the_index_holds_the_articles_they_ask_about():
    from assistant.web import chat_tab
    from assistant.web.startup import Readiness
    from assistant.web.ui import sample_article_ids

    samples = sample_article_ids()
    assert "tidewell-floating-bridge" in samples
    questions = ["How much did the Tidewell bridge cost?"]

    def chat(library, readiness=None, articles=samples):
        return chat_tab.Conversation(None, None, library, readiness or Readiness.ready(), questions, articles)

    assert chat(_Held("tidewell-floating-bridge", "mine")).offered_examples() == [{"text": questions[0]}]
    over_own = chat(_Held("my-archive/2024-05-01-council"))
    assert over_own.offered_examples() == []
    assert "pick an example" not in over_own.placeholder()
    assert chat(_Held()).offered_examples() == []  # an empty index
    assert chat(_Held(), articles=None).offered_examples() == [{"text": questions[0]}]  # a caller's own examples
    assert "pick an example" in chat(_Held("tidewell-floating-bridge")).placeholder()
