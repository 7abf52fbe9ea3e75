"""Reading a news page's HTML: main text, title, publication date and outlet.

A module of its own because `index/intake/articles.py` passed 300 lines with it: this is the one reader with
third-party extraction, charset handling and a fallback, while `articles.py` keeps file discovery,
validation, ids and the JSONL/text/Markdown readers. It is over 300 lines itself because the fallback
parser, the charset sniffing and the rendering of trafilatura's output all serve this one reader.

Main path: trafilatura (with htmldate for the date) picks the story out of the page and drops
navigation, ads, cookie banners, share buttons, related links, comments, newsletter boxes and footers;
it reads title (JSON-LD headline, OpenGraph, <title>, <h1>), date (JSON-LD datePublished, meta tags,
<time>, then the URL) and outlet (og:site_name, publisher meta or JSON-LD). It is only ever given the
page as a string (parsed here with its `load_html`), never a URL, so it fetches nothing. Around it:
sibling <article> posts (a live blog) become <div>s first, or it would read only the first post; a few
more clutter classes are pruned (`PRUNE_XPATH`); its output tree is rendered as one paragraph per block,
separated by a blank line, list items and table rows one per line (the sentence splitter ends a sentence
at a line break, and the chunker and answerer rely on paragraphs not running into each other); of a
layout table only the cell with the most text is kept, and a paragraph made of nothing but links
("Email this | Print this") is dropped.

Fallback: the hand-written `_HTMLText` parser (all visible text outside scripts, styles, nav, footers
and forms; block elements as line breaks), used only when trafilatura returns nothing (a page too short
or too odd for it) or fails.

Both paths then share the same clean-up: a title that is just the outlet, or carries it as a " | Outlet"
style prefix or suffix, is trimmed; the headline is not repeated as the first paragraph; an outlet that is
only a host name guessed from the URL is dropped. Dates are returned as found (`articles.normalize_date`
makes them YYYY-MM-DD). `decode_html` decodes the file by its BOM or `<meta charset>`, else as UTF-8.
"""

from __future__ import annotations

import codecs
import logging
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from index.errors import ArticleError

# trafilatura and htmldate log every page they give up on ("discarding data", "parsed tree length");
# here such a page simply goes to the fallback parser, so their messages would only be noise on stderr.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

# Boilerplate trafilatura's own lists do not catch (class or id, case-insensitive): polls, promos,
# membership/donation appeals, sign-up boxes, paywall notes, recommendation and trending rails.
_EXTRA_CLUTTER = ("poll", "promo", "membership", "donat", "signup", "sign-up", "paywall", "recommend",
                  "trending")
_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
PRUNE_XPATH = [
    ".//*[self::div or self::section or self::aside or self::p or self::ul or self::form][{}]".format(
        " or ".join(f"contains({_LOWER.format(attr)}, '{token}')" for token in _EXTRA_CLUTTER
                    for attr in ("@class", "@id"))
    )
]
_DATE_PARAMS = {
    # No free-text search for date expressions ("on 3 March"): dates the markup states (JSON-LD, meta,
    # <time>, date-classed elements), then the URL, then as a last resort a full date/timestamp in the text.
    "extensive_search": False,
    "original_date": True,  # datePublished over dateModified
    "deferred_url_extractor": True,  # a date in the markup wins over one read from the URL
}

# Block elements of trafilatura's output tree (everything else in it is inline: hi, ref, del, lb...).
_BLOCK_TAGS = frozenset({"p", "head", "list", "quote", "table", "code", "pre", "div", "item", "row", "cell"})


# ---------------------------------------------------------------------------------------- charset

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*>")
_NOT_PAGE_ENCODINGS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7",
                                 "undefined"})


def decode_html(data: bytes) -> str:
    """Decode a page by its BOM or `<meta charset>` (either form), else as UTF-8; raise ArticleError.

    As browsers do, ISO-8859-1 and ASCII labels mean windows-1252, and a UTF-16 label in the markup
    means UTF-8 (the file itself could not be read to find it otherwise).
    """
    encoding = "utf-8"
    match = None if data.startswith(codecs.BOM_UTF8) else _META_CHARSET.search(data[:4096])
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if match:
        try:
            info = codecs.lookup(match[1].decode("ascii"))
            # Not transforms (rot13, base64, zlib...) nor codecs no page is written in (idna, escapes).
            ok = getattr(info, "_is_text_encoding", True) and info.name not in _NOT_PAGE_ENCODINGS
            encoding = info.name if ok else "utf-8"
        except LookupError:
            encoding = "utf-8"
        if encoding in {"latin-1", "iso8859-1", "ascii"}:
            encoding = "cp1252"
        elif encoding.startswith(("utf-16", "utf-32")):
            encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "cp1252":  # its five undefined bytes: read them as Latin-1 (C1 controls)
            return data.decode("latin-1")
        label = "UTF-8" if encoding == "utf-8" else encoding
        raise ArticleError(f"file is not valid {label} (byte {exc.start})") from exc


# ---------------------------------------------------------------------------------------- fallback


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
        self._pre_depth = 0
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
        elif tag == "pre":
            self._pre_depth += 1
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
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if self._skip_depth:
            return
        if self._in_h1:
            self.h1_parts.append(data)
        # A line break in the source is a space, except in <pre> (a <p> wrapped over lines is one line).
        self.parts.append(data if self._pre_depth else data.replace("\n", " "))


def legacy_html_to_text(raw: str) -> tuple[list[str], dict[str, str]]:
    """The hand-written reader: every visible line outside scripts, styles, nav, footers and forms, and
    the <title> (else og:title, else <h1>), og:url, og:site_name and article:published_time/date."""
    parser = _HTMLText()
    try:
        parser.feed(raw)
        parser.close()
    except (AssertionError, ValueError, IndexError):  # html.parser on broken markup such as "<![x"
        pass  # keep what was read up to there
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    m = parser.meta
    meta = {
        "title": " ".join("".join(parser.title_parts).split()) or m.get("og:title", "")
        or " ".join("".join(parser.h1_parts).split()),
        "url": m.get("og:url", ""),
        "source": m.get("og:site_name", ""),
        "published_at": m.get("article:published_time", "") or m.get("date", ""),
    }
    return [line for line in lines if line], meta


# ---------------------------------------------------------------------------------------- trafilatura


def _pieces(node: Any, skip: frozenset[str] = frozenset()) -> list[tuple[str, bool]]:
    """The inline content of `node` (not its tail) as (text, inside a link) pieces; <lb/> is "\n".
    Children tagged as in `skip` are left out (their tails are kept)."""
    out: list[tuple[str, bool]] = []

    def walk(elem: Any, in_link: bool) -> None:
        in_link = in_link or elem.tag == "ref"
        out.append((elem.text or "", in_link))
        for child in elem:
            if child.tag == "lb":
                out.append(("\n", False))
            elif child.tag != "graphic" and child.tag not in skip:
                walk(child, in_link)
            out.append((child.tail or "", in_link))

    walk(node, False)
    return out


def _run_text(pieces: list[tuple[str, bool]]) -> str:
    """Text of an inline run, whitespace collapsed within each line; "" for a run of nothing but links
    and separators ("Email this story | Print this story"), which is navigation, not story."""
    plain = "".join(text for text, in_link in pieces if not in_link)
    linked = "".join(text for text, in_link in pieces if in_link)
    if re.search(r"\w", linked) and not re.search(r"\w", plain):
        return ""
    lines = [" ".join(line.split()) for line in "".join(text for text, _ in pieces).split("\n")]
    return "\n".join(line for line in lines if line)


def _cell_text(cell: Any) -> str:
    return " ".join(" ".join(cell.itertext()).split())


def _blocks(elem: Any) -> list[str]:
    """Paragraphs of one block of trafilatura's output tree (a list or a data table is one paragraph
    with an item or a row per line)."""
    tag = elem.tag
    if tag == "list":
        lines: list[str] = []
        for item in elem.iter("item"):  # nested lists' items come next, each on its own line
            text = _run_text(_pieces(item, skip=frozenset({"list"}))).replace("\n", " ")
            if text:
                lines.append(text)
        return ["\n".join(lines)] if lines else []
    if tag == "table":
        cells = list(elem.iter("cell"))
        if any(child.tag in _BLOCK_TAGS for cell in cells for child in cell):
            # A layout table (its cells hold paragraphs): the story is the cell with the most text.
            return _children_blocks(max(cells, key=lambda c: len(_cell_text(c))))
        rows = [" | ".join(t for t in (_cell_text(c) for c in row.iter("cell")) if t) for row in elem.iter("row")]
        rows = [row for row in rows if row]
        return ["\n".join(rows)] if rows else []
    if tag in {"code", "pre"}:
        text = "".join(elem.itertext()).strip("\n")
        return [text] if text.strip() else []
    if any(child.tag in _BLOCK_TAGS for child in elem):
        return _children_blocks(elem)
    text = _run_text(_pieces(elem))
    return [text] if text else []


def _children_blocks(elem: Any) -> list[str]:
    """Blocks of an element whose children are blocks; inline content between them is a block too."""
    out: list[str] = []
    run: list[tuple[str, bool]] = [(elem.text or "", False)]

    def flush() -> None:
        text = _run_text(run)
        if text:
            out.append(text)
        run.clear()

    for child in elem:
        if child.tag in _BLOCK_TAGS:
            flush()
            out.extend(_blocks(child))
        elif child.tag == "lb":
            run.append(("\n", False))
        elif child.tag != "graphic":
            run.extend(_pieces(child))
        run.append((child.tail or "", False))
    flush()
    return out


def _open_post_lists(tree: Any) -> None:
    """Two or more sibling <article>s that hold paragraphs are one story's posts (a live blog, a
    timeline): make them <div>s, or trafilatura reads only the first <article> of the page."""
    for parent in {article.getparent() for article in tree.iter("article")}:
        if parent is None:
            continue
        posts = [child for child in parent if child.tag == "article" and child.find(".//p") is not None]
        if len(posts) >= 2:
            for post in posts:
                post.tag = "div"


def _trafilatura(raw: str) -> tuple[list[str], dict[str, str]] | None:
    """Main text blocks and metadata by trafilatura, or None when it finds no text (or fails)."""
    from trafilatura import bare_extraction, load_html

    try:
        tree = load_html(_XML_DECLARATION.sub("", raw))  # lxml refuses a str that names its encoding
        if tree is None:
            return None
        _open_post_lists(tree)
        doc = bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=True,  # only to spot link-only paragraphs; the text keeps the link words
            include_formatting=False,
            favor_precision=True,  # on short pages its recall fallback dumps the whole body, menus included
            deduplicate=False,
            date_extraction_params=_DATE_PARAMS,
            prune_xpath=PRUNE_XPATH,
        )
    except Exception:  # noqa: BLE001 - any failure of the extractor means "use the fallback"
        return None
    if doc is None or doc.body is None:
        return None
    blocks = [block for block in _children_blocks(doc.body) if block.strip()]
    if not blocks:
        return None
    meta = {
        "title": doc.title or "",
        "url": doc.url or "",
        "source": doc.sitename or "",
        "published_at": doc.date or "",
    }
    return blocks, {k: " ".join(str(v).split()) for k, v in meta.items()}


# ---------------------------------------------------------------------------------------- shared


def _page_title(raw: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", raw[:200_000], re.IGNORECASE | re.DOTALL)
    if not match:
        return ""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match[1])).split())


def _strip_outlet(title: str, outlet: str) -> str:
    """"Outlet: Headline" / "Headline | Outlet" -> "Headline"; the title itself when it is not so."""
    if not outlet or not title:
        return title
    name, sep = re.escape(outlet), r"\s*[|:\u2013\u2014\u00b7\u2022/-]\s*"
    match = re.fullmatch(f"{name}{sep}(.+)", title, re.IGNORECASE) or re.fullmatch(
        f"(.+?){sep}{name}", title, re.IGNORECASE)
    return match[1].strip() if match and re.search(r"\w", match[1]) else title


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", s.lower()).split())

    return bool(a) and norm(a) == norm(b)


def html_to_text(raw: str) -> tuple[str, dict[str, str]]:
    """Readable text of a news page and its metadata (title, url, source, published_at).

    trafilatura first; the hand-written parser only when it returns nothing. Paragraphs are separated
    by a blank line. Metadata values are "" when the page does not state them.
    """
    extracted = _trafilatura(raw)
    blocks, meta = extracted if extracted is not None else legacy_html_to_text(raw)
    source = meta["source"]
    if re.fullmatch(r"(?:www\.)?[\w-]+(?:\.[\w-]+)+", source):
        source = ""  # a host name guessed from the URL, not a name the page gives itself
    title = meta["title"]
    if source and (not title or _same(title, source)):
        title = _page_title(raw) if not _same(_page_title(raw), source) else ""
        if not title:
            title = next((b for b in blocks[:3] if len(b.split()) >= 4 and "\n" not in b), "")
    title = _strip_outlet(title[:2000], source)
    if len(blocks) > 1 and _same(blocks[0], title):
        blocks = blocks[1:]  # the headline is the title, not the first paragraph
    meta = {**meta, "title": title, "source": source}
    return "\n\n".join(blocks), meta
