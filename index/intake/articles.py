"""Reading news articles from JSONL, text, Markdown and HTML files into `Article` records.

Owns: file discovery (files or folders, recursive), decoding and validation, front matter, stable
article ids and content hashes, and the readers' clean text. `.txt` bodies are kept as written;
`.md`/`.markdown` bodies are parsed as CommonMark (markdown-it-py) and stored as plain text: no heading,
emphasis, link, image or list markup, one line per paragraph (hard-wrapped lines joined), paragraphs
separated by a blank line, list items one per line, and a leading heading becomes the title (when front
matter gives none) instead of being repeated in the text. A `.txt`/`.md` file whose front matter gives no
date takes the one its dateline states near the top (`dateline`: "October 31, 2025" on its own line or
opening the story), never a date from inside a sentence. HTML pages are read by `index.intake.html`
(trafilatura, with the old hand-written parser as fallback). Bad inputs never raise out of
`read_articles`: each becomes a `LoadFailure` naming the file (and line) and the reason, and the other
inputs are still read. It does not chunk, embed or store anything.

Over 300 lines because the Markdown reader (about 90 lines) sits here beside the text reader it refines;
the larger HTML reader already lives in `index/intake/html.py`, and Markdown would be the next to move out.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from index.errors import ArticleError
from index.intake.html import decode_html, html_to_text, legacy_html_to_text

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

MAX_FILE_BYTES = 64 * 1024 * 1024  # a .txt/.md/.html file, or one line of a JSONL file (read one line at a time)
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


def _unreadable(exc: OSError) -> ArticleError:
    return ArticleError(f"cannot read file ({exc.strerror or exc})")


def _refuse_binary(head: bytes) -> None:
    """A file whose first 8 KB hold a NUL byte is not text."""
    if b"\x00" in head[:8192]:
        raise ArticleError("file looks binary (contains NUL bytes)")


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(f"file is too large ({size:,} bytes, limit {MAX_FILE_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(exc) from exc
    if not data.strip():
        raise ArticleError("file is empty")
    _refuse_binary(data)
    return data


def _read_text_file(path: Path) -> str:
    data = _read_bytes(path)
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
    if path.suffix.lower() in MARKDOWN_SUFFIXES and len(body) <= MAX_ARTICLE_CHARS:
        # (a longer body is refused as too long below, as it was before it was ever parsed)
        body, heading = markdown_to_text(body)
        if heading and not record.get("title"):
            record["title"] = heading
        if heading and not (body.strip() and _same_words(heading, str(record["title"]))):
            body = f"{heading}\n\n{body}" if body.strip() else heading
    record["text"] = body.strip("\n")
    if not record.get("published_at"):
        record["published_at"] = dateline(record["text"])
    record.setdefault("source", url_host(str(record.get("url") or "")))
    return article_from_record(record, default_id=article_id, origin=str(path))


def url_host(url: str) -> str:
    """'https://www.News.example:8080/x' -> 'news.example': an outlet named by its address, for an article
    whose page, feed or front matter names no outlet ('' when `url` is not an http(s) URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return ""
    return (parts.hostname or "").rstrip(".").removeprefix("www.")


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_FULL_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY},?\s+\d{{4}}|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}|\d{{4}}-\d\d-\d\d)\b",
    re.IGNORECASE)
_DATELINE_LINES = 8


def dateline(text: str) -> str:
    """The publication date a text states near its top, as YYYY-MM-DD, else "".

    Only a line among the first few that is a dateline counts: the date with at most a few words around
    it ("October 31, 2025", "Published: 31 Oct 2025, 09:12", "By Ana Ruiz | Oct. 31, 2025"), or a city
    dateline opening the story ("LISBON, October 31, 2025 - ..."). A date inside a sentence (a photo
    caption, "the vote on March 3, 2024") is not the article's date and is left alone."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_DATELINE_LINES]
    for line in lines:
        match = _FULL_DATE.search(line)
        if not match:
            continue
        rest = (line[: match.start()] + " " + line[match.end():]).split()
        opening = re.match(r"^[A-Z][A-Z .'-]{1,40},\s*$", line[: match.start()]) and \
            re.match(r"^\s*(?:\([^)]*\)\s*)?[-\u2013\u2014:]", line[match.end():])
        if len(rest) > 6 and not opening:
            continue
        try:
            return normalize_date(re.sub(r"(?<=\d)(?:st|nd|rd|th)\b|\bof\b", "", match[0]))
        except ArticleError:
            continue
    return ""


# --------------------------------------------------------------------------------------------- markdown


def _same_words(a: str, b: str) -> bool:
    return re.sub(r"\W+", " ", a).strip().lower() == re.sub(r"\W+", " ", b).strip().lower()


def _inline_markdown(children: list[Any]) -> str:
    """Plain text of one inline run: markup dropped, links as their text, images and HTML tags gone."""
    out: list[str] = []
    for tok in children:
        if tok.type in {"text", "code_inline"}:
            out.append(tok.content)
        elif tok.type in {"softbreak", "hardbreak"}:
            out.append(" ")  # one line per paragraph: a wrapped line (or a trailing "  ") joins the next
        elif tok.type == "html_inline" and re.match(r"<br\b", tok.content, re.IGNORECASE):
            out.append(" ")
    return " ".join("".join(out).split())


def markdown_to_text(body: str) -> tuple[str, str]:
    """Clean text of a Markdown body, and the text of its first block when that is a heading ("" if not;
    that heading is then left out of the text: the caller makes it the title or puts it back).

    Paragraphs, headings, quotes and code blocks are paragraphs (blank line between them); a list is one
    paragraph with each item on its own line, bullets dropped, ordered items keep their number ("2.");
    a table row is a line of cells joined by " | "; images, rules and HTML tags are dropped.
    """
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tokens = parser.parse(body.replace("\x00", ""))
    blocks: list[list[str]] = []
    heading = ""
    lists: list[str] = []  # open lists' types, innermost last
    prefix = ""  # an ordered item's number, put before its first line
    row: list[str] | None = None
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind in {"bullet_list_open", "ordered_list_open"}:
            if not lists:
                blocks.append([])
            lists.append(kind)
        elif kind in {"bullet_list_close", "ordered_list_close"} and lists:
            lists.pop()
        elif kind == "list_item_open":
            prefix = f"{tok.info}{tok.markup} " if lists and lists[-1] == "ordered_list_open" else ""
        elif kind == "table_open":
            blocks.append([])
        elif kind == "table_close" and lists:
            blocks.append([])  # the rest of the list it sits in
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            if any(row):
                blocks[-1].append(" | ".join(cell for cell in row if cell))
            row = None
        elif kind == "inline":
            text = _inline_markdown(tok.children or [])
            if row is not None:
                row.append(text)
            elif not text:
                continue
            elif lists:
                blocks[-1].append(prefix + text)
                prefix = ""
            elif i == 1 and tokens[0].type == "heading_open":
                heading = text
            else:
                blocks.append([text])
        elif kind in {"fence", "code_block"}:
            lines = [line.rstrip() for line in tok.content.strip("\n").split("\n")]
            if kind == "code_block":  # indented prose far more often than code in an article
                lines = [" ".join(p.split()) for p in "\n".join(lines).split("\n\n")]
            lines = [line for line in lines if line.strip()]
            if lists and lines:
                blocks[-1].extend(lines)
            elif lines:
                blocks.append(lines)
        elif kind == "html_block":
            lines = legacy_html_to_text(tok.content)[0]
            if lines:
                (blocks[-1].extend if lists else blocks.append)(lines)
    text = "\n\n".join("\n".join(lines) for lines in blocks if lines)
    return text, heading


def _html_article(path: Path, article_id: str) -> Article:
    text, meta = html_to_text(decode_html(_read_bytes(path)).replace("\r\n", "\n"))
    record: dict[str, object] = {k: v for k, v in meta.items() if v}
    if record.get("published_at"):
        try:
            record["published_at"] = normalize_date(record["published_at"])
        except ArticleError:
            record.pop("published_at")
    record["text"] = text
    record.setdefault("source", url_host(str(record.get("url") or "")))  # og:site_name first, the host last
    return article_from_record(record, default_id=article_id, origin=str(path))


def _jsonl_lines(path: Path) -> Iterator[tuple[int | None, str | ArticleError]]:
    """The lines of a JSONL file, read one at a time (an archive of any size is never held whole), as
    (line number, text), or (line number, the error) for a line too long or not UTF-8; a problem of the whole
    file (it cannot be read, looks binary or holds only blank lines) comes last, as (None, the error)."""
    blank = True
    try:
        with path.open("rb") as fh:
            _refuse_binary(fh.read(8192))
            fh.seek(0)
            for line_no in itertools.count(1):
                data = fh.readline(MAX_FILE_BYTES + 1)
                if not data:
                    break
                if len(data) > MAX_FILE_BYTES and not data.endswith(b"\n"):
                    while data and not data.endswith(b"\n"):  # skip the rest of the line, a piece at a time
                        data = fh.readline(1 << 20)
                    blank = False
                    yield line_no, ArticleError(f"line is too long (over {MAX_FILE_BYTES:,} bytes)")
                    continue
                if line_no == 1 and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8):]
                if not data.strip():
                    continue
                blank = False
                try:
                    yield line_no, data.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    yield line_no, ArticleError(f"line is not valid UTF-8 (byte {exc.start})")
    except OSError as exc:
        yield None, _unreadable(exc)
    except ArticleError as exc:
        yield None, exc
    else:
        if blank:
            yield None, ArticleError("file is empty")


def _jsonl_articles(path: Path, id_prefix: str) -> Iterator[Article | LoadFailure]:
    for line_no, line in _jsonl_lines(path):
        origin = str(path) if line_no is None else f"{path}:{line_no}"
        try:
            if isinstance(line, ArticleError):
                raise line
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


def iter_folder(root: Path) -> Iterator[Path]:
    """The files `assistant index DIR` reads: supported suffixes, recursively, hidden ones left out."""
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
                item for file in iter_folder(root) for item in read_path(file, root)
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
