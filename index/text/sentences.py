"""Sentence segmentation that keeps character offsets into the original text.

Used by the chunker (chunks end on sentence boundaries) and by the answerer (it quotes sentences and
highlights them by offset). Rule based: line breaks always end a sentence (news text puts headlines,
captions and paragraphs on their own lines); inside a line, `.`, `!` or `?` (plus closing quotes) followed
by whitespace and an upper-case letter, digit or opening quote ends one, except after common abbreviations
and initials. It does not try to be a full linguistic segmenter.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cmdr", "adm", "prof", "inc", "corp", "co", "ltd", "vs", "etc", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.u", "a.m", "p.m", "i.e", "e.g", "approx", "dept", "est", "fig", "mt", "ft", "pres", "rev", "hon", "univ", "assn", "bros"]
)

_BOUNDARY = re.compile(r"""[.!?]+["'\u2019\u201d)\]]*(?=\s+["'\u2018\u201c(\[]?[A-Z0-9\u00C0-\u024F])""")
_LINE = re.compile(r"[^\n]+")


class Span(NamedTuple):
    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` ends an abbreviation or an initial rather than a sentence."""
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"'\u201c":
        word_start -= 1
    word = text[word_start:dot].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    # Single initials ("J. Smith") and dotted acronyms ("U.S.", "D.C.").
    return (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentence spans; `text[s.start:s.end]` is the sentence without outer whitespace."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        line_start, line_end = line.span()
        cursor = line_start
        for match in _BOUNDARY.finditer(text, line_start, line_end):
            if _is_abbreviation(text, match.start()):
                continue
            _append_trimmed(text, cursor, match.end(), spans)
            cursor = match.end()
        _append_trimmed(text, cursor, line_end, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Span(start, end))
