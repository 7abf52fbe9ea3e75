"""Citation verification: a generated answer's markers are checked against the passages, not trusted.

The answer is split into sentences. For each sentence and each passage shown to the model we measure
  * coverage: the idf-weighted share of the sentence's content terms (`index.text.terms.tokenize`) that occur
    in the passage (title included); and
  * similarity: the cosine between the sentence's embedding and the passage's closest sentence.
A passage supports a sentence when coverage >= `Bounds.min_coverage` and similarity >=
`Bounds.min_similarity` (both; the values and how they were measured are in `Bounds`). Then
  * cited passages that support the sentence keep their markers; cited ones that do not lose them;
  * if no cited passage supports it (or it cites none), the marker moves to the best supporting passage;
  * if no passage supports it, the sentence keeps no marker and is flagged unverified;
  * sentences that state nothing checkable (no content terms, or "the articles don't cover this") keep no
    marker and are not flagged.
Markers are renumbered 1..n in order of first use and each becomes a `Citation` whose quote is the
passage sentence that best supports the sentences citing it.

`AnswerAssembler` does this while the answer streams: text is released as it arrives, minus markers, and
a sentence's verified markers are released as soon as the next sentence starts, so what streams is
exactly the final answer and an unverified marker is never shown. It does not call the LLM
(`assistant.answering.generative`) and cannot judge entailment: a sentence that reuses a passage's words and topic
but changes a fact can pass (the README's LLM section lists what the bounds catch and miss).
Over 300 lines: marker parsing, per-sentence support scoring and renumbering are one pass over the answer
and share its offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.types import Citation, Passage, SentenceCheck
from index.text.sentences import split_sentences
from index.text.terms import tokenize

EmbedFn = Callable[[list[str]], list[list[float]]]

# [1], [1, 2], [1,3-4], [1; 2]: one marker group; the numbers are the prompt's passage numbers.
MARKER = re.compile(r"\[\s*\d{1,3}(?:\s*(?:,|;|-|\u2013)\s*\d{1,3})*\s*\]")
_MARKER_WITH_SPACE = re.compile(r"\s*" + MARKER.pattern)
_PARTIAL_MARKER = re.compile(r"\s*\[[\d\s,;\-\u2013]*$")
_LEADING_MARKERS = re.compile(r"(?:\s*" + MARKER.pattern + r")+")
_PUNCT_THEN_MARKER = re.compile(r"([.!?][\"'\u2019\u201d)]*)(\[\s*\d)")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NO_ANSWER = re.compile(
    r"\b(?:articles?|passages?|sources?|context|provided (?:text|information))\b.{0,60}\b(?:do(?:es)?n[o']?t|"
    r"do(?:es)? not|never)\b.{0,20}\b(?:cover|say|mention|contain|answer|address|include|provide|discuss)"
    r"|\b(?:not|no)\b.{0,30}\b(?:covered|mentioned|answered|addressed|stated)\b.{0,40}\b(?:articles?|passages?)",
    re.IGNORECASE,
)


def marker_numbers(text: str) -> list[int]:
    """All passage numbers cited in `text`, in order, ranges expanded ("[2-4]" -> 2, 3, 4)."""
    out: list[int] = []
    for match in MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", match.group()[1:-1].strip()):
            bounds = re.split(r"\s*[-\u2013]\s*", part)
            lo, hi = int(bounds[0]), int(bounds[-1])
            out.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else [lo])
    return out


def strip_markers(text: str, *, partial: bool = False) -> str:
    """Sentence prose without markers, spaces collapsed. `partial`: also drop an unfinished trailing marker
    and trailing space (for text still streaming), so the result only grows as more text arrives."""
    text = _MARKER_WITH_SPACE.sub("", text)
    if partial:
        text = _PARTIAL_MARKER.sub("", text)
    text = _SPACES.sub(" ", text.replace("\n", " ")).strip()
    return text


def is_no_answer(sentence: str) -> bool:
    return bool(_NO_ANSWER.search(sentence))


def sentence_checks(draft) -> tuple[SentenceCheck, ...]:
    """Sentences of an answer whose markers are trusted (the extractive answerer quotes verbatim)."""
    if draft.abstained or not draft.text:
        return ()
    text = _PUNCT_THEN_MARKER.sub(r"\1 \2", draft.text)
    spans = _merge_marker_spans(text, split_sentences(text))
    out = []
    for start, end in spans:
        raw = text[start:end]
        out.append(SentenceCheck(strip_markers(raw), tuple(dict.fromkeys(marker_numbers(raw))), True))
    return tuple(out)


def _merge_marker_spans(text: str, spans) -> list[tuple[int, int]]:
    """Markers that open a sentence belong to the one before ("... drones. [1] It also ...")."""
    merged: list[list[int]] = []
    for span in spans:
        start, end = span.start, span.end
        lead = _LEADING_MARKERS.match(text, start, end)
        if lead and merged:
            merged[-1][1] = lead.end()
            start = lead.end()
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


# ---------------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Bounds:
    """When a passage counts as supporting a sentence (both bounds must hold).

    Measured with `python benchmarks/verify_bounds.py [--embedding hashing]` on 33 hand-written
    paraphrases of facts in the sample articles (benchmarks/data/verify_cases.jsonl), scored against the
    chunks of their own article (positives) and of every other article (wrong markers, 621 pairs), and 23
    on-topic sentences whose facts their article does not state (unsupported). With all-MiniLM-L6-v2,
    positives have coverage >= 0.56 and similarity >= 0.51, wrong-marker pairs at most 0.46 on both: these
    bounds keep 100% of positives, accept 0% of wrong markers and 9% (2/23) of unsupported sentences.
    The hashing embedding's cosines are lower; 0.3 keeps 100% / 0% / 17% there.
    """

    min_coverage: float = 0.5
    min_similarity: float = 0.45

    @classmethod
    def for_embedding(cls, embedding: str) -> Bounds:
        """The hashing embedding's cosines are lower (a bag of words): its bound was measured separately."""
        return cls(min_similarity=0.3) if embedding == "hashing" else cls()


@dataclass
class _PassageInfo:
    passage: Passage
    terms: set[str]
    spans: list[tuple[int, int]]  # sentence offsets in the chunk text
    span_terms: list[set[str]]
    vectors: np.ndarray | None = None  # one row per span


@dataclass(frozen=True)
class Support:
    index: int  # 0-based position of the passage in the prompt
    coverage: float
    similarity: float
    best_span: tuple[int, int]  # the passage sentence closest to the checked sentence (chunk offsets)
    supported: bool

    @property
    def score(self) -> float:
        return self.coverage + self.similarity


class CitationVerifier:
    """Scores sentences against the passages of one answer (embeds each passage sentence once)."""

    def __init__(self, passages: Sequence[Passage], embed_texts: EmbedFn | None,
                 idf: Callable[[str], float] | None = None, bounds: Bounds = Bounds()) -> None:
        self.passages = list(passages)
        self.embed_texts = embed_texts
        self.idf = idf or (lambda term: 1.0)
        self.bounds = bounds
        self._infos: list[_PassageInfo] | None = None

    def _prepare(self) -> list[_PassageInfo]:
        if self._infos is not None:
            return self._infos
        infos = []
        for passage in self.passages:
            chunk = passage.chunk
            spans = [(s.start, s.end) for s in split_sentences(chunk.text)] or [(0, len(chunk.text))]
            infos.append(_PassageInfo(passage, set(tokenize(f"{chunk.title}\n{chunk.text}")), spans,
                                      [set(tokenize(chunk.text[a:b])) for a, b in spans]))
        if self.embed_texts is not None:
            texts = [i.passage.chunk.text[a:b] for i in infos for a, b in i.spans]
            if texts:
                matrix = _normalise(np.asarray(self.embed_texts(texts), dtype=np.float32))
                row = 0
                for info in infos:
                    info.vectors = matrix[row : row + len(info.spans)]
                    row += len(info.spans)
        self._infos = infos
        return infos

    def _weights(self, sentence: str) -> dict[str, float]:
        """idf per content term; a term the corpus has never seen (idf 0) is treated as the rarest one in
        the sentence: an invented name or number is exactly what coverage must notice."""
        idf = {t: self.idf(t) for t in set(tokenize(sentence))}
        rarest = max([v for v in idf.values() if v > 0], default=1.0)
        return {t: (max(v, 0.1) if v > 0 else rarest) for t, v in idf.items()}

    def supports(self, sentence: str) -> list[Support]:
        """How well each passage supports `sentence` (in prompt order)."""
        infos = self._prepare()
        weights = self._weights(sentence)
        total = sum(weights.values()) or 1.0
        vector = None
        if self.embed_texts is not None:
            vector = _normalise(np.asarray(self.embed_texts([sentence]), dtype=np.float32))[0]
        out = []
        for index, info in enumerate(infos):
            coverage = sum(w for t, w in weights.items() if t in info.terms) / total
            span_cov = np.array([sum(w for t, w in weights.items() if t in st) / total for st in info.span_terms])
            sims = info.vectors @ vector if vector is not None and info.vectors is not None else None
            similarity = float(sims.max()) if sims is not None and len(sims) else 0.0
            best = int(np.argmax(span_cov + (sims if sims is not None else 0.0)))
            ok = coverage >= self.bounds.min_coverage and (
                sims is None or similarity >= self.bounds.min_similarity)
            out.append(Support(index, coverage, similarity, info.spans[best], ok))
        return out

    def check(self, sentence: str, cited: Sequence[int]) -> tuple[list[Support], bool]:
        """Passages to cite for `sentence` (given the 1-based `cited` numbers) and whether it is verified.

        Returns ([], True) for sentences with nothing to check.
        """
        if not tokenize(sentence) or is_no_answer(sentence):
            return [], True
        supports = self.supports(sentence)
        valid = [supports[n - 1] for n in dict.fromkeys(cited) if 1 <= n <= len(supports)]
        kept = [s for s in valid if s.supported]
        if kept:
            return kept, True
        candidates = sorted((s for s in supports if s.supported), key=lambda s: (-s.score, s.index))
        if candidates:
            return [candidates[0]], True
        return [], False


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


# ---------------------------------------------------------------------------------------------- streaming


@dataclass
class _Quote:
    span: tuple[int, int]
    score: float


@dataclass
class AnswerAssembler:
    """Feed the model's text as it streams; get back the verified answer's text, piece by piece."""

    verifier: CitationVerifier
    raw: str = ""
    _done: int = 0  # raw[:_done] holds finished sentences
    _emitted: str = ""  # everything released so far (== the final text at the end)
    _current: str = ""  # prose released for the sentence in progress
    sentences: list[SentenceCheck] = field(default_factory=list)
    _numbers: dict[int, int] = field(default_factory=dict)  # passage index -> marker number
    _quotes: dict[int, _Quote] = field(default_factory=dict)

    def feed(self, delta: str) -> str:
        """Add streamed text; return the answer text that can be released now (maybe "")."""
        self.raw += delta
        return self._advance(final=False)

    def finish(self) -> str:
        """The stream ended: release the rest."""
        return self._advance(final=True)

    @property
    def text(self) -> str:
        return self._emitted

    def _advance(self, *, final: bool) -> str:
        before = len(self._emitted)
        self.raw = _PUNCT_THEN_MARKER.sub(r"\1 \2", self.raw)
        region = self.raw[self._done :]
        spans = _merge_marker_spans(region, split_sentences(region))
        spans = [s for s in spans if strip_markers(region[s[0] : s[1]], partial=True)]
        shift = 0
        for start, end in spans if final else spans[:-1]:
            self._emitted += self._close_sentence(region[start:end], region[shift:start])
            shift = end
        self._done += shift
        if not final and spans:
            start, _ = spans[-1]
            self._emitted += self._grow(strip_markers(region[start:], partial=True), region[shift:start])
        return self._emitted[before:]

    def _separator(self, gap: str) -> str:
        if not self._emitted:
            return ""
        return "\n\n" if gap.count("\n") >= 2 else ("\n" if "\n" in gap else " ")

    def _grow(self, prose: str, gap: str) -> str:
        if not prose.startswith(self._current) or len(prose) == len(self._current):
            return ""
        piece = prose[len(self._current) :]
        if not self._current:
            piece = self._separator(gap) + piece
        self._current = prose
        return piece

    def _close_sentence(self, raw_sentence: str, gap: str) -> str:
        prose = strip_markers(raw_sentence)
        if prose.startswith(self._current):
            piece = self._grow(prose, gap)
        else:  # cannot happen with strip_markers' contract; keep what was released
            piece, prose = "", self._current
        self._current = ""
        cited = marker_numbers(raw_sentence)
        supports, verified = self.verifier.check(prose, cited)
        numbers = []
        for support in supports:
            if support.index not in self._numbers:
                self._numbers[support.index] = len(self._numbers) + 1
            numbers.append(self._numbers[support.index])
            quote = self._quotes.get(support.index)
            if quote is None or support.score > quote.score:
                self._quotes[support.index] = _Quote(support.best_span, support.score)
        self.sentences.append(SentenceCheck(prose, tuple(numbers), verified))
        return piece + "".join(f" [{n}]" if i == 0 else f"[{n}]" for i, n in enumerate(numbers))

    def citations(self) -> tuple[Citation, ...]:
        out = []
        for index, n in sorted(self._numbers.items(), key=lambda kv: kv[1]):
            chunk = self.verifier.passages[index].chunk
            a, b = self._quotes[index].span
            out.append(Citation.from_chunk(n, chunk, chunk.start + a, chunk.start + b))
        return tuple(out)

    @property
    def abstained(self) -> bool:
        """Nothing checkable was said and the model said the articles do not cover it."""
        return bool(self.sentences) and not any(s.citations or not s.verified for s in self.sentences) and any(
            is_no_answer(s.text) for s in self.sentences)
