"""Fetching one http(s) URL safely: the only module of this project that opens a network connection.

Owns the rules every fetch follows, whoever asks (a page given to `assistant index`, a saved feed, the
page a feed entry links to):

- only `http://` and `https://` URLs (`file://`, `ftp://`, `data:` ... are refused before anything is
  opened), with a host name;
- link-local addresses (169.254.0.0/16, where cloud metadata services answer, and fe80::/10) are refused
  unless `allow_link_local` is set: the host is resolved first and every address it resolves to is
  checked, on every redirect hop;
- redirects are followed here, one hop at a time (at most `max_redirects`, a loop named as such), so each
  hop is checked like the first URL;
- a connect/read timeout (`timeout`) and a total deadline (`deadline`) for the whole fetch, redirects
  included, so a server that trickles a byte at a time is cut off too;
- a size cap (`max_bytes`) on the decoded body: a larger Content-Length is refused before the body is
  read, and a body without one is read only up to the cap (a gzip bomb stops there as well);
- `Accept-Encoding: gzip, deflate` and a User-Agent that says who is asking (`USER_AGENT`);
- a content-type check: HTML, XML (RSS, Atom, RDF) or text; anything else (images, PDF, JSON...) is
  refused without reading it;
- conditional requests (`If-None-Match` / `If-Modified-Since` from a previous response's ETag and
  Last-Modified); a 304 comes back as `FetchResult.not_modified`, with no body.

Proxies and other settings from the environment are not used (`trust_env=False`). The host is checked
when it is resolved here; a DNS answer that changes between this check and httpx's own lookup is not
caught (a known limit of checking before connecting).

Errors a server or a URL can cause are `FetchError` with a one-line reason ("HTTP 404", "timed out after
10 s", "larger than the 10 MB limit"); callers turn them into `LoadFailure`s naming the URL. It does not
parse what it fetched (see `index.intake.feeds`) nor keep any state between fetches beyond one HTTP client.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from index.errors import IndexingError

USER_AGENT = "news-assistant/0.1 (news feed and article reader; python-httpx)"
ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
                 "application/rdf+xml", "application/xml", "text/xml", "text/plain")
ACCEPT = ("text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, application/xml;q=0.9, "
          "text/xml;q=0.9, text/plain;q=0.5")
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class FetchError(IndexingError):
    """One URL could not be fetched; `str(exc)` is the reason (the caller names the URL)."""


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of every fetch (built from the settings by `assistant.factory.build_fetcher`)."""

    timeout: float = 10.0  # seconds to connect, and between two reads
    deadline: float = 30.0  # seconds for the whole fetch, redirects included
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_link_local: bool = False
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""  # media type, lower case, without parameters
    charset: str = ""  # from the Content-Type header, "" when it names none
    etag: str = ""
    last_modified: str = ""
    redirects: tuple[str, ...] = field(default=())

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def check_url(url: str) -> tuple[str, str]:
    """(scheme, host) of an http(s) URL; raise FetchError for anything else."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"only http:// and https:// URLs are fetched, not {scheme or 'a URL without a scheme'}"
                         f"{'://' if scheme else ''}")
    if not host:
        raise FetchError("the URL has no host")
    return scheme, host


def is_url(text: str) -> bool:
    """Whether a command-line input is meant as a URL (has a scheme) rather than a path."""
    return "://" in text[:20] or text.lower().startswith(("http:", "https:"))


class Fetcher:
    """Fetches URLs under one `FetchPolicy` with one pooled httpx client (created on first use)."""

    def __init__(self, policy: FetchPolicy | None = None, *, resolve: Any = None) -> None:
        self.policy = policy or FetchPolicy()
        self._client: Any = None
        self._resolve = resolve or socket.getaddrinfo

    # ------------------------------------------------------------------ public API

    def fetch(self, url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
        """GET `url` under the policy; raise FetchError with a one-line reason."""
        import httpx

        policy = self.policy
        started = time.monotonic()
        current = url.strip()
        hops: list[str] = []
        seen = {current}
        while True:
            self._check_host(current)
            headers = {"Accept": ACCEPT}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                result = self._get(current, headers, started)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {policy.timeout:g} s ({type(exc).__name__})") from exc
            except httpx.TooManyRedirects as exc:  # pragma: no cover - redirects are followed here
                raise FetchError("too many redirects") from exc
            except httpx.ConnectError as exc:
                raise FetchError(f"cannot connect ({_reason(exc)})") from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.DecodingError) as exc:
                raise FetchError(f"the server broke off the response ({_reason(exc)})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__} ({_reason(exc)})") from exc
            if isinstance(result, str):  # a redirect to follow
                target = result
                if len(hops) >= policy.max_redirects:
                    raise FetchError(f"too many redirects (more than {policy.max_redirects})")
                if target in seen:
                    raise FetchError(f"redirect loop ({' -> '.join([*hops, current, target][-4:])})")
                hops.append(current)
                seen.add(target)
                current = target
                continue
            return FetchResult(**{**result, "url": url, "final_url": current, "redirects": tuple(hops)})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # ------------------------------------------------------------------ internals

    def _client_for(self) -> Any:
        if self._client is None:
            import httpx

            t = self.policy.timeout
            self._client = httpx.Client(
                follow_redirects=False, trust_env=False, timeout=httpx.Timeout(t, connect=t, read=t),
                headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._client

    def _check_host(self, url: str) -> None:
        _, host = check_url(url)
        if self.policy.allow_link_local:
            return
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
            addresses = [literal]
        except ValueError:
            try:
                infos = self._resolve(host, None, proto=socket.IPPROTO_TCP)
            except (socket.gaierror, UnicodeError) as exc:
                raise FetchError(f"host {host} not found ({getattr(exc, 'strerror', None) or exc})") from exc
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        for address in addresses:
            mapped = getattr(address, "ipv4_mapped", None) or address
            if any(mapped in net for net in _LINK_LOCAL):
                raise FetchError(f"link-local address {mapped} refused (cloud metadata services answer there); "
                                 "set ASSISTANT_ALLOW_LINK_LOCAL=true to allow it")

    def _get(self, url: str, headers: dict[str, str], started: float) -> dict | str:
        """One request: the redirect target (str) or the response's fields (dict)."""
        policy = self.policy
        client = self._client_for()

        def remaining() -> float:
            left = policy.deadline - (time.monotonic() - started)
            if left <= 0:
                raise FetchError(f"took longer than the {policy.deadline:g} s limit for one fetch")
            return left

        left = remaining()
        import httpx

        timeout = httpx.Timeout(min(policy.timeout, left), connect=min(policy.timeout, left))
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location", "")
                if not location:
                    raise FetchError(f"HTTP {status} redirect without a Location")
                return urljoin(url, location.strip())
            fields = {
                "status": status,
                "etag": response.headers.get("etag", ""),
                "last_modified": response.headers.get("last-modified", ""),
            }
            if status == 304:
                return {**fields, "body": b""}
            if status != 200:
                reason = response.reason_phrase or ""
                raise FetchError(f"HTTP {status}{' ' + reason if reason else ''}")
            ctype, charset = _content_type(response.headers.get("content-type", ""))
            if ctype and ctype not in ALLOWED_TYPES and not ctype.endswith("+xml"):
                raise FetchError(f"unsupported content type {ctype} (expected an HTML page or an RSS/Atom feed)")
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > policy.max_bytes and not response.headers.get("content-encoding"):
                raise FetchError(f"larger than the {_mb(policy.max_bytes)} limit ({int(length):,} bytes)")
            body = bytearray()
            for chunk in response.iter_bytes():  # decoded (gzip/deflate) bytes: the cap is on what is kept
                body += chunk
                if len(body) > policy.max_bytes:
                    raise FetchError(f"larger than the {_mb(policy.max_bytes)} limit")
                remaining()
            return {**fields, "body": bytes(body), "content_type": ctype, "charset": charset}


def _content_type(header: str) -> tuple[str, str]:
    media, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return media.strip().lower(), charset


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host not found"
    return text[:160]
