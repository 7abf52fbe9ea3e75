"""Chunking and sentence splitting: offsets are exact, token limits hold (re-counted with tiktoken
cl100k_base), overlap carries trailing sentences, and edge cases (empty, one character, unicode, a 1 MB
single line, a very long sentence) behave."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.text.chunking import chunk_text
from index.text.sentences import split_sentences
from index.text.tokens import count_tokens, get_encoding

_VOCABULARY = ("the minister said on Monday that Venezuela asked Iran for drones radar and GPS jammers while "
               "officials in Caracas denied the report Nicolás Velásquez 1,000 km range")
WORDS = tuple(_VOCABULARY.split(" "))


def _sentences(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 30))]
        out.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
    return " ".join(out)


def _long_line(n_chars: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    parts, size = [], 0
    while size < n_chars:
        word = rng.choice(WORDS)
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)[:n_chars]


CASES = {
    "empty": "",
    "whitespace only": " \n\t\n  ",
    "one character": "a",
    "one multibyte character": "é",
    "single emoji": "\U0001F389",
    "unicode mix": ("Héllo wörld. Ça va? 日本語のテキストです。 Привет, мир! Emoji \U0001F389\U0001F389 test. "
                    "Zürich’s “quoted” sentence ends here.\n") * 40,
    "cjk without spaces": "日本語のテキストです" * 400,
    "emoji run": "\U0001F389\U0001F680" * 700,
    "very long sentence": " ".join(_long_line(40_000).split()) + ".",
    "no whitespace at all": "x" * 20_000,
    "many short lines": "\n".join(f"Line {i}." for i in range(800)),
    "paragraphs": "\n\n".join(_sentences(12, seed) for seed in range(8)),
    "crlf and tabs": "First line.\r\n\tSecond\tline here.\r\nThird line.",
}


def check_chunks(text: str, chunk_size: int, chunk_overlap: int) -> list:
    """Assert every invariant the rest of the system relies on; return the chunks."""
    chunks = chunk_text(text, chunk_size, chunk_overlap)
    for i, chunk in enumerate(chunks):
        piece = text[chunk.start : chunk.end]
        assert chunk.index == i
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert piece == piece.strip(), "chunks start and end on non-whitespace"
        assert count_tokens(piece) == chunk.n_tokens, "n_tokens is the exact cl100k count"
        assert chunk.n_tokens <= chunk_size, f"chunk {i} has {chunk.n_tokens} tokens > {chunk_size}"
    for prev, nxt in pairwise(chunks):
        assert nxt.start > prev.start and nxt.end > prev.end, "chunks move forward"
        assert nxt.start <= prev.end or not text[prev.end : nxt.start].strip(), "no text skipped between chunks"
        if nxt.start < prev.end:
            assert chunk_overlap > 0, "overlap only when asked for"
            assert count_tokens(text[nxt.start : prev.end]) <= chunk_overlap
    # Every non-whitespace character of the text is in some chunk.
    covered = bytearray(len(text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missed = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not missed, f"characters not in any chunk, first at {missed[:3]}"
    return chunks


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("chunk_size,chunk_overlap", [(256, 32), (64, 16), (16, 0), (8, 4)])
def test_chunk_invariants_on_edge_cases(name, chunk_size, chunk_overlap):
    text = CASES[name]
    chunks = check_chunks(text, chunk_size, chunk_overlap)
    if text.strip():
        assert chunks
    else:
        assert chunks == []


def test_one_character_is_one_chunk():
    [chunk] = chunk_text("a")
    assert (chunk.start, chunk.end, chunk.n_tokens) == (0, 1, 1)


def test_one_megabyte_single_line():
    text = _long_line(1_000_000)
    assert "\n" not in text and len(text) == 1_000_000
    chunks = check_chunks(text, 256, 32)
    assert len(chunks) > 500
    assert sum(c.n_tokens for c in chunks) >= count_tokens(text) * 0.99, "no large overlap, nothing lost"


def test_very_long_sentence_is_cut_at_token_limits():
    sentence = _long_line(30_000) + "."
    assert len(split_sentences(sentence)) == 1
    chunks = check_chunks(sentence, 128, 0)
    assert len(chunks) >= count_tokens(sentence) // 128
    # Cuts are dense: pieces are close to the limit, not a token each.
    assert sum(c.n_tokens for c in chunks[:-1]) / (len(chunks) - 1) > 100


def test_overlap_repeats_trailing_sentences():
    text = _sentences(200)
    with_overlap = check_chunks(text, 128, 40)
    without = check_chunks(text, 128, 0)
    assert len(with_overlap) > len(without)
    shared = [(a, b) for a, b in pairwise(with_overlap) if b.start < a.end]
    assert len(shared) >= len(with_overlap) // 2, "most neighbours share a sentence when sentences are short"
    for a, b in shared:
        # The shared part is whole sentences: the next chunk starts where a sentence starts.
        starts = {s.start for s in split_sentences(text)}
        assert b.start in starts
    for a, b in pairwise(without):
        assert b.start >= a.end


def test_chunks_end_on_sentence_boundaries():
    text = _sentences(120, seed=3)
    spans = split_sentences(text)
    starts, ends = {s.start for s in spans}, {s.end for s in spans}
    for chunk in check_chunks(text, 96, 16):
        assert chunk.start in starts and chunk.end in ends


def test_default_size_is_near_256_tokens():
    chunks = check_chunks(_sentences(400, seed=5), 256, 32)
    assert all(c.n_tokens <= 256 for c in chunks)
    assert sum(c.n_tokens for c in chunks[:-1]) / (len(chunks) - 1) > 200


@pytest.mark.parametrize("size,overlap", [(7, 0), (256, 256), (256, -1), (64, 100)])
def test_bad_settings_are_rejected(size, overlap):
    with pytest.raises(ValueError):
        chunk_text("Some text.", size, overlap)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600),
       size=st.sampled_from([8, 12, 32, 64]), overlap=st.sampled_from([0, 3, 7]))
def test_chunk_invariants_on_random_text(text, size, overlap):
    check_chunks(text, size, overlap)


# ----------------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", []),
        ("One.", ["One."]),
        ("First one. Second one! Third one? Fourth", ["First one.", "Second one!", "Third one?", "Fourth"]),
        ("Mr. Smith met Dr. Jones in the U.S. Senate. Then he left.",
         ["Mr. Smith met Dr. Jones in the U.S. Senate.", "Then he left."]),
        ("J. K. Rowling wrote it. Yes.", ["J. K. Rowling wrote it.", "Yes."]),
        ('He said "stop." Then it stopped.', ['He said "stop."', "Then it stopped."]),
        ("Headline without a period\nBody sentence here.", ["Headline without a period", "Body sentence here."]),
        ("Prices rose 3.5 percent. Markets fell.", ["Prices rose 3.5 percent.", "Markets fell."]),
        ("  padded sentence.   \n\n  another  ", ["padded sentence.", "another"]),
        ("Zürich gewann. Ärger folgte.", ["Zürich gewann.", "Ärger folgte."]),
    ],
)
def test_split_sentences(text, expected):
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == expected


@pytest.mark.parametrize("name", list(CASES))
def test_sentence_spans_are_ordered_trimmed_and_disjoint(name):
    text = CASES[name]
    spans = split_sentences(text)
    for span in spans:
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
    for a, b in pairwise(spans):
        assert a.end <= b.start


def test_tokenizer_is_cl100k_and_offline():
    enc = get_encoding()
    assert enc.name == "cl100k_base"
    assert count_tokens("hello world") == 2
