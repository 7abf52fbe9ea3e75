"""The test server's record of requests (tests/web_support.py) is complete when a test reads it. A client can
read a whole response (a 304 is headers only) before the server thread that wrote it has recorded it, so
`hits` and `clear()` wait for the requests already being answered. Here the server thread is held just before
it records, and released a moment after the client has its response."""

from __future__ import annotations

import hashlib
import threading
import urllib.error
import urllib.request

import pytest

from tests.web_support import Route, WebServer, article_page

HOLD = 0.5  # how long the server thread is held before recording, once the client has read the response


@pytest.fixture
def held_web(monkeypatch):
    """A WebServer whose threads wait for `release` before recording a request."""
    release = threading.Event()
    record = WebServer._record

    def held_record(self, number, hit):
        assert release.wait(30), "the test never released the server thread"
        record(self, number, hit)

    monkeypatch.setattr(WebServer, "_record", held_record)
    with WebServer() as web:
        web.routes["/story"] = Route(article_page(1))
        yield web, release


def _get(url: str, **headers: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_hits_include_a_request_whose_response_was_read_before_it_was_recorded(held_web):
    web, release = held_web
    assert _get(web.url("/story")) == 200
    threading.Timer(HOLD, release.set).start()
    assert [(h.path, h.status) for h in web.hits] == [("/story", 200)]


def test_a_request_answered_before_clear_does_not_land_after_it(held_web):
    web, release = held_web
    assert _get(web.url("/story")) == 200
    threading.Timer(HOLD, release.set).start()
    web.clear()
    etag = '"' + hashlib.sha1(article_page(1)).hexdigest()[:16] + '"'  # as the server makes it
    assert _get(web.url("/story"), **{"If-None-Match": etag}) == 304
    assert [(h.path, h.status) for h in web.hits] == [("/story", 304)]
