"""A BM25 index over chunks that is updated in place and persisted to disk.

Owns tokenization for lexical matching and the BM25 ranking. Postings are compact arrays per term
(document slot + term frequency); removing a chunk marks its slot dead and slots are compacted when a
quarter of them are dead, so adding or removing articles never rebuilds the index from scratch. It keeps
no texts, only what ranking and filtering need (chunk id, article id, source, publication day). It does not
know about Chroma: the store tells it what to add and remove (see `index.store`). Every method that reads
or changes the arrays holds the index's lock: the app answers questions while it indexes uploads.
Over 300 lines because BM25 scoring, its incremental add/remove, the day filter and atomic persistence share
one array layout; splitting them would spread that layout over several modules.
"""

from __future__ import annotations

import functools
import math
import pickle
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.atomic import atomic_write

STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "us", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "also", "any", "before", "being", "both", "each", "more", "most", "other", "over", "said", "some", "such", "only", "own", "same", "too", "very", "just", "says", "should", "while", "whose", "during", "until", "against", "between", "because", "through", "under", "again", "further", "once", "here", "all", "few", "nor", "s", "t", "ve", "ll", "re", "d", "m"]
)

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_GROUP = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold(run: re.Match) -> str:
    decomposed = unicodedata.normalize("NFKD", run.group())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower-case and strip accents ("Velásquez" -> "velasquez"). Only the non-ASCII runs are decomposed
    (the same result as decomposing the whole text: combining marks are all dropped, so their reordering
    does not matter), which made it ~10x faster on news text, where it was the biggest cost of answering."""
    lowered = text.lower()
    return lowered if lowered.isascii() else _NON_ASCII.sub(_fold, lowered)


# Irregular past forms of verbs that news questions paraphrase ("Who built ..." / "was built by").
_IRREGULAR = {
    form: base for base, forms in {
        "build": "built", "draw": "drew drawn", "win": "won", "run": "ran", "begin": "began begun",
        "tell": "told", "say": "said", "pay": "paid", "sell": "sold", "make": "made", "take": "took taken",
        "give": "gave given", "go": "went gone", "fall": "fell fallen", "rise": "rose risen", "hold": "held",
        "meet": "met", "leave": "left", "lose": "lost", "choose": "chose chosen", "write": "wrote written",
        "speak": "spoke spoken", "bring": "brought", "buy": "bought", "catch": "caught", "think": "thought",
        "find": "found", "keep": "kept", "lead": "led", "grow": "grew grown", "know": "knew known",
        "throw": "threw thrown", "fly": "flew flown", "strike": "struck", "send": "sent", "spend": "spent",
        "stand": "stood", "steal": "stole stolen", "freeze": "froze frozen", "break": "broke broken",
        "drive": "drove driven", "ride": "rode ridden", "sing": "sang sung", "swim": "swam swum",
        "sink": "sank sunk", "shoot": "shot", "seek": "sought", "teach": "taught", "fight": "fought",
        "feel": "felt", "hear": "heard", "get": "got gotten", "come": "came", "become": "became",
        "eat": "ate eaten", "see": "saw seen", "wear": "wore worn", "hide": "hid hidden", "bear": "bore born",
        "tear": "tore torn", "swear": "swore sworn", "forbid": "forbade forbidden", "shake": "shook shaken",
    }.items() for form in forms.split()
}


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A very light suffix stripper: plurals and -ed/-ing, enough to match "asked" with "ask"; common
    irregular past forms map to their verb ("built" -> "build")."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Terms for lexical matching: accent-folded words and numbers ("1,000" -> "1000"), no stopwords."""
    text = _DIGIT_GROUP.sub("", normalize(text))
    terms: list[str] = []
    for word in _WORD.findall(text):
        if word in STOPWORDS:
            continue
        terms.append(_stem(word))
        # Demonyms also match their country: "Iranian" -> "iran", "Venezuelan" -> "venezuela".
        if len(word) >= 6 and word.endswith("ian"):
            terms.append(word[:-3])
        if len(word) >= 6 and word.endswith("an"):
            terms.append(word[:-1])
    return terms


def _locked(method):
    """Run the method holding the index's lock (numpy views of the arrays must not outlive a resize)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class LexicalDoc:
    chunk_id: str
    article_id: str
    source: str
    published_day: int  # YYYYMMDD, 0 when unknown
    text: str  # only used while adding; not kept


class LexicalIndex:
    """Incremental BM25 (k1=1.2, b=0.75) with tombstones and periodic compaction."""

    VERSION = 5  # bump when tokenization or layout changes: old caches are rebuilt

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, tuple[array, array]] = {}
        self.chunk_ids: list[str] = []
        self.article_ids: list[str] = []
        self.sources: list[str] = []
        self.slot_of: dict[str, int] = {}
        self._lengths = array("I")
        self._days = array("I")
        self._alive = array("b")
        self.n_alive = 0
        self.total_length = 0
        self.generation: object = None  # the store generation this index reflects
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ updates

    def __len__(self) -> int:
        return self.n_alive

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self.slot_of

    @_locked
    def add(self, docs: Iterable[LexicalDoc]) -> None:
        for doc in docs:
            if doc.chunk_id in self.slot_of:
                self.remove([doc.chunk_id])
            slot = len(self.chunk_ids)
            terms = tokenize(doc.text)
            for term, tf in Counter(terms).items():
                entry = self.postings.get(term)
                if entry is None:
                    entry = self.postings[term] = (array("I"), array("H"))
                entry[0].append(slot)
                entry[1].append(min(tf, 65535))
            self.chunk_ids.append(doc.chunk_id)
            self.article_ids.append(doc.article_id)
            self.sources.append(doc.source)
            self.slot_of[doc.chunk_id] = slot
            self._lengths.append(len(terms))
            self._days.append(doc.published_day)
            self._alive.append(1)
            self.n_alive += 1
            self.total_length += len(terms)

    @_locked
    def remove(self, chunk_ids: Iterable[str]) -> None:
        for chunk_id in chunk_ids:
            slot = self.slot_of.pop(chunk_id, None)
            if slot is None:
                continue
            self._alive[slot] = 0
            self.n_alive -= 1
            self.total_length -= self._lengths[slot]
        dead = len(self.chunk_ids) - self.n_alive
        if dead > 1000 and dead > len(self.chunk_ids) // 4:
            self.compact()

    @_locked
    def compact(self) -> None:
        """Drop dead slots and renumber; O(size of index), run rarely."""
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool) if len(self._alive) else np.zeros(0, bool)
        new_slot = np.full(len(alive), -1, dtype=np.int64)
        new_slot[alive] = np.arange(int(alive.sum()))
        postings: dict[str, tuple[array, array]] = {}
        for term, (slots, tfs) in self.postings.items():
            s = np.frombuffer(slots, dtype=np.uint32)
            keep = alive[s]
            if keep.any():
                postings[term] = (
                    array("I", new_slot[s[keep]].astype(np.uint32).tobytes()),
                    array("H", np.frombuffer(tfs, dtype=np.uint16)[keep].tobytes()),
                )
        keep_idx = np.flatnonzero(alive)
        self.postings = postings
        self.chunk_ids = [self.chunk_ids[i] for i in keep_idx]
        self.article_ids = [self.article_ids[i] for i in keep_idx]
        self.sources = [self.sources[i] for i in keep_idx]
        self.slot_of = {cid: i for i, cid in enumerate(self.chunk_ids)}
        self._lengths = array("I", np.frombuffer(self._lengths, dtype=np.uint32)[alive].tobytes())
        self._days = array("I", np.frombuffer(self._days, dtype=np.uint32)[alive].tobytes())
        self._alive = array("b", b"\x01" * len(keep_idx))

    # ------------------------------------------------------------------ search

    @_locked
    def search(
        self,
        query: str,
        top_k: int = 50,
        *,
        sources: Iterable[str] | None = None,
        day_from: int | None = None,
        day_to: int | None = None,
        since_day: int | None = None,
        as_of_day: int | None = None,
    ) -> list[tuple[str, float]]:
        """Best chunks for `query` as (chunk_id, bm25 score), highest first; only positive scores.

        `day_from`/`day_to` bound the publication day (undated chunks fail `day_to`); `since_day`/
        `as_of_day` bound it too but keep undated chunks."""
        n_slots = len(self.chunk_ids)
        terms = set(tokenize(query))
        if not n_slots or not terms or not self.n_alive:
            return []
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        if sources:
            wanted = set(sources)
            alive &= np.fromiter((s in wanted for s in self.sources), dtype=bool, count=n_slots)
        if day_from or day_to:
            days = np.frombuffer(self._days, dtype=np.uint32)
            if day_from:
                alive &= days >= day_from
            if day_to:
                alive &= (days <= day_to) & (days > 0)
        if since_day or as_of_day:
            days = np.frombuffer(self._days, dtype=np.uint32)
            if since_day:
                alive &= (days >= since_day) | (days == 0)
            if as_of_day:
                alive &= days <= as_of_day
        scores = self._scores(terms)
        scores[~alive] = 0.0
        k = min(top_k, n_slots)
        candidates = np.argpartition(-scores, k - 1)[:k] if k < n_slots else np.arange(n_slots)
        ranked = sorted(candidates, key=lambda i: (-scores[i], self.chunk_ids[i]))
        return [(self.chunk_ids[i], float(scores[i])) for i in ranked if scores[i] > 0]

    @_locked
    def score_chunks(self, query: str, chunk_ids: Iterable[str]) -> dict[str, float]:
        """BM25 scores of `query` for the given chunks (0 for unknown chunks): fusion needs both scores of
        a candidate that only one ranking found."""
        wanted = list(chunk_ids)
        terms = set(tokenize(query))
        if not terms or not self.n_alive:
            return dict.fromkeys(wanted, 0.0)
        scores = self._scores(terms)
        return {cid: float(scores[self.slot_of[cid]]) if cid in self.slot_of else 0.0 for cid in wanted}

    def _scores(self, terms: set[str]) -> np.ndarray:
        """BM25 score of every slot (dead slots included; callers mask them). Holds no lock itself."""
        n_slots = len(self.chunk_ids)
        lengths = np.frombuffer(self._lengths, dtype=np.uint32)
        avgdl = max(self.total_length / self.n_alive, 1.0)
        scores = np.zeros(n_slots, dtype=np.float32)
        all_alive = np.frombuffer(self._alive, dtype=np.int8)
        for term in terms:
            entry = self.postings.get(term)
            if entry is None:
                continue
            slots = np.frombuffer(entry[0], dtype=np.uint32)
            df = int(all_alive[slots].sum())
            if df == 0:
                continue
            idf = math.log(1.0 + (self.n_alive - df + 0.5) / (df + 0.5))
            tf = np.frombuffer(entry[1], dtype=np.uint16).astype(np.float32)
            norm = self.k1 * (1.0 - self.b + self.b * lengths[slots] / avgdl)
            scores[slots] += idf * tf * (self.k1 + 1.0) / (tf + norm)
        return scores

    @_locked
    def idf(self, term: str) -> float:
        """Inverse document frequency of an already-tokenized term (0 for unknown terms)."""
        entry = self.postings.get(term)
        if entry is None or not self.n_alive:
            return 0.0
        slots = np.frombuffer(entry[0], dtype=np.uint32)
        df = int(np.frombuffer(self._alive, dtype=np.int8)[slots].sum())
        return math.log(1.0 + (self.n_alive - df + 0.5) / (df + 0.5)) if df else 0.0

    @_locked
    def day_range(self) -> tuple[int, int]:
        """(oldest, newest) publication day (YYYYMMDD) of the dated chunks, (0, 0) when none is dated."""
        if not self.n_alive:
            return 0, 0
        days = np.frombuffer(self._days, dtype=np.uint32)[np.frombuffer(self._alive, dtype=np.int8).astype(bool)]
        dated = days[days > 0]
        return (int(dated.min()), int(dated.max())) if len(dated) else (0, 0)

    @_locked
    def article_of(self, chunk_id: str) -> str | None:
        slot = self.slot_of.get(chunk_id)
        return None if slot is None else self.article_ids[slot]

    @_locked
    def article_chunk_counts(self) -> Counter[str]:
        return Counter(self.article_ids[slot] for slot in self.slot_of.values())

    # ------------------------------------------------------------------ persistence

    @_locked
    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename), so a crash leaves the old or the new file, never half."""
        with atomic_write(path) as fh:
            state = {k: v for k, v in self.__dict__.items() if k != "_lock"}
            pickle.dump((self.VERSION, state), fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex | None:
        """The saved index, or None when missing, unreadable or from another version (it is a cache)."""
        try:
            with open(path, "rb") as fh:
                version, state = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return None
        if version != cls.VERSION:
            return None
        index = cls.__new__(cls)
        index.__dict__.update(state)
        index._lock = threading.RLock()
        return index
