"""Wire copies: near-duplicate articles (one agency story under other outlets or URLs) share a group id.

An article's fingerprint for this is a MinHash (datasketch) of its word 5-shingles (lower-cased, accents
stripped: `index.text.terms.normalize`), 128 permutations with a fixed seed, and its number of shingles. Two
articles are copies when the estimated overlap of their shingle sets, |A & B| / min(|A|, |B|) (from the
Jaccard estimate and the sizes), is at least `THRESHOLD` (0.9): the same text give or take a dateline, a
sign-off or a changed word, and their headlines share at least 30% of their content words (`titles_agree`:
the same boilerplate under different headlines is not one story) (two 200-word copies, each with its own dateline and sign-off, are
at about 0.9; an 80-word item so edited is at 0.87, so short items group only when nearly verbatim).
Candidates are found by LSH banding, 16 bands of 8 rows: a pair at Jaccard 0.9 shares a band with
probability 0.9999, at 0.8 with 0.95, at 0.5 with 0.06 (so a story inside an article twice its length is
not looked for); every candidate is then checked on the whole signature.
The bands and the signature are stored in the metadata of the article's first chunk (`mh0`..`mh15`,
`minhash`) and the group id on every chunk (`group`), so finding an article's copies is one Chroma
metadata query and the grouping is written in the same records as the chunks, under the same crash
safety; there is no second store to keep in step (datasketch's own `MinHashLSH` keeps its index in memory
or in Redis/Cassandra). A group's id is the id of the first member indexed; a new copy joins it, and
membership is decided when an article is (re)indexed, never rewritten later.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from index.text.terms import normalize

THRESHOLD = 0.9
NUM_PERM = 128
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 5
BAND_KEYS = tuple(f"mh{i}" for i in range(BANDS))
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Signature:
    values: np.ndarray  # NUM_PERM uint64 hash minima
    size: int  # number of distinct shingles

    @cached_property
    def bands(self) -> tuple[str, ...]:
        """One short string per band (equal band strings = equal rows); computed once per signature (the
        indexer's metadata and the grouper's lookup and matching all use them)."""
        return tuple(f"{i}-{_band_key(self.values[i * ROWS:(i + 1) * ROWS])}" for i in range(BANDS))

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two shingle sets."""
        return float(np.mean(self.values == other.values))

    def similarity(self, other: Signature) -> float:
        """Estimated overlap of the two shingle sets, |A & B| / min(|A|, |B|), from the Jaccard estimate and
        the set sizes: a copy with its own dateline and sign-off still overlaps the story almost fully."""
        j = self.jaccard(other)
        common = j / (1.0 + j) * (self.size + other.size)
        return min(1.0, common / max(min(self.size, other.size), 1))

    def encode(self) -> str:
        return f"{self.size}:" + base64.b64encode(self.values.astype("<u4").tobytes()).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Signature | None:
        size, _, packed = text.partition(":")
        try:
            raw = base64.b64decode(packed.encode("ascii"), validate=True)
            values = np.frombuffer(raw, dtype="<u4").astype(np.uint64)
        except (ValueError, UnicodeEncodeError):
            return None
        return cls(values, int(size)) if size.isdigit() and len(values) == NUM_PERM else None


def _band_key(rows: np.ndarray) -> str:
    return hashlib.blake2b(rows.astype("<u4").tobytes(), digest_size=8).hexdigest()


def shingles(text: str) -> set[bytes]:
    words = _WORD.findall(normalize(text))
    if len(words) < SHINGLE:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def signature(text: str) -> Signature | None:
    """The article text's MinHash, or None for a text too short to compare (under 20 words)."""
    from datasketch import MinHash

    found = shingles(text)
    if len(found) < 16:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    minhash.update_batch(list(found))
    return Signature(np.asarray(minhash.hashvalues, dtype=np.uint64), len(found))


TITLE_OVERLAP = 0.3


def titles_agree(a: str, b: str) -> bool:
    """Whether two headlines could be one story's: at least 30% of their content words shared (Jaccard of
    stemmed, stopword-free tokens), or either is missing. This keeps apart pages whose text is the same
    boilerplate under different headlines (a scraped ad survey, a newsletter sign-up form: before this
    check, 13 CNN pages of the dev set, all the same 41 words, formed one group), which the text alone
    would call copies."""
    from index.text.terms import tokenize

    ta, tb = set(tokenize(a)), set(tokenize(b))
    if not ta or not tb:
        return True
    return len(ta & tb) / len(ta | tb) >= TITLE_OVERLAP


@dataclass(frozen=True)
class Member:
    """A stored article as the grouping sees it."""

    article_id: str
    group: str
    signature: Signature
    title: str = ""


def stored_member(meta: dict) -> Member | None:
    """The member a first chunk's metadata describes, if it carries a signature."""
    sig = Signature.decode(str(meta.get("minhash", "")))
    if sig is None:
        return None
    article_id = str(meta.get("article_id", ""))
    return Member(article_id, str(meta.get("group") or article_id), sig, str(meta.get("title", "")))


def group_metadata(group: str, sig: Signature | None) -> dict[str, str]:
    """What the first chunk stores: the signature and its bands (the group is on every chunk)."""
    if sig is None:
        return {}
    return {"minhash": sig.encode(), **dict(zip(BAND_KEYS, sig.bands))}


class Grouper:
    """Assigns a group to each article of one indexing run, against the stored articles and the earlier
    articles of the same run. `lookup(bands)` returns the stored members sharing any band value with
    `bands` ({band key: band values}); `exclude` are ids being rewritten by this run (their stored version
    is stale)."""

    def __init__(self, lookup: Callable[[dict[str, list[str]]], Iterable[Member]], exclude: Iterable[str] = ()):
        self.lookup = lookup
        self.exclude = set(exclude)
        self._run: dict[str, list[Member]] = {}  # band value -> members of this run

    def assign(self, items: Sequence[tuple[str, Signature | None, str]]) -> list[str]:
        """Group ids for (article_id, signature, title) triples, in order."""
        wanted: dict[str, list[str]] = {}
        for _, sig, _ in items:
            if sig is not None:
                for key, value in zip(BAND_KEYS, sig.bands):
                    wanted.setdefault(key, []).append(value)
        stored: dict[str, list[Member]] = {}
        if wanted:
            for member in self.lookup(wanted):
                if member.article_id in self.exclude:
                    continue
                for value in member.signature.bands:
                    stored.setdefault(value, []).append(member)
        groups = []
        for article_id, sig, title in items:
            if sig is None:
                groups.append(article_id)
                continue
            bands = sig.bands
            best: Member | None = None
            best_sim = THRESHOLD
            for pool in (stored, self._run):
                for value in bands:
                    for member in pool.get(value, ()):
                        sim = member.signature.similarity(sig)
                        if member.article_id != article_id and sim >= best_sim and (
                                best is None or sim > best_sim or member.group < best.group) \
                                and titles_agree(title, member.title):
                            best, best_sim = member, sim
            group = best.group if best is not None else article_id
            groups.append(group)
            me = Member(article_id, group, sig, title)
            for value in bands:
                self._run.setdefault(value, []).append(me)
        return groups
