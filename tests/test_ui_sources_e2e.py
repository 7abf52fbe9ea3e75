"""End to end: the Library tab's Sources section in headless Chromium (Debian `chromium` + Playwright) against
`python app.py` on a free loopback port, with a feed served by a real HTTP server on 127.0.0.1
(tests/web_support.py, stories written for the tests). Adds the feed, refreshes it, and sees the source
listed with its articles and the new articles counted in the library; a metadata address is refused with
its one-line reason; the Library's own Refresh button polls the saved sources too and names, by title, what
it added (at 1400x900 and 390x844), and a source whose address answers 404 is refused when it is added; no
request of the page leaves the machine; and an app with nothing indexed says so in the empty chat, at both
sizes. Screenshots: test-output/ui/library-sources.png, library-refresh-added*.png,
library-source-refused-390x844.png, empty-index*.png.
And `python app.py` with ASSISTANT_REFRESH_MINUTES refreshing a source saved with the CLI on its own.
The rules behind it (login, link-local, one refresh at a time, the timer) are in tests/test_sources_panel.py.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.conftest import run_cli, running_app
from tests.test_ui_e2e import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, TIMEOUT_MS, open_tab
from tests.web_support import Route, WebServer, article_page, rss_feed, story

pytestmark = pytest.mark.slow


def _status(page) -> str:
    return page.evaluate("() => { const r = document.querySelector('#sources-status .library-result');"
                         " return r ? r.innerText : ''; }")


def _wait_status(page, starts: str) -> str:
    page.wait_for_function("s => { const r = document.querySelector('#sources-status .library-result');"
                           " return r && r.innerText.startsWith(s); }", arg=starts)
    return _status(page)


def _library_status(page, starts: str) -> str:
    """The Library's status line (over the articles) once it starts with `starts`."""
    page.wait_for_function("s => { const r = document.querySelector('#library-status .library-result');"
                           " return r && r.innerText.startsWith(s); }", arg=starts)
    return page.evaluate("() => document.querySelector('#library-status .library-result').innerText")


def _articles(page) -> int:
    found = re.search(r"(\d+) articles?", page.inner_text("#library-stats"))
    return int(found[1]) if found else -1


def test_add_a_feed_refresh_it_and_see_its_articles(tmp_path, monkeypatch):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (./scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    monkeypatch.delenv("ASSISTANT_REFRESH_MINUTES", raising=False)
    with WebServer() as web:
        for n in (20, 21):
            web.routes[f"/ledger/{n}"] = Route(article_page(n))
        feed = web.url("/ledger.xml")
        web.routes["/ledger.xml"] = Route(rss_feed([(n, web.url(f"/ledger/{n}")) for n in (20, 21)]),
                                          content_type="application/rss+xml")
        data = tmp_path / "data"
        with running_app(data, embedding="hashing", timeout=180) as (url, _, _), sync_playwright() as pw:
            app_url = url.rstrip("/")
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport=DESKTOP).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(app_url + "/")
            page.wait_for_selector("#chat")
            page.wait_for_selector("#chat .corpus-summary")  # samples indexed: the empty chat says what it holds
            open_tab(page, "Library")
            page.click("#library-refresh")
            page.wait_for_function("() => /\\d+ articles/.test(document.querySelector('#library-stats').innerText)")
            assert _library_status(page, "No saved sources").startswith("No saved sources to refresh")
            before = _articles(page)
            assert before > 0
            assert "No data" in page.inner_text("#sources-table") or \
                not page.locator("#sources-table [role=row].virtual-row").count()

            page.fill("#source-location input", "http://169.254.169.254/latest/meta-data/")
            page.click("#source-add")
            refused = _wait_status(page, "\u2717 ")
            assert "link-local address 169.254.169.254 refused" in refused and "\n" not in refused.strip()

            page.fill("#source-location input", feed)
            page.click("#source-add")
            saved = _wait_status(page, "Saved ")  # checked once at once: what it is, not only that it was saved
            assert saved == f"Saved {feed} (feed \u201cThe Fennick Gazette - Local news\u201d, 2 entries); Refresh " \
                            "now reads it.", saved
            page.wait_for_selector(f"#sources-table [role=row].virtual-row:has-text({feed!r})")
            assert "never" in page.locator("#sources-table [role=row].virtual-row").first.inner_text()

            page.click("#sources-refresh")
            result = _wait_status(page, "added ")
            assert result.startswith("added 2, updated 0, unchanged 0, removed 0, failed 0 ("), result
            _head, *added = result.strip().splitlines()  # nothing failed: the summary line, then what was added
            assert sorted(added) == sorted(f"+ \u201c{story(n)['title']}\u201d (The Fennick Gazette, "
                                           f"{story(n)['date']})" for n in (20, 21)), result
            page.wait_for_function("n => { const m = document.querySelector('#library-stats').innerText"
                                   ".match(/(\\d+) articles?/); return m && Number(m[1]) === n; }", arg=before + 2)
            row = page.locator("#sources-table [role=row].virtual-row").first.inner_text()
            cells = [c.strip() for c in row.split("\t") if c.strip()] if "\t" in row else row.split()
            assert "feed" in cells and feed in row and "2" in cells and "UTC" in row, row
            page.fill("#library-search textarea", "report 20")
            page.wait_for_selector(f"#library-table [role=row].virtual-row:has-text({story(20)['title']!r})")
            assert [h.path for h in web.page_hits()].count("/ledger.xml") == 2  # the check when added, the refresh
            page.fill("#library-search textarea", "")
            page.locator("#sources-table").scroll_into_view_if_needed()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "library-sources.png"), full_page=True)

            # The Library's own Refresh button polls the saved sources too, and names what it added, at both
            # sizes: a new entry in the feed each time.
            for n, size in ((22, DESKTOP), (23, PHONE)):
                web.routes[f"/ledger/{n}"] = Route(article_page(n))
                web.routes["/ledger.xml"] = Route(rss_feed([(k, web.url(f"/ledger/{k}")) for k in range(20, n + 1)]),
                                                  content_type="application/rss+xml")
                view = page if size == DESKTOP else browser.new_context(viewport=PHONE).new_page()
                if view is not page:
                    view.set_default_timeout(TIMEOUT_MS)
                    view.on("request", lambda r: requests.append(r.url))
                    view.goto(app_url + "/")
                    view.wait_for_selector("#chat")
                    open_tab(view, "Library")
                if view is not page:  # a source is checked when it is added: a wrong address is said at once
                    gone = web.url("/gone.xml")
                    view.fill("#source-location input", gone)
                    view.click("#source-add")
                    assert _wait_status(view, "\u2717 ") == f"\u2717 not saved: {gone}: HTTP 404 Not Found"
                    view.locator("#sources-status").scroll_into_view_if_needed()
                    view.screenshot(path=str(SHOTS / "library-source-refused-390x844.png"), full_page=False)
                view.locator("#library-refresh").scroll_into_view_if_needed()
                view.click("#library-refresh")
                said = _library_status(view, "Refreshed ")
                head, *added = said.strip().splitlines()
                assert head.startswith(f"Refreshed 1 saved source: added 1, updated 0, unchanged {n - 20}, "), said
                # the outlet: the page's own name, else the feed's title (never the host 127.0.0.1)
                assert added in ([f"+ \u201c{story(n)['title']}\u201d ({outlet}, {story(n)['date']})"]
                                 for outlet in ("The Fennick Gazette", "The Fennick Gazette - Local news")), said
                view.wait_for_function("n => { const m = document.querySelector('#library-stats').innerText"
                                       ".match(/(\\d+) articles?/); return m && Number(m[1]) === n; }",
                                       arg=before + n - 19)
                view.locator("#library-status").scroll_into_view_if_needed()
                suffix = "" if size == DESKTOP else "-390x844"
                view.screenshot(path=str(SHOTS / f"library-refresh-added{suffix}.png"), full_page=False)
            browser.close()
    outside = [u for u in requests if not u.startswith((app_url, "data:", "blob:"))]
    assert outside == [], f"the page made requests off this machine: {outside[:5]}"


def test_the_app_refreshes_saved_sources_every_refresh_minutes(tmp_path, monkeypatch):
    """`python app.py` with ASSISTANT_REFRESH_MINUTES: a source saved with the CLI is refreshed by the app's
    timer (its summary in the app's log), and a new entry is picked up by a later tick."""
    with WebServer() as web:
        for n in (30, 31, 32):
            web.routes[f"/tick/{n}"] = Route(article_page(n))
        web.routes["/tick.xml"] = Route(rss_feed([(n, web.url(f"/tick/{n}")) for n in (30, 31)]),
                                        content_type="application/rss+xml")
        data = tmp_path / "data"
        saved = run_cli("sources", "add", web.url("/tick.xml"), env={"ASSISTANT_DATA_DIR": str(data)})
        assert saved.returncode == 0, saved.stderr
        monkeypatch.setenv("ASSISTANT_REFRESH_MINUTES", "0.02")  # every 1.2 s
        monkeypatch.setenv("ASSISTANT_INDEX_SAMPLES_ON_START", "false")
        with running_app(data, embedding="hashing", timeout=180) as (_, _, log):
            def wait_for(text: str) -> None:
                deadline = time.monotonic() + 60
                while text not in log.read_text():
                    if time.monotonic() > deadline:
                        pytest.fail(f"{text!r} not in the app's log:\n{log.read_text()[-2000:]}")
                    time.sleep(0.2)

            wait_for("refreshing saved sources every 0.02 minutes")
            wait_for("background refresh: added 2, updated 0, unchanged 0, removed 0, failed 0")
            web.routes["/tick.xml"] = Route(rss_feed([(n, web.url(f"/tick/{n}")) for n in (30, 31, 32)]),
                                            content_type="application/rss+xml")
            wait_for("background refresh: added 1, updated 0, unchanged 2, removed 0, failed 0")
    listed = run_cli("sources", "list", "--json", env={"ASSISTANT_DATA_DIR": str(data)})
    [source] = json.loads(listed.stdout)
    assert source["kind"] == "feed" and source["articles_added"] == 3


def test_an_empty_index_says_so_and_where_to_add_articles(tmp_path, monkeypatch):
    """An app whose index is empty (no samples indexed) says so in the empty chat, at both sizes."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (./scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("ASSISTANT_INDEX_SAMPLES_ON_START", "false")
    monkeypatch.delenv("ASSISTANT_REFRESH_MINUTES", raising=False)
    with running_app(tmp_path / "data", embedding="hashing", timeout=180) as (url, _, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, suffix in ((DESKTOP, ""), (PHONE, "-390x844")):
            page = browser.new_context(viewport=size).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url.rstrip("/") + "/")
            line = page.locator("#chat .corpus-summary")
            line.wait_for()
            assert line.inner_text() == ("No articles are indexed yet: add some in the Library tab, or from a "
                                         "terminal with assistant index PATH|URL.")
            assert line.is_visible() and page.evaluate("() => window.scrollY") == 0
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"empty-index{suffix}.png"), full_page=False)
            page.context.close()
        browser.close()
