"""The article library behind the browser's Library tab: list, search, upload, delete and reindex articles.

Owns upload safety (file names reduced to a safe base name inside `settings.uploads_path`, limits on
count, size and type, each broken limit reported with a clear message) and remembering what the user
deleted, so "reindex" (which re-reads the uploads folder and, when enabled, the bundled samples) does not
bring deleted articles back. Indexing itself is the indexer's job; this module only decides what to feed it.
It does not import Gradio (see `assistant.web.ui`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from assistant.errors import UploadError
from assistant.service import Assistant
from index.articles import SUPPORTED_SUFFIXES, Article, LoadFailure, read_articles
from index.atomic import atomic_write, write_text_atomic
from index.indexer import IndexSummary, ProgressFn
from index.store import ArticleInfo

ALLOWED_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))
_SINGLE_ARTICLE_SUFFIXES = tuple(s for s in ALLOWED_SUFFIXES if s != ".jsonl")
_DELETED_FILE = ".deleted.json"


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
    def __init__(self, assistant: Assistant, *, uploads_dir: Path, max_file_mb: float = 10.0,
                 max_files: int = 20, samples_dir: Path | None = None) -> None:
        self.assistant = assistant
        self.uploads_dir = Path(uploads_dir).resolve()
        self.max_bytes = int(max_file_mb * 1_000_000)
        self.max_files = max_files
        self.samples_dir = samples_dir

    @classmethod
    def from_assistant(cls, assistant: Assistant) -> Library:
        settings = assistant.settings
        return cls(assistant, uploads_dir=settings.uploads_path, max_file_mb=settings.upload_max_mb,
                   max_files=settings.upload_max_files,
                   samples_dir=settings.samples_dir if settings.index_samples_on_start else None)

    # ------------------------------------------------------------------ reading

    def articles(self, query: str = "") -> list[ArticleInfo]:
        rows = self.assistant.store.list_articles()
        words = (query or "").lower().split()
        if not words:
            return rows
        return [a for a in rows
                if all(w in f"{a.article_id} {a.title} {a.source} {a.published_at}".lower() for w in words)]

    def outlets(self) -> list[str]:
        return sorted({a.source for a in self.assistant.store.list_articles() if a.source}, key=str.lower)

    # ------------------------------------------------------------------ deleted ids

    def _deleted(self) -> set[str]:
        try:
            return set(json.loads((self.uploads_dir / _DELETED_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return set()

    def _save_deleted(self, ids: set[str]) -> None:
        write_text_atomic(self.uploads_dir / _DELETED_FILE, json.dumps(sorted(ids)))

    # ------------------------------------------------------------------ writing

    def upload(self, files: Sequence[str | Path], progress: ProgressFn | None = None) -> IndexSummary:
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
        items: list[Article | LoadFailure] = []
        for item in read_articles(stored.values()):
            if isinstance(item, LoadFailure):
                if item.origin in {str(p) for p in stored.values()}:
                    Path(item.origin).unlink(missing_ok=True)  # unreadable as a whole: not kept for reindex
                item = LoadFailure(item.origin.replace(str(self.uploads_dir) + os.sep, ""), item.reason)
            items.append(item)
        ids = {i.id for i in items if isinstance(i, Article)}
        deleted = self._deleted()
        if deleted & ids:
            self._save_deleted(deleted - ids)
        return self.assistant.indexer.index_items([*rejected, *items], progress=progress)

    def _store(self, src: Path, name: str) -> Path:
        target = (self.uploads_dir / name).resolve()
        if target.parent != self.uploads_dir.resolve():  # pragma: no cover - safe_name prevents this
            raise UploadError(f"refusing to write outside the uploads folder: {name!r}")
        with atomic_write(target) as out, open(src, "rb") as data:
            shutil.copyfileobj(data, out)
        return target

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
        return self.assistant.indexer.index_items(items, progress=progress)
