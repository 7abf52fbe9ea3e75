"""URLs into articles against a real HTTP server on 127.0.0.1 (tests/web_support.py): feeds (RSS with
summaries, Atom with full text), article pages in several layouts (tests/pages/ too), and every way a URL
or a server can go wrong, each giving one `LoadFailure` naming the URL and the reason."""

from __future__ import annotations

import json
import socket
import time

import pytest

from index.intake.articles import Article, LoadFailure
from index.intake.feeds import canonical_id, read_url
from index.intake.fetch import Fetcher, FetchError, FetchPolicy
from tests.web_support import PAGES, Route, WebServer, article_page, atom_feed, rss_feed, story

POLICY = FetchPolicy(timeout=1.0, deadline=3.0, max_bytes=5 * 1024 * 1024, max_redirects=4)


@pytest.fixture
def web():
    with WebServer() as server:
        yield server


@pytest.fixture
def fetcher():
    f = Fetcher(POLICY)
    yield f
    f.close()


def _articles(items) -> list[Article]:
    return [i for i in items if isinstance(i, Article)]


def test_rss_with_summaries_fetches_each_linked_page(web, fetcher):
    for n in range(4):
        web.routes[f"/news/{n}"] = Route(article_page(n))
    web.routes["/feed.xml"] = Route(rss_feed([(n, web.url(f"/news/{n}?utm_source=rss&utm_medium=feed"))
                                              for n in range(4)]), content_type="application/rss+xml")
    read = read_url(web.url("/feed.xml"), fetcher)
    assert read.kind == "feed" and not read.error
    articles = _articles(read.items)
    assert len(articles) == 4 == len(read.items)
    for n, article in enumerate(articles):
        s = story(n)
        assert article.id == f"127.0.0.1:{web.port}/news/{n}"  # tracking parameters dropped
        assert article.title == s["title"]
        assert article.published_at == s["date"]
        # the page's site name; the JSON-LD layout (1) names none, so the feed's title is the outlet
        assert article.source == ("The Fennick Gazette - Local news" if n % 3 == 1 else "The Fennick Gazette")
        for paragraph in s["paragraphs"]:
            assert paragraph in article.text
        for clutter in ("Share on social", "Related stories", "All rights reserved", "Sport", "Weather"):
            assert clutter not in article.text
    assert {h.path.split("?")[0] for h in web.page_hits("/news/")} == {f"/news/{n}" for n in range(4)}
    agents = {h.headers.get("user-agent", "") for h in web.hits}
    assert agents and all(a.startswith("news-assistant/") for a in agents)
    assert all("gzip" in h.headers.get("accept-encoding", "") for h in web.hits)


def test_atom_with_full_text_fetches_no_page(web, fetcher):
    web.routes["/atom.xml"] = Route(atom_feed([(n, web.url(f"/courier/{n}")) for n in range(3)]),
                                    content_type="application/atom+xml")
    read = read_url(web.url("/atom.xml"), fetcher)
    articles = _articles(read.items)
    assert [a.id for a in articles] == [f"127.0.0.1:{web.port}/courier/{n}" for n in range(3)]
    assert all(a.source == "Larkfield Courier" for a in articles)
    assert articles[1].published_at == story(1)["date"]
    assert story(2)["paragraphs"][3] in articles[2].text
    assert [h.path for h in web.hits] == ["/atom.xml"]  # the entries' own content was the full text


def test_feed_detected_from_content_not_content_type(web, fetcher):
    web.routes["/news/0"] = Route(article_page(0))
    web.routes["/rss"] = Route(rss_feed([(0, web.url("/news/0"))]), content_type="text/html")
    read = read_url(web.url("/rss"), fetcher)
    assert read.kind == "feed" and len(_articles(read.items)) == 1


def test_known_entries_are_neither_fetched_nor_returned(web, fetcher):
    for n in range(3):
        web.routes[f"/news/{n}"] = Route(article_page(n))
    web.routes["/feed.xml"] = Route(rss_feed([(n, web.url(f"/news/{n}")) for n in range(3)]))
    first = read_url(web.url("/feed.xml"), fetcher)
    known = {key: version for key, (version, _) in first.versions.items()}
    web.clear()
    again = read_url(web.url("/feed.xml"), fetcher, known=known)
    assert again.items == [] and again.skipped == 3
    assert [h.path for h in web.hits] == ["/feed.xml"]
    web.clear()
    cond = read_url(web.url("/feed.xml"), fetcher, etag=first.etag)
    assert cond.not_modified and web.hits[-1].status == 304 and web.hits[-1].sent == 0


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")))
def test_realistic_pages(web, fetcher, name):
    expected = json.loads((PAGES / "pages.json").read_text())["pages"][name]
    web.routes[f"/p/{name}"] = Route((PAGES / name).read_bytes(), content_type="text/html")
    read = read_url(web.url(f"/p/{name}"), fetcher)
    assert read.kind == "page"
    (article,) = read.items
    assert isinstance(article, Article), article
    assert article.title == expected["title"]
    assert article.published_at == expected["published_at"]
    assert article.source == expected["source"]
    text = " ".join(article.text.split())
    for block in expected["story"]:  # a list inside the list is a block whose items are lines
        for piece in block if isinstance(block, list) else [block]:
            assert " ".join(piece.split()) in text
    for clutter in expected["clutter"]:
        assert clutter not in article.text


def test_gzip_and_charset_header(web, fetcher):
    web.routes["/gz"] = Route(article_page(5), gzip=True)
    page = article_page(6).replace(b'<meta charset="utf-8">', b"").decode().replace("Larkfield", "L\u00e4rkfield")
    web.routes["/latin"] = Route(page.encode("cp1252"),
                                 content_type="text/html; charset=windows-1252")
    gz = read_url(web.url("/gz"), fetcher)
    assert story(5)["paragraphs"][1] in _articles(gz.items)[0].text
    latin = _articles(read_url(web.url("/latin"), fetcher).items)[0]
    assert "L\u00e4rkfield council" in latin.title and "L\u00e4rkfield approved" in latin.text


def test_canonical_link_on_the_same_host_names_the_article(web, fetcher):
    web.routes["/amp/story"] = Route(article_page(7, layout=0, canonical=web.url("/2025/10/story-7/")))
    web.routes["/other"] = Route(article_page(8, layout=0, canonical="https://elsewhere.example/taken"))
    assert _articles(read_url(web.url("/amp/story"), fetcher).items)[0].id == f"127.0.0.1:{web.port}/2025/10/story-7"
    assert _articles(read_url(web.url("/other"), fetcher).items)[0].id == f"127.0.0.1:{web.port}/other"


def test_redirects_are_followed_and_the_final_page_read(web, fetcher):
    web.routes["/short"] = Route(location="/moved")
    web.routes["/moved"] = Route(location=web.url("/news/3"), status=301)
    web.routes["/news/3"] = Route(article_page(3))
    (article,) = read_url(web.url("/short"), fetcher).items
    assert isinstance(article, Article) and article.id == f"127.0.0.1:{web.port}/news/3"


@pytest.mark.parametrize("url, reason", [
    ("https://www.Example.COM:443/a//b/?utm_source=x&b=2&a=1#top", "example.com/a/b?a=1&b=2"),
    ("http://example.com/a/b", "example.com/a/b"),
    ("http://example.com:8080/", "example.com:8080"),
    ("https://news.example/story?id=7&fbclid=abc&gclid=z", "news.example/story?id=7"),
])
def test_canonical_id(url, reason):
    assert canonical_id(url) == reason


def _silent_port() -> tuple[socket.socket, int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock, sock.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hostile_routes(web: WebServer) -> dict[str, str]:
    """path -> the reason its failure must give."""
    big_feed = rss_feed([(n % 60, web.url(f"/news/{n % 60}")) for n in range(10_000)])
    web.routes["/big-feed.xml"] = Route(big_feed, content_type="application/rss+xml")
    for n in range(60):
        web.routes[f"/news/{n}"] = Route(article_page(n))
    web.routes["/e404"] = Route(b"gone", status=404)
    web.routes["/e500"] = Route(b"oops", status=500)
    web.routes["/trickle"] = Route(article_page(1) * 4, trickle=0.2)
    web.routes["/bad.xml"] = Route(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
                                   b"<item><title>Half an item</title></channel>", content_type="application/rss+xml")
    web.routes["/front"] = Route(b"<html><head><title>Fennick Gazette</title></head><body><nav><a href='/'>Home</a>"
                                 b"<a href='/news'>News</a></nav><h1>Welcome</h1><p>Sign in to read.</p></body></html>")
    web.routes["/huge"] = Route(b"<html><body>", stream_bytes=50 * 1024 * 1024)
    web.routes["/huge-declared"] = Route(b"x" * (6 * 1024 * 1024))
    web.routes["/latin-as-utf8"] = Route(article_page(2).replace(b"Opposition", b"Oppos\xe9tion\xff"),
                                         content_type="text/html; charset=utf-8")
    web.routes["/undeclared-bytes"] = Route(article_page(2, layout=2).replace(b"charset=utf-8", b"")
                                            .replace(b"Opposition", b"Oppos\xe9\xfftion"), content_type="text/html")
    web.routes["/loop-a"] = Route(location="/loop-b")
    web.routes["/loop-b"] = Route(location="/loop-a")
    for i in range(6):
        web.routes[f"/hop{i}"] = Route(location=f"/hop{i + 1}")
    web.routes["/image"] = Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type="image/png")
    web.routes["/to-metadata"] = Route(location="http://169.254.169.254/latest/meta-data/")
    web.routes["/gz-bomb"] = Route(b"<html><body><p>" + b"a" * (40 * 1024 * 1024) + b"</p></body></html>", gzip=True)
    return {
        "/big-feed.xml": "10,000 entries; only the first 500",
        "/e404": "HTTP 404",
        "/e500": "HTTP 500",
        "/trickle": "longer than the 3 s limit",
        "/bad.xml": "malformed feed XML",
        "/front": "not an article",
        "/huge": "larger than the 5 MB limit",
        "/huge-declared": "larger than the 5 MB limit (6,291,456 bytes)",
        "/latin-as-utf8": "not valid utf-8",
        "/undeclared-bytes": "not valid UTF-8",
        "/loop-a": "redirect loop",
        "/hop0": "too many redirects (more than 4)",
        "/image": "unsupported content type image/png",
        "/to-metadata": "link-local address 169.254.169.254 refused",
        "/gz-bomb": "larger than the 5 MB limit",
    }


def test_every_hostile_input_is_one_named_failure(web, fetcher):
    expectations = _hostile_routes(web)
    silent, silent_port = _silent_port()
    closed = _closed_port()
    urls = {web.url(path): reason for path, reason in expectations.items()}
    urls[f"http://127.0.0.1:{silent_port}/slow"] = "timed out after 1 s"
    urls[f"http://127.0.0.1:{closed}/feed"] = "cannot connect (connection refused)"
    urls["http://no-such-host.invalid/feed"] = "host no-such-host.invalid not found"
    urls["http://169.254.169.254/latest/meta-data/"] = "link-local address 169.254.169.254 refused"
    urls["file:///etc/passwd"] = "only http:// and https:// URLs are fetched, not file://"
    urls["ftp://127.0.0.1/feed"] = "not ftp://"
    try:
        for url, reason in urls.items():
            started = time.monotonic()
            read = read_url(url, fetcher, max_entries=500)
            failures = [i for i in read.items if isinstance(i, LoadFailure)]
            assert len(failures) == 1, (url, failures)
            line = str(failures[0])
            assert "\n" not in line and line.startswith(f"{url}: "), line
            assert reason in line, (url, line)
            assert time.monotonic() - started < POLICY.deadline + POLICY.timeout + 2, url
            if url.endswith("/big-feed.xml"):
                # capped, said so, and the first 500 entries (60 distinct stories here) still read,
                # each page fetched once
                assert len(_articles(read.items)) == 60
                assert len([h for h in web.hits if h.path.startswith("/news/")]) == 60
            else:
                assert not _articles(read.items), url
    finally:
        silent.close()
    # the size cap stopped reading: nowhere near 50 MB was sent before the connection was dropped
    huge = [h for h in web.hits if h.path == "/huge"]
    assert huge and huge[0].sent < 20 * 1024 * 1024
    assert not any(h.path.startswith("/latest") for h in web.hits)


def test_link_local_allowed_by_the_setting():
    """With allow_link_local the address is not refused (nothing answers there: it fails to connect)."""
    seen = []

    def resolve(host, port, proto=0):
        seen.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.10.10", 0))]

    refusing = Fetcher(POLICY, resolve=resolve)
    with pytest.raises(FetchError, match="link-local address 169.254.10.10 refused"):
        refusing.fetch("http://metadata.internal/")
    assert seen == ["metadata.internal"]
    allowing = Fetcher(FetchPolicy(timeout=0.3, deadline=1.0, allow_link_local=True))
    with pytest.raises(FetchError) as exc:
        allowing.fetch("http://169.254.10.10:9/")
    assert "link-local" not in str(exc.value)


def test_settings_reach_the_fetcher(monkeypatch):
    from assistant.factory import build_fetcher
    from assistant.settings import Settings

    monkeypatch.setenv("ASSISTANT_ALLOW_LINK_LOCAL", "true")
    monkeypatch.setenv("ASSISTANT_FETCH_MAX_MB", "3")
    policy = build_fetcher(Settings()).policy
    assert policy.allow_link_local and policy.max_bytes == 3 * 1024 * 1024
    assert not build_fetcher(Settings(allow_link_local=False)).policy.allow_link_local
