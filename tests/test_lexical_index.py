"""The BM25 side on its own (index/storage/lexical.py): ranking against a reference BM25, filters, replacement and
removal, all-or-nothing batches, and two index objects sharing one folder as two processes do."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from index.storage.filters import SearchFilters
from index.storage.lexical import LexicalDoc, LexicalIndex
from index.text.terms import tokenize

DOCS = [
    LexicalDoc("c1", "a1", "Wire", 20230105, "Frost hits the apple orchards of the valley"),
    LexicalDoc("c2", "a1", "Wire", 20230105, "Growers count the apple losses after frost and hail"),
    LexicalDoc("c3", "a2", "Daily", 20230110, "The city council votes on the harbour ferry budget"),
    LexicalDoc("c4", "a3", "Daily", 0, "Ferry workers strike; the harbour ferry stops for a day"),
    LexicalDoc("c5", "a4", "Post", 20230201, "Apple prices rise in the city markets after the frost"),
    LexicalDoc("c6", "a5", "Post", 20221230, "A quiet year end for the harbour"),
]


def reference_bm25(docs: list[LexicalDoc], query: str, k1: float = 1.2, b: float = 0.75) -> dict[str, float]:
    """Plain BM25 (Lucene's idf) over the same terms, written out for comparison."""
    terms = {d.chunk_id: Counter(tokenize(d.text)) for d in docs}
    lengths = {cid: sum(c.values()) for cid, c in terms.items()}
    avgdl = sum(lengths.values()) / len(docs)
    out: dict[str, float] = {}
    for cid, tf in terms.items():
        score = 0.0
        for term in set(tokenize(query)):
            df = sum(1 for c in terms.values() if term in c)
            if tf[term]:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * lengths[cid] / avgdl))
        if score > 0:
            out[cid] = score
    return out


@pytest.fixture(params=["memory", "disk"])
def index(request, tmp_path):
    ix = LexicalIndex(None if request.param == "memory" else tmp_path / "lexical")
    ix.add(DOCS)
    return ix


@pytest.mark.parametrize("query", ["apple frost", "harbour ferry", "city", "valley orchards", "the of a"])
def test_scores_match_a_reference_bm25(index, query):
    want = reference_bm25(DOCS, query)
    got = dict(index.search(query, 10))
    assert got.keys() == want.keys()
    for cid, score in want.items():  # short documents: tantivy's one-byte lengths are exact below 40 terms
        assert got[cid] == pytest.approx(score, rel=1e-4), cid
    assert [cid for cid, _ in index.search(query, 10)] == sorted(want, key=lambda c: (-want[c], c))
    assert index.score_chunks(query, ["c1", "c3", "nope"]) == pytest.approx(
        {"c1": want.get("c1", 0.0), "c3": want.get("c3", 0.0), "nope": 0.0}, rel=1e-4)


@pytest.mark.parametrize("filters, expected", [
    (SearchFilters(), {"c1", "c2", "c5"}),
    (SearchFilters(sources=("Post",)), {"c5"}),
    (SearchFilters(as_of="2023-01-31"), {"c1", "c2"}),
    (SearchFilters(date_from="2023-01-06"), {"c5"}),
    (SearchFilters(date_to="2023-01-06"), {"c1", "c2"}),
])
def test_filters(index, filters, expected):
    assert {cid for cid, _ in index.search("apple frost", 10, filters)} == expected


def test_undated_chunks_pass_since_and_as_of_but_not_day_to(index):
    assert {cid for cid, _ in index.search("harbour", 10, SearchFilters(since="2023-01-01"))} == {"c3", "c4"}
    assert {cid for cid, _ in index.search("harbour", 10, SearchFilters(as_of="2023-01-01"))} == {"c4", "c6"}
    assert {cid for cid, _ in index.search("harbour", 10, SearchFilters(date_to="2023-12-31"))} == {"c3", "c6"}


def test_reads(index):
    assert len(index) == 6 and "c4" in index and "c9" not in index
    assert index.chunk_ids() == {d.chunk_id for d in DOCS}
    assert index.article_chunk_counts() == Counter({"a1": 2, "a2": 1, "a3": 1, "a4": 1, "a5": 1})
    assert index.article_of("c2") == "a1" and index.article_of("c9") is None
    assert index.day_range() == (20221230, 20230201)
    assert index.idf("ferry") == pytest.approx(math.log(1 + (6 - 2 + 0.5) / (2 + 0.5)))
    assert index.idf("unknownterm") == 0.0
    assert index.search("", 5) == [] and index.search("apple", 0) == []


def test_replace_and_remove(index):
    index.add([LexicalDoc("c1", "a1", "Wire", 20230105, "Snow closes the mountain pass")])
    assert len(index) == 6, "re-adding an id replaces it"
    assert "c1" not in {cid for cid, _ in index.search("orchards", 10)}
    assert [cid for cid, _ in index.search("snow", 10)] == ["c1"]
    index.remove(["c1", "c2", "never-there"])
    assert index.chunk_ids() == {"c3", "c4", "c5", "c6"}
    assert index.article_chunk_counts().get("a1", 0) == 0
    assert index.search("snow", 10) == []


def test_a_batch_that_fails_leaves_nothing_of_itself(index):
    bad = LexicalDoc("c8", "a8", "Wire", "not a day", "glacier")  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        index.add([LexicalDoc("c7", "a7", "Wire", 20230301, "glacier melt"), bad])
    assert "c7" not in index and index.search("glacier", 5) == []
    index.add([LexicalDoc("c7", "a7", "Wire", 20230301, "glacier melt")])  # the writer is usable again
    assert [cid for cid, _ in index.search("glacier", 5)] == ["c7"]


def test_two_index_objects_share_one_folder(tmp_path):
    """As two processes of one data directory: one writer at a time, and each sees the other's commits."""
    path = tmp_path / "lexical"
    first, second = LexicalIndex(path), LexicalIndex(path)
    assert first.try_hold_writer()
    assert not second.try_hold_writer(), "two writers at once"
    first.add(DOCS[:3])
    second.refresh()
    assert second.chunk_ids() == {"c1", "c2", "c3"}
    first.generation = 7
    assert second.generation == 7
    first.release_writer()
    assert second.try_hold_writer()
    second.remove(["c1"])
    second.release_writer()
    first.refresh()
    assert first.chunk_ids() == {"c2", "c3"}
    assert LexicalIndex(path).chunk_ids() == {"c2", "c3"}, "reopened from disk"


def test_an_index_from_another_version_or_damaged_starts_empty(tmp_path):
    path = tmp_path / "lexical"
    ix = LexicalIndex(path)
    ix.add(DOCS)
    ix.generation = 3
    (path / "meta.json").write_text("{ not json")
    again = LexicalIndex(path)
    assert len(again) == 0 and again.generation is None
    again.add(DOCS[:1])
    state = path.with_name(path.name + ".json")
    state.write_text(state.read_text().replace(f'"version": {LexicalIndex.VERSION}', '"version": 1'))
    assert len(LexicalIndex(path)) == 0


def test_tokenize_remembers_short_texts_but_hands_out_a_fresh_list_each_time():
    """Answering tokenizes each sentence many times, so short texts are remembered; a caller that changes
    the list it got must not change what the next caller gets, and long texts tokenize the same way."""
    from index.text import terms

    sentence = "Venezuelan officials asked Iran for drones with a 1,000 km range."
    first = tokenize(sentence)
    assert first == ["venezuelan", "venezuela", "official", "ask", "iran", "drone", "1000", "km", "range"]
    first.append("changed")
    assert tokenize(sentence) == first[:-1]
    long_text = " ".join([sentence] * (terms.CACHED_CHARS // len(sentence) + 1))
    assert len(long_text) > terms.CACHED_CHARS
    assert tokenize(long_text) == first[:-1] * (terms.CACHED_CHARS // len(sentence) + 1)


def test_keyed_finds_chunks_by_any_of_many_keys():
    """A reindex of thousands of articles asks for 16 band values each: more keys than one query takes."""
    from index.storage import lexical

    index = LexicalIndex(None)
    n = lexical.KEYS_PER_QUERY + 10
    index.add(LexicalDoc(f"c{i}", f"a{i}", "", 0, "text", (f"band-{i}", "group:shared")) for i in range(n))
    index.refresh()
    asked = [f"band-{i}" for i in range(0, n, 2)] + [f"absent-{i}" for i in range(n)]
    assert sorted(index.keyed(asked)) == sorted(f"c{i}" for i in range(0, n, 2))
    assert len(index.keyed(["group:shared"])) == n and index.keyed([]) == []
