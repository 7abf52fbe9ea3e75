"""End to end: headless Chromium (Debian `chromium` driven by Playwright) against `python app.py` on a free
loopback port with its own data directory and the real MiniLM embedding, as a user would run it.

Covers: first paint under 2 s on first start with a "getting ready" note until the first question can be
answered; example question -> streamed answer with markers -> the marker brings its source card into view
with the quote highlighted; a follow-up understood in context; New chat; the as-of date beside the question
box (nothing published later is used, "this week" counts from it and the window shows under the answer, a
bad date is refused) and the bold short answer leading an answer with its marker [1]; markers as focusable
pills with an outlet/date tip that scroll only the sources panel (a sheet with a way back on a phone); one
card per article with a trimmed quote and a whole-passage toggle; uploading on drop through the Library
tab, the per-file result, undated uploads first as "uploaded file", getting it cited, deleting it and no
longer getting it cited; 👍/👎 and "Save as test question" with the saved set offered for download; the
chat text not covered by a label; an article full of XSS payloads that executes nothing; and no request
leaving the machine. The item tests run at 1400x900 and 390x844. Screenshots: test-output/ui/.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_OUTPUT, running_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SHOTS = TEST_OUTPUT / "ui"
EXAMPLE = "What did Venezuela ask Iran for?"
WHO_EXAMPLE = "Who won the Lakeport Marathon women's race and in what time?"  # a name: has a short answer
TIMEOUT_MS = 60_000
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1400x900", "390x844"])

QUOKKA = """---
title: Quokka Festival Sets Attendance Record on Rottnest Island
source: Island Courier
url: https://example.org/quokka-festival
published_at: 2025-11-05
---
The annual Quokka Festival on Rottnest Island drew 48,213 visitors this year, organisers said on Tuesday.
The festival's mascot, a quokka named Pemberton, greeted guests at the ferry terminal every morning.
"""

XSS = """---
title: <script>alert('xss-title')</script><img src=x onerror="alert('xss-title-img')"> Zorblat harbour gala
source: <img src=x onerror=alert('xss-source')>Evil Outlet
url: javascript:alert('xss-url')
published_at: 2025-10-10
---
The Zorblat harbour gala featured <script>alert('xss-body')</script> fireworks and a parade of boats.
Organisers said the Zorblat harbour gala drew 12,000 visitors <img src=x onerror="alert('xss-img')"> with
<svg onload="alert('xss-svg')"></svg> [a link](javascript:alert('xss-md')) and <a href="javascript:alert('xss-a')">a
raw link</a> and ${alert('xss-tpl')} {{constructor.constructor('alert(1)')()}}.
"""
# (A citation shows the quoted line with one line on each side: every payload the card must show as
# characters sits within those three lines.)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def started_app(tmp_path_factory):
    """(url, data dir, log path) of `python app.py` on its first start (empty data dir)."""
    data = tmp_path_factory.mktemp("ui-e2e") / "data"
    with running_app(data, embedding="minilm", timeout=300) as (url, _env, log):
        yield url.rstrip("/"), data, log


@pytest.fixture(scope="module")
def app_url(started_app):
    return started_app[0]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the browser tests need the Debian package "
                    "`chromium` (./scripts/test.sh installs it with apt-get)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` Python package is missing: pip install -e '.[test]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, app_url, size):
    context = browser.new_context(viewport=size, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []
    page.requests = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(app_url + "/")
    page.wait_for_selector("#chat")
    return page


def _close(page, app_url) -> None:
    outside = [u for u in page.requests if not u.startswith((app_url, "data:", "blob:"))]
    page.context.close()
    assert outside == [], f"the page made requests off this machine: {outside[:5]}"


@pytest.fixture
def page(browser, app_url, request):
    """A fresh browser session on the app (the test's `size`, else 1400x900); records dialogs and every
    request the page makes, and fails the test when one left the machine."""
    size = request.node.callspec.params.get("size", DESKTOP) if hasattr(request.node, "callspec") else DESKTOP
    page = _open(browser, app_url, size)
    page.size = size
    yield page
    _close(page, app_url)


# ---------------------------------------------------------------------------------------------- helpers


def shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = getattr(page, "size", DESKTOP)
    suffix = "" if size == DESKTOP else f"-{size['width']}x{size['height']}"
    page.screenshot(path=str(SHOTS / f"{name}{suffix}.png"), full_page=full_page)


def bot_messages(page) -> list[str]:
    return page.eval_on_selector_all("#chat [data-testid=bot]", "els => els.map(e => e.innerText)")


def wait_answer(page, question: str, turns: int = 1) -> tuple[str, str]:
    """Wait until the answer to `question` (the chat's turn number `turns`) is final in the chat and its
    sources are in the panel; returns (answer text, the panel's latest section)."""
    page.wait_for_function(
        """([q, n]) => { const s = document.querySelector('#sources section.turn-sources');
                 if (!s || s.querySelector('h3').textContent !== q || s.textContent.includes('Looking for')) return false;
                 const users = document.querySelectorAll('#chat [data-testid=user]');
                 const bots = document.querySelectorAll('#chat [data-testid=bot]');
                 const last = bots[bots.length - 1];
                 return users.length === n && users[n - 1].innerText.trim() === q && bots.length === n
                        && !!last.querySelector('a.cite-marker, .abstained'); }""",
        arg=[question, turns])
    latest = page.locator("#sources section.turn-sources")
    return bot_messages(page)[-1], latest.inner_html()


def new_chat(page) -> None:
    page.click("#new-chat")
    page.wait_for_function("() => !document.querySelector('#chat [data-testid=bot]')")


def ask(page, question: str) -> tuple[str, str]:
    turns = page.locator("#chat [data-testid=user]").count() + 1
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    return wait_answer(page, question, turns)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def status_text(page) -> str:
    return page.evaluate("() => { const r = document.querySelector('#library-status .library-result');"
                         " return r ? r.innerText : ''; }")


def upload(page, path: Path) -> str:
    """Drop a file on the upload area (indexing starts at once); returns the result shown."""
    open_tab(page, "Library")
    before = status_text(page)
    page.set_input_files("#library-files input[type=file]", str(path))
    page.wait_for_function(
        """b => { const r = document.querySelector('#library-status .library-result');
                  return r && r.innerText && r.innerText !== b; }""", arg=before)
    return status_text(page)


def find_in_library(page, query: str, text: str) -> None:
    page.fill("#library-search textarea", query)
    page.wait_for_selector(f"#library-table [role=row].virtual-row:has-text({text!r})")


def card_titles(panel_html: str) -> list[str]:
    return re.findall(r'class="card-title"[^>]*>(.*?)</', panel_html)


def short_answer_layout(page) -> dict | None:
    """How the latest answer bubble leads: None without a short answer, else its bold text, the bubble's
    first bold element and first marker (both must be the short answer's), the marker's target and text,
    and the text that follows the short answer's line (the sentence)."""
    return page.locator("#chat [data-testid=bot]").last.evaluate("""el => {
        const lead = el.querySelector('.short-answer');
        if (!lead) return null;
        const strong = lead.querySelector('strong, b');
        const marker = lead.querySelector('a.cite-marker');
        const markers = [...el.querySelectorAll('a.cite-marker')];
        const text = el.innerText.trim();
        return {short: strong ? strong.innerText : null,
                firstBoldIsShort: !!strong && el.querySelector('strong, b') === strong,
                firstMarkerIsShorts: !!marker && markers[0] === marker,
                markerHref: marker ? marker.getAttribute('href') : null,
                markerText: marker ? marker.innerText : null,
                firstLine: text.split('\\n')[0],
                rest: text.slice(text.indexOf('\\n') + 1).trim(),
                sentenceMarkers: markers.length - 1,
                sentenceAfterLead: markers.length > 1
                    && !!(lead.compareDocumentPosition(markers[1]) & Node.DOCUMENT_POSITION_FOLLOWING)};
    }""")


def assert_short_answer_leads(layout: dict) -> None:
    assert layout["short"] and layout["firstBoldIsShort"] and layout["firstMarkerIsShorts"], layout
    assert layout["markerHref"] == "#src-1-1" and layout["markerText"] == "[1]", layout
    assert layout["firstLine"] == f"{layout['short']} [1]", layout
    assert layout["sentenceMarkers"] >= 1 and layout["sentenceAfterLead"], layout
    # the sentence holds the short answer; a list ("drones, GPS scramblers, ...") item by item
    items = [item for item in re.split(r",\s*(?:and\s+)?|\s+and\s+", layout["short"]) if item]
    assert items and all(item in layout["rest"] for item in items), layout
    assert re.search(r"\[\d\]", layout["rest"]), layout


# ---------------------------------------------------------------------------------------------- tests


def test_first_start_paints_fast_and_says_it_is_getting_ready(browser, started_app):
    """Runs first, right after the app listens on an empty data dir (samples not indexed, models cold)."""
    url, _data, log = started_app
    page = _open(browser, url, DESKTOP)
    ready_before = "ready to answer after" in log.read_text()
    paint = page.evaluate("() => performance.getEntriesByType('paint')"
                          ".find(e => e.name === 'first-contentful-paint').startTime")
    assert paint < 2000, f"first contentful paint after {paint:.0f} ms"
    note = page.locator("#chat #ready-note")  # inside the chat: the page does not move when it goes
    if not ready_before:  # the note shows until the first question can be answered
        try:
            note.wait_for(timeout=10_000)
        except Exception:  # noqa: BLE001 - it may have gone already if getting ready finished meanwhile
            assert "ready to answer after" in log.read_text()
        else:
            assert "Getting ready" in note.inner_text(), log.read_text()
            shot(page, "00-first-start-getting-ready")
    question_at = page.locator("#question").bounding_box()["y"]  # to see that nothing moves when the note goes
    phone = _open(browser, url, PHONE)
    phone_paint = phone.evaluate("() => performance.getEntriesByType('paint')"
                                 ".find(e => e.name === 'first-contentful-paint').startTime")
    assert phone_paint < 2000, f"first contentful paint after {phone_paint:.0f} ms at 390x844"
    if not ready_before and "ready to answer after" not in log.read_text():
        assert phone.evaluate("() => window.scrollY") == 0  # opens at the top, title and note in view
        phone.size = PHONE
        shot(phone, "00-first-start-getting-ready")
    phone_question_at = phone.locator("#question").bounding_box()["y"]
    page.fill("#question textarea", EXAMPLE)  # asked while getting ready: answered once ready
    page.press("#question textarea", "Enter")
    answer, _ = wait_answer(page, EXAMPLE)
    assert re.search(r"\[\d\]", answer)
    page.wait_for_selector("#ready-note", state="hidden")
    assert "ready to answer after" in log.read_text()
    assert abs(page.locator("#question").bounding_box()["y"] - question_at) <= 1  # the page did not jump
    phone.wait_for_selector("#ready-note", state="hidden")  # nor on the phone, where it opened at the top
    assert abs(phone.locator("#question").bounding_box()["y"] - phone_question_at) <= 1
    assert phone.evaluate("() => window.scrollY") == 0
    _close(phone, url)
    _close(page, url)


def test_chat_streams_cites_opens_sources_and_follows_up(page, browser, app_url):
    # record every state of the answer bubble, to see it arrive in pieces
    page.evaluate("""() => { window.__states = [];
        new MutationObserver(() => { const b = document.querySelectorAll('#chat [data-testid=bot]');
            if (b.length) window.__states.push(b[b.length - 1].innerText); })
          .observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
    shot(page, "01-empty-chat-with-examples")
    as_of, box = page.get_by_label("As of"), page.locator("#question").bounding_box()
    assert as_of.is_visible() and as_of.input_value() == "" and as_of.get_attribute("placeholder") == "today"
    beside = page.locator("#as-of").bounding_box()  # on the question's row, right of it
    assert beside["x"] >= box["x"] + box["width"] - 1 and beside["y"] < box["y"] + box["height"] and \
        box["y"] < beside["y"] + beside["height"], (box, beside)
    page.locator("#chat").get_by_text(EXAMPLE).first.click()
    answer, panel = wait_answer(page, EXAMPLE)
    layout = short_answer_layout(page)
    if layout is not None:  # the answerer found a short answer: it leads, the sentence follows
        assert_short_answer_leads(layout)
    # what streamed: the short answer's line first, then the sentences a few words at a time
    words = answer.split()
    states = [s.strip() for s in dict.fromkeys(page.evaluate("window.__states")) if s.strip()]
    partial = [s for s in states if s != answer.strip() and s.split() == words[:len(s.split())]]
    assert len(partial) >= 3 and states[-1] == answer.strip(), states  # words appeared before the end
    assert re.search(r"\[\d\]", answer) and "drone" in answer.lower()
    assert "venezuela" in " ".join(card_titles(panel)).lower()
    shot(page, "02-streamed-answer-with-markers")

    page.locator("#chat [data-testid=bot] a.cite-marker").first.click()
    quote = page.locator("#src-1-1")  # the highlighted quote of [1], inside its article's card
    assert quote.is_visible() and quote.evaluate("e => e.tagName") == "MARK"
    assert quote.inner_text().split()[0] in answer
    shot(page, "03-source-card-with-highlighted-quote")

    follow, panel = ask(page, "And what about China?")
    assert "china" in follow.lower() and "understood as" in follow.lower()
    assert re.search(r"\[\d\]", follow) and "venezuela" in " ".join(card_titles(panel)).lower()
    shot(page, "04-follow-up-in-context")

    # a marker of the first answer opens its folded card (the panel now leads with the follow-up's sources)
    assert not page.locator("#src-1-1").is_visible()
    page.locator("#chat [data-testid=bot]").first.locator("a.cite-marker").first.click()
    page.wait_for_function("() => document.getElementById('src-1-1').closest('details').open")
    page.wait_for_function("""() => { const r = document.getElementById('src-1-1').getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight + 1; }""")
    shot(page, "05-earlier-source-opened")

    other = browser.new_context().new_page()  # another browser session has its own, empty conversation
    other.goto(app_url + "/")
    other.wait_for_selector("#chat")
    assert other.locator("#chat").get_by_text(EXAMPLE).first.is_visible()
    assert other.locator("#chat [data-testid=bot]").count() == 0
    other.context.close()

    new_chat(page)
    assert page.locator("#chat").get_by_text(EXAMPLE).first.is_visible()
    assert "source-card" not in page.inner_html("#sources")
    assert page.dialogs == []


@SIZES
def test_short_answer_leads_and_as_of_date_limits_articles(page, size):
    page.locator("#chat").get_by_text(WHO_EXAMPLE).first.click()
    answer, panel = wait_answer(page, WHO_EXAMPLE)
    layout = short_answer_layout(page)
    assert layout is not None, answer  # a "who" question: the name goes first, in bold
    assert_short_answer_leads(layout)
    assert "window-note" not in page.locator("#chat [data-testid=bot]").last.inner_html()
    page.locator("#chat [data-testid=bot] .short-answer a.cite-marker").click()
    assert page.locator("#src-1-1").is_visible() and "marathon" in " ".join(card_titles(panel)).lower()
    page.keyboard.press("Escape")  # closes the source sheet on a phone
    shot(page, "14-short-answer-first")

    page.get_by_label("As of").fill("2025-01-01")  # before every bundled article
    answer, panel = ask(page, WHO_EXAMPLE)
    last = page.locator("#chat [data-testid=bot]").last
    assert last.locator(".abstained").count() == 1 and last.locator(".short-answer, a.cite-marker").count() == 0
    assert "source-card" not in panel and "No sources" in panel

    page.get_by_label("As of").fill("2025-10-31")  # the marathon article is from 2025-10-26
    question = "Who won the Lakeport Marathon women's race this week?"
    answer, panel = ask(page, question)
    assert answer.strip().endswith("Articles published since 2025-10-25 (this week)"), answer
    assert re.search(r"\[\d\]", answer) and "marathon" in " ".join(card_titles(panel)).lower()
    assert page.locator("#chat [data-testid=bot]").last.locator(".window-note").count() == 1
    shot(page, "15-as-of-date-and-window")

    turns = page.locator("#chat [data-testid=user]").count()
    page.get_by_label("As of").fill("2025-13-01")
    page.fill("#question textarea", EXAMPLE)
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#chat-note .error:has-text(\"'2025-13-01' is not a real day\")")  # no toast
    assert page.locator("#chat [data-testid=user]").count() == turns  # nothing was asked
    assert page.input_value("#question textarea") == EXAMPLE
    shot(page, "16-bad-as-of-date")
    assert page.dialogs == []


def test_uploaded_article_is_cited_then_forgotten_after_delete(page, tmp_path):
    path = tmp_path / "quokka-festival.md"
    path.write_text(QUOKKA)
    status = upload(page, path)
    assert status.startswith("Uploaded 1 file. 1 article: 1 added ("), status
    assert "\u2713 quokka-festival.md \u2192 \u201cQuokka Festival Sets Attendance Record on Rottnest Island\u201d " \
        "(added)" in status.splitlines(), status
    find_in_library(page, "quokka", "Quokka Festival Sets Attendance Record")
    shot(page, "06-library-after-upload")

    open_tab(page, "Chat")
    question = "How many visitors did the Quokka Festival draw?"
    answer, panel = ask(page, question)
    assert "48,213" in answer and any("Quokka" in t for t in card_titles(panel)), (answer, panel)
    shot(page, "07-answer-citing-the-upload")

    open_tab(page, "Library")
    find_in_library(page, "quokka", "quokka-festival")
    row = page.locator("#library-table [role=row].virtual-row", has_text="quokka-festival").first
    row.locator("[role=gridcell]").nth(1).click()
    page.wait_for_selector("#library-selected :text('quokka-festival')")
    page.click("#library-delete")
    page.wait_for_selector("#delete-confirm:has-text('Quokka Festival Sets Attendance Record')")
    page.click("#delete-yes")
    page.wait_for_function("() => document.querySelector('#library-status').innerText.startsWith('Deleted \u201cQuokka')")
    page.wait_for_function("() => !document.querySelector('#library-table').innerText.includes('Quokka Festival')")
    shot(page, "08-library-after-delete")

    open_tab(page, "Chat")
    new_chat(page)
    answer, panel = ask(page, question)
    assert "48,213" not in answer and not any("Quokka" in t for t in card_titles(panel)), (answer, panel)
    shot(page, "09-not-cited-after-delete")


def test_article_with_xss_payloads_executes_nothing(page, tmp_path):
    # .txt keeps every payload in the text as written; a .md reader drops inline HTML as markup (tested in
    # tests/test_articles.py), which would leave less to escape here.
    path = tmp_path / "zorblat-gala.txt"
    path.write_text(XSS)
    status = upload(page, path)
    assert "1 added" in status and "failed" not in status, status
    find_in_library(page, "zorblat", "Zorblat harbour gala")
    table_text = page.inner_text("#library-table")
    assert "<script>alert('xss-title')</script>" in table_text  # shown as characters
    shot(page, "10-xss-in-library")

    open_tab(page, "Chat")
    answer, _ = ask(page, "How many visitors did the Zorblat harbour gala draw?")
    assert "12,000" in answer, answer
    page.locator("#chat [data-testid=bot] a.cite-marker").first.click()
    card = page.locator(".source-card:has(#src-1-1)")
    if card.locator("details.whole").count():
        card.locator("details.whole > summary").click()  # the whole passage too
    assert "<script>alert('xss-title')</script>" in card.inner_text()
    card_text = card.inner_text()
    for payload in ("javascript:alert('xss-url')", "<script>alert('xss-body')</script>",
                    "<img src=x onerror=\"alert('xss-img')\">", "<svg onload=\"alert('xss-svg')\"></svg>"):
        assert payload in card_text
    time.sleep(1.0)  # give any injected handler (img onerror, svg onload) time to fire
    shot(page, "11-xss-answer-and-source")

    assert page.dialogs == []
    injected = page.evaluate("""() => ({
        scripts: document.querySelectorAll('#chat script, #sources script, #library-table script').length,
        imgs: document.querySelectorAll('#chat img, #sources img, #library-table img').length,
        svgs: document.querySelectorAll('svg[onload]').length,
        jsLinks: [...document.querySelectorAll('a[href]')].filter(a => /^\\s*javascript:/i.test(a.href)).length,
        handlers: document.querySelectorAll('#chat [onerror], #sources [onerror], #library-table [onerror]').length,
    })""")
    assert injected == {"scripts": 0, "imgs": 0, "svgs": 0, "jsLinks": 0, "handlers": 0}


def test_upload_limits_give_clear_messages(page, tmp_path):
    open_tab(page, "Library")

    def try_upload(paths: list[Path], expected: str) -> None:
        page.set_input_files("#library-files input[type=file]", [str(p) for p in paths])
        page.wait_for_selector(f".toast-body:has-text({expected!r})")
        for close in page.locator(".toast-close").all():
            close.click()

    many = []
    for i in range(21):  # the default limit is 20 files per upload
        many.append(tmp_path / f"note-{i}.txt")
        many[-1].write_text(f"Note number {i} about the harbour.")
    try_upload(many, "too many files (21); upload at most 20 at a time")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 not an article")
    try_upload([pdf], "Invalid file type")
    big = tmp_path / "huge.md"
    big.write_text("word " * 2_100_000)  # 10.5 MB, over the default 10 MB limit
    try_upload([big], "exceed the maximum allowed size")
    shot(page, "12-upload-limit-message")
    page.reload()
    page.wait_for_selector("#chat")
    open_tab(page, "Library")
    find_in_library(page, "venezuela", "venezuela-seeks-military-aid")
    page.fill("#library-search textarea", "note-")  # nothing of the refused uploads was indexed
    page.wait_for_function("() => !document.querySelector('#library-table [role=row].virtual-row')")


def test_filters_narrow_retrieval(page):
    page.click("#filters .label-wrap")
    page.click("#outlets input")
    page.get_by_role("option", name="Harbor Ledger").click()
    page.keyboard.press("Escape")
    answer, panel = ask(page, EXAMPLE)
    assert re.search(r"\[\d\]", answer) and "Harbor Ledger" in panel

    page.fill("#date-to textarea, #date-to input", "2024-12-31")  # every bundled article is from 2025
    answer, panel = ask(page, EXAMPLE)
    assert "cite-marker" not in page.locator("#chat [data-testid=bot]").last.inner_html()
    assert "source-card" not in panel and "No sources" in panel
    shot(page, "13-filters-exclude-everything")


PLAIN_NOTE = """Harbour Ferry Timetable Changes
The Kestrel Bay ferry will leave every 25 minutes from Monday, the harbour office said in a notice.
Evening sailings end at 22:40 instead of midnight while the pier is repaired.
"""


def _marker_state(page, marker) -> dict:
    return marker.evaluate("""m => { const s = getComputedStyle(m);
        return {bg: s.backgroundColor, radius: parseFloat(s.borderRadius), color: s.color,
                focusable: m.tabIndex >= 0, text: m.innerText}; }""")


def _panel_view(page, card_selector: str) -> dict:
    return page.evaluate("""sel => { const card = document.querySelector(sel);
        const panel = card.closest('.sources-panel'); const p = panel.getBoundingClientRect();
        const t = card.querySelector('.card-title').getBoundingClientRect();
        return {panelTop: panel.scrollTop, maxTop: panel.scrollHeight - panel.clientHeight, pageY: window.scrollY, titleTop: t.top, titleBottom: t.bottom,
                top: p.top, bottom: p.bottom, innerHeight: window.innerHeight}; }""", card_selector)


@SIZES
def test_markers_are_pills_that_open_their_card(page, size):
    _answer, _ = ask(page, EXAMPLE)
    marker = page.locator("#chat [data-testid=bot] a.cite-marker").first
    state = _marker_state(page, marker)
    assert state["bg"] not in ("rgba(0, 0, 0, 0)", "transparent") and state["radius"] >= 8, state  # a pill
    assert state["focusable"] and state["text"].strip() == "[1]", state
    tip = marker.locator(".tip")
    assert not tip.is_visible()
    marker.hover()
    assert tip.is_visible() and tip.inner_text() == "Harbor Ledger \u00b7 2025-11-01"
    shot(page, "17-marker-pill-tip", full_page=False)
    _follow, _ = ask(page, "And what about China?")
    first_marker = page.locator("#chat [data-testid=bot]").first.locator("a.cite-marker").first
    first_marker.focus()  # from the keyboard: Enter on the focused pill
    assert page.evaluate("() => document.activeElement.classList.contains('cite-marker')")
    before_y = page.evaluate("() => window.scrollY")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('src-1-1').closest('details').open")
    assert page.locator("mark[data-quote='1-1'].pulse").count() >= 1  # the quote pulses
    if size == DESKTOP:
        time.sleep(1.0)  # the smooth scroll
        view = _panel_view(page, ".source-card:has(#src-1-1)")
        assert view["top"] - 1 <= view["titleTop"] and view["titleBottom"] <= view["bottom"] + 1, view  # in view
        # at the panel's top, or the panel scrolled as far as it goes; the page itself did not move
        assert view["titleTop"] <= view["top"] + 60 or view["panelTop"] >= view["maxTop"] - 1, view
        assert view["pageY"] == before_y, view
        shot(page, "18-marker-scrolls-the-sources-panel", full_page=False)
    else:
        sheet = page.locator("#source-sheet.open")
        sheet.wait_for()
        title = sheet.locator(".card-title")
        box = title.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= size["height"], box
        assert "Venezuela" in title.inner_text() and sheet.locator("mark.pulse").count() >= 1
        assert page.evaluate("() => window.scrollY") == before_y  # the answer stays where it was
        shot(page, "18-marker-opens-a-sheet", full_page=False)
        sheet.get_by_role("button", name="Back to the answer").click()
        page.wait_for_selector("#source-sheet.open", state="detached")
        assert page.evaluate("() => document.activeElement.classList.contains('cite-marker')")
        assert first_marker.is_visible()
        shot(page, "19-back-to-the-answer", full_page=False)
    assert page.dialogs == []


@SIZES
def test_one_card_per_article_with_trimmed_quote_and_whole_passage_toggle(page, size):
    _, _panel = ask(page, WHO_EXAMPLE)
    section = page.locator("#sources section.turn-sources")
    articles = section.locator(".source-card").evaluate_all("cs => cs.map(c => c.dataset.article)")
    assert articles and len(articles) == len(set(articles)), articles  # one card per article
    card = section.locator(".source-card").first
    assert card.locator(".card-title").inner_text()
    assert re.search(r"\S+ \u00b7 \d{4}-\d\d-\d\d", card.locator(".card-meta").inner_text())  # outlet · date
    assert card.locator(".card-url").inner_text().startswith("https://")
    excerpt = card.locator(".excerpt").first
    short = excerpt.inner_text()
    assert excerpt.locator("mark").count() == 1
    card.locator("details.whole > summary").first.click()
    full = card.locator(".passage-full").first
    assert full.is_visible() and not excerpt.is_visible()
    assert len(full.inner_text()) > len(short) and full.locator("mark").inner_text() in short
    assert card.locator("details.whole > summary").first.inner_text() == "Show only the quote"
    shot(page, "20-one-card-whole-passage", full_page=size == DESKTOP)
    card.locator("details.whole > summary").first.click()
    assert excerpt.is_visible()


def _library_table_font(page) -> dict:
    return page.evaluate("""() => { const cell = document.querySelector('#library-table [role=gridcell]');
        const ui = document.querySelector('#library-search label, #library-search span') || document.body;
        return {cell: getComputedStyle(cell).fontFamily, body: getComputedStyle(ui).fontFamily}; }""")


@SIZES
def test_upload_on_drop_names_the_file_and_lists_undated_uploads_first(page, size, tmp_path):
    open_tab(page, "Library")
    drop = page.locator("#library-files").bounding_box()
    if size == DESKTOP:  # visible without scrolling
        assert drop and drop["y"] + drop["height"] <= size["height"], drop
    font = _library_table_font(page)
    assert "mono" not in font["cell"].lower() and font["cell"] == font["body"], font
    name = f"ferry-notes-{size['width']}.txt"
    path = tmp_path / name
    path.write_text(PLAIN_NOTE)
    status = upload(page, path)  # no button: dropping the file indexes it
    lines = status.splitlines()
    assert lines[0].startswith("Uploaded 1 file. 1 article: 1 added (1 passage embedded in"), status
    assert f"\u2713 {name} \u2192 \u201cHarbour Ferry Timetable Changes\u201d (added)" in lines, status
    assert "chunks" not in status and "1 files" not in status
    today = datetime.date.today().isoformat()
    page.wait_for_selector(f"#library-table [role=row].virtual-row:has-text('{name[:-4]}')")
    first_row = page.locator("#library-table [role=row].virtual-row").first.inner_text()
    assert name[:-4] in first_row and "uploaded file" in first_row and today in first_row, first_row
    shot(page, "21-library-upload-on-drop", full_page=False)

    open_tab(page, "Chat")
    answer, _panel = ask(page, "How often will the Kestrel Bay ferry leave from Monday?")
    assert "25 minutes" in answer, answer
    card = page.locator(".source-card:has(#src-1-1)")
    assert card.locator(".card-meta").inner_text() == f"uploaded file \u00b7 {today}"
    assert page.locator("#chat [data-testid=bot] a.cite-marker .tip").first.inner_text() == \
        f"uploaded file \u00b7 {today}"
    assert "Harbour Ferry Timetable Changes" in card.locator(".card-title").inner_text()
    shot(page, "22-uploaded-file-card")


def _feedback_button(page, label: str):
    return page.locator("#chat .message-buttons-left").last.get_by_role("button", name=label, exact=True)


@SIZES
def test_feedback_and_save_as_test_question(page, size, started_app):
    _url, data, _log = started_app
    saved = data / "saved-questions.jsonl"
    before = saved.read_text().splitlines() if saved.exists() else []
    feedback = data / "feedback.jsonl"
    ratings = len(feedback.read_text().splitlines()) if feedback.exists() else 0
    page.get_by_label("As of").fill("2025-11-20")
    _answer, _ = ask(page, WHO_EXAMPLE)
    short = short_answer_layout(page)["short"]
    _feedback_button(page, "Like").click()
    page.wait_for_selector("#chat-note:has-text('kept on this machine')")
    assert len(feedback.read_text().splitlines()) == ratings + 1
    line = json.loads(feedback.read_text().splitlines()[-1])
    assert line["rating"] == "up" and line["question"] == WHO_EXAMPLE and line["short_answer"] == short
    _feedback_button(page, "Feedback").click()
    page.get_by_role("button", name="Save as test question").click()
    form = page.locator("#save-question")  # a field of the form (the group renders its id twice)
    form.wait_for()
    assert page.input_value("#save-question textarea, #save-question input") == WHO_EXAMPLE
    assert page.input_value("#save-answer textarea, #save-answer input") == short
    assert "Marathon" in page.locator("#save-evidence").first.inner_text()  # the cited article, by title
    shot(page, "23-save-as-test-question", full_page=size == DESKTOP)
    page.click("#save-confirm")
    page.wait_for_selector("#chat-note:has-text('Saved: question')")
    form.wait_for(state="hidden")
    lines = saved.read_text().splitlines()
    assert len(lines) == len(before) + 1
    record = json.loads(lines[-1])
    assert (record["question"], record["answer"], record["asked_at"]) == (WHO_EXAMPLE, [short], "2025-11-20")
    assert record["evidence_ids"] and all("marathon" in e for e in record["evidence_ids"])

    open_tab(page, "Library")
    button = page.locator("#download-questions")
    page.wait_for_function("() => !document.querySelector('#download-questions').disabled")
    assert f"({len(lines)} question" in button.inner_text()
    with page.expect_download() as download:
        button.click()
    assert Path(download.value.path()).read_text() == saved.read_text()


@SIZES
def test_conversation_text_is_not_covered_by_a_label(page, size):
    for question in (EXAMPLE, WHO_EXAMPLE, "And what about China?"):
        ask(page, question)
    covered = page.evaluate("""() => { const log = document.querySelector('#chat');  // Gradio 6: the block scrolls
        log.scrollIntoView({block: 'nearest'});
        log.scrollTop = 40;  // scrolled a little: the first visible line sits at the top edge
        const box = log.getBoundingClientRect();
        const out = [];
        for (const x of [box.left + 20, box.left + box.width / 2, box.right - 40]) {
            const el = document.elementFromPoint(x, box.top + 6);
            if (el && !log.contains(el)) out.push(el.outerHTML.slice(0, 120));
        }
        return out; }""")
    assert covered == [], covered
    assert page.locator("#chat label:has-text('Conversation'), #chat [data-testid=block-label]").count() == 0
    shot(page, "24-scrolled-chat-not-covered", full_page=False)
