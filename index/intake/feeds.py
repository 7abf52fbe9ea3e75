"""URLs into `Article` records: RSS/Atom feeds (feedparser) and article pages (`index.intake.html`).

Owns: telling a feed from a page by its content, parsing a feed into entries, deciding per entry whether
its own content is the full text or its linked page must be fetched, turning a fetched page into an
article (main text, title, date, outlet), and the article id rule for URLs (`canonical_id`).

- **Feed or page**: the first element of the body decides (`<rss>`, `<feed>`, `<rdf:RDF>`: a feed;
  `<html>` or a doctype: a page); without either, an XML content type means a feed, else a page.
- **Entries** (at most `max_entries` per feed, the first ones, i.e. the newest in a news feed; more are
  reported as a failure line saying how many were left out): an entry whose own content
  (`content:encoded`, Atom `<content>`) has at least `FULL_TEXT_WORDS` words is indexed from it; otherwise
  its link is fetched and the page's main text is used. Title, outlet, URL and publication date come from
  the entry (outlet: the entry's `<source>`), falling back to the page (outlet: its site name, then the
  feed's title, then, when nothing names it, the page's host without `www.`).
- **Pages**: decoded by the Content-Type charset, else by `<meta charset>` (`index.intake.html.decode_html`);
  bytes invalid in that encoding fail the page. A page whose main text has fewer than `MIN_ARTICLE_WORDS`
  words is "not an article" (a front page, a login wall, a search result) and fails.
- **Checking a URL** (`probe_url`): one fetch, to say what a new source is ("feed “Title”, 24 entries",
  "page “Headline” (Outlet)") or why it fails, before it is saved.
- **Article ids** (`canonical_id`): `host/path?query` of the URL, lower-case host without `www.`, no
  scheme (http and https are one article), no default port, no fragment, repeated and trailing slashes
  dropped, tracking parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`, `ref`...) dropped and the rest
  sorted. A feed entry's id comes from its link (else its `<guid>`/`<id>` when that is a URL, else the
  feed's id plus a hash of the guid); a page's from its `<link rel=canonical>` / `og:url` when that is on
  the same host, else from the URL it was fetched from after redirects.

Feeds are parsed from bytes (never given a URL, so feedparser fetches nothing itself). It does not keep
state between runs (see `index.sources`) nor open connections itself (see `index.intake.fetch`).

Over 300 lines because feed parsing and the per-entry decision (its own content or its linked page) share one
entry model.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from index.errors import ArticleError
from index.intake.articles import Article, LoadFailure, article_from_record, normalize_date, url_host
from index.intake.fetch import Fetcher, FetchError, FetchResult
from index.intake.html import decode_html, html_to_text

MAX_ENTRIES = 500
FULL_TEXT_WORDS = 80
MIN_ARTICLE_WORDS = 40
_TRACKING = re.compile(r"^(utm_\w*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|ref|ref_src|"
                       r"cmpid|smid|spm|src|ito|ocid|at_medium|at_campaign)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FIRST_TAG = re.compile(rb"<\s*([A-Za-z][\w:.-]*)")
_XML_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml")


def canonical_id(url: str) -> str:
    """The article id of a URL: `host/path?query`, normalised (see the module docstring)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    host = host.removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "")
    if path.endswith("/"):
        path = path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    out = host + path + (f"?{urlencode(sorted(query))}" if query else "")
    if len(out) > 400:
        out = f"{out[:380]}-{hashlib.sha1(out.encode()).hexdigest()[:16]}"
    return out


def sniff_kind(result: FetchResult) -> str:
    """"feed" or "page", from the body's first element (else its content type)."""
    head = result.body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    head = re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", head, flags=re.DOTALL).lstrip()
    if head[:9].lower().startswith(b"<!doctype"):
        return "page"
    match = _FIRST_TAG.search(head)
    tag = match[1].lower().decode("ascii", "replace") if match else ""
    if tag in ("rss", "feed", "rdf:rdf"):
        return "feed"
    if tag == "html":
        return "page"
    return "feed" if result.content_type in _XML_TYPES else "page"


# --------------------------------------------------------------------------------------------- pages


def decode_page(result: FetchResult) -> str:
    if result.charset:
        import codecs

        try:
            encoding = codecs.lookup(result.charset).name
        except LookupError:
            encoding = ""
        if encoding:
            try:
                return result.body.decode(encoding).replace("\r\n", "\n")
            except UnicodeDecodeError as exc:
                raise ArticleError(f"the page is not valid {result.charset} (byte {exc.start})") from exc
    try:
        return decode_html(result.body).replace("\r\n", "\n")
    except ArticleError as exc:
        raise ArticleError(str(exc).replace("file is", "the page is")) from exc


def _same_host(a: str, b: str) -> bool:
    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        return name.removeprefix("www.")

    return bool(host(a)) and host(a) == host(b)


def page_article(result: FetchResult, *, article_id: str = "", title: str = "", source: str = "",
                 url: str = "", published_at: str = "", origin: str = "", source_fallback: str = "") -> Article:
    """The article on a fetched page; given fields win over what the page states. Raise ArticleError."""
    if not result.body.strip():
        raise ArticleError("the page is empty")
    if b"\x00" in result.body[:8192]:
        raise ArticleError("the page looks binary (contains NUL bytes)")
    text, meta = html_to_text(decode_page(result))
    words = len(text.split())
    if words < MIN_ARTICLE_WORDS:
        raise ArticleError(f"not an article (its main text has {words} words, fewer than {MIN_ARTICLE_WORDS})")
    stated = meta.get("url", "")
    page_url = stated if stated.startswith(("http://", "https://")) and _same_host(stated, result.final_url) \
        else result.final_url
    date = published_at
    if not date and meta.get("published_at"):
        try:
            date = normalize_date(meta["published_at"])
        except ArticleError:
            date = ""
    # The outlet: as given (a feed entry's <source>), else the page's own name for itself (og:site_name,
    # JSON-LD publisher), else the feed's title, and the host name only when nothing names it.
    outlet = source or meta.get("source", "") or source_fallback or url_host(url or page_url)
    record = {"text": text, "title": title or meta.get("title", ""), "source": outlet,
              "url": url or page_url, "published_at": date}
    return article_from_record(record, default_id=article_id or canonical_id(page_url),
                               origin=origin or result.url)


# --------------------------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class FeedEntry:
    key: str  # stable within the feed: guid/id, else link, else a hash of the title
    version: str  # hash of what the feed says about it: a new version means fetch and index again
    article_id: str
    link: str
    title: str
    source: str
    published_at: str
    full_html: str  # its own full text (as HTML); "" when the entry holds only a summary


@dataclass
class ParsedFeed:
    title: str
    entries: list[FeedEntry]
    total: int  # entries in the feed, before the cap
    failures: list[LoadFailure] = field(default_factory=list)


def _struct_date(value: object) -> str:
    if not value:
        return ""
    try:
        stamp = calendar.timegm(value)  # type: ignore[arg-type]
        return datetime.fromtimestamp(stamp, tz=UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


def _fragment_text(html: str) -> str:
    if "<" not in html:
        return " ".join(html.split())
    text, _ = html_to_text(f"<html><body><article>{html}</article></body></html>")
    return text


_ENTRY_OPEN = re.compile(rb"<(?:[\w-]+:)?(?:item|entry)[\s>/]")
_ENTRY_CLOSE = re.compile(rb"</(?:[\w-]+:)?(?:item|entry)\s*>")
_ROOT_CLOSE = {b"rss": b"</channel></rss>", b"feed": b"</feed>", b"rdf:rdf": b"</rdf:RDF>"}


def _cap_entries(body: bytes, max_entries: int) -> tuple[bytes, int]:
    """(the feed cut after its `max_entries`-th entry and closed again, the number of entries it had), so
    that a feed of 10,000 entries is not parsed whole (feedparser takes seconds per thousand)."""
    opens = _ENTRY_OPEN.findall(body)
    if len(opens) <= max_entries:
        return body, len(opens)
    closes = list(_ENTRY_CLOSE.finditer(body))
    root = _FIRST_TAG.search(re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", body[:4096], flags=re.DOTALL))
    ending = _ROOT_CLOSE.get(root[1].lower() if root else b"", b"")
    if len(closes) < max_entries or not ending:
        return body, len(opens)
    return body[: closes[max_entries - 1].end()] + ending, len(opens)


def parse_feed(result: FetchResult, *, max_entries: int = MAX_ENTRIES) -> ParsedFeed:
    """Entries of a fetched feed; raise ArticleError when it is not a readable feed."""
    import feedparser

    headers = {"content-location": result.final_url,
               "content-type": f"{result.content_type or 'application/xml'}"
                               + (f"; charset={result.charset}" if result.charset else "")}
    body, counted = _cap_entries(result.body, max_entries)
    # No sanitizing: entry HTML is only ever turned into text here, never shown as HTML.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    import xml.sax

    if isinstance(error, xml.sax.SAXException) or (not parsed.entries and not parsed.get("version")):
        where = ""
        if isinstance(error, xml.sax.SAXParseException):
            where = f"line {error.getLineNumber()}: "
        detail = " ".join(str(getattr(error, "getMessage", lambda: error)() or "").split())[:120]
        raise ArticleError(f"malformed feed XML ({where}{detail or 'not RSS or Atom'}); nothing was read from it")
    feed_title = " ".join(str(parsed.feed.get("title", "")).split())
    feed_key = canonical_id(result.url)
    total = max(len(parsed.entries), counted)
    out = ParsedFeed(feed_title, [], total)
    if total > max_entries:
        out.failures.append(LoadFailure(result.url, f"the feed has {total:,} entries; only the first "
                                                    f"{max_entries:,} were read (ASSISTANT_FEED_MAX_ENTRIES)"))
    with warnings.catch_warnings():  # feedparser warns when `updated` is read from a `published` entry
        warnings.simplefilter("ignore", DeprecationWarning)
        for entry in parsed.entries[:max_entries]:
            out.entries.append(_entry(entry, feed_key))
    return out


def _entry(entry: Any, feed_key: str) -> FeedEntry:
    """One entry as we keep it: key, version, article id, the fields, its full text if it has one."""
    link = str(entry.get("link") or "").strip()
    guid = str(entry.get("id") or "").strip()
    title = " ".join(str(entry.get("title") or "").split())
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    full_html = max(contents, key=len) if contents else ""
    summary = str(entry.get("summary") or "")
    key = guid or link or hashlib.sha1(title.encode()).hexdigest()
    version = hashlib.sha256(json.dumps([key, link, title, summary, full_html, entry.get("updated", ""),
                                         entry.get("published", "")]).encode()).hexdigest()[:32]
    if link.startswith(("http://", "https://")):
        article_id = canonical_id(link)
    elif guid.startswith(("http://", "https://")):
        article_id = canonical_id(guid)
    else:
        article_id = f"{feed_key}#{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    # Decided on the tag-stripped words (cheap); the text itself is extracted only if the entry is indexed.
    words = len(re.sub(r"<[^>]*>", " ", full_html).split()) if full_html else 0
    if words < max(FULL_TEXT_WORDS, len(re.sub(r"<[^>]*>", " ", summary).split())):
        full_html = ""
    source_info = entry.get("source") or {}
    return FeedEntry(
        key=key, version=version, article_id=article_id, link=link, title=title,
        source=" ".join(str(source_info.get("title", "")).split()),
        published_at=_struct_date(entry.get("published_parsed") or entry.get("updated_parsed")),
        full_html=full_html,
    )


def entry_item(entry: FeedEntry, feed: ParsedFeed, fetcher: Fetcher, *, origin: str) -> Article | LoadFailure:
    """The article of one entry: its own full text, else its linked page (fetched)."""
    if entry.full_html:
        record = {"text": _fragment_text(entry.full_html), "title": entry.title, "source": entry.source or feed.title,
                  "url": entry.link, "published_at": entry.published_at}
        try:
            return article_from_record(record, default_id=entry.article_id, origin=origin)
        except ArticleError as exc:
            return LoadFailure(entry.link or origin, str(exc))
    if not entry.link.startswith(("http://", "https://")):
        return LoadFailure(origin, f"entry {entry.title or entry.key!r} has no http(s) link and no full text")
    try:
        page = fetcher.fetch(entry.link)
        article = page_article(page, article_id=entry.article_id, title=entry.title, source=entry.source,
                               url=entry.link, published_at=entry.published_at, origin=entry.link,
                               source_fallback=feed.title)
    except (FetchError, ArticleError) as exc:
        return LoadFailure(entry.link, str(exc))
    return article


# --------------------------------------------------------------------------------------------- one URL


@dataclass
class UrlRead:
    """What reading one URL gave: its kind, the items to index and, for a feed, each entry's version."""

    url: str
    kind: str = ""  # "feed" or "page"; "" when it could not be fetched
    items: list[Article | LoadFailure] = field(default_factory=list)
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)  # entry key -> (version, article id)
    skipped: int = 0  # entries known in this version: not fetched, not indexed
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    error: str = ""  # the URL itself failed (also in items as a LoadFailure)


def read_url(url: str, fetcher: Fetcher, *, etag: str = "", last_modified: str = "",
             known: dict[str, str] | None = None, max_entries: int = MAX_ENTRIES) -> UrlRead:
    """Fetch and read one URL. `known` maps entry keys to the version already indexed: those entries are
    neither fetched nor returned. Never raises for what a URL or server can do wrong."""
    out = UrlRead(url)
    try:
        result = fetcher.fetch(url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        out.error = str(exc)
        out.items.append(LoadFailure(url, out.error))
        return out
    out.etag, out.last_modified = result.etag, result.last_modified
    if result.not_modified:
        out.not_modified = True
        return out
    out.kind = sniff_kind(result)
    try:
        if out.kind == "page":
            out.items.append(page_article(result))
            return out
        feed = parse_feed(result, max_entries=max_entries)
    except ArticleError as exc:
        out.error = str(exc)
        out.items.append(LoadFailure(url, out.error))
        return out
    out.items.extend(feed.failures)
    known = known or {}
    done: dict[str, bool] = {}  # article id -> read well, in this run
    for entry in feed.entries:
        if known.get(entry.key) == entry.version:
            out.skipped += 1
            out.versions[entry.key] = (entry.version, entry.article_id)
            continue
        if entry.article_id in done:  # the same story twice in the feed: not fetched again
            if done[entry.article_id]:
                out.versions[entry.key] = (entry.version, entry.article_id)
            continue
        item = entry_item(entry, feed, fetcher, origin=url)
        out.items.append(item)
        done[entry.article_id] = isinstance(item, Article)
        if isinstance(item, Article):
            out.versions[entry.key] = (entry.version, item.id)
    return out


def probe_url(url: str, fetcher: Fetcher, *, max_entries: int = MAX_ENTRIES) -> tuple[str, str]:
    """One fetch of `url`, to say what it is before it is saved: ("feed", 'feed “Title”, 24 entries') or
    ("page", 'page “Headline” (Outlet)'). Its entries' pages are not fetched and nothing is indexed.
    Raises FetchError or ArticleError (one line, as a refresh would report it)."""
    result = fetcher.fetch(url)
    kind = sniff_kind(result)
    if kind == "page":
        article = page_article(result)
        outlet = f" ({article.source})" if article.source else ""
        return "page", f"page \u201c{article.title or article.id}\u201d{outlet}"
    feed = parse_feed(result, max_entries=max_entries)
    count = feed.total
    title = f" \u201c{feed.title}\u201d" if feed.title else ""
    return "feed", f"feed{title}, {count} entr{'y' if count == 1 else 'ies'}"


def read_urls(urls: list[str], fetcher: Fetcher, *, max_entries: int = MAX_ENTRIES
              ) -> Iterator[Article | LoadFailure]:
    """Articles of each URL (`assistant index URL...`); a repeated article id keeps the first."""
    seen: dict[str, str] = {}
    for url in urls:
        for item in read_url(url, fetcher, max_entries=max_entries).items:
            if isinstance(item, Article):
                if item.id in seen:
                    continue  # the same story in two feeds, or a page given twice
                seen[item.id] = item.origin
            yield item
