"""The Sources section of the Library tab: saved feeds, pages and folders listed, added, removed and
refreshed from the browser, and the background refresh every `ASSISTANT_REFRESH_MINUTES` while the app runs.

Owns what the section shows (one row per source: kind, location, last check, articles added, last error),
the one-line results (a refresh reads exactly like `assistant refresh`: its summary line, then one
`source: reason` line per failure), checking a URL once when it is added (one fetch: "feed “Title”, 24
entries", or its error, and then it is not saved), the app's rules for adding a source (a login is needed when the app is
served beyond loopback, for a folder too: its files would be readable through answers; for a URL, a literal link-local address is refused at once unless `allow_link_local`, and a
name that resolves to one is refused by the fetcher when it is fetched, its reason shown in the result and
in the source's last error), and one refresh at a time within the app: the *Refresh now* button and the
timer share one lock, and a request that finds it taken is told "a refresh is already running" instead of
waiting. (Across processes, `index.sources` also keeps one refresh at a time: an app refresh waits for an
`assistant refresh` that is running.)

The registry, the per-source state, fetching and indexing belong to `index.sources.Sources` (built by
`assistant.factory.build_web_parts`, which gives the panel its settings as constructor arguments); a refresh indexes under the index's write lock while questions keep
being answered (readers take no lock). It does not import Gradio (see `assistant.web.ui`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.errors import AssistantError, IndexingError
from assistant.service import IndexSummary, ProgressFn
from assistant.web import defaults
from index.intake.fetch import FetchPolicy, is_url

if TYPE_CHECKING:
    from index.intake.fetch import Fetcher
    from index.sources import Sources

SOURCE_HEADERS = ["Kind", "Location", "Last check", "Articles added", "Last error"]
REFRESH_BUSY = "a refresh is already running; its result shows here when it is done"


class SourceRefused(AssistantError):
    """The app will not add this source (a URL without a login on an exposed app, a link-local address)."""


def refresh_text(summary: IndexSummary) -> str:
    """What `assistant refresh` prints: the summary line, then one `source: reason` line per failure."""
    lines = [summary.line(), *(str(failure) for failure in summary.failures)]
    lines += [f"warning: {note}" for note in summary.notes]
    return "\n".join(lines)


def shown_time(iso: str) -> str:
    """'2026-12-02T09:30:00+00:00' -> '2026-12-02 09:30 UTC'; '' -> 'never'."""
    if not iso:
        return "never"
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class RefreshOutcome:
    """One refresh request: `ran` False when another refresh held the lock (`text` says so)."""

    text: str
    ran: bool
    summary: IndexSummary | None = None
    finished_at: str = ""  # local time, HH:MM:SS
    trigger: str = "button"  # "button" or "timer"


def is_loopback(host: str) -> bool:
    """Whether the app bound to `host` is reachable from this machine only."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_probe(make_fetcher: Callable[[], Fetcher], *, max_entries: int) -> Callable[[str], str]:
    """What the app checks a new URL source with: one fetch by a fetcher from `make_fetcher` (the factory's,
    under the settings' limits), read as `index.intake.feeds.probe_url` reads it."""

    def probe(url: str) -> str:
        from index.intake.feeds import probe_url

        fetcher = make_fetcher()
        try:
            return probe_url(url, fetcher, max_entries=max_entries)[1]
        finally:
            fetcher.close()

    return probe


def _article_files(folder: str) -> int:
    from pathlib import Path

    from index.intake.articles import iter_folder

    try:
        return sum(1 for _ in iter_folder(Path(folder)))
    except OSError:
        return 0


class SourcesPanel:
    """The saved sources as the app shows and changes them, and the app's background refresh."""

    def __init__(self, sources: Sources, *, exposed: bool, login_configured: bool,
                 allow_link_local: bool = FetchPolicy.allow_link_local,
                 refresh_minutes: float = defaults.REFRESH_MINUTES, host: str = "",
                 log: Callable[[str], None] | None = None, probe: Callable[[str], str] | None = None) -> None:
        self.sources = sources
        self.probe = probe  # URL -> what it is ("feed “Title”, 24 entries"); raises when it fails
        self.exposed = exposed
        self.login_configured = login_configured
        self.allow_link_local = allow_link_local
        self.refresh_minutes = refresh_minutes
        self.host = host
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.last: RefreshOutcome | None = None  # the latest refresh that ran (button or timer)

    # ------------------------------------------------------------------ reading

    def rows(self) -> list[list[Any]]:
        return [[i.kind, i.location, shown_time(i.last_check), i.articles_added, i.last_error or ""]
                for i in self.sources.list()]

    def locations(self) -> list[str]:
        return [i.location for i in self.sources.list()]

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def note(self) -> str:
        """One line under the section: the timer, if on, and the latest background refresh."""
        parts = []
        if self.refresh_minutes > 0:
            parts.append(f"Refreshed in the background every {self.refresh_minutes:g} minutes.")
        if self.busy:
            parts.append("A refresh is running.")
        elif self.last is not None and self.last.trigger == "timer":  # a button's result is shown already
            parts.append(f"Last background refresh at {self.last.finished_at}: {self.last.text.splitlines()[0]}")
        return " ".join(parts)

    # ------------------------------------------------------------------ changing

    def check_allowed(self, location: str, *, username: str | None) -> None:
        """Raise SourceRefused when the app may not add `location` (see the module docstring)."""
        kind = "URL" if is_url(location.strip()) else "folder"
        if self.exposed and not self.login_configured:
            raise SourceRefused(
                f"adding a {kind} source from the app needs a login when it is served beyond loopback "
                f"({self.host or 'a non-loopback address'}): set ASSISTANT_AUTH_USERNAME and "
                "ASSISTANT_AUTH_PASSWORD, or bind to 127.0.0.1, or use `assistant sources add` on the server")
        if self.exposed and not username:
            raise SourceRefused(f"adding a {kind} source needs a login (the app is served beyond loopback); "
                                "log in first")
        if kind == "folder" or self.allow_link_local:
            return
        try:
            host = urlsplit(location.strip()).hostname or ""
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return  # a name (resolved and checked by the fetcher on every fetch) or a bad URL (add says why)
        mapped = getattr(address, "ipv4_mapped", None) or address
        if mapped.is_link_local:
            raise SourceRefused(f"{location.strip()}: link-local address {mapped} refused (cloud metadata "
                                "services answer there); set ASSISTANT_ALLOW_LINK_LOCAL=true to allow it")

    def add(self, location: str, *, username: str | None = None) -> str:
        text = (location or "").strip()
        if not text:
            raise SourceRefused("type a feed or page URL (http:// or https://) or a folder path first")
        self.check_allowed(text, username=username)
        found = ""
        if is_url(text) and self.probe is not None and text not in self.locations():
            try:  # one fetch now, so that a wrong address is said at once, not at the next refresh
                found = self.probe(text)
            except (AssistantError, IndexingError) as exc:
                raise SourceRefused(f"not saved: {text}: {exc}") from exc
        info, new = self.sources.add(text)
        if not new:
            return f"Already saved: {info.location}"
        if info.kind == "folder":
            files = _article_files(info.location)
            return (f"Saved {info.location} (a folder): {files} article file{'' if files == 1 else 's'} in it; "
                    "Refresh now reads it.")
        what = found or "a URL (feed or page)"
        return f"Saved {info.location} ({what}); Refresh now reads it."

    def remove(self, location: str) -> str:
        text = (location or "").strip()
        if not text:
            raise SourceRefused("pick a saved source to remove first")
        info = self.sources.remove(text)
        return f"Removed {info.location} ({info.articles} article(s) it gave stay indexed)."

    # ------------------------------------------------------------------ refreshing

    def refresh(self, progress: ProgressFn | None = None, *, trigger: str = "button") -> RefreshOutcome:
        """Refresh every saved source now, unless a refresh is running (then say so at once)."""
        if not self._lock.acquire(blocking=False):
            return RefreshOutcome(REFRESH_BUSY, ran=False, trigger=trigger)
        try:
            report = self.sources.refresh(progress=progress)
        finally:
            self._lock.release()
        outcome = RefreshOutcome(refresh_text(report.summary), ran=True, summary=report.summary,
                                 finished_at=time.strftime("%H:%M:%S"), trigger=trigger)
        self.last = outcome
        return outcome

    def start_timer(self) -> bool:
        """Refresh every `refresh_minutes` in a daemon thread (a no-op when 0). True when it started."""
        if self.refresh_minutes <= 0 or (self._timer is not None and self._timer.is_alive()):
            return False
        self._stop.clear()
        self._timer = threading.Thread(target=self._run_timer, name="sources-refresh-timer", daemon=True)
        self._timer.start()
        return True

    def stop_timer(self, timeout: float | None = None) -> None:
        """Stop the timer; a refresh it is running finishes first (up to `timeout`)."""
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout)

    def _run_timer(self) -> None:
        try:  # Linux: lower this thread's priority (and the threads it starts): answers come first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        interval = self.refresh_minutes * 60
        while not self._stop.wait(interval):
            try:
                if not self.sources.list():
                    continue
                outcome = self.refresh(trigger="timer")
            except (AssistantError, IndexingError) as exc:
                self._log(f"background refresh failed: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must not end the timer silently
                self._log(f"background refresh failed: {type(exc).__name__}: {exc}")
                continue
            if not outcome.ran:
                self._log("background refresh skipped: a refresh was already running")
            else:
                self._log("background refresh: " + outcome.text.replace("\n", "\n  "))
