"""Our terms for lexical matching: lower-cased, accent-folded words and numbers, no stopwords, lightly
stemmed. The BM25 index (`index.storage.lexical`) stores chunks as these terms, and the answerers, the
wire-copy grouping and the hashing embedding match on them too, so every side agrees on what a word is.
"""

from __future__ import annotations

import functools
import re
import unicodedata

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
    """Terms for lexical matching: accent-folded words and numbers ("1,000" -> "1000"), no stopwords.

    A sentence is tokenized many times while one question is answered (the rules' coverage, the reader's
    features, the short answer, the checks of the fact asked: about 1,800 calls a question over full pages),
    so texts up to `CACHED_CHARS` long are remembered; chunks at indexing are longer and are not kept."""
    if len(text) <= CACHED_CHARS:
        return list(_tokenize_cached(text))
    return _tokenize(text)


CACHED_CHARS = 2000


@functools.lru_cache(maxsize=1 << 14)
def _tokenize_cached(text: str) -> tuple[str, ...]:
    return tuple(_tokenize(text))


def _tokenize(text: str) -> list[str]:
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
