"""Safe HTML for the browser: chat messages, answers with clickable markers, and source cards.

Owns how an `Answer` looks in the page. Every piece of article or user text goes through `inert()` (HTML
escaping plus numeric entities for Markdown/LaTeX syntax characters, because chat messages pass through
Gradio's Markdown renderer), so titles, passages, URLs and questions always show as plain characters. Only
http(s) URLs become links. Markers `[n]` link to the card of their source (`src-<turn>-<n>`); a small
script (`CLICK_SCRIPT`) brings the card into view. It does not call the assistant nor import Gradio.

Over 300 lines because every piece of HTML the page shows is made here, so that escaping (`inert()`) is
reviewed in one file; each function renders one piece.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from assistant.types import Answer, Citation, StoredChunk

# Characters that Markdown, GFM autolinks or LaTeX could read as syntax, plus HTML's own.
_SYNTAX = frozenset("\\`*_{}[]()#+-.!|~$:/<>&=^@")
_MARKER = re.compile(r"\[(\d{1,3})\]")


def inert(text: str) -> str:
    """Text that renders as exactly its characters in HTML and in Markdown (no tags, links or math)."""
    return "".join(f"&#{ord(ch)};" if ch in _SYNTAX else ch for ch in text)


def safe_url(url: str) -> str | None:
    """The URL if it is a plain http(s) address with a host, else None (never a link for anything else)."""
    url = url.strip()
    if not url or any(ord(ch) < 33 or ch in "<>\"'`\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def card_id(turn: int, n: int) -> str:
    """The anchor of citation [n] of a turn: its highlighted quote inside its article's card."""
    return f"src-{turn}-{n}"


Uploads = Mapping[str, str]  # article id -> when it was uploaded (ISO), for uploads (see web.library)


_BARE_HOST = re.compile(r"(?:www\d*\.)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})\.?", re.IGNORECASE)


def outlet_name(source: str) -> str:
    """An outlet as shown: a bare host name loses its "www." ("www.usatoday.com" -> "usatoday.com"), since
    the domain is all that is known of it; a name ("USA Today", "The Fennick Gazette") is shown as it is.
    No outlet name is ever made up from a host."""
    found = _BARE_HOST.fullmatch(source.strip())
    return found[1] if found else source


def meta_of(citation: Citation, uploads: Uploads | None = None) -> tuple[str, str]:
    """(outlet, date) as shown: an upload without them says "uploaded file" and gives its upload day."""
    source, date = outlet_name(citation.source), citation.published_at
    uploaded = (uploads or {}).get(citation.article_id, "")
    if uploaded and not source:
        source = "uploaded file"
    if uploaded and not date:
        date = f"uploaded {uploaded[:10]}" if citation.source else uploaded[:10]
    return source, date


def _marker(turn: int, n: int, citation: Citation | None = None, uploads: Uploads | None = None) -> str:
    """A pill `[n]` that links to its quote; hovering or focusing it shows the outlet and date (a child span:
    the chat's sanitizer keeps classes and links but drops data- and aria- attributes)."""
    tip = " \u00b7 ".join(x for x in meta_of(citation, uploads) if x) if citation else ""
    tip_html = f'<span class="tip">{inert(tip)}</span>' if tip else ""
    return (f'<a class="cite-marker" href="#{card_id(turn, n)}"><span class="br">&#91;</span>{n}'
            f'<span class="br">&#93;</span>{tip_html}</a>')


def user_message(question: str) -> str:
    return inert(question)


_WORD_RUN = re.compile(r"\S+\s*")


def word_count(text: str) -> int:
    return len(_WORD_RUN.findall(text))


def answer_message(answer: Answer, turn: int, *, final: bool = True, uploads: Uploads | None = None,
                   words: int | None = None) -> str:
    """The assistant's chat message: answer text with linked markers, or a plain abstention.

    A final answer with a short answer (a name, number, date...) leads with it in bold and its marker [1],
    the sentence(s) follow on the next line; an answer whose question named a period ("this week") ends
    with a muted line saying which articles it drew on. While streaming (`final=False`) there is no short
    answer yet. `words` shows a final answer being revealed: the short answer, then only the first `words`
    words of the sentences, without the lines that follow them."""
    if not answer.answer and not final:
        return '<span class="thinking">Searching the articles&#8230;</span>'
    text = answer.answer
    if words is not None:
        text = "".join(_WORD_RUN.findall(text)[:words]).rstrip()
    if answer.abstained and not answer.citations:
        body = f'<span class="abstained">{inert(text)}</span>'
    else:  # an abstention that quotes the closest passage cites it like an answer does
        cited = {c.n: c for c in answer.citations}
        parts: list[str] = []
        last = 0
        for match in _MARKER.finditer(text):
            n = int(match[1])
            parts.append(inert(text[last : match.start()]))
            parts.append(_marker(turn, n, cited.get(n), uploads) if (n in cited or not final) else inert(match[0]))
            last = match.end()
        parts.append(inert(text[last:]))
        body = "".join(parts)
        if final and words is not None:
            body += '<span class="typing" aria-hidden="true"></span>'
        if final and words is None:
            body = _mark_unverified(body, answer)
        if final and answer.short_answer:  # its marker is always [1]: the first cited sentence holds it
            marker = _marker(turn, 1, cited[1], uploads) if 1 in cited else inert("[1]")
            body = (f'<span class="short-answer"><strong>{inert(answer.short_answer)}</strong> {marker}'
                    f"</span><br>{body}")
    if final and answer.notice:  # e.g. the LLM failed and this is the extractive answer
        body = f'<span class="llm-notice">{inert(answer.notice)}</span><br>{body}'
    if words is not None:
        return body
    if answer.window is not None:  # the question's time expression ("this week") became this window
        body += f'<br><span class="window-note">Articles published {inert(answer.window.label())}</span>'
    if answer.standalone_question:
        body += f'<br><span class="standalone">Understood as: {inert(answer.standalone_question)}</span>'
    return body


_PRESET_DAYS = {"today": (0, 0), "a week ago": (7, 0), "a month ago": (0, 1)}


def as_of_tools(presets: Sequence[tuple[str, str]]) -> str:
    """Buttons beside the As-of box: presets (today, a week ago, a month ago) and a calendar; the page's
    script writes the day they give into the box, as if typed (see CLICK_SCRIPT)."""
    buttons = []
    for label, value in presets:
        days, months = _PRESET_DAYS.get(value, (0, 0))
        buttons.append(f'<button type="button" class="as-of-preset" data-days="{days}" data-months="{months}">'
                       f"{html.escape(label)}</button>")
    buttons.append('<button type="button" class="pick-day" title="Pick the as-of day on a calendar">Pick a day'
                   '&#8230;</button><input type="date" tabindex="-1" aria-hidden="true">')
    return f'<div class="as-of-tools">{"".join(buttons)}</div>'


def empty_chat(summary: str = "", note: str = "", *, failed: bool = False, examples: bool = True) -> str:
    """What an empty chat shows above the example questions: what the index holds, in one line, and the
    "getting ready" note while the first question cannot be answered yet (inside the chat, so the page does
    not move when it goes)."""
    parts = ['<div class="empty-chat">']
    if summary:
        parts.append(f'<p class="corpus-summary">{inert(summary)}</p>')
    hint = "Ask a question about the news articles" + (", or pick an example." if examples else ".")
    parts.append(f'<p class="empty-hint">{hint}</p>')
    if note:
        kind = "ready-note failed" if failed else "ready-note"
        parts.append(f'<div id="ready-note" class="{kind}" role="status">{inert(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _mark_unverified(body: str, answer: Answer) -> str:
    """Flag the sentences of a generated answer that no retrieved passage supports (assistant.answering.verify)."""
    for sentence in answer.sentences:
        if sentence.verified:
            continue
        escaped = inert(sentence.text)
        body = body.replace(escaped, '<span class="unverified" title="No retrieved passage supports this '
                                     f'sentence">{escaped} <sup>(unverified)</sup></span>', 1)
    return body


def _quote_span(text: str, base: int, citation: Citation) -> tuple[int, int]:
    """Where the quote sits in `text` (which starts at article offset `base`): its offsets when they match,
    else the first place the quote occurs, else (0, 0)."""
    start, end = citation.start - base, citation.end - base
    if 0 <= start < end <= len(text) and text[start:end] == citation.quote:
        return start, end
    found = text.find(citation.quote) if citation.quote else -1
    return (found, found + len(citation.quote)) if found >= 0 else (0, 0)


def _highlight(text: str, base: int, citations: Sequence[Citation], turn: int, *, anchors: bool) -> str:
    """`text` escaped, each citation's quote inside <mark> (with its anchor id when `anchors`)."""
    spans = sorted((span, c) for c in citations if (span := _quote_span(text, base, c))[1] > span[0])
    out, last = [], 0
    esc = html.escape
    for (start, end), c in spans:
        if start < last:  # overlaps the previous quote: already highlighted
            continue
        anchor = f' id="{card_id(turn, c.n)}"' if anchors else ""
        out.append(f'{esc(text[last:start])}<mark{anchor} data-quote="{turn}-{c.n}">{esc(text[start:end])}</mark>')
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def highlighted_passage(citation: Citation) -> str:
    """The cited passage, HTML-escaped, with the quoted sentence(s) inside <mark>."""
    start, end = _quote_span(citation.text, citation.passage_start, citation)
    esc = html.escape
    if end <= start:
        return esc(citation.text)
    return f"{esc(citation.text[:start])}<mark>{esc(citation.text[start:end])}</mark>{esc(citation.text[end:])}"


def _excerpts(citations: Sequence[Citation], chunks: Mapping[str, StoredChunk]) -> list[tuple[list[Citation], str, int]]:
    """The article's cited passages in reading order as (citations, text, article offset of the text):
    excerpts of one chunk that overlap or touch are merged into one, quotes and all."""
    groups: list[tuple[list[Citation], int, int]] = []
    for c in sorted(citations, key=lambda c: (c.passage_start, c.n)):
        if groups and c.chunk_id and c.chunk_id in chunks and groups[-1][0][-1].chunk_id == c.chunk_id \
                and c.passage_start <= groups[-1][2]:
            cites, lo, hi = groups[-1]
            groups[-1] = ([*cites, c], lo, max(hi, c.passage_end))
        else:
            groups.append(([c], c.passage_start, c.passage_end))
    out = []
    for cites, lo, hi in groups:
        chunk = chunks.get(cites[0].chunk_id)
        if len(cites) > 1 and chunk is not None:
            out.append((cites, chunk.text[lo - chunk.start: hi - chunk.start], lo))
        else:
            out.append((cites, cites[0].text, cites[0].passage_start))
    return out


def _also_published_by(citation: Citation) -> str:
    """Hook for grouped articles (the same story from several outlets): a citation (or its article metadata)
    may carry `also_published_by` (or `group`), a list of outlet names or {"source", "url"} records."""
    others = getattr(citation, "also_published_by", None) or getattr(citation, "group", None) or ()
    names = []
    for item in others:
        name = outlet_name((item.get("source") or item.get("title") or "") if isinstance(item, dict) else str(item))
        url = safe_url(item.get("url", "")) if isinstance(item, dict) else None
        if not name or name == outlet_name(citation.source):
            continue
        names.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer nofollow">'
                     f"{html.escape(name)}</a>" if url else html.escape(name))
    return f'<div class="card-also">Also published by {", ".join(names)}</div>' if names else ""


def article_card(citations: Sequence[Citation], turn: int, *, chunks: Mapping[str, StoredChunk] | None = None,
                 uploads: Uploads | None = None) -> str:
    """One card for one article: title (linked when http/https), outlet, date, link, then each cited passage
    trimmed to its quote and a sentence around it, with a toggle to show the whole passage."""
    esc = html.escape
    chunks = chunks or {}
    first = min(citations, key=lambda c: c.n)
    title = esc(first.title or first.article_id)
    url = safe_url(first.url)
    if url:
        head = (f'<a class="card-title" href="{esc(url, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{title}</a>')
    else:
        head = f'<span class="card-title">{title}</span>'
    meta = " &#183; ".join(esc(x) for x in meta_of(first, uploads) if x)
    if url:
        link = f'<div class="card-url">{esc(url)}</div>'
    elif first.url:
        link = f'<div class="card-url unsafe">not a web link: <code>{esc(first.url)}</code></div>'
    else:
        link = ""
    numbers = "".join(f'<span class="card-n">{c.n}</span>' for c in sorted(citations, key=lambda c: c.n))
    passages = []
    for cites, text, base in _excerpts(citations, chunks):
        excerpt = _highlight(text, base, cites, turn, anchors=True)
        chunk = chunks.get(cites[0].chunk_id)
        whole = ""
        if chunk is not None and len(chunk.text.strip()) > len(text.strip()):
            full = _highlight(chunk.text, chunk.start, cites, turn, anchors=False)
            whole = ('<details class="whole"><summary><span class="more">Show the whole passage</span>'
                     f'<span class="less">Show only the quote</span></summary><div class="passage-full">{full}</div>'
                     "</details>")
        ns = " ".join(str(c.n) for c in cites)
        passages.append(f'<div class="cited" data-n="{ns}"><div class="excerpt">{excerpt}</div>{whole}</div>')
    return (
        f'<article class="source-card" id="card-{turn}-{first.n}" data-article="{esc(first.article_id, quote=True)}">'
        f'<div class="card-head"><span class="card-ns">{numbers}</span> {head}</div>'
        f'<div class="card-meta">{meta}</div>{link}{_also_published_by(first)}'
        f'{"".join(passages)}'
        f"</article>"
    )


def source_card(citation: Citation, turn: int, *, uploads: Uploads | None = None) -> str:
    """The card of a single citation (an article cited once)."""
    return article_card([citation], turn, uploads=uploads)


def article_groups(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, in order of each article's first marker."""
    groups: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        groups.setdefault(c.article_id, []).append(c)
    return list(groups.values())


def _turn_sources(answer: Answer, turn: int, uploads: Uploads | None) -> str:
    if answer.abstained and not answer.citations:
        return '<p class="no-sources">No sources: the articles do not answer this question.</p>'
    if not answer.citations:
        return '<p class="no-sources">Looking for sources&#8230;</p>'
    chunks = {p.chunk.chunk_id: p.chunk for p in answer.passages}
    return "".join(article_card(group, turn, chunks=chunks, uploads=uploads)
                   for group in article_groups(answer.citations))


def sources_panel(answers: Sequence[Answer], *, pending: Answer | None = None, uploads: Uploads | None = None) -> str:
    """Sources of the latest answer on top, earlier answers' sources folded below (newest first).

    `answers[i]` is turn i + 1; `pending` is an answer still streaming (shown as the latest turn).
    """
    turns = list(enumerate(answers, start=1))
    if pending is not None:
        turns.append((len(answers) + 1, pending))
    if not turns:
        return ('<div class="sources-panel"><p class="no-sources">Sources of each answer appear here. '
                "Click a marker such as [1] to bring its source into view.</p></div>")
    parts = ['<div class="sources-panel">']
    latest_turn, latest = turns[-1]
    parts.append(f'<section class="turn-sources" data-turn="{latest_turn}">'
                 f'<h3 class="turn-q">{html.escape(latest.question)}</h3>'
                 f"{_turn_sources(latest, latest_turn, uploads)}</section>")
    for turn, answer in reversed(turns[:-1]):
        parts.append(f'<details class="turn-sources" data-turn="{turn}"><summary>{html.escape(answer.question)}'
                     f"</summary>{_turn_sources(answer, turn, uploads)}</details>")
    parts.append("</div>")
    return "".join(parts)


CSS = """
.cite-marker { display: inline-block; position: relative; min-width: 1.35em; padding: 0 0.4em; margin: 0 1px;
  border-radius: 999px; background: #dbeafe; color: #1e40af !important; font-size: 0.78em; font-weight: 700;
  line-height: 1.55; text-align: center; text-decoration: none !important; vertical-align: 0.12em; cursor: pointer; }
.cite-marker:hover { background: #bfdbfe; }
.cite-marker:focus-visible { outline: 2px solid #2563eb; outline-offset: 1px; }
.cite-marker .br { font-size: 0; }
.cite-marker .tip { display: none; }
.cite-marker:hover .tip, .cite-marker:focus-visible .tip { display: block;
  position: absolute; left: 50%; bottom: calc(100% + 4px); transform: translateX(-50%); z-index: 30;
  white-space: nowrap; padding: 2px 8px; border-radius: 6px; background: #1f2937; color: #f9fafb;
  font-size: 12px; font-weight: 500; line-height: 1.5; pointer-events: none; }
.dark .cite-marker { background: #1e3a8a; color: #dbeafe !important; }
#chat .message-wrap, #chat .bubble-wrap { overflow: visible; }
.standalone { font-size: 0.85em; opacity: 0.7; font-style: italic; }
.abstained { font-style: italic; }
.short-answer strong { font-size: 1.05em; }
.window-note { font-size: 0.85em; opacity: 0.7; }
.chat-error { color: #b91c1c; }
#ready-note .ready-note { padding: 0.5em 0.8em; border-radius: 8px; background: #fef3c7; color: #78350f;
  border: 1px solid #fcd34d; font-size: 0.9em; }
#sources-col { position: sticky; top: 8px; align-self: flex-start; }
.sources-panel { max-height: calc(100vh - 170px); min-height: 200px; overflow-y: auto; overscroll-behavior: contain;
  scroll-behavior: smooth; padding-right: 4px; }
.sources-panel h3.turn-q { font-size: 0.95em; margin: 0 0 0.5em 0; }
.sources-panel details.turn-sources > summary { cursor: pointer; font-size: 0.9em; opacity: 0.8; margin: 0.5em 0; }
.source-card { border: 1px solid var(--border-color-primary, #ddd); border-radius: 8px; padding: 0.6em 0.8em;
  margin-bottom: 0.6em; transition: box-shadow 0.3s, border-color 0.3s; scroll-margin-top: 8px; }
.source-card.flash { border-color: #2563eb; box-shadow: 0 0 0 3px rgba(37, 99, 235, 0.3); }
.source-card .card-ns { display: inline-flex; gap: 3px; margin-right: 4px; vertical-align: 0.1em; }
.source-card .card-n { display: inline-block; min-width: 1.35em; padding: 0 0.35em; border-radius: 999px;
  background: #dbeafe; color: #1e40af; font-size: 0.75em; font-weight: 700; text-align: center; line-height: 1.55; }
.source-card .card-title { font-weight: 600; }
.source-card .card-meta, .source-card .card-url, .source-card .card-also { font-size: 0.85em; opacity: 0.75;
  word-break: break-all; }
.source-card .card-also { word-break: normal; }
.source-card .cited { margin-top: 0.45em; }
.source-card .excerpt, .source-card .passage-full { white-space: pre-wrap; font-size: 0.9em; line-height: 1.45; }
.source-card .cited:has(> details[open]) > .excerpt { display: none; }
.source-card details.whole > summary { cursor: pointer; font-size: 0.8em; color: #1d4ed8 !important; margin-top: 0.2em;
  list-style: none; }
.source-card details.whole > summary::-webkit-details-marker { display: none; }
.source-card details.whole .less, .source-card details.whole[open] .more { display: none; }
.source-card details.whole[open] .less { display: inline; }
.source-card mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.source-card mark.pulse { animation: quote-pulse 1.6s ease-out; }
@keyframes quote-pulse { 0%, 40% { background: #f59e0b; box-shadow: 0 0 0 3px #f59e0b; }
  100% { background: #fde68a; box-shadow: 0 0 0 0 transparent; } }
.no-sources { opacity: 0.75; font-style: italic; }
.library-result { white-space: pre-wrap; font-size: 0.9em; line-height: 1.5; padding: 0.4em 0.2em; }
#source-sheet { display: none; }
#source-sheet.open { display: block; position: fixed; inset: 0; z-index: 1000; background: rgba(17, 24, 39, 0.45); }
#source-sheet .sheet-panel { position: absolute; left: 0; right: 0; bottom: 0; max-height: 78vh; overflow-y: auto;
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #111);
  border-radius: 14px 14px 0 0; padding: 0.6em 0.9em 1.2em; box-shadow: 0 -6px 24px rgba(0, 0, 0, 0.25); }
#source-sheet .sheet-back { font: inherit; font-weight: 600; color: #1d4ed8; background: none; border: 0;
  padding: 0.5em 0; cursor: pointer; }
#library-table, #library-table *, #sources-table, #sources-table * { font-family: var(--font) !important; }
@media (max-width: 768px) { #sources-col { position: static; } .sources-panel { max-height: none; } }
.empty-chat { text-align: center; padding: 0 0.5em; }
.empty-chat .corpus-summary { font-weight: 600; margin: 0 0 0.25em 0; }
.empty-chat .empty-hint { opacity: 0.75; margin: 0 0 0.6em 0; }
.ready-note { display: inline-block; padding: 0.5em 0.8em; border-radius: 8px; background: #fef3c7; color: #78350f;
  border: 1px solid #fcd34d; font-size: 0.9em; text-align: left; }
.ready-note.failed { background: #fee2e2; color: #7f1d1d; border-color: #fca5a5; }
.typing::after { content: "\\258D"; margin-left: 1px; opacity: 0.55; animation: typing-blink 0.9s steps(1) infinite; }
@keyframes typing-blink { 50% { opacity: 0; } }
#chat-note .chat-note { font-size: 0.9em; padding: 0.2em 0.3em; line-height: 1.45; }
#chat-note .chat-note.error { color: #b91c1c; }
#as-of-row { align-items: center; gap: 4px 10px; flex-wrap: wrap; }
#as-of-pick { position: relative; flex: 0 1 auto !important; min-width: 0 !important; width: auto !important;
  max-width: 100%; }
#as-of-note { font-size: 0.85em; flex: 1 1 16em !important; min-width: 0 !important; }
#as-of-note .as-of-said { opacity: 0.8; }
#as-of-note .as-of-bad { color: #b91c1c; }
.as-of-tools { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.as-of-tools button { font: inherit; font-size: var(--button-small-text-size, 0.85em); cursor: pointer;
  padding: var(--button-small-padding, 4px 10px); border-radius: var(--button-small-radius, 6px);
  border: 1px solid var(--button-secondary-border-color, #ddd); background: var(--button-secondary-background-fill, #f3f4f6);
  color: var(--button-secondary-text-color, #111); }
.as-of-tools button:hover { filter: brightness(0.96); }
#as-of-pick input[type=date] { position: absolute; left: 0; bottom: 0; width: 1px; height: 1px; opacity: 0;
  pointer-events: none; border: 0; padding: 0; }
#save-form { scroll-margin: 12px; }
#save-form .save-intro p { margin: 0.2em 0; }
#delete-confirm .confirm-text, #library-undo-note { font-size: 0.92em; }
/* Library rows: a clicked row is highlighted as a whole row, not outlined as a cell being edited */
#library-table [role=gridcell], #sources-table [role=gridcell], #library-table [role=columnheader],
#sources-table [role=columnheader] { word-break: normal !important; overflow-wrap: break-word; }
#library-table [role=gridcell], #library-table [role=gridcell] * { cursor: pointer; }
#library-table .cell-selected, #library-table .cell-selected *, #library-table [role=gridcell]:focus,
#library-table [role=gridcell]:focus-within {  /* (Gradio 6 draws the ring on the cell's text span too) */
  outline: none !important; box-shadow: none !important; border-color: transparent !important; }
#library-table .selection-button { display: none !important; }
#library-table [role=row]:has(.cell-selected) [role=gridcell] { background: #dbeafe !important; color: #1e3a8a; }
#library-table [role=row]:hover [role=gridcell] { background: #eff6ff; }
@media (max-width: 640px) {  /* on a phone the tables keep readable columns and scroll sideways */
  #library-table .table-container, #sources-table .table-container { overflow-x: auto !important; }
  #library-table .table-wrap { min-width: 640px; }
  #sources-table .table-wrap { min-width: 680px; }
  #library-table [role=columnheader], #sources-table [role=columnheader] { white-space: nowrap !important; }
  #library-files-help { font-size: 0.85em; }
}
@media (hover: none), (pointer: coarse) { .cite-marker .tip, .cite-marker:hover .tip, .cite-marker:focus-visible .tip { display: none !important; } }
"""

# Page-wide styles Gradio would scope to its container (where the toasts are not): toasts at the top left, over
# the page's title, never over the sources panel on the right.
HEAD_STYLE = """
<style>
@media (min-width: 641px) {
  .toast-wrap { right: auto !important; left: 12px !important; top: 6px !important; align-items: flex-start !important;
    width: min(26rem, 44vw) !important; }
}
</style>
"""

# Markers: clicking (or Enter on a focused marker) scrolls only the sources panel so that the card's title is
# at its top, and pulses the quote; a folded earlier turn opens first. On narrow screens the card opens in a
# bottom sheet with a "Back to the answer" button (Escape and a tap outside close it too; focus returns to
# the marker). Event delegation on the document, so it works for messages rendered after page load; no
# network, no eval. The sheet holds a copy of the card's already-escaped HTML.
CLICK_SCRIPT = """
<script>
(function () {
  var NARROW = "(max-width: 768px)";
  function pulse(root, key) {
    root.querySelectorAll('mark[data-quote="' + key + '"]').forEach(function (m) {
      m.classList.remove("pulse"); void m.offsetWidth; m.classList.add("pulse");
    });
    var card = root.classList && root.classList.contains("source-card") ? root : root.querySelector(".source-card");
    if (card) { card.classList.add("flash"); setTimeout(function () { card.classList.remove("flash"); }, 1600); }
  }
  function closeSheet() {
    var sheet = document.getElementById("source-sheet");
    if (!sheet || !sheet.classList.contains("open")) return;
    sheet.classList.remove("open");
    if (sheet._marker && sheet._marker.isConnected) sheet._marker.focus({preventScroll: true});
  }
  function sheetFor(card, key, marker) {
    var sheet = document.getElementById("source-sheet");
    if (!sheet) {
      sheet = document.createElement("div");
      sheet.id = "source-sheet";
      sheet.innerHTML = '<div class="sheet-panel" role="dialog" aria-modal="true" aria-label="Source">' +
        '<button type="button" class="sheet-back">\\u2190 Back to the answer</button><div class="sheet-body"></div></div>';
      document.body.appendChild(sheet);
      sheet.querySelector(".sheet-back").addEventListener("click", closeSheet);
      sheet.addEventListener("click", function (e) { if (e.target === sheet) closeSheet(); });
    }
    var copy = card.cloneNode(true);
    copy.removeAttribute("id");
    copy.querySelectorAll("[id]").forEach(function (e) { e.removeAttribute("id"); });
    var body = sheet.querySelector(".sheet-body");
    body.innerHTML = "";
    body.appendChild(copy);
    sheet._marker = marker;
    sheet.classList.add("open");
    sheet.querySelector(".sheet-panel").scrollTop = 0;
    sheet.querySelector(".sheet-back").focus({preventScroll: true});
    pulse(copy, key);
  }
  function openSource(marker) {
    var id = (marker.getAttribute("href") || "").replace(/^#/, "");
    var quote = document.getElementById(id);
    if (!quote) return;
    var key = id.replace(/^src-/, "");
    var card = quote.closest(".source-card");
    var folded = card.closest("details.turn-sources");
    if (folded) folded.open = true;
    if (window.matchMedia(NARROW).matches) { sheetFor(card, key, marker); return; }
    var panel = card.closest(".sources-panel");
    if (panel) {
      var top = card.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop - 8;
      panel.scrollTo({top: Math.max(0, top), behavior: "smooth"});
    }
    pulse(card, key);
  }
  document.addEventListener("click", function (event) {
    var marker = event.target && event.target.closest ? event.target.closest("a.cite-marker") : null;
    if (!marker) return;
    event.preventDefault();
    event.stopPropagation();
    openSource(marker);
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeSheet();
  });

  // A marker's tip stays inside the window (a marker near the left edge shifts its tip right).
  function placeTip(event) {
    var marker = event.target && event.target.closest ? event.target.closest("a.cite-marker") : null;
    var tip = marker && marker.querySelector(".tip");
    if (!tip) return;
    tip.style.transform = "";
    requestAnimationFrame(function () {
      var r = tip.getBoundingClientRect();
      if (!r.width) return;
      var shift = r.left < 6 ? 6 - r.left : (r.right > window.innerWidth - 6 ? window.innerWidth - 6 - r.right : 0);
      if (shift) tip.style.transform = "translateX(calc(-50% + " + Math.round(shift) + "px))";
    });
  }
  document.addEventListener("mouseover", placeTip, true);
  document.addEventListener("focusin", placeTip, true);

  // Follow the conversation: each new answer is scrolled into view as it streams (its first line stays in
  // view; as it grows, its end is shown too), unless the reader scrolled up meanwhile. Scrolls the chat's
  // own box, and the page only when the answer's top is outside the window.
  var follow = {users: -1, off: false, ours: 0, pending: false};
  function chatBox() {
    var chat = document.getElementById("chat");
    var el = chat && (chat.querySelector("[role=log]") || chat.querySelector(".bubble-wrap"));
    for (var e = el; e; e = e.parentElement) {  // the chat block itself scrolls in Gradio 6
      var style = getComputedStyle(e);
      if (/(auto|scroll)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 1) return e;
      if (e === chat) break;
    }
    return chat;
  }
  function followAnswer() {
    follow.pending = false;
    var chat = document.getElementById("chat");
    if (!chat) return;
    var users = chat.querySelectorAll("[data-testid=user]");
    var bots = chat.querySelectorAll("[data-testid=bot]");
    var fresh = users.length !== follow.users;
    if (fresh) { follow.users = users.length; follow.off = false; }
    if (follow.off || !bots.length || !users.length) return;
    var user = users[users.length - 1], bot = bots[bots.length - 1];
    if (user.compareDocumentPosition(bot) & Node.DOCUMENT_POSITION_PRECEDING) bot = null;  // no answer yet
    var box = chatBox();
    if (!box) return;
    var b = box.getBoundingClientRect();
    var last = bot || user;
    var qTop = user.getBoundingClientRect().top - b.top + box.scrollTop;
    var aTop = last.getBoundingClientRect().top - b.top + box.scrollTop;
    var end = last.getBoundingClientRect().bottom - b.top + box.scrollTop;
    var anchor = (end - qTop + 24 <= box.clientHeight) ? qTop : aTop;  // the question too, when it fits
    var target = Math.min(anchor - 12, Math.max(box.scrollTop, end - box.clientHeight + 12));
    if (Math.abs(box.scrollTop - target) > 2) { follow.ours = Date.now(); box.scrollTop = Math.max(0, target); }
    if (fresh || bot) {
      var top = last.getBoundingClientRect().top;
      if (top < 4 || top > window.innerHeight - 48) {
        follow.ours = Date.now();
        window.scrollBy(0, top - Math.max(12, Math.min(window.innerHeight * 0.25, 160)));
      }
    }
  }
  function stopFollowing(event) {
    var chat = document.getElementById("chat");
    if (!chat || !chat.contains(event.target)) return;
    if (event.type === "wheel" && event.deltaY >= 0) return;
    if (event.type === "keydown" && ["PageUp", "ArrowUp", "Home"].indexOf(event.key) < 0) return;
    follow.off = true;
  }
  document.addEventListener("wheel", stopFollowing, {passive: true, capture: true});
  document.addEventListener("touchmove", stopFollowing, {passive: true, capture: true});
  document.addEventListener("keydown", stopFollowing, true);
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var t = records[i].target;
      var el = t.nodeType === 1 ? t : t.parentElement;
      if (el && el.closest && el.closest("#chat")) {
        if (!follow.pending) { follow.pending = true; requestAnimationFrame(followAnswer); }
        return;
      }
    }
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true});

  // The question box gets the focus on a wide screen without scrolling the page (on a phone, focusing it
  // would scroll past the title and open the keyboard).
  var focusTries = 0;
  (function focusQuestion() {
    var box = document.querySelector("#question textarea, #question input");
    if (!box) { if (focusTries++ < 100) setTimeout(focusQuestion, 100); return; }
    if (!window.matchMedia(NARROW).matches && !document.activeElement.closest("input, textarea")) {
      box.focus({preventScroll: true});
    }
  })();

  // The As-of box: presets and the native date picker write into it like typing does.
  function setAsOf(value) {
    var box = document.querySelector("#as-of textarea, #as-of input");
    if (!box) return;
    box.value = value;
    box.dispatchEvent(new Event("input", {bubbles: true}));
    box.dispatchEvent(new Event("change", {bubbles: true}));
    box.dispatchEvent(new Event("blur", {bubbles: true}));
  }
  function isoDay(d) {
    var m = d.getMonth() + 1, day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }
  document.addEventListener("click", function (event) {
    var preset = event.target && event.target.closest ? event.target.closest(".as-of-tools .as-of-preset") : null;
    if (preset) {
      setAsOf(window.newsAssistant.daysAgo(+preset.dataset.days || 0, +preset.dataset.months || 0));
      return;
    }
    var pick = event.target && event.target.closest ? event.target.closest(".as-of-tools .pick-day") : null;
    if (!pick) return;
    var input = pick.parentElement.querySelector("input[type=date]");
    var current = (document.querySelector("#as-of textarea, #as-of input") || {}).value || "";
    if (/^\\d{4}-\\d\\d-\\d\\d$/.test(current)) input.value = current;
    try { input.showPicker(); } catch (e) { input.style.pointerEvents = "auto"; input.focus(); input.click(); }
  });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("#as-of-pick input[type=date]") && input.value) setAsOf(input.value);
  });
  window.newsAssistant = {
    daysAgo: function (days, months) {
      var d = new Date();
      if (months) d.setMonth(d.getMonth() - months); else d.setDate(d.getDate() - days);
      return isoDay(d);
    },
    showSaveForm: function () {  // after 👎 or "Save as test question": the form, in view, its answer field focused
      var tries = 0;
      (function look() {
        var form = Array.prototype.find.call(document.querySelectorAll("#save-form"),
                                             function (f) { return f.offsetParent !== null; });
        if (!form) { if (tries++ < 40) setTimeout(look, 50); return; }
        form.scrollIntoView({block: "nearest", behavior: "smooth"});
        var answer = form.querySelector("#save-answer textarea, #save-answer input");
        if (answer) answer.focus({preventScroll: true});
      })();
    }
  };
})();
</script>
"""
