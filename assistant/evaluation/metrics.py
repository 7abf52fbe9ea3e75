"""Pure metric functions on plain values (strings, id lists, numbers); no I/O, no assistant objects.

Retrieval is judged at article level: a ranking of passages becomes a ranking of distinct articles (each
article at the rank of its best passage), and an article is relevant when it is one of the evidence ids.
Answer matching normalizes both sides: lower case, accents stripped, possessive 's and punctuation
removed (hyphens and slashes become spaces), the articles a/an/the dropped, whitespace collapsed.
Answer shape: `word_count` counts the words of an answer and `question_sentences` its sentences that are
questions (both with the citation markers removed). See docs/eval-report.md for the definitions in words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from index.text.sentences import split_sentences
from index.text.terms import tokenize

# --------------------------------------------------------------------------- answer text

_MARKER = re.compile(r"\[(\d+)\]")
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_SPACE_PUNCT = re.compile(r"[-\u2010-\u2015/\\_]+")
_PUNCT = re.compile(r"[^\w\s]")
_ARTICLES = {"a", "an", "the"}
_WORD = re.compile(r"\w")
_QUESTION_END = re.compile(r"\?[\"'\u2019\u201d\u00bb)\]]*$")  # "?" then closing quotes/brackets


def strip_markers(text: str) -> str:
    """Answer text without its citation markers `[n]`."""
    return " ".join(_MARKER.sub(" ", text).split())


def word_count(text: str) -> int:
    """Words of the answer text without its markers: whitespace-separated tokens holding a letter or digit
    (a lone dash or quote mark is no word)."""
    return sum(1 for token in strip_markers(text).split() if _WORD.search(token))


def question_sentences(text: str) -> int:
    """Sentences of the answer text (markers removed, `index.text.sentences` rules) that end with "?", possibly
    followed by closing quotes or brackets: "Is it? [1]", "Is it [1]?" and 'He asked "why?"' count."""
    text = _MARKER.sub("", text)
    return sum(1 for s in split_sentences(text) if _QUESTION_END.search(text[s.start : s.end].rstrip()))


def normalize_answer(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for matching ("The U.S.'s" -> "us")."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _POSSESSIVE.sub("", text)
    text = _SPACE_PUNCT.sub(" ", text)
    text = _PUNCT.sub("", text)
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def contains_answer(text: str, accepted: Iterable[str]) -> bool:
    """True when the normalized text contains any normalized accepted answer as whole words."""
    haystack = f" {normalize_answer(text)} "
    return any(needle and f" {needle} " in haystack for needle in map(normalize_answer, accepted))


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD-style F1 between the normalized tokens of two strings (0 when either is empty)."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, accepted: Iterable[str]) -> float:
    return max((token_f1(prediction, a) for a in accepted), default=0.0)


def exact_match(prediction: str, answers: Iterable[str]) -> bool:
    """The normalized prediction equals a normalized accepted answer (never true for an empty one)."""
    pred = normalize_answer(prediction)
    return bool(pred) and any(pred == normalize_answer(a) for a in answers)


# --------------------------------------------------------------------------- retrieval


def article_ranking(article_ids: Sequence[str]) -> list[str]:
    """Distinct articles in order of their best (first) passage."""
    return list(dict.fromkeys(article_ids))


def first_hit_rank(ranking: Sequence[str], evidence: Iterable[str]) -> int | None:
    """1-based article rank of the first evidence article, or None when none was retrieved."""
    wanted = set(evidence)
    for rank, article_id in enumerate(article_ranking(ranking), start=1):
        if article_id in wanted:
            return rank
    return None


def hit_at(ranking: Sequence[str], evidence: Iterable[str], k: int) -> float:
    rank = first_hit_rank(ranking, evidence)
    return 1.0 if rank is not None and rank <= k else 0.0


def recall_at(ranking: Sequence[str], evidence: Iterable[str], k: int) -> float:
    """Share of the evidence articles among the top-k articles (0 when there is no evidence)."""
    wanted = set(evidence)
    if not wanted:
        return 0.0
    return len(wanted & set(article_ranking(ranking)[:k])) / len(wanted)


def reciprocal_rank(ranking: Sequence[str], evidence: Iterable[str], k: int = 10) -> float:
    """1/rank of the first evidence article within the top k articles, else 0 (averaged: MRR@k)."""
    rank = first_hit_rank(ranking, evidence)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


# --------------------------------------------------------------------------- citations

SUPPORT_MIN_OVERLAP = 0.5  # overlap coefficient of claim and quote content words needed for support


def claim_for_marker(answer: str, n: int) -> str:
    """The answer text that carries marker [n]: for each run of adjacent markers containing [n], the text
    between the previous marker run (or the start) and that run; several uses are joined."""
    claims: list[str] = []
    previous_end = 0
    runs = list(re.finditer(r"(?:\s*\[\d+\])+", answer))
    for run in runs:
        numbers = {int(m) for m in _MARKER.findall(run.group())}
        if n in numbers:
            claims.append(answer[previous_end : run.start()].strip(" .,;:"))
        previous_end = run.end()
    return " ".join(c for c in claims if c)


def overlap(claim: str, quote: str) -> float:
    """Overlap coefficient |C & Q| / min(|C|, |Q|) of the content words (stemmed, no stopwords)."""
    c, q = set(tokenize(claim)), set(tokenize(quote))
    if not c or not q:
        return 0.0
    return len(c & q) / min(len(c), len(q))


def quote_in_passage(quote: str, passage: str) -> bool:
    """The quote occurs verbatim in the passage (runs of whitespace compared as one space)."""
    q = " ".join(quote.split())
    return bool(q) and q in " ".join(passage.split())


def citation_supported(answer: str, n: int, quote: str, passage: str) -> tuple[bool, float]:
    """(supported, overlap): the quote is in the passage and overlaps the claim carrying [n]."""
    score = overlap(claim_for_marker(answer, n), quote)
    return quote_in_passage(quote, passage) and score >= SUPPORT_MIN_OVERLAP, score


# --------------------------------------------------------------------------- aggregates


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def share(flags: Iterable[bool]) -> float | None:
    return mean(1.0 if f else 0.0 for f in flags)


def percentile(values: Iterable[float], p: float) -> float | None:
    """Percentile with linear interpolation between closest ranks (numpy's default); None when empty."""
    data = sorted(values)
    if not data:
        return None
    position = (len(data) - 1) * p / 100
    lo, hi = math.floor(position), math.ceil(position)
    return data[lo] + (data[hi] - data[lo]) * (position - lo)
