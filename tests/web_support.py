"""A real HTTP server on 127.0.0.1 for the feed and page tests (stdlib `http.server` in a thread), and the
feeds and pages it serves, written for these tests in our own words.

Every request is recorded (path, headers, status, body bytes sent), so tests check on the server side
what a refresh fetched. A client can read a response (a 304 is headers only) before the server thread that
wrote it has recorded it, so reading `hits` (or `clear()`) first waits until every request already being
answered is recorded: an event, not a sleep.

Routes are set per test: a fixed body with an ETag and Last-Modified (answered with 304 to a matching
conditional request), a status, a redirect, a body sent a few bytes at a time, a large body streamed
without Content-Length, gzip.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from xml.sax.saxutils import escape

PAGES = Path(__file__).resolve().parent / "pages"
SETTLE_TIMEOUT = 60.0  # a request still being answered after this long fails the test, naming its path


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""  # for a redirect
    etag: bool = True  # send an ETag and Last-Modified, answer conditional requests with 304
    gzip: bool = False
    trickle: float = 0.0  # seconds between 16-byte pieces
    delay: float = 0.0  # seconds before answering
    stream_bytes: int = 0  # stream this many bytes of filler without a Content-Length
    headers: dict[str, str] = field(default_factory=dict)
    modified: float = field(default_factory=lambda: 1_764_000_000.0)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    sent: int  # body bytes written


class WebServer:
    """`with WebServer() as web:` ... `web.url('/feed.xml')`, `web.routes['/feed.xml'] = Route(...)`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._hits: list[Hit] = []
        self._answering: dict[int, str] = {}  # request number -> path, from its arrival until it is recorded
        self._numbers = itertools.count()
        self._recorded = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._serve(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a client that gave up early (a size cap, a deadline) is expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def hits(self) -> list[Hit]:
        """Every request answered so far, in the order they were recorded (a copy); waits for the requests
        already being answered to be recorded first."""
        with self._recorded:
            self._wait_for_answering()
            return list(self._hits)

    def page_hits(self, prefix: str = "/") -> list[Hit]:
        """Requests whose response carried a body."""
        return [h for h in self.hits if h.path.startswith(prefix) and h.sent > 0]

    def clear(self) -> None:
        """Forget the requests so far, once those already being answered are recorded (so that none of them
        lands after the clear)."""
        with self._recorded:
            self._wait_for_answering()
            self._hits.clear()

    def _wait_for_answering(self) -> None:
        """With `_recorded` held: wait until every request that has arrived by now is recorded. Requests
        that arrive meanwhile are not waited for, so a busy client cannot keep this waiting."""
        pending = set(self._answering)
        if not self._recorded.wait_for(lambda: not pending & self._answering.keys(), timeout=SETTLE_TIMEOUT):
            still = sorted(self._answering[n] for n in pending & self._answering.keys())
            raise TimeoutError(f"the test server was still answering {still} after {SETTLE_TIMEOUT:g} s")

    def _record(self, number: int, hit: Hit) -> None:
        with self._recorded:
            self._hits.append(hit)
            del self._answering[number]
            self._recorded.notify_all()

    # ------------------------------------------------------------------ serving

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self._recorded:  # before any byte of the response is sent
            number = next(self._numbers)
            self._answering[number] = path
        route = self.routes.get(path) or self.routes.get(path.split("?")[0])
        headers = {k.lower(): v for k, v in handler.headers.items()}
        sent = 0
        status = 404
        try:
            if route is None:
                status = 404
                body = b"<html><body><h1>Not found</h1></body></html>"
                handler.send_response(404)
                handler.send_header("Content-Type", "text/html")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                sent = len(body)
                return
            if route.delay:
                time.sleep(route.delay)
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            last_modified = email.utils.formatdate(route.modified, usegmt=True)
            if route.location:
                status = route.status if route.status in (301, 302, 303, 307, 308) else 302
                handler.send_response(status)
                handler.send_header("Location", route.location)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            if route.etag and route.status == 200 and (
                    headers.get("if-none-match") == etag or (
                    "if-none-match" not in headers and headers.get("if-modified-since") == last_modified)):
                status = 304
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return
            status = route.status
            handler.send_response(route.status)
            handler.send_header("Content-Type", route.content_type)
            for key, value in route.headers.items():
                handler.send_header(key, value)
            if route.etag:
                handler.send_header("ETag", etag)
                handler.send_header("Last-Modified", last_modified)
            if route.stream_bytes:
                handler.send_header("Connection", "close")
                handler.end_headers()
                piece = b"<p>" + b"filler text " * 5000 + b"</p>\n"
                handler.wfile.write(route.body)
                sent = len(route.body)
                while sent < route.stream_bytes:
                    handler.wfile.write(piece)
                    sent += len(piece)
                return
            body = gzip.compress(route.body) if route.gzip else route.body
            if route.gzip:
                handler.send_header("Content-Encoding", "gzip")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if route.trickle:
                for i in range(0, len(body), 16):
                    handler.wfile.write(body[i:i + 16])
                    handler.wfile.flush()
                    sent += len(body[i:i + 16])
                    time.sleep(route.trickle)
            else:
                handler.wfile.write(body)
                sent = len(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a size cap, a deadline): what it got is recorded
        finally:
            self._record(number, Hit(path, headers, status, sent))


# --------------------------------------------------------------------------------------------- content

_TOWNS = ("Marlow Bay", "Ashgrove", "Fennick", "Tollbridge", "Corran Vale", "Hesketh", "Larkfield", "Wyndmoor")
_TOPICS = (
    ("council", "approved a new budget for road repairs", "the repairs will start on the eastern bypass"),
    ("library", "reopened after a two-year renovation", "the reading room now has space for 120 people"),
    ("harbour", "opened a second berth for cargo ships", "the berth can take vessels of up to 180 metres"),
    ("hospital", "hired forty nurses for its new ward", "the ward treats older patients after surgery"),
    ("school board", "voted to extend the lunch break", "teachers said pupils needed more time outdoors"),
    ("tram company", "added late-night services on weekends", "the last tram now leaves at 01:30"),
    ("museum", "put a rare bronze helmet on display", "the helmet was found by a farmer in a drained pond"),
    ("water board", "lifted the summer hosepipe ban", "reservoir levels rose after three weeks of rain"),
)


def story(n: int, *, revision: int = 0) -> dict[str, str]:
    """The n-th invented news story: title, outlet, date and paragraphs (over 100 words)."""
    town = _TOWNS[n % len(_TOWNS)]
    who, what, detail = _TOPICS[(n // len(_TOWNS)) % len(_TOPICS)]
    title = f"{town} {who} {what} (report {n})"
    paragraphs = [
        (f"The {who} in {town} {what} on Tuesday, officials said in a statement, the {n}th such decision "
        f"reported by the Gazette this year."),
        (f"According to the announcement, {detail}. Local residents had asked for the change for several years, "
        f"and a petition signed by {300 + n} people was handed in last spring."),
        (f"\"We listened to what people told us at the public meetings,\" said the chair, Maren Okafor, adding "
        f"that the cost of {12 + n % 40} thousand pounds would be met from reserves."),
        (f"Opposition members said the plan came too late, but none voted against it. A review of the "
        f"decision is expected next year, when the {who} publishes its annual report. Revision {revision}."),
    ]
    day = 1 + n % 28
    return {"title": title, "outlet": "The Fennick Gazette", "date": f"2025-10-{day:02d}",
            "paragraphs": paragraphs, "summary": paragraphs[0]}


def article_page(n: int, *, revision: int = 0, layout: int | None = None, canonical: str = "") -> bytes:
    """A news page for story n in one of several layouts (menus, share buttons, related links, footers)."""
    s = story(n, revision=revision)
    layout = n % 3 if layout is None else layout
    body = "\n".join(f"<p>{escape(p)}</p>" for p in s["paragraphs"])
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    menu = ('<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
            '<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>')
    share = '<div class="share-buttons"><a href="#">Share on social</a> <a href="#">Email this story</a></div>'
    related = ('<aside class="related"><h3>Related stories</h3><ul><li><a href="/x">Ferry times change</a></li>'
               '<li><a href="/y">New car park plans</a></li></ul></aside>')
    footer = '<footer><p>Copyright The Fennick Gazette. All rights reserved.</p></footer>'
    if layout == 0:  # OpenGraph + <article>
        html = f"""<!doctype html><html><head><meta charset="utf-8"><title>{escape(s['title'])} | The Fennick Gazette</title>
<meta property="og:site_name" content="The Fennick Gazette"><meta property="og:title" content="{escape(s['title'])}">
<meta property="article:published_time" content="{s['date']}T09:00:00Z">{link}</head>
<body>{menu}<article><h1>{escape(s['title'])}</h1>{share}{body}</article>{related}{footer}</body></html>"""
    elif layout == 1:  # JSON-LD + div soup
        html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(s['title'])}</title>{link}
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{s['title']}", "datePublished": "{s['date']}",
"publisher": {{"@type": "Organization", "name": "The Fennick Gazette"}}}}</script></head>
<body><div id="top">{menu}</div><div class="content"><div class="story-body"><h1>{escape(s['title'])}</h1>
{body}</div>{share}</div><div class="sidebar">{related}</div>{footer}</body></html>"""
    else:  # <time> element, main tag, a cookie banner
        html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{escape(s['title'])} - The Fennick Gazette</title><meta property="og:site_name" content="The Fennick Gazette">{link}</head>
<body><div class="cookie-banner">We use cookies. <a href="#">Accept</a></div>{menu}<main><h1>{escape(s['title'])}</h1>
<p class="byline">By Staff Reporter, <time datetime="{s['date']}">{s['date']}</time></p>{body}</main>{footer}</body></html>"""
    return html.encode("utf-8")


def rss_feed(items: list[tuple[int, str]], *, title: str = "The Fennick Gazette - Local news",
             full_text: bool = False, revision: int = 0) -> bytes:
    """An RSS 2.0 feed: (story number, link) per item; the summary only, or the full text too."""
    out = [(f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
           f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{escape(title)}</title>'
           f'<link>http://gazette.test/</link><description>Local news</description>')]
    for n, link in items:
        s = story(n, revision=revision)
        day = int(s["date"][-2:])
        pub = email.utils.formatdate(1_759_276_800 + (day - 1) * 86400 + 9 * 3600, usegmt=True)
        content = ""
        if full_text:
            content = "<content:encoded><![CDATA[" + "".join(f"<p>{p}</p>" for p in s["paragraphs"]) \
                      + "]]></content:encoded>"
        out.append(f"<item><title>{escape(s['title'])}</title><link>{escape(link)}</link>"
                   f"<guid isPermaLink=\"false\">story-{n}</guid><pubDate>{pub}</pubDate>"
                   f"<description>{escape(s['summary'])}{f' (updated, revision {revision})' if revision else ''}"
                   f"</description>{content}</item>")
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


def atom_feed(items: list[tuple[int, str]], *, title: str = "Larkfield Courier") -> bytes:
    """An Atom feed with each entry's full text in <content type="html">."""
    out = [('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
           f"<title>{escape(title)}</title><id>urn:courier:feed</id><updated>2025-10-20T10:00:00Z</updated>")]
    for n, link in items:
        s = story(n)
        html = "".join(f"<p>{escape(p)}</p>" for p in s["paragraphs"])
        out.append(f"<entry><title>{escape(s['title'])}</title><id>urn:courier:{n}</id>"
                   f'<link rel="alternate" href="{escape(link)}"/><published>{s["date"]}T08:00:00Z</published>'
                   f"<updated>{s['date']}T08:00:00Z</updated><summary>{escape(s['summary'])}</summary>"
                   f'<content type="html">{escape(html)}</content></entry>')
    out.append("</feed>")
    return "\n".join(out).encode("utf-8")
