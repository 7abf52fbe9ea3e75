"""Token-aware, sentence-aware chunking with character offsets.

A chunk is a run of whole sentences of one article, at most `chunk_size` cl100k tokens, and consecutive
chunks share up to `chunk_overlap` tokens of trailing sentences. A sentence longer than `chunk_size` is cut
at token boundaries. Every chunk records `start`/`end` so that `article.text[start:end] == chunk.text`,
which is what lets the UI highlight a passage and a quote inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.text.sentences import Span, split_sentences
from index.text.tokens import get_encoding

# Bump when the chunker's output changes for the same input: stored articles then get re-chunked.
CHUNKER_VERSION = 2
# What ships (chosen with benchmarks/sweep_retrieval.py): the one source of these values for the chunker, the
# `Indexer` and `Settings`, so that code and tests building one directly chunk as the product does.
CHUNK_SIZE = 1024  # most cl100k tokens per chunk
CHUNK_OVERLAP = 128  # tokens of trailing sentences repeated in the next chunk


@dataclass(frozen=True)
class ChunkSpan:
    index: int
    start: int
    end: int
    n_tokens: int


def _cut_long_sentence(text: str, span: Span, limit: int) -> list[tuple[Span, int]]:
    """Cut one over-long sentence into pieces of at most `limit` tokens (re-counted, so exact)."""
    enc = get_encoding()
    sentence = text[span.start : span.end]
    tokens = enc.encode_ordinary(sentence)
    _, offsets = enc.decode_with_offsets(tokens)
    pieces: list[tuple[Span, int]] = []
    first = 0
    while first < len(tokens):
        last = min(first + limit, len(tokens))
        while True:
            start_char = offsets[first]
            end_char = offsets[last] if last < len(tokens) else len(sentence)
            # Tokens carry their leading space (" word"): trim so a piece starts and ends on text.
            while start_char < end_char and sentence[start_char].isspace():
                start_char += 1
            while end_char > start_char and sentence[end_char - 1].isspace():
                end_char -= 1
            n = len(enc.encode_ordinary(sentence[start_char:end_char]))
            if n <= limit or last - first <= 1:
                break
            last -= max(1, (n - limit))
        if end_char > start_char:
            pieces.append((Span(span.start + start_char, span.start + end_char), n))
        first = last
    return pieces


def chunk_text(text: str, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> list[ChunkSpan]:
    """Split `text` into overlapping chunks of whole sentences; offsets index into `text`."""
    if chunk_size < 8:
        raise ValueError("chunk_size must be at least 8 tokens")
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError("chunk_overlap must be >= 0 and smaller than chunk_size")
    enc = get_encoding()
    units: list[tuple[Span, int]] = []
    for span in split_sentences(text):
        n = len(enc.encode_ordinary(text[span.start : span.end]))
        # Leave one token per unit for the whitespace that joins it to its neighbour.
        if n + 1 > chunk_size:
            units.extend(_cut_long_sentence(text, span, chunk_size - 1))
        else:
            units.append((span, n))

    chunks: list[ChunkSpan] = []
    first = fresh = 0  # first unit of the chunk being built; first unit not in the previous chunk
    while first < len(units):
        # Grow greedily on the estimate (sum of sentence tokens + one per join), then verify exactly.
        last, estimate = first, units[first][1]
        while last + 1 < len(units) and estimate + units[last + 1][1] + 1 <= chunk_size:
            last += 1
            estimate += units[last][1] + 1
        while True:
            start, end = units[first][0].start, units[last][0].end
            n_tokens = len(enc.encode_ordinary(text[start:end]))
            if n_tokens <= chunk_size or last == first:
                break
            # Too long: shed carried-over sentences first, so every chunk holds something new.
            if first < fresh and last <= fresh:
                first += 1
            else:
                last -= 1
        chunks.append(ChunkSpan(len(chunks), start, end, n_tokens))
        if last + 1 >= len(units):
            break
        # Carry trailing sentences into the next chunk, up to the overlap budget, always making progress.
        # The carried sentences must leave room for the next new one, or the next chunk would repeat them.
        next_first = fresh = last + 1
        budget = min(chunk_overlap, chunk_size - units[next_first][1] - 1)
        while next_first - 1 > first and units[next_first - 1][1] + 1 <= budget:
            next_first -= 1
            budget -= units[next_first][1] + 1
        first = next_first
    return chunks
