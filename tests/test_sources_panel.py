"""The Library tab's Sources section without a browser (`assistant.web.sources_panel`): against a real HTTP
server on 127.0.0.1 (tests/web_support.py, feeds written for the tests) and a real embedded Chroma.

Adding, listing, refreshing and removing sources with the one-line results `assistant refresh` prints; the
login rule for URL sources on an app served beyond loopback and the link-local rule; one refresh at a time
(a second request is refused at once, not queued); questions answered while a refresh indexes; and the
background refresh every `ASSISTANT_REFRESH_MINUTES` (fractional minutes, so it ticks in a test)."""

from __future__ import annotations

import threading
import time

import pytest

from index.models.embedding import HashingEmbedding
from tests.web_support import Route, WebServer, article_page, rss_feed

FEED_TYPE = "application/rss+xml"


@pytest.fixture
def web():
    with WebServer() as server:
        yield server


def _serve(web: WebServer, numbers: list[int], *, delay: float = 0.0, name: str = "gazette") -> str:
    for n in numbers:
        web.routes[f"/{name}/{n}"] = Route(article_page(n), delay=delay)
    web.routes[f"/{name}.xml"] = Route(rss_feed([(n, web.url(f"/{name}/{n}")) for n in numbers]),
                                       content_type=FEED_TYPE)
    return web.url(f"/{name}.xml")


def _panel(settings, *, exposed: bool = False, embed_model=None, log=None, **update):
    from assistant.factory import build_assistant, build_sources
    from assistant.web.sources_panel import SourcesPanel

    settings = settings.model_copy(update={"fetch_timeout": 3.0, "fetch_deadline": 8.0, **update})
    assistant = build_assistant(settings, embed_model=embed_model)
    panel = SourcesPanel(build_sources(settings, assistant.indexer), exposed=exposed,
                         login_configured=bool(settings.auth_username and settings.auth_password),
                         allow_link_local=settings.allow_link_local, refresh_minutes=settings.refresh_minutes,
                         host=settings.host, log=log)
    return assistant, panel


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_add_refresh_list_and_remove_with_the_cli_result_lines(web, settings, tmp_path):
    assistant, panel = _panel(settings)
    feed = _serve(web, [0, 1, 2])
    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry timetable changes on the north crossing\n\nThe ferry company said the "
                                      "first crossing will leave twenty minutes earlier from Monday, to meet the "
                                      "morning trains at the mainland station.\n")
    assert panel.rows() == []
    assert panel.add(feed) == f"Saved {feed} (a URL (feed or page)); Refresh now reads it."
    assert panel.add(f"  {feed}  ") == f"Already saved: {feed}"
    assert panel.add(str(folder)).startswith(f"Saved {folder.resolve()} (a folder)")
    assert panel.rows() == [["url", feed, "never", 0, ""], ["folder", str(folder.resolve()), "never", 0, ""]]

    outcome = panel.refresh()
    assert outcome.ran and outcome.summary is not None
    assert outcome.text == outcome.summary.line()  # no failure: the summary line alone, as `assistant refresh`
    assert outcome.text.startswith("added 4, updated 0, unchanged 0, removed 0, failed 0 (")
    assert assistant.store.count() == 4
    rows = {r[1]: r for r in panel.rows()}
    assert rows[feed][0] == "feed" and rows[feed][3] == 3 and rows[feed][4] == ""
    assert rows[feed][2].endswith(" UTC") and rows[feed][2][:4].isdigit()
    assert rows[str(folder.resolve())][0] == "folder" and rows[str(folder.resolve())][3] == 1
    assert panel.note() == ""  # no timer; the button's result is shown where it was asked for

    assert panel.remove(feed) == f"Removed {feed} (3 article(s) it gave stay indexed)."
    assert [r[1] for r in panel.rows()] == [str(folder.resolve())]
    assert assistant.store.count() == 4
    from assistant.errors import IndexingError

    with pytest.raises(IndexingError, match="is not a saved source"):
        panel.remove(feed)
    with pytest.raises(IndexingError, match="not a folder or an http"):
        panel.add(str(tmp_path / "no-such-folder"))


def test_each_failure_is_one_source_reason_line_and_the_last_error(web, settings):
    _, panel = _panel(settings)
    good = _serve(web, [3])
    missing = web.url("/gone.xml")
    metadata = web.url("/to-metadata")  # a name on loopback that sends the fetcher to the metadata address
    web.routes["/to-metadata"] = Route(location="http://169.254.169.254/latest/meta-data/")
    for url in (good, missing, metadata):
        panel.add(url)
    outcome = panel.refresh()
    head, *failures = outcome.text.splitlines()
    assert head == outcome.summary.line() and "added 1," in head and "failed 2 (" in head
    assert failures[0] == f"{missing}: HTTP 404 Not Found"
    assert failures[1].startswith(f"{metadata}: link-local address 169.254.169.254 refused")
    assert "ASSISTANT_ALLOW_LINK_LOCAL=true" in failures[1] and len(failures) == 2
    errors = {r[1]: r[4] for r in panel.rows()}
    assert errors[good] == "" and errors[missing] == "HTTP 404 Not Found"
    assert errors[metadata].startswith("link-local address 169.254.169.254 refused")
    assert not [h for h in web.hits if "meta-data" in h.path]


@pytest.mark.parametrize("exposed, login, username, allowed", [
    (False, False, None, True),      # loopback: as the CLI
    (True, False, None, False),      # exposed without a login configured: refused
    (True, True, "reader", True),    # exposed, logged in
    (True, True, None, False),       # exposed with a login configured but no user on the request
])
def test_url_sources_need_a_login_when_the_app_is_exposed(settings, tmp_path, exposed, login, username, allowed):
    from assistant.web.sources_panel import SourceRefused, SourcesPanel

    update = {"host": "0.0.0.0" if exposed else "127.0.0.1"}
    if login:
        update |= {"auth_username": "reader", "auth_password": "s3cret"}
    _, panel = _panel(settings, exposed=exposed, **update)
    assert isinstance(panel, SourcesPanel)
    url = "http://127.0.0.1:9/feed.xml"  # nothing is fetched by adding
    if allowed:
        assert panel.add(url, username=username).startswith("Saved ")
        assert panel.locations() == [url]
    else:
        with pytest.raises(SourceRefused) as refused:
            panel.add(url, username=username)
        message = str(refused.value)
        assert "\n" not in message and "login" in message
        if not login:
            assert "ASSISTANT_AUTH_USERNAME" in message and "0.0.0.0" in message
        assert panel.locations() == []
    folder = tmp_path / "drop"
    folder.mkdir()
    if allowed:
        assert panel.add(str(folder), username=username).startswith("Saved ")
    else:  # a folder's files would be readable through answers: the same rule
        with pytest.raises(SourceRefused, match="folder source"):
            panel.add(str(folder), username=username)


@pytest.mark.parametrize("url, address", [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://[fe80::1]/feed.xml", "fe80::1"),
    ("https://[::ffff:169.254.10.1]:8443/feed", "169.254.10.1"),
])
def test_link_local_addresses_are_refused_unless_allowed(settings, url, address):
    from assistant.web.sources_panel import SourceRefused

    _, panel = _panel(settings)
    with pytest.raises(SourceRefused, match=f"link-local address {address} refused") as refused:
        panel.add(url)
    assert str(refused.value).startswith(url) and "ASSISTANT_ALLOW_LINK_LOCAL=true" in str(refused.value)
    assert panel.locations() == []
    _, allowing = _panel(settings, allow_link_local=True)
    assert allowing.add(url).startswith("Saved ")  # saved only: nothing is fetched until a refresh


def test_a_second_refresh_is_refused_at_once_while_one_runs(web, settings):
    from assistant.web.sources_panel import REFRESH_BUSY

    _, panel = _panel(settings)
    panel.add(_serve(web, [4], delay=1.5))  # the entry's page takes 1.5 s
    first: list = []
    runner = threading.Thread(target=lambda: first.append(panel.refresh()))
    runner.start()
    _wait_for(lambda: panel.busy, 5, "the first refresh to start")
    started = time.perf_counter()
    second = panel.refresh()
    assert time.perf_counter() - started < 0.5  # told at once, not queued
    assert not second.ran and second.text == REFRESH_BUSY and "already running" in second.text
    assert "A refresh is running." in panel.note()
    runner.join(30)
    assert first and first[0].ran and first[0].summary.added == 1
    assert not panel.busy and panel.refresh().ran  # free again once it finished
    assert len([h for h in web.hits if h.path == "/gazette/4"]) == 1  # the refused one fetched nothing


class SlowIndexing(HashingEmbedding):
    """Hashing vectors; batches embedded by the refresh thread take 2 s each, so it is mid-index a while."""

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if threading.current_thread().name == "refresh-under-test":
            INDEXING.set()
            time.sleep(2.0)
        return super()._get_text_embeddings(texts)


INDEXING = threading.Event()


def test_questions_are_answered_while_a_refresh_indexes(web, settings):
    from tests.conftest import SAMPLES

    assistant, panel = _panel(settings.model_copy(update={"embed_batch_size": 1}), embed_model=SlowIndexing())
    assistant.index([SAMPLES])
    panel.add(_serve(web, list(range(5, 11))))
    INDEXING.clear()
    done: list = []
    runner = threading.Thread(target=lambda: done.append(panel.refresh()), name="refresh-under-test")
    runner.start()
    assert INDEXING.wait(20), "the refresh never reached indexing"
    started = time.perf_counter()
    answer = assistant.ask("What did Venezuela ask Iran for?")
    took = time.perf_counter() - started
    still_indexing = runner.is_alive()
    runner.join(60)
    assert answer.citations and not answer.abstained
    assert still_indexing, "the refresh ended before the question was answered: nothing was shown"
    assert took < 5, f"the question waited {took:.1f} s for the refresh"
    assert done and done[0].summary.added == 6


def test_the_timer_refreshes_in_the_background_and_skips_while_one_runs(web, settings):
    from assistant.settings import Settings

    assert Settings().refresh_minutes == 0  # off by default
    lines: list[str] = []
    _, off = _panel(settings)
    assert off.start_timer() is False
    _, panel = _panel(settings, log=lines.append, refresh_minutes=0.01)  # every 0.6 s
    assert panel.start_timer() is True and panel.start_timer() is False  # one timer
    try:
        time.sleep(1.5)  # ticks with no saved source do nothing
        assert lines == []
        feed = _serve(web, [12, 13])
        panel.add(feed)
        _wait_for(lambda: panel.rows()[0][3] == 2, 20, "the timer to index the feed")
        # the row shows the articles as soon as they are stored; the timer logs once the refresh has returned
        _wait_for(lambda: lines, 10, "the timer's line about its refresh")
        assert lines[0].startswith("background refresh: added 2, updated 0")
        assert panel.last is not None and panel.last.trigger == "timer"
        assert panel.note().startswith("Refreshed in the background every 0.01 minutes. Last background "
                                       "refresh at ") and "added 2, updated 0" in panel.note()
        skipped = "background refresh skipped: a refresh was already running"
        with panel._lock:  # a refresh from the button holds it: the ticks meanwhile are skipped, not queued
            lines.clear()
            _wait_for(lambda: lines.count(skipped) >= 2, 10, "ticks while a refresh runs")
        # (a tick's refresh that released the lock just before it was taken may still log its own line first)
        assert set(lines[1:]) == {skipped}
        assert lines[0] == skipped or lines[0].startswith("background refresh: added 0, updated 0")
        _serve(web, [12, 13, 14])  # a new entry: the next tick indexes it
        _wait_for(lambda: panel.rows()[0][3] == 3, 20, "the timer to index the new entry")
    finally:
        panel.stop_timer(30)
    assert not panel._timer.is_alive()


def test_refresh_minutes_comes_from_the_environment(monkeypatch, tmp_path):
    from pydantic import ValidationError

    from assistant.settings import Settings

    monkeypatch.setenv("ASSISTANT_REFRESH_MINUTES", "0.5")
    assert Settings(data_dir=tmp_path).refresh_minutes == 0.5
    monkeypatch.setenv("ASSISTANT_REFRESH_MINUTES", "-1")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path)
