"""The reader: a model fitted on the training split picks the sentence that answers and says how sure it is.

`ReaderAnswerer` is the default answerer when its model file loads (`reader_model.json`, fitted by
`python benchmarks/train_reader.py`, see the model card in README.md). It reads the sentences of the top
passages in two stages, both gradient-boosted trees (LightGBM):

1. `sentence_features` gives every candidate sentence cheap features (idf-weighted coverage of the question's
   terms in the sentence, its neighbours, its passage and its headline; the fast static model's similarity;
   the passage's rank and retrieval scores; where the sentence stands in its article; its length and look)
   and stage 1 ranks them all.
2. The best `shortlist` of them get costly features: MiniLM similarity, whether the sentence holds the kind
   of fact asked (a count, a measure in the asked unit, money, a date, a person, a reason...; see
   `assistant.answering.short_answer`), its short answer's rank score, and how many other articles among the
   shortlist give the same short answer. Stage 2 gives the probability that the sentence contains the answer.

That probability decides: below the threshold chosen on val (and the samples' near-miss pairs) it abstains,
saying what the closest sentence does say; above it, it answers with the best sentence and, when the
question asks for several things or another article's best sentence is nearly as likely, up to two more from
different stories. A question asking for a kind of fact is never answered by a sentence that holds none.
The model only reads numbers it computes here: no text of the data it was fitted on is in the file.

Over 300 lines because the features, the two stages and the decision stay beside the feature lists that the
model file is checked against.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering import short_answer as sa
from assistant.answering.extractive import (
    _TYPE_WORDS,
    ExtractiveAnswerer,
    _answer_pattern,
    _focus_terms,
    _span_text,
    compose,
    dangling,
    is_lead_in,
)
from assistant.answering.interfaces import Draft, Sentence, abstention
from assistant.types import Passage
from index.text.terms import tokenize

MODEL_PATH = Path(__file__).with_name("reader_model.json")
FORMAT = 1
RULES_BELOW = 0.3  # the default best probability under which the rules decide (a model file sets its own)

KINDS = ("person", "organization", "place", "date", "number", "amount", "measure", "name", "reason")
WH = ("what", "which", "who", "when", "where", "how", "why")
_WORD = re.compile(r"\w+")
_CAP = re.compile(r"\b[A-Z][a-z]")
_QUOTE = re.compile(r"[\"“”]")
_DIGIT = re.compile(r"\d")
_SEVERAL = re.compile(r"\b(?:and|both|each)\b", re.IGNORECASE)  # "Russia, China and Iran": several things

STAGE1 = (
    "cov", "cov_exact", "cov_title", "cov_passage", "cov_context", "names", "bigrams",
    "cov_gap", "cov_rank", "fast", "fast_gap", "fast_rank",
    "p_rank", "p_score", "p_dense", "p_lexical", "p_words", "p_sentences",
    "pos", "pos_rel", "first", "words", "caps", "digits", "quote", "dangling", "lead_in", "wants",
    "q_words", "q_kind", "q_wh", "q_names",
)
STAGE2 = STAGE1 + ("p1", "p1_gap", "p1_rank", "sim", "sim_gap", "sim_rank", "holds", "span", "span_score",
                   "votes", "votes_max", "type_fit", "type_fit_gap", "type_fit_rank", "novel_caps", "span_fit",
                   "after_fit")


def _kind_code(question: str) -> int:
    kind = sa.answer_kind(question)
    return KINDS.index(kind) + 1 if kind in KINDS else 0


def _wh_code(question: str) -> int:
    low = sa.asked_clause(question).lower()
    positions = [(m.start(), w) for w in WH for m in [re.search(rf"\b{w}\b", low)] if m]
    return WH.index(min(positions)[1]) + 1 if positions else 0


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, 1 for the next... (ties share the better rank's order by position)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values), dtype=np.float32)
    return ranks


def sentence_features(question: str, sentences: Sequence[Sentence], idf: Callable[[str], float],
                      fast_sims: np.ndarray | None) -> np.ndarray:
    """Stage-1 features of every candidate sentence (rows in `STAGE1` order)."""
    n = len(sentences)
    q_terms = set(tokenize(question)) - _TYPE_WORDS
    token_lists = [tokenize(s.text) for s in sentences]
    term_sets = [set(tokens) for tokens in token_lists]
    known = {id(s): terms for s, terms in zip(sentences, term_sets)}
    weights = {}
    for t in q_terms:
        local_df = sum(1 for terms in term_sets if t in terms)
        weights[t] = max(idf(t), 0.1) * (1.0 + math.log((n + 1) / (local_df + 1)))
    for t in _focus_terms(question) | {sa.question_focus(question)}:
        if t in weights:
            weights[t] *= 2.5
    total = sum(weights.values()) or 1.0
    q_tokens = tokenize(question)
    q_bigrams = set(pairwise(q_tokens))
    names = {w.lower() for w in re.findall(r"(?<=\w[\s,’'])[A-Z][\w-]+", question)}
    wants = _answer_pattern(question)
    kind, wh = _kind_code(question), _wh_code(question)
    top_score = max((s.passage.score for s in sentences), default=1.0) or 1.0
    max_lex = max((s.passage.lexical or 0.0 for s in sentences), default=1.0) or 1.0
    cache: dict[str, tuple[set[str], set[str], int, int]] = {}
    rows = np.zeros((n, len(STAGE1)), dtype=np.float32)
    for i, (s, terms) in enumerate(zip(sentences, term_sets)):
        chunk = s.passage.chunk
        if chunk.chunk_id not in cache:
            words = tokenize(chunk.text)
            cache[chunk.chunk_id] = (set(tokenize(chunk.title)), set(words), len(words),
                                     len(re.findall(r"[.!?](?:\s|$)", chunk.text)) + 1)
        title, around, p_words, p_sents = cache[chunk.chunk_id]
        context: set[str] = set()
        for other in (s.prev, s.next):
            if other is not None:
                context |= known[id(other)] if id(other) in known else set(tokenize(other.text))
        cov_exact = sum(w for t, w in weights.items() if t in terms) / total
        cov = sum(w * (0.5 if t in title else 1.0 if t in terms else 0.3 if t in around else 0.0)
                  for t, w in weights.items()) / total
        tokens = token_lists[i]
        low = s.text.lower()
        words = _WORD.findall(s.text)
        index = 0
        walk = s.prev
        while walk is not None:
            index += 1
            walk = walk.prev
        rows[i] = (
            cov, cov_exact,
            sum(w for t, w in weights.items() if t in title) / total,
            sum(w for t, w in weights.items() if t in around) / total,
            sum(w for t, w in weights.items() if t in context) / total,
            (sum(1 for w in names if w in low) / len(names)) if names else -1.0,
            len(q_bigrams & set(pairwise(tokens))),
            0.0, 0.0,
            float(fast_sims[i]) if fast_sims is not None else 0.0, 0.0, 0.0,
            s.passage.rank, s.passage.score / top_score,
            s.passage.dense if s.passage.dense is not None else -1.0,
            (s.passage.lexical or 0.0) / max_lex, p_words, p_sents,
            index, (s.start - chunk.start) / max(1, len(chunk.text)), float(s.start == 0 or s.prev is None),
            len(words), len(_CAP.findall(s.text)) / max(1, len(words)), len(_DIGIT.findall(s.text)),
            float(bool(_QUOTE.search(s.text))), float(dangling(s.text)), float(is_lead_in(s.text)),
            float(bool(wants and wants.search(s.text))),
            len(q_tokens), kind, wh, len(names),
        )
    col = {name: j for j, name in enumerate(STAGE1)}
    if n:
        for value, gap, rank in (("cov", "cov_gap", "cov_rank"), ("fast", "fast_gap", "fast_rank")):
            v = rows[:, col[value]]
            rows[:, col[gap]] = v - v.max()
            rows[:, col[rank]] = _ranks(v)
    return rows


@dataclass(frozen=True)
class ReaderModel:
    """The two fitted stages and the thresholds chosen on val; `load` reads `reader_model.json`."""

    stage1: Any
    stage2: Any
    threshold: float  # probability below which the answerer abstains
    extra_threshold: float  # probability (and share of the best) for a second or third source's sentence
    shortlist: int
    passages: int
    meta: dict
    rules_below: float = RULES_BELOW  # best probability under which the rules decide (chosen on val, see the card)

    @classmethod
    def load(cls, path: Path | str = MODEL_PATH) -> ReaderModel:
        import lightgbm as lgb

        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or tuple(data.get("stage1_features", ())) != STAGE1 \
                or tuple(data.get("stage2_features", ())) != STAGE2:
            raise ValueError("the reader model was fitted for other features; refit it "
                             "(python benchmarks/train_reader.py)")
        return cls(lgb.Booster(model_str=data["stage1"]), lgb.Booster(model_str=data["stage2"]),
                   float(data["threshold"]), float(data["extra_threshold"]), int(data["shortlist"]),
                   int(data["passages"]), data.get("meta", {}), float(data.get("rules_below", RULES_BELOW)))

    def predict1(self, rows: np.ndarray) -> np.ndarray:
        return self.stage1.predict(rows, num_threads=1) if len(rows) else np.zeros(0)

    def predict2(self, rows: np.ndarray) -> np.ndarray:
        return self.stage2.predict(rows, num_threads=1) if len(rows) else np.zeros(0)


@dataclass
class Reading:
    """What the reader made of one question's candidates: stage-2 rows and probabilities, best first."""

    sentences: list[Sentence]  # the shortlist, by probability
    probabilities: np.ndarray
    rows2: np.ndarray | None = None


class ReaderAnswerer(ExtractiveAnswerer):
    """The extractive answerer with a fitted reader choosing the sentence and deciding to answer."""

    name = "extractive"

    def __init__(self, embed_texts: Any, idf: Callable[[str], float], *, model: Any,
                 shortlist_embed: Callable[[list[str]], np.ndarray] | None = None,
                 sentence_embed: Callable[[list[str]], np.ndarray] | None = None, **kwargs: Any) -> None:
        if sentence_embed is not None:
            sentence_embed = RememberedEmbed(sentence_embed)  # the rules, when asked, re-embed the same sentences
        super().__init__(embed_texts, idf, shortlist_embed=shortlist_embed, sentence_embed=sentence_embed, **kwargs)
        self._model = model  # a ReaderModel, or a LazyModel of one (`.get()`)

    @property
    def model(self) -> ReaderModel | None:
        """The fitted model, or None when its file could not be read (the rules answer then)."""
        model = self._model.get() if hasattr(self._model, "get") else self._model
        return model or None

    def read_sentences(self, passages: Sequence[Passage]) -> list[Sentence]:
        """The candidate sentences the reader reads: those of the model's first `passages` passages (the
        rules, when they decide, read their own `passages_considered`)."""
        return self.split(passages, self.model.passages)

    # ------------------------------------------------------------------ reading

    def stage1(self, question: str, passages: Sequence[Passage]) -> tuple[list[Sentence], np.ndarray]:
        """Every candidate sentence of the first passages with its stage-1 features."""
        pool = self.read_sentences(passages)
        fast = None
        if pool and self.shortlist_embed is not None:
            vectors = np.asarray(self.shortlist_embed([question] + [s.text for s in pool]), dtype=np.float32)
            fast = vectors[1:] @ vectors[0]
        return pool, sentence_features(question, pool, self.idf, fast)

    def stage2_rows(self, question: str, pool: Sequence[Sentence], rows1: np.ndarray, p1: np.ndarray,
                    picked: Sequence[int]) -> np.ndarray:
        """Stage-2 features of the sentences `picked` (indices into `pool`)."""
        picked = list(picked)
        shortlist = [pool[i] for i in picked]
        sims = np.zeros(len(shortlist), dtype=np.float32)
        if shortlist and self.sentence_embed is not None:
            vectors = np.asarray(self.sentence_embed([question] + [s.text[:SIM_CHARS] for s in shortlist]),
                                 dtype=np.float32)
            sims = vectors[1:] @ vectors[0]
        spans = [self.span_of(question, s) for s in shortlist]
        keys = [frozenset(tokenize(_span_text(f))) for f in spans]
        votes = np.zeros(len(shortlist), dtype=np.float32)
        for i, key in enumerate(keys):
            if key:
                votes[i] = len({s.passage.chunk.group_id for s, k in zip(shortlist, keys)
                                if k and (k <= key or key <= k)})
        p1s = p1[picked] if len(picked) else np.zeros(0)
        ranked_all = [sa.ranked_spans(question, f[0].text, 1) if f else [] for f in spans]
        fits = self.type_fits(question, shortlist, [(f[0].text, r[0][1], r[0][2]) if r else None
                                                    for f, r in zip(spans, ranked_all)])
        extra = np.zeros((len(shortlist), len(STAGE2) - len(STAGE1)), dtype=np.float32)
        for i, (sentence, found) in enumerate(zip(shortlist, spans)):
            holds = sa.holds_kind(question, sentence.text)
            ranked = ranked_all[i]
            extra[i] = (p1s[i], p1s[i] - p1s.max(), i, sims[i], sims[i] - sims.max(), 0.0,
                        -1.0 if holds is None else float(holds), float(found is not None),
                        ranked[0][0] if ranked else 0.0, votes[i], votes.max(),
                        fits[i, 0], fits[i, 0] - fits[:, 0].max(), 0.0, sa.novel_capitals(question, sentence.text),
                        fits[i, 1], fits[i, 2])
        if len(shortlist):
            extra[:, 5] = _ranks(sims)
            extra[:, 13] = _ranks(fits[:, 0])
        return np.hstack([rows1[picked], extra]) if len(picked) else np.zeros((0, len(STAGE2)), np.float32)

    def type_fits(self, question: str, sentences: Sequence[Sentence],
                  answers: Sequence[tuple[str, int, int] | None]) -> np.ndarray:
        """How well each sentence fits the thing asked for (`sa.thing_asked`: "which state" -> "state"), under
        the fast model, one row per sentence: its best run of new words (`sa.noun_spans`: "California" fits,
        "AccuWeather" does not), its short answer (`answers`: text, start, end) and the words right after
        that answer ("three foreign partners" for "how many missiles"); -1 where the question names no thing
        or there is nothing to compare."""
        fits = np.full((len(sentences), 3), -1.0, dtype=np.float32)
        thing = sa.thing_asked(question) if self.shortlist_embed is not None else None
        if not thing:
            return fits
        wanted: list[tuple[int, int, str]] = []  # (sentence, column, text to compare)
        for i, (sentence, found) in enumerate(zip(sentences, answers)):
            wanted += [(i, 0, sentence.text[a:b].lower()) for a, b in sa.noun_spans(question, sentence.text, longest=2)]
            if found is not None:
                text, a, b = found
                after = [w for w in _WORD_RUN.findall(text[b:])[:3] if w.lower() not in _AFTER_SKIP][:2]
                wanted.append((i, 1, text[a:b].lower()))
                if after:
                    wanted.append((i, 2, " ".join(after).lower()))
        if not wanted:
            return fits
        unique = list(dict.fromkeys(text for _, _, text in wanted))
        vectors = np.asarray(self.shortlist_embed([thing] + unique), dtype=np.float32)
        sims = dict(zip(unique, vectors[1:] @ vectors[0]))
        for i, column, text in wanted:
            fits[i, column] = max(fits[i, column], sims[text])
        return fits

    def shortlist_of(self, pool: Sequence[Sentence], p1: np.ndarray) -> list[int]:
        """The stage-1 best `shortlist` sentences, plus the top passage's best two (it is the likeliest
        source even when worded unlike the question)."""
        order = [int(i) for i in np.argsort(-p1, kind="stable")]
        picked = order[: self.model.shortlist]
        top_rank = min((s.passage.rank for s in pool), default=0)
        picked += [i for i in order if pool[i].passage.rank == top_rank and i not in picked][:2]
        return picked

    def read(self, question: str, passages: Sequence[Passage]) -> Reading:
        pool, rows1 = self.stage1(question, passages)
        return self.read_rows(question, pool, rows1)

    def read_rows(self, question: str, pool: list[Sentence], rows1: np.ndarray) -> Reading:
        """Stage 1's probabilities, the shortlist, stage 2's: the shortlist best first."""
        if not pool:
            return Reading([], np.zeros(0))
        model = self.model
        p1 = model.predict1(rows1)
        picked = self.shortlist_of(pool, p1)
        rows2 = self.stage2_rows(question, pool, rows1, p1, picked)
        p2 = model.predict2(rows2)
        order = np.argsort(-p2, kind="stable")
        return Reading([pool[picked[i]] for i in order], p2[order], rows2[order])

    # ------------------------------------------------------------------ answering

    def decide(self, question: str, reading: Reading) -> list[Sentence]:
        """The sentences to answer with (best first), or [] to abstain.

        A question asking for a kind of fact (a count, an amount of money, a measure in the asked unit, a
        date, a person, a place...) is only answered by sentences holding one; for a reason ("why"), a
        sentence giving one ("because", "due to", ...) goes before a likelier one that gives none, when it
        is nearly as likely. The best sentence answers when the reader gives it at least `threshold`; a
        sentence of another story joins it (at most three) when it is likely too (`extra_threshold`, lower
        when the question asks for several things) and says something the chosen ones don't."""
        model = self.model
        kind = sa.answer_kind(question)
        pairs = [(s, float(p)) for s, p in zip(reading.sentences, reading.probabilities)]
        if kind is not None and kind != "reason":
            pairs = [(s, p) for s, p in pairs if self.span_of(question, s) is not None]
        elif kind == "reason" and pairs:
            near = PREFER_KIND * pairs[0][1]
            pairs.sort(key=lambda sp: (-(sp[1] >= near and self.span_of(question, sp[0]) is not None), -sp[1]))
        several = bool(_SEVERAL.search(sa.asked_clause(question)))
        chosen: list[Sentence] = []
        stories: set[str] = set()
        best = 0.0
        for sentence, p in pairs:
            group = self._readable(sentence)
            if not group:
                continue
            if not chosen:
                if p < model.threshold:
                    return []
                best = p
            elif (sentence.passage.chunk.group_id in stories or len(stories) >= 3
                  or p < model.extra_threshold * (SEVERAL_FACTOR if several else 1.0) or p < 0.5 * best
                  or _redundant(group, chosen)):
                continue
            chosen.extend(group)
            stories.add(sentence.passage.chunk.group_id)
        return chosen

    def answer(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Draft:
        if self.model is None:
            return super().answer(question, passages, query_embedding)
        reading = self.read(question, passages)
        rules = super().answer(question, passages, query_embedding) if self.defers(reading) else None
        return self.combine(question, reading, rules)

    def defers(self, reading: Reading) -> bool:
        """Whether the reader is unsure of every sentence (best probability under the model's `rules_below`),
        so that the rules decide."""
        return not len(reading.probabilities) or reading.probabilities[0] < self.model.rules_below

    def combine(self, question: str, reading: Reading, rules: Draft | None) -> Draft:
        """The answer from the reading, or from the rules' draft when the reader defers to them."""
        if rules is not None and self.defers(reading):
            # The rules' lexical and semantic match decides (they quote the sentence that says what the
            # question says, and abstain by their own thresholds). When the rules abstain on a question asking
            # for money, a measure, a count or a date, the reader's own decision stands (a sentence holding
            # that kind of fact, above its threshold: "Repairs cost 410,000 crowns" when the rules' best
            # sentence held none).
            draft = rules
            if draft.short_answer:
                return draft
            if not draft.abstained:
                items = [c.quote[a:b] for c in draft.citations for a, b in sa.requested_items(question, c.quote)]
                return replace(draft, short_answer=", ".join(items[:4]))
            if sa.answer_kind(question) not in EXACT_KINDS:
                return draft  # only a precise kind check (money, a measure, a count, a date) overrules them
        chosen = self.decide(question, reading)
        if not chosen:
            return self.abstain(question, reading)
        return replace(compose(chosen), short_answer=self.short(question, chosen))

    def short(self, question: str, chosen: Sequence[Sentence]) -> str:
        """The short answer: the span answering the kind of fact asked, in each chosen sentence that holds
        one (several sources with different answers: all of them, the best first), or for "What did X ask
        for?" the things asked for; "" when the question asks for neither."""
        several = bool(_SEVERAL.search(sa.asked_clause(question)))
        items: list[str] = []
        for sentence in chosen:
            found = [_span_text(self.span_of(question, sentence))]
            if not found[0]:
                found = [sentence.text[a:b] for a, b in sa.requested_items(question, sentence.text)]
            for item in found:
                if item and not any(tokenize(item) == tokenize(other) for other in items):
                    items.append(item)
            if items and not several and found[0] and not sa.requested_items(question, sentence.text):
                break  # one thing asked: the best source's answer
        return ", ".join(items[:4])

    def abstain(self, question: str, reading: Reading) -> Draft:
        """Abstain, saying in one cited sentence what the closest article does say (when one is close)."""
        for sentence, p in zip(reading.sentences, reading.probabilities):
            if p < CLOSE_ENOUGH:
                break
            group = self._readable(sentence)
            if group:
                said = compose(group)
                lead = abstention(question).rstrip(".")
                return Draft(f"{lead}; the closest passage says: {said.text}", True, said.citations)
        return Draft(abstention(question), True, ())


# When the reader defers (`rules_below`) and the rules abstain, its own choice stands for these kinds only.
EXACT_KINDS = frozenset({"amount", "measure", "number", "date"})
_WORD_RUN = re.compile(r"[A-Za-z][\w-]*")
_AFTER_SKIP = frozenset({"of", "the", "a", "an", "more", "than", "new", "other", "about", "some"})
SIM_CHARS = 320  # MiniLM reads this much of a shortlisted sentence (its cost grows with the longest one)
CLOSE_ENOUGH = 0.1  # an abstention quotes the closest sentence when the reader gives it at least this
PREFER_KIND = 0.6  # share of the best probability within which a sentence giving a reason goes first
SEVERAL_FACTOR = 0.7  # the second-source bar, times this when the question asks for several things


class RememberedEmbed:
    """A sentence model that remembers the vectors of the last few hundred texts (thread-safe enough: a lost
    race only embeds a text twice)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], size: int = 512) -> None:
        self.embed, self.size, self.memory = embed, size, {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        memory = self.memory
        missing = list(dict.fromkeys(t for t in texts if t not in memory))
        if missing:
            if len(memory) + len(missing) > self.size:  # start a new memory with this call's texts
                memory, missing = {}, list(dict.fromkeys(texts))
            memory.update(zip(missing, np.asarray(self.embed(missing), dtype=np.float32)))
            self.memory = memory
        return np.stack([memory[t] for t in texts])


def _redundant(group: Sequence[Sentence], chosen: Sequence[Sentence]) -> bool:
    """The sentence says mostly what an already chosen one says (a rewrite of the same report)."""
    words = set(tokenize(" ".join(s.text for s in group)))
    for other in chosen:
        theirs = set(tokenize(other.text))
        if words and len(words & theirs) / len(words) > 0.6:
            return True
    return False


def load_model(path: Path | str = MODEL_PATH, log: Callable[[str], None] | None = None) -> ReaderModel | None:
    """The fitted reader, or None with a one-line notice when its file is missing or unreadable."""
    try:
        return ReaderModel.load(path)
    except Exception as exc:  # noqa: BLE001 - any failure means: answer with the rules
        if log is not None:
            log(f"reader model unavailable ({Path(path).name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                "answering with the rule-based answerer")
        return None
