"""Safe HTML for the browser: chat messages, answers with clickable markers, and source cards.

Owns how an `Answer` looks in the page. Every piece of article or user text goes through `inert()` (HTML
escaping plus numeric entities for Markdown/LaTeX syntax characters, because chat messages pass through
Gradio's Markdown renderer), so titles, passages, URLs and questions always show as plain characters. Only
http(s) URLs become links. Markers `[n]` link to the card of their source (`src-<turn>-<n>`); a small
script (`CLICK_SCRIPT`) brings the card into view. It does not call the assistant nor import Gradio.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from assistant.types import Answer, Citation

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
    return f"src-{turn}-{n}"


def _marker(turn: int, n: int) -> str:
    target = card_id(turn, n)
    return f'<a class="cite-marker" href="#{target}" title="Show source {n}">&#91;{n}&#93;</a>'


def user_message(question: str) -> str:
    return inert(question)


def answer_message(answer: Answer, turn: int, *, final: bool = True) -> str:
    """The assistant's chat message: answer text with linked markers, or a plain abstention.

    A final answer with a short answer (a name, number, date...) leads with it in bold and its marker [1],
    the sentence(s) follow on the next line; an answer whose question named a period ("this week") ends
    with a muted line saying which articles it drew on. While streaming (`final=False`) there is no short
    answer yet."""
    if not answer.answer and not final:
        return '<span class="thinking">Searching the articles&#8230;</span>'
    if answer.abstained:
        body = f'<span class="abstained">{inert(answer.answer)}</span>'
    else:
        cited = {c.n for c in answer.citations}
        parts: list[str] = []
        last = 0
        for match in _MARKER.finditer(answer.answer):
            n = int(match[1])
            parts.append(inert(answer.answer[last : match.start()]))
            parts.append(_marker(turn, n) if (n in cited or not final) else inert(match[0]))
            last = match.end()
        parts.append(inert(answer.answer[last:]))
        body = "".join(parts)
        if final:
            body = _mark_unverified(body, answer)
            if answer.short_answer:  # its marker is always [1]: the first cited sentence holds it
                marker = _marker(turn, 1) if 1 in cited else inert("[1]")
                body = (f'<span class="short-answer"><strong>{inert(answer.short_answer)}</strong> {marker}'
                        f"</span><br>{body}")
    if answer.window is not None:  # the question's time expression ("this week") became this window
        body += f'<br><span class="window-note">Articles published {inert(answer.window.label())}</span>'
    if final and answer.notice:  # e.g. the LLM failed and this is the extractive answer
        body = f'<span class="llm-notice">{inert(answer.notice)}</span><br>{body}'
    if answer.standalone_question:
        body += f'<br><span class="standalone">Understood as: {inert(answer.standalone_question)}</span>'
    return body


def _mark_unverified(body: str, answer: Answer) -> str:
    """Flag the sentences of a generated answer that no retrieved passage supports (assistant.answering.verify)."""
    for sentence in answer.sentences:
        if sentence.verified:
            continue
        escaped = inert(sentence.text)
        body = body.replace(escaped, '<span class="unverified" title="No retrieved passage supports this '
                                     f'sentence">{escaped} <sup>(unverified)</sup></span>', 1)
    return body


def highlighted_passage(citation: Citation) -> str:
    """The cited passage, HTML-escaped, with the quoted sentence(s) inside <mark>."""
    text = citation.text
    start, end = citation.quote_offsets_in_passage()
    if not (0 <= start < end <= len(text)) or text[start:end] != citation.quote:
        found = text.find(citation.quote) if citation.quote else -1
        start, end = (found, found + len(citation.quote)) if found >= 0 else (0, 0)
    esc = html.escape
    if end <= start:
        return esc(text)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def source_card(citation: Citation, turn: int) -> str:
    esc = html.escape
    title = esc(citation.title or citation.article_id)
    url = safe_url(citation.url)
    if url:
        head = (f'<a class="card-title" href="{esc(url, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{title}</a>')
    else:
        head = f'<span class="card-title">{title}</span>'
    meta = " &#183; ".join(esc(x) for x in (citation.source, citation.published_at) if x)
    if url:
        link = f'<div class="card-url">{esc(url)}</div>'
    elif citation.url:
        link = f'<div class="card-url unsafe">not a web link: <code>{esc(citation.url)}</code></div>'
    else:
        link = ""
    return (
        f'<article class="source-card" id="{card_id(turn, citation.n)}">'
        f'<div class="card-head"><span class="card-n">[{citation.n}]</span> {head}</div>'
        f'<div class="card-meta">{meta}</div>{link}'
        f'<div class="card-passage">{highlighted_passage(citation)}</div>'
        f"</article>"
    )


def _turn_sources(answer: Answer, turn: int) -> str:
    if answer.abstained:
        return '<p class="no-sources">No sources: the articles do not answer this question.</p>'
    if not answer.citations:
        return '<p class="no-sources">Looking for sources&#8230;</p>'
    return "".join(source_card(c, turn) for c in answer.citations)


def sources_panel(answers: Sequence[Answer], *, pending: Answer | None = None) -> str:
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
                 f'<h3 class="turn-q">{html.escape(latest.question)}</h3>{_turn_sources(latest, latest_turn)}'
                 "</section>")
    for turn, answer in reversed(turns[:-1]):
        parts.append(f'<details class="turn-sources" data-turn="{turn}"><summary>{html.escape(answer.question)}'
                     f"</summary>{_turn_sources(answer, turn)}</details>")
    parts.append("</div>")
    return "".join(parts)


CSS = """
.cite-marker { font-weight: 600; text-decoration: none; padding: 0 1px; cursor: pointer; }
.standalone { font-size: 0.85em; opacity: 0.7; font-style: italic; }
.abstained { font-style: italic; }
.short-answer strong { font-size: 1.05em; }
.window-note { font-size: 0.85em; opacity: 0.7; }
.chat-error { color: #b91c1c; }
.sources-panel { max-height: 640px; overflow-y: auto; }
.sources-panel h3.turn-q { font-size: 0.95em; margin: 0 0 0.5em 0; }
.sources-panel details summary { cursor: pointer; font-size: 0.9em; opacity: 0.8; margin: 0.5em 0; }
.source-card { border: 1px solid var(--border-color-primary, #ddd); border-radius: 8px; padding: 0.6em 0.8em;
  margin-bottom: 0.6em; transition: box-shadow 0.3s, border-color 0.3s; }
.source-card.flash { border-color: var(--color-accent, #f97316); box-shadow: 0 0 0 3px rgba(249, 115, 22, 0.35); }
.source-card .card-n { font-weight: 700; }
.source-card .card-title { font-weight: 600; }
.source-card .card-meta, .source-card .card-url { font-size: 0.85em; opacity: 0.75; word-break: break-all; }
.source-card .card-passage { white-space: pre-wrap; font-size: 0.9em; margin-top: 0.4em; line-height: 1.45; }
.source-card mark { background: #fde68a; color: #1f2937; padding: 0 1px; }
.no-sources { opacity: 0.75; font-style: italic; }
"""

# Clicking a marker opens (if folded) and scrolls to its card, and flashes it. Event delegation on the
# document, so it works for messages rendered after page load; no network, no eval.
CLICK_SCRIPT = """
<script>
document.addEventListener("click", function (event) {
  var marker = event.target && event.target.closest ? event.target.closest("a.cite-marker") : null;
  if (!marker) return;
  event.preventDefault();
  event.stopPropagation();
  var card = document.getElementById((marker.getAttribute("href") || "").replace(/^#/, ""));
  if (!card) return;
  var folded = card.closest("details");
  if (folded) folded.open = true;
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.add("flash");
  setTimeout(function () { card.classList.remove("flash"); }, 1600);
}, true);
</script>
"""
