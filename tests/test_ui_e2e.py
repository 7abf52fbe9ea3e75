"""End to end: headless Chromium (Debian `chromium` driven by Playwright) against `python app.py` on a free
loopback port with its own data directory and the real MiniLM embedding, as a user would run it.

Covers: example question -> streamed answer with markers -> the marker brings its source card into view
with the quote highlighted; a follow-up understood in context; New chat; the as-of date beside the question
box (nothing published later is used, "this week" counts from it, a bad date is refused) and the bold short
answer leading an answer with its marker [1]; uploading an article through the
Library tab and getting it cited, deleting it and no longer getting it cited; an article full of XSS
payloads that executes nothing; and no request leaving the machine. Screenshots: test-output/ui/.
"""

from __future__ import annotations

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
def app_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("ui-e2e") / "data"
    with running_app(data, embedding="minilm", timeout=300) as (url, _env, _log):
        yield url.rstrip("/")


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


@pytest.fixture
def page(browser, app_url):
    """A fresh browser session on the app; records dialogs and every request the page makes."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []
    page.requests = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(app_url + "/")
    page.wait_for_selector("#chat")
    yield page
    outside = [u for u in page.requests if not u.startswith((app_url, "data:", "blob:"))]
    context.close()
    assert outside == [], f"the page made requests off this machine: {outside[:5]}"


# ---------------------------------------------------------------------------------------------- helpers


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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


def upload(page, path: Path) -> str:
    open_tab(page, "Library")
    page.set_input_files("#library-files input[type=file]", str(path))
    page.wait_for_selector(f"#library-files :text('{path.name}')")
    before = page.input_value("#library-status textarea")
    page.click("#library-upload")
    page.wait_for_function(
        "b => { const v = document.querySelector('#library-status textarea').value; return v && v !== b; }",
        arg=before)
    return page.input_value("#library-status textarea")


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
    assert layout["short"] in layout["rest"] and re.search(r"\[\d\]", layout["rest"]), layout


# ---------------------------------------------------------------------------------------------- tests


def test_chat_streams_cites_opens_sources_and_follows_up(page, browser, app_url):
    # record every state of the answer bubble, to see it arrive in pieces
    page.evaluate("""() => { window.__states = [];
        new MutationObserver(() => { const b = document.querySelectorAll('#chat [data-testid=bot]');
            if (b.length) window.__states.push(b[b.length - 1].innerText); })
          .observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
    shot(page, "01-empty-chat-with-examples")
    as_of, box = page.get_by_label("As of"), page.locator("#question").bounding_box()
    assert as_of.is_visible() and as_of.input_value() == "" and as_of.get_attribute("placeholder") == \
        "today (YYYY-MM-DD)"
    beside = page.locator("#as-of").bounding_box()  # on the question's row, right of it
    assert beside["x"] >= box["x"] + box["width"] - 1 and beside["y"] < box["y"] + box["height"] and \
        box["y"] < beside["y"] + beside["height"], (box, beside)
    page.locator("#chat").get_by_text(EXAMPLE).first.click()
    answer, panel = wait_answer(page, EXAMPLE)
    layout = short_answer_layout(page)
    if layout is not None:  # the answerer found a short answer: it leads, the sentence follows
        assert_short_answer_leads(layout)
    sentence = answer.strip() if layout is None else layout["rest"]  # what streamed (the short answer comes last)
    states = [s.strip() for s in dict.fromkeys(page.evaluate("window.__states")) if s.strip()]
    partial = [s for s in states if s != answer.strip() and sentence.startswith(s)]
    assert len(partial) >= 3 and states[-1] == answer.strip(), states  # words appeared before the end
    assert re.search(r"\[\d\]", answer) and "drone" in answer.lower()
    assert "venezuela" in " ".join(card_titles(panel)).lower()
    shot(page, "02-streamed-answer-with-markers")

    page.locator("#chat [data-testid=bot] a.cite-marker").first.click()
    card = page.locator("#src-1-1")
    assert card.is_visible()
    quote = card.locator("mark").inner_text()
    assert quote and quote.split()[0] in answer
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


def test_short_answer_leads_and_as_of_date_limits_articles(page):
    page.locator("#chat").get_by_text(WHO_EXAMPLE).first.click()
    answer, panel = wait_answer(page, WHO_EXAMPLE)
    layout = short_answer_layout(page)
    assert layout is not None, answer  # a "who" question: the name goes first, in bold
    assert_short_answer_leads(layout)
    assert "window-note" not in page.locator("#chat [data-testid=bot]").last.inner_html()
    page.locator("#chat [data-testid=bot] .short-answer a.cite-marker").click()
    assert page.locator("#src-1-1").is_visible() and "marathon" in " ".join(card_titles(panel)).lower()
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
    page.wait_for_selector(".toast-body:has-text(\"as-of date '2025-13-01' is not a valid YYYY-MM-DD date\")")
    assert page.locator("#chat [data-testid=user]").count() == turns  # nothing was asked
    assert page.input_value("#question textarea") == EXAMPLE
    shot(page, "16-bad-as-of-date")
    assert page.dialogs == []


def test_uploaded_article_is_cited_then_forgotten_after_delete(page, tmp_path):
    path = tmp_path / "quokka-festival.md"
    path.write_text(QUOKKA)
    status = upload(page, path)
    assert status.startswith("added 1, updated 0, unchanged 0, removed 0, failed 0"), status
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
    page.wait_for_function("() => document.querySelector('#library-status textarea').value.startsWith('removed 1')")
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
    assert "added 1" in status and "failed 0" in status, status
    find_in_library(page, "zorblat", "Zorblat harbour gala")
    table_text = page.inner_text("#library-table")
    assert "<script>alert('xss-title')</script>" in table_text  # shown as characters
    shot(page, "10-xss-in-library")

    open_tab(page, "Chat")
    answer, _ = ask(page, "How many visitors did the Zorblat harbour gala draw?")
    assert "12,000" in answer, answer
    page.locator("#chat [data-testid=bot] a.cite-marker").first.click()
    card = page.locator("#src-1-1")
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
        page.click("#library-upload")
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
