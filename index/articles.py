"""Reading news articles from JSONL, text/Markdown and HTML files into `Article` records.

Owns: file discovery (files or folders, recursive), decoding and validation, front matter, HTML text
extraction, stable article ids and content hashes. Bad inputs never raise out of `read_articles`: each
becomes a `LoadFailure` naming the file (and line) and the reason, and the other inputs are still read.
It does not chunk, embed or store anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

from index.errors import ArticleError

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ARTICLE_CHARS = 5_000_000
_OPTIONAL_FIELDS = ("id", "title", "url", "source", "published_at")


@dataclass(frozen=True)
class Article:
    id: str
    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    published_at: str = ""  # ISO date YYYY-MM-DD or ""
    origin: str = ""  # where it was read from, e.g. "path/file.jsonl:12"
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            payload = json.dumps([self.title, self.text, self.url, self.source, self.published_at])
            object.__setattr__(self, "content_hash", hashlib.sha256(payload.encode()).hexdigest())


@dataclass(frozen=True)
class LoadFailure:
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


def normalize_date(value: object, *, where: str = "published_at") -> str:
    """Return YYYY-MM-DD for a date-like value, "" for empty; raise ArticleError when unparseable."""
    if value is None or value == "":
        return ""
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str):
        raise ArticleError(f"{where} must be a date string, got {type(value).__name__}")
    text = value.strip()
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        from dateutil import parser as date_parser

        return date_parser.parse(text).date().isoformat()
    except (ValueError, OverflowError) as exc:
        raise ArticleError(f"{where} {text[:40]!r} is not a date") from exc


def article_from_record(record: object, *, default_id: str, origin: str) -> Article:
    """Validate one JSON object (or front-matter dict) and build an Article; raise ArticleError."""
    if not isinstance(record, dict):
        raise ArticleError(f"expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise ArticleError("field 'text' is required and must be a string")
    text = text.replace("\x00", "").replace("\r\n", "\n")
    if not text.strip():
        raise ArticleError("field 'text' is empty")
    if len(text) > MAX_ARTICLE_CHARS:
        raise ArticleError(f"article is too long ({len(text):,} characters, limit {MAX_ARTICLE_CHARS:,})")
    values: dict[str, str] = {}
    for name in _OPTIONAL_FIELDS:
        value = record.get(name)
        if value is None:
            values[name] = ""
        elif name == "id" and isinstance(value, int) and not isinstance(value, bool):
            values[name] = str(value)
        elif name == "published_at":
            values[name] = normalize_date(value)
        elif isinstance(value, str):
            values[name] = " ".join(value.replace("\x00", "").split())
        else:
            raise ArticleError(f"field '{name}' must be a string, got {type(value).__name__}")
    article_id = values["id"] or default_id
    if len(article_id) > 512:
        raise ArticleError("field 'id' is longer than 512 characters")
    title = values["title"] or first_meaningful_line(text)
    return Article(
        id=article_id,
        text=text,
        title=title[:500],
        url=values["url"],
        source=values["source"],
        published_at=values["published_at"],
        origin=origin,
    )


def first_meaningful_line(text: str) -> str:
    """The first line that reads like a headline (4+ words) among the first ten, else the first with text."""
    candidates = [line.strip().lstrip("#").strip() for line in text.splitlines()]
    candidates = [line for line in candidates if re.search(r"\w", line)]
    for line in candidates[:10]:
        if len(line.split()) >= 4:
            return line[:500]
    return candidates[0][:500] if candidates else ""


def _short_hash(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------- files


def _read_text_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(f"file is too large ({size:,} bytes, limit {MAX_FILE_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ArticleError("file is empty")
    if b"\x00" in data[:8192]:
        raise ArticleError("file looks binary (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"file is not valid UTF-8 (byte {exc.start})") from exc


_SURROGATE = re.compile("[\ud800-\udfff]")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def parse_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Split simple `key: value` front matter from the body. Returns ({}, raw) when there is none."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    meta: dict[str, str] = {}
    for line in match[1].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, raw[match.end() :]


def _text_article(path: Path, article_id: str) -> Article:
    meta, body = parse_front_matter(_read_text_file(path))
    record = {k: meta.get(k) for k in _OPTIONAL_FIELDS if meta.get(k)}
    record["text"] = body.strip("\n")
    return article_from_record(record, default_id=article_id, origin=str(path))


class _HTMLText(HTMLParser):
    """Collects readable text (block elements become line breaks), the <title> and a few meta tags."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "form", "iframe"})
    BLOCK = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
             "blockquote", "header", "figcaption", "pre", "ul", "ol", "table", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._skip_depth = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            a = {k: (v or "") for k, v in attrs}
            key = (a.get("property") or a.get("name") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"])
        if tag in self.SKIP:
            self._skip_depth += 1
        elif tag == "h1":
            self._in_h1 = True
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:  # a self-closed <svg/> etc. opens nothing
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "h1":
            self._in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if self._skip_depth:
            return
        if self._in_h1:
            self.h1_parts.append(data)
        self.parts.append(data)


def html_to_text(raw: str) -> tuple[str, dict[str, str]]:
    """Readable text of an HTML page and its metadata (title, url, source, published_at)."""
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = "\n".join(line for line in lines if line)
    m = parser.meta
    meta = {
        "title": " ".join("".join(parser.title_parts).split()) or m.get("og:title", "")
        or " ".join("".join(parser.h1_parts).split()),
        "url": m.get("og:url", ""),
        "source": m.get("og:site_name", ""),
        "published_at": m.get("article:published_time", "") or m.get("date", ""),
    }
    return text, meta


def _html_article(path: Path, article_id: str) -> Article:
    text, meta = html_to_text(_read_text_file(path))
    record: dict[str, object] = {k: v for k, v in meta.items() if v}
    if record.get("published_at"):
        try:
            record["published_at"] = normalize_date(record["published_at"])
        except ArticleError:
            record.pop("published_at")
    record["text"] = text
    return article_from_record(record, default_id=article_id, origin=str(path))


def _jsonl_articles(path: Path, id_prefix: str) -> Iterator[Article | LoadFailure]:
    try:
        raw = _read_text_file(path)
    except ArticleError as exc:
        yield LoadFailure(str(path), str(exc))
        return
    for line_no, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{line_no}"
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArticleError(f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
            except RecursionError as exc:
                raise ArticleError("invalid JSON (nested too deeply)") from exc
            except ValueError as exc:  # e.g. a number of more than 4300 digits
                raise ArticleError(f"invalid JSON ({str(exc).split(':')[0]})") from exc
            default_id = ""
            if isinstance(record, dict):
                # "\ud800" escapes decode to lone surrogates, which no UTF-8 encoder (hashing, tiktoken,
                # Chroma) accepts: replace them, as decoding invalid UTF-8 would.
                record = {k: _SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in record.items()}
                url = record.get("url") if isinstance(record.get("url"), str) else ""
                text = record.get("text") if isinstance(record.get("text"), str) else ""
                default_id = f"{id_prefix}-{_short_hash(url or text)}"
            yield article_from_record(record, default_id=default_id, origin=origin)
        except ArticleError as exc:
            yield LoadFailure(origin, str(exc))


def _iter_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def read_path(path: Path, base: Path | None = None) -> Iterator[Article | LoadFailure]:
    """Read one file. Its article id is its path relative to `base`, without the extension."""
    rel = path.relative_to(base) if base else Path(path.name)
    article_id = rel.with_suffix("").as_posix()
    suffix = path.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES:
            yield from _jsonl_articles(path, article_id)
        elif suffix in TEXT_SUFFIXES:
            yield _text_article(path, article_id)
        elif suffix in HTML_SUFFIXES:
            yield _html_article(path, article_id)
        else:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise ArticleError(f"unsupported file type {suffix or '(none)'!r}; expected one of {allowed}")
    except ArticleError as exc:
        yield LoadFailure(str(path), str(exc))


def read_articles(paths: Iterable[str | Path]) -> Iterator[Article | LoadFailure]:
    """Read files and folders (recursively). Duplicate ids keep the first and report the others."""
    seen: dict[str, str] = {}
    for given in paths:
        root = Path(given)
        if root.is_dir():
            items: Iterable[Article | LoadFailure] = (
                item for file in _iter_files(root) for item in read_path(file, root)
            )
        elif root.exists():
            items = read_path(root)
        else:
            items = [LoadFailure(str(root), "no such file or folder")]
        for item in items:
            if isinstance(item, Article):
                if item.id in seen:
                    yield LoadFailure(item.origin, f"duplicate article id {item.id!r} (first in {seen[item.id]})")
                    continue
                seen[item.id] = item.origin
            yield item
