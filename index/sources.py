"""Saved sources (feeds, pages, folders) and refreshing them: the state that makes polling cheap.

Owns the registry of sources (`<data dir>/sources/sources.json`), each source's state
(`<data dir>/sources/state/<hash>.json`: ETag, Last-Modified, the version of every feed entry already
indexed, the articles a folder gave) and `Sources.refresh`, which polls them and hands the articles to
the `Indexer`. It builds nothing itself: the indexer and the fetcher come from `assistant.factory`.

What a refresh does per source (folders one at a time; the URL sources are all fetched first and
their new articles indexed in one indexer call, a story found in two feeds once):

- **feed**: a conditional GET (If-None-Match / If-Modified-Since). 304: nothing else is fetched. 200:
  entries whose version (a hash of what the feed says about them) is the one already indexed are skipped,
  neither fetched nor embedded; the others are read (their page fetched when the entry carries only a
  summary) and indexed. Entries that fall off the feed stay indexed: a news archive keeps old stories.
- **page**: a conditional GET; a changed page is reindexed under the same id (the indexer embeds it only
  if its text changed).
- **folder**: every file read again (the indexer skips unchanged ones) and, as `assistant index
  --prune` does for its inputs, the articles this folder gave last time that are gone now are removed;
  not when a file of it failed to read (so an unreadable file never deletes its article).

Crash safety: a source's state is written (atomically) only after the indexer has committed its articles,
so a refresh killed at any moment leaves state that is at most behind the index; the rerun fetches again
what was not recorded and the indexer finds those articles already stored (unchanged), so it ends in
exactly the state of a clean refresh. Only one refresh runs at a time (a lock in the data dir; a second
waits), and `assistant watch` batches take the same lock.

Removing a source stops following it; the articles it gave stay indexed (`assistant remove ID` drops
them). A failing source never stops the others: its reason is a `LoadFailure` (counted as failed in the
summary) and its `last_error`.

Over 300 lines because the registry, each source's state and the refresh that updates both are one crash-safe
protocol.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import IndexingError
from index.indexer import IndexSummary, ProgressFn
from index.intake.articles import Article, LoadFailure, iter_folder, read_path
from index.storage.atomic import write_text_atomic
from index.storage.lock import write_lock

if TYPE_CHECKING:
    from index.indexer import Indexer
    from index.intake.fetch import Fetcher

STATE_VERSION = 1
MAX_KNOWN_ENTRIES = 5000  # remembered entry versions per feed (current entries always kept)
WaitFn = Callable[[str], None]
SourceProgress = Callable[[int, int, str], None]  # (done, total, location)


class SourceError(IndexingError):
    """A source cannot be added or removed (not a URL or folder, not saved); the message says why."""


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def normalize_location(location: str) -> tuple[str, str]:
    """(kind, location): ("url", the URL without its fragment) or ("folder", the absolute path)."""
    from index.intake.fetch import FetchError, check_url, is_url

    text = location.strip()
    if is_url(text):
        try:
            check_url(text)
        except FetchError as exc:
            raise SourceError(f"{text}: {exc}") from exc
        return "url", text.split("#", 1)[0]
    path = Path(text).expanduser()
    if not path.is_dir():
        raise SourceError(f"{text}: not a folder or an http(s) URL" + (" (it is a file; `assistant index` "
                          "reads files once)" if path.is_file() else ""))
    return "folder", str(path.resolve())


@dataclass
class SourceInfo:
    """What the Library tab and `assistant sources list` show about one source."""

    location: str
    kind: str  # "feed", "page", "folder", or "url" before its first check
    added_at: str
    last_check: str = ""  # ISO time (UTC) of the last refresh that reached it, "" never
    last_error: str = ""  # "" when the last check went well
    articles_added: int = 0  # over all refreshes
    articles: int = 0  # articles it gave that are known to be indexed

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "kind": self.kind, "added_at": self.added_at,
                "last_check": self.last_check, "last_error": self.last_error,
                "articles_added": self.articles_added, "articles": self.articles}


@dataclass
class SourceState:
    location: str
    kind: str = ""
    last_check: str = ""
    last_error: str = ""
    articles_added: int = 0
    etag: str = ""
    last_modified: str = ""
    entries: dict[str, list[str]] = field(default_factory=dict)  # feed: entry key -> [version, article id]
    files: dict[str, list[str]] = field(default_factory=dict)  # folder: relative path -> article ids

    def article_ids(self) -> set[str]:
        return {aid for _, aid in self.entries.values()} | {aid for ids in self.files.values() for aid in ids}

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **self.__dict__}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def load(cls, path: Path, location: str) -> SourceState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(location)
        except (OSError, ValueError):
            return cls(location)  # unreadable state only costs a full fetch; the index is not touched
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION or data.get("location") != location:
            return cls(location)
        data.pop("version", None)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class RefreshReport:
    summary: IndexSummary
    sources: list[SourceInfo]


def merge_summary(total: IndexSummary, part: IndexSummary) -> None:
    for name in ("added", "updated", "unchanged", "removed", "failed", "chunks_embedded"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.failures += part.failures
    total.added_ids += part.added_ids
    total.updated_ids += part.updated_ids
    total.removed_ids += part.removed_ids
    total.notes += part.notes


class Sources:
    """The saved sources of one data dir, and refreshing them into one index."""

    def __init__(self, root: Path, indexer: Indexer, fetcher_factory: Callable[[], Fetcher], *,
                 max_entries: int = 500, lock_wait: float | None = None) -> None:
        self.root = Path(root)
        self.indexer = indexer
        self._fetcher_factory = fetcher_factory
        self._fetcher: Fetcher | None = None
        self.max_entries = max_entries
        self.lock_wait = lock_wait

    # ------------------------------------------------------------------ the registry

    @property
    def registry_path(self) -> Path:
        return self.root / "sources.json"

    def _state_path(self, location: str) -> Path:
        return self.root / "state" / f"{hashlib.sha1(location.encode()).hexdigest()[:20]}.json"

    def _read_registry(self) -> list[dict[str, str]]:
        try:
            data = json.loads(self.registry_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read {self.registry_path} ({exc}); fix or delete it") from exc
        return [s for s in data.get("sources", []) if isinstance(s, dict) and s.get("location")]

    def _write_registry(self, entries: list[dict[str, str]]) -> None:
        write_text_atomic(self.registry_path, json.dumps({"version": 1, "sources": entries}, indent=1,
                                                          ensure_ascii=False) + "\n")

    def _registry_lock(self, on_wait: WaitFn | None = None):
        return write_lock(self.root / "registry.lock", wait=self.lock_wait, on_wait=on_wait)

    def add(self, location: str, on_wait: WaitFn | None = None) -> tuple[SourceInfo, bool]:
        """Save a source (a feed or page URL, or a folder); (its info, whether it was new)."""
        kind, location = normalize_location(location)
        with self._registry_lock(on_wait):
            entries = self._read_registry()
            for entry in entries:
                if entry["location"] == location:
                    return self._info(entry), False
            entry = {"location": location, "kind": kind, "added_at": now_iso()}
            self._write_registry([*entries, entry])
        return self._info(entry), True

    def remove(self, location: str, on_wait: WaitFn | None = None) -> SourceInfo:
        """Stop following a source (its articles stay indexed). SourceError when it is not saved."""
        text = location.strip()
        candidates = {text, text.split("#", 1)[0]}
        try:
            candidates.add(normalize_location(text)[1])
        except SourceError:
            pass  # a folder that no longer exists can still be removed by the path it was saved under
        if not text.startswith(("http:", "https:")):
            candidates.add(str(Path(text).expanduser().absolute()))
        with self._registry_lock(on_wait):
            entries = self._read_registry()
            kept = [e for e in entries if e["location"] not in candidates]
            if len(kept) == len(entries):
                saved = ", ".join(e["location"] for e in entries) or "none"
                raise SourceError(f"{text} is not a saved source (saved: {saved})")
            gone = next(e for e in entries if e["location"] in candidates)
            self._write_registry(kept)
        info = self._info(gone)
        self._state_path(gone["location"]).unlink(missing_ok=True)
        return info

    def list(self) -> list[SourceInfo]:
        return [self._info(entry) for entry in self._read_registry()]

    def _info(self, entry: dict[str, str]) -> SourceInfo:
        state = SourceState.load(self._state_path(entry["location"]), entry["location"])
        return SourceInfo(location=entry["location"], kind=state.kind or entry.get("kind", "url"),
                          added_at=entry.get("added_at", ""), last_check=state.last_check,
                          last_error=state.last_error, articles_added=state.articles_added,
                          articles=len(state.article_ids()))

    def state(self, location: str) -> SourceState:
        return SourceState.load(self._state_path(location), location)

    def save_state(self, state: SourceState) -> None:
        write_text_atomic(self._state_path(state.location), state.to_json())

    # ------------------------------------------------------------------ refreshing

    def refresh_lock(self, on_wait: WaitFn | None = None):
        """Held by a refresh and by each `assistant watch` batch: never two at once."""
        return write_lock(self.root / "refresh.lock", wait=self.lock_wait, on_wait=on_wait)

    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = self._fetcher_factory()
        return self._fetcher

    def refresh(self, locations: Iterable[str] | None = None, *, progress: ProgressFn | None = None,
                on_source: SourceProgress | None = None, on_wait: WaitFn | None = None) -> RefreshReport:
        """Poll every saved source (or those given) once and index what is new; see the module docstring.

        Folders are indexed one by one (each with its own prune); the URLs are all fetched first and their
        articles indexed in one indexer call (one write instead of one per feed), after which each URL
        source's state is saved."""
        started = time.perf_counter()
        entries = self._read_registry()
        if locations is not None:
            wanted = set(locations)
            entries = [e for e in entries if e["location"] in wanted]
        total = IndexSummary()
        with self.refresh_lock(on_wait):
            reads = []
            for i, entry in enumerate(entries):
                if on_source:
                    on_source(i, len(entries), entry["location"])
                state = self.state(entry["location"])
                if entry.get("kind") == "folder":
                    merge_summary(total, self.refresh_folder(state, progress=progress, on_wait=on_wait))
                else:
                    reads.append((state, self._read_url(state)))
            if reads:
                merge_summary(total, self._index_urls(reads, progress=progress, on_wait=on_wait))
            if on_source:
                on_source(len(entries), len(entries), "")
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None
        total.seconds = time.perf_counter() - started
        return RefreshReport(total, [self._info(e) for e in entries])

    def _index(self, items: list[Article | LoadFailure], progress: ProgressFn | None,
               on_wait: WaitFn | None) -> IndexSummary:
        return self.indexer.index_items(items, progress=progress, on_wait=on_wait)

    def _read_url(self, state: SourceState) -> Any:
        from index.intake.feeds import read_url

        known = {key: value[0] for key, value in state.entries.items()}
        read = read_url(state.location, self.fetcher(), etag=state.etag, last_modified=state.last_modified,
                        known=known, max_entries=self.max_entries)
        state.last_check = now_iso()
        return read

    def _index_urls(self, reads: list[tuple[SourceState, Any]], *, progress: ProgressFn | None,
                    on_wait: WaitFn | None) -> IndexSummary:
        """Index what the URL sources gave (a story in two feeds once, under the first), then record each
        source's state: only now, after the indexer committed."""
        items: list[Article | LoadFailure] = []
        seen: set[str] = set()
        for _, read in reads:
            for item in read.items:
                if isinstance(item, Article):
                    if item.id in seen:
                        continue
                    seen.add(item.id)
                items.append(item)
        summary = self._index(items, progress, on_wait) if items else IndexSummary()
        added = set(summary.added_ids)
        for state, read in reads:
            self._record_url(state, read, added, summary)
        return summary

    def _record_url(self, state: SourceState, read: Any, added: set[str], summary: IndexSummary) -> None:
        if read.not_modified:
            summary.unchanged += len(state.article_ids())
            state.last_error = ""
            self.save_state(state)
            return
        if read.error:  # the feed or page itself failed: nothing of it changes
            state.last_error = read.error
            self.save_state(state)
            return
        summary.unchanged += read.skipped
        state.kind = read.kind
        failures = [i for i in read.items if isinstance(i, LoadFailure)]
        # With an entry left to retry, keep the old validators: a 304 next time would hide it.
        if not any(f.origin != state.location for f in failures):
            state.etag, state.last_modified = read.etag, read.last_modified
        if read.kind == "page":
            article = next((i for i in read.items if isinstance(i, Article)), None)
            state.entries = {"page": [article.content_hash, article.id]} if article else state.entries
        else:
            for key, (version, article_id) in read.versions.items():
                state.entries.pop(key, None)
                state.entries[key] = [version, article_id]  # most recently seen last
            if len(state.entries) > MAX_KNOWN_ENTRIES:
                current = set(read.versions)
                stale = [k for k in state.entries if k not in current]
                for key in stale[: len(state.entries) - MAX_KNOWN_ENTRIES]:
                    del state.entries[key]
        state.articles_added += sum(1 for i in read.items if isinstance(i, Article) and i.id in added)
        state.last_error = str(failures[0]) if failures else ""
        self.save_state(state)

    def refresh_folder(self, state: SourceState, *, progress: ProgressFn | None,
                        on_wait: WaitFn | None) -> IndexSummary:
        root = Path(state.location)
        state.kind = "folder"
        state.last_check = now_iso()
        if not root.is_dir():
            state.last_error = "the folder no longer exists (its articles are kept)"
            self.save_state(state)
            return IndexSummary(failed=1, failures=[LoadFailure(state.location, state.last_error)])
        summary, files = self.index_files(root, list(iter_folder(root)), state.files, progress=progress,
                                          on_wait=on_wait)
        gone = state.article_ids() - {aid for ids in files.values() for aid in ids}
        if summary.failures:
            if gone:
                summary.notes.append(f"{state.location}: not pruning: {len(summary.failures)} file(s) failed "
                                     "to read, and their articles would have been removed")
            # keep what could not be decided for the next run
            files.update({rel: ids for rel, ids in state.files.items() if rel not in files})
        else:
            removed = self.indexer.remove(sorted(gone), on_wait=on_wait) if gone else []
            summary.removed += len(removed)
            summary.removed_ids += removed
        state.articles_added += summary.added
        state.files = files
        state.last_error = str(summary.failures[0]) if summary.failures else ""
        self.save_state(state)
        return summary

    def index_files(self, root: Path, paths: list[Path], previous: dict[str, list[str]], *,
                    progress: ProgressFn | None = None, on_wait: WaitFn | None = None
                    ) -> tuple[IndexSummary, dict[str, list[str]]]:
        """Read and index `paths` (files under `root`, ids relative to it); returns the summary and each
        file's article ids (a file that failed keeps the ids it had in `previous`)."""
        items: list[Article | LoadFailure] = []
        files: dict[str, list[str]] = {}
        seen: dict[str, str] = {}
        for path in paths:
            rel = path.relative_to(root).as_posix()
            ids: list[str] = []
            failed = False
            for item in read_path(path, root):
                if isinstance(item, Article):
                    if item.id in seen and seen[item.id] != rel:
                        item = LoadFailure(item.origin, f"duplicate article id {item.id!r} (first in {seen[item.id]})")
                    else:
                        seen[item.id] = rel
                        ids.append(item.id)
                if isinstance(item, LoadFailure):
                    failed = True
                items.append(item)
            # a file that failed (in part) keeps the ids it had: what it held is not known now
            files[rel] = sorted(set(ids) | set(previous.get(rel, []))) if failed else ids
        summary = self._index(items, progress, on_wait)
        return summary, files
