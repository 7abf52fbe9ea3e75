"""The article library behind the browser's Library tab: list, search, upload, delete and reindex articles.

Owns upload safety (file names reduced to a safe base name inside its uploads folder, limits on
count, size and type, each broken limit reported with a clear message) and remembering what the user
deleted, so "reindex" (which re-reads the uploads folder and, when enabled, the bundled samples) does not
bring deleted articles back. It also remembers when each article was uploaded (`.uploaded.json`), so an upload
without an outlet or a date shows as "uploaded file" with its upload date and sorts first, and it words the
result of an upload: each file, the title it got and whether it was added, and each failure with its reason.
Indexing itself is the assistant's job (its public methods); this module only decides what to feed it.
It does not import Gradio (see `assistant.web.ui`).

Over 300 lines because upload safety (names, limits, types) and the library's actions check the same state;
split apart, the checks would drift.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.errors import UploadError
from assistant.service import Assistant, IndexSummary, ProgressFn
from assistant.types import ArticleInfo
from assistant.web import defaults
from assistant.web.render import outlet_name
from index.intake.articles import SUPPORTED_SUFFIXES, Article, LoadFailure, read_articles
from index.storage.atomic import atomic_write, write_text_atomic

ALLOWED_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))
_SINGLE_ARTICLE_SUFFIXES = tuple(s for s in ALLOWED_SUFFIXES if s != ".jsonl")
_DELETED_FILE = ".deleted.json"
_UPLOADED_FILE = ".uploaded.json"
UPLOADED_FILE_OUTLET = "uploaded file"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def summary_text(summary: IndexSummary) -> str:
    """An index run in words: '2 articles added, 1 unchanged; 1 file failed' (no '1 chunks')."""
    counts = [f"{summary.added} added", f"{summary.updated} updated", f"{summary.unchanged} unchanged",
              f"{summary.removed} removed"]
    kept = [c for c in counts if not c.startswith("0 ")] or ["nothing changed"]
    total = summary.added + summary.updated + summary.unchanged + summary.removed
    head = f"{plural(total, 'article')}: {', '.join(kept)}" if total else "No articles indexed"
    if summary.chunks_embedded:
        head += f" ({plural(summary.chunks_embedded, 'passage')} embedded in {summary.seconds:.1f} s)"
    if summary.failed:
        head += f"; {plural(summary.failed, 'file or line', 'files or lines')} failed"
    return head + "."


@dataclass(frozen=True)
class UploadedFile:
    """One received file: what its articles are called now, or why it failed."""

    name: str  # as the user named it
    titles: tuple[tuple[str, str], ...] = ()  # (article id, title) of each article read from it
    status: str = ""  # added / updated / unchanged / mixed
    reason: str = ""  # why it failed ("" = it did not)


@dataclass(frozen=True)
class Deleted:
    """What a delete took away, kept (by the page, for as long as it is open) so that it can be undone:
    each article as it was stored, and the bytes of its upload file when it came as one."""

    articles: tuple[Article, ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()  # (file name in the uploads folder, its bytes)

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.articles]

    def names(self) -> str:
        """'“Title” (id)' for one article, '“Title” and “Title”' for two, '3 articles: “A”, “B”, ...'."""
        shown = [f"\u201c{a.title or a.id}\u201d" for a in self.articles]
        if len(shown) == 1:
            return f"{shown[0]} ({self.articles[0].id})"
        if len(shown) == 2:
            return " and ".join(shown)
        more = f", and {len(shown) - 3} more" if len(shown) > 3 else ""
        return f"{len(shown)} articles: {', '.join(shown[:3])}{more}"


def corpus_summary(articles: Sequence[ArticleInfo]) -> str:
    """One line about what the index holds: '1,371 articles from 212 outlets, 6 Jan – 10 Mar 2023'."""
    if not articles:
        return ("No articles are indexed yet: add some in the Library tab, or from a terminal with "
                "assistant index PATH|URL.")
    outlets = {outlet_name(a.source).casefold() for a in articles if a.source and a.source != UPLOADED_FILE_OUTLET}
    head = f"{len(articles):,} article{'s' if len(articles) != 1 else ''}"
    if outlets:
        head += f" from {len(outlets):,} outlet{'s' if len(outlets) != 1 else ''}"
    days = sorted(a.published_at[:10] for a in articles if re.fullmatch(r"\d{4}-\d\d-\d\d", a.published_at[:10]))
    if not days:
        return head
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    if first == last:
        return f"{head}, {_day(last, year=True)}"
    return f"{head}, {_day(first, year=first.year != last.year)} \u2013 {_day(last, year=True)}"


def _day(day: dt.date, *, year: bool) -> str:
    return f"{day.day} {day:%b}" + (f" {day.year}" if year else "")


def added_titles(summary: IndexSummary, articles: Sequence[ArticleInfo], *, limit: int = 10) -> list[str]:
    """One line per article a run added: '+ “Title” (Outlet, 2025-10-30)', the first `limit` of them."""
    info = {a.article_id: a for a in articles}
    lines = []
    for article_id in summary.added_ids[:limit]:
        a = info.get(article_id)
        if a is None:
            lines.append(f"+ {article_id}")
            continue
        meta = ", ".join(x for x in (outlet_name(a.source), a.published_at) if x)
        lines.append(f"+ \u201c{a.title or article_id}\u201d" + (f" ({meta})" if meta else ""))
    if len(summary.added_ids) > limit:
        lines.append(f"+ and {len(summary.added_ids) - limit} more (listed in the table)")
    return lines


@dataclass
class UploadResult:
    summary: IndexSummary
    files: list[UploadedFile] = field(default_factory=list)

    def text(self) -> str:
        ok = [f for f in self.files if not f.reason]
        failed = [f for f in self.files if f.reason]
        head = f"Uploaded {plural(len(ok), 'file')}"
        if failed:
            head += f", {len(failed)} failed"
        lines = [f"{head}. {summary_text(self.summary)}"]
        for f in ok:
            titles = "; ".join(f"\u201c{t or a}\u201d" for a, t in f.titles)
            lines.append(f"\u2713 {f.name} \u2192 {titles} ({f.status})")
        lines += [f"\u2717 {f.name}: {f.reason}" for f in failed]
        lines += [f"note: {note}" for note in self.summary.notes]
        return "\n".join(lines)


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder: base name only, [A-Za-z0-9._-], lower-case suffix."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:100] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB"


class Library:
    def __init__(self, assistant: Assistant, *, uploads_dir: Path, max_file_mb: float = defaults.UPLOAD_MAX_MB,
                 max_files: int = defaults.UPLOAD_MAX_FILES, samples_dir: Path | None = None) -> None:
        self.assistant = assistant
        self.uploads_dir = Path(uploads_dir).resolve()
        self.max_bytes = int(max_file_mb * 1_000_000)
        self.max_files = max_files
        self.samples_dir = samples_dir

    # ------------------------------------------------------------------ reading

    def articles(self, query: str = "") -> list[ArticleInfo]:
        """Newest first: undated uploads on top (latest upload first), then by publication date, then the
        other undated articles. An upload without an outlet or date shows "uploaded file" and its upload day."""
        uploaded = self.upload_dates()

        def order(a: ArticleInfo) -> tuple:
            if not a.published_at and a.article_id in uploaded:
                return (0, _inverted(uploaded[a.article_id]), a.article_id)
            return (1, _inverted(a.published_at), a.article_id) if a.published_at else (2, "", a.article_id)

        rows = [self.shown(a, uploaded) for a in sorted(self.assistant.list_articles(), key=order)]
        words = (query or "").lower().split()
        if not words:
            return rows
        return [a for a in rows
                if all(w in f"{a.article_id} {a.title} {a.source} {a.published_at}".lower() for w in words)]

    def outlets(self) -> list[str]:
        return sorted({a.source for a in self.assistant.list_articles() if a.source}, key=str.lower)

    # ------------------------------------------------------------------ upload dates

    def upload_dates(self) -> dict[str, str]:
        """Article id -> when it was uploaded (ISO date and time), for articles that came as uploads."""
        try:
            data = json.loads((self.uploads_dir / _UPLOADED_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @staticmethod
    def shown(article: ArticleInfo, uploaded: dict[str, str]) -> ArticleInfo:
        """How the library and the source cards show an article: an upload without outlet or date says so."""
        at = uploaded.get(article.article_id)
        if not at or (article.source and article.published_at):
            return article
        return replace(article, source=article.source or UPLOADED_FILE_OUTLET,
                       published_at=article.published_at or at[:10])

    # ------------------------------------------------------------------ deleted ids

    def _deleted(self) -> set[str]:
        try:
            return set(json.loads((self.uploads_dir / _DELETED_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return set()

    def _save_deleted(self, ids: set[str]) -> None:
        write_text_atomic(self.uploads_dir / _DELETED_FILE, json.dumps(sorted(ids)))

    # ------------------------------------------------------------------ writing

    def upload(self, files: Sequence[str | Path], progress: ProgressFn | None = None) -> UploadResult:
        """Check, store and index received files (named as the user named them; the article id is the
        safe file name without its suffix). Rejected files count as failed; the rest are indexed.
        Raises UploadError when the upload as a whole breaks a limit (too many files).
        """
        files = [Path(f) for f in files]
        if not files:
            raise UploadError("no files were uploaded; choose .txt, .md, .html or .jsonl files")
        if len(files) > self.max_files:
            raise UploadError(f"too many files ({len(files)}); upload at most {self.max_files} at a time")
        rejected: list[LoadFailure] = []
        stored: dict[str, Path] = {}
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        for src in files:
            name = safe_name(src.name)
            label = src.name or name
            suffix = Path(name).suffix
            if suffix not in ALLOWED_SUFFIXES:
                rejected.append(LoadFailure(label, f"unsupported file type {suffix or '(none)'!r}; "
                                                   f"allowed: {', '.join(ALLOWED_SUFFIXES)}"))
                continue
            try:
                size = src.stat().st_size
            except OSError as exc:
                rejected.append(LoadFailure(label, f"cannot read the upload ({exc.strerror or exc})"))
                continue
            if size > self.max_bytes:
                rejected.append(LoadFailure(label, f"file is too large ({_mb(size)}, limit {_mb(self.max_bytes)})"))
                continue
            if name in stored:
                rejected.append(LoadFailure(label, f"another file in this upload is also named {name!r}"))
                continue
            stored[name] = self._store(src, name)
        labels = {str(path): self._label_of(files, name) for name, path in stored.items()}

        def file_of(origin: str) -> tuple[str, str]:  # (the file as the user named it, "line N: " or "")
            if origin in labels:
                return labels[origin], ""
            head, _, line = origin.rpartition(":")
            return (labels[head], f"line {line}: ") if head in labels else (origin, "")

        items: list[Article | LoadFailure] = []
        per_file: dict[str, list[Article]] = {}
        failures: dict[str, list[str]] = {}
        for item in read_articles(stored.values()):
            label, where = file_of(item.origin)
            if isinstance(item, LoadFailure):
                if item.origin in labels:
                    Path(item.origin).unlink(missing_ok=True)  # unreadable as a whole: not kept for reindex
                failures.setdefault(label, []).append(where + item.reason)
                item = LoadFailure(item.origin.replace(str(self.uploads_dir) + os.sep, ""), item.reason)
            else:
                per_file.setdefault(label, []).append(item)
            items.append(item)
        ids = {i.id for i in items if isinstance(i, Article)}
        deleted = self._deleted()
        if deleted & ids:
            self._save_deleted(deleted - ids)
        summary = self.assistant.index_items([*rejected, *items], progress=progress)
        if ids:
            self._save_uploaded(ids)
        added, updated = set(summary.added_ids), set(summary.updated_ids)
        result = UploadResult(summary)
        for label, articles in per_file.items():
            states = {"added" if a.id in added else "updated" if a.id in updated else "unchanged" for a in articles}
            result.files.append(UploadedFile(label, tuple((a.id, a.title) for a in articles),
                                             states.pop() if len(states) == 1 else "mixed"))
        result.files += [UploadedFile(label, reason="; ".join(reasons)) for label, reasons in failures.items()]
        result.files += [UploadedFile(f.origin, reason=f.reason) for f in rejected]
        return result

    @staticmethod
    def _label_of(files: Sequence[Path], name: str) -> str:
        return next((f.name for f in files if safe_name(f.name) == name), name)

    def _save_uploaded(self, ids: Iterable[str]) -> None:
        at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        uploaded = self.upload_dates()
        uploaded.update({i: at for i in ids})
        write_text_atomic(self.uploads_dir / _UPLOADED_FILE, json.dumps(uploaded, sort_keys=True))

    def _store(self, src: Path, name: str) -> Path:
        target = (self.uploads_dir / name).resolve()
        if target.parent != self.uploads_dir.resolve():  # pragma: no cover - safe_name prevents this
            raise UploadError(f"refusing to write outside the uploads folder: {name!r}")
        with atomic_write(target) as out, open(src, "rb") as data:
            shutil.copyfileobj(data, out)
        return target

    def snapshot(self, article_ids: Iterable[str]) -> Deleted:
        """What deleting these articles would take away: each article rebuilt from its stored passages (text
        at its offsets, metadata), and the bytes of its single-article upload file, if any."""
        wanted = [a for a in dict.fromkeys(article_ids) if a]
        store = self.assistant.store
        articles, files = [], []
        for article_id, state in store.article_states(wanted).items():
            by_version: dict[str, list] = {}
            for chunk in store.get(state.ids_except(None)):
                by_version.setdefault(chunk.fingerprint, []).append(chunk)
            if not by_version:
                continue
            chunks = sorted(max(by_version.values(), key=len), key=lambda c: c.start)
            text = _rebuilt_text(chunks)
            first = chunks[0]
            articles.append(Article(id=article_id, text=text, title=first.title, url=first.url,
                                    source=first.source, published_at=first.published_at, origin="undo"))
            for suffix in _SINGLE_ARTICLE_SUFFIXES:
                path = self.uploads_dir / f"{article_id}{suffix}"
                if path.parent == self.uploads_dir and path.is_file():
                    files.append((path.name, path.read_bytes()))
        order = {a: i for i, a in enumerate(wanted)}
        return Deleted(tuple(sorted(articles, key=lambda a: order.get(a.id, 0))), tuple(files))

    def undo(self, deleted: Deleted, progress: ProgressFn | None = None) -> IndexSummary:
        """Put deleted articles back: their upload files are restored and read again, the others are
        indexed from the text they had; reindex no longer skips them."""
        restored: list[Path] = []
        for name, data in deleted.files:
            target = self.uploads_dir / safe_name(name)
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            with atomic_write(target) as out:
                out.write(data)
            restored.append(target)
        from_files = {a.id: a for a in read_articles(restored) if isinstance(a, Article)}
        items = [from_files.get(a.id, a) for a in deleted.articles]
        self._save_deleted(self._deleted() - set(deleted.ids))
        return self.assistant.index_items(items, progress=progress)

    def delete(self, article_ids: Iterable[str]) -> list[str]:
        """Remove articles from the index (and their single-article upload files); returns those removed."""
        wanted = [a for a in dict.fromkeys(article_ids) if a]
        if not wanted:
            return []
        removed = self.assistant.remove(wanted)
        if removed:
            self._save_deleted(self._deleted() | set(removed))
            for article_id in removed:
                for suffix in _SINGLE_ARTICLE_SUFFIXES:
                    path = self.uploads_dir / f"{article_id}{suffix}"
                    if path.parent == self.uploads_dir and path.is_file():
                        path.unlink()
        return removed

    def reindex(self, progress: ProgressFn | None = None) -> IndexSummary:
        """Re-read the uploads folder (and the samples, when enabled) and update what changed."""
        deleted = self._deleted()
        items: list[Article | LoadFailure] = []
        seen: set[str] = set()
        for folder in (self.uploads_dir, self.samples_dir):
            if folder is None or not Path(folder).is_dir():
                continue
            for item in read_articles([folder]):
                if isinstance(item, Article):
                    if item.id in deleted or item.id in seen:
                        continue
                    seen.add(item.id)
                items.append(item)
        return self.assistant.index_items(items, progress=progress)


def _rebuilt_text(chunks: Sequence) -> str:
    """An article's text from its passages (each stores its offsets; overlaps are written once, and a gap
    between two passages, whitespace the chunker skipped, becomes spaces, so the offsets still hold)."""
    out: list[str] = []
    end = 0
    for chunk in chunks:
        if chunk.start >= end:
            out.append(" " * (chunk.start - end))
            out.append(chunk.text)
        else:
            out.append(chunk.text[end - chunk.start:])
        end = max(end, chunk.end)
    return "".join(out)


def _inverted(iso: str) -> str:
    """A sort key that puts later ISO dates/times first."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in iso)
