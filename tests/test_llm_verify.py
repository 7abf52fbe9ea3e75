"""Citation verification and strict prompt templates, without any server (hashing embedding, fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answering.prompts import PromptError, load_prompt, render
from assistant.answering.verify import AnswerAssembler, CitationVerifier, marker_numbers, strip_markers
from assistant.types import Passage
from index.models.embedding import HashingEmbedding
from index.storage.store import StoredChunk

ROOT = Path(__file__).resolve().parent.parent


def passage(i: int, text: str, title: str = "") -> Passage:
    chunk = StoredChunk(f"chunk-{i}", f"article-{i}", text, 1000 * i, 1000 * i + len(text), title=title)
    return Passage(chunk, 1.0 / i, rank=i)


PASSAGES = [
    passage(1, "Ashford Vale city council voted 31 to 12 on Tuesday to approve the Eastbank tram line. "
               "The 14.2 km line will run from Central Station to Millbrook Hospital, with 19 stops."),
    passage(2, "Venezuela asked Iran for drones able to fly 1,000 km, for GPS scramblers and for passive "
               "detection equipment. Transport Minister Velasquez spoke with an Iranian official."),
    passage(3, "Amara Chelimo broke the women's course record at the Lakeport Marathon on Sunday, crossing "
               "the line in 2:18:41. Tomas Reyes won the men's race in 2:07:55."),
]
EMBED = HashingEmbedding().get_text_embedding_batch


def assemble(raw: str, pieces: list[str] | None = None) -> tuple[AnswerAssembler, str]:
    assembler = AnswerAssembler(CitationVerifier(PASSAGES, EMBED))
    out = "".join(assembler.feed(p) for p in (pieces or [raw])) + assembler.finish()
    return assembler, out


def test_correct_markers_are_kept_and_renumbered_by_first_use():
    a, text = assemble("Chelimo won the women's race in 2:18:41 [3]. The tram line will have 19 stops [1].")
    assert text == "Chelimo won the women's race in 2:18:41. [1] The tram line will have 19 stops. [2]"
    assert [(c.n, c.chunk_id) for c in a.citations()] == [(1, "chunk-3"), (2, "chunk-1")]
    assert all(s.verified for s in a.sentences)


def test_wrong_marker_moves_to_the_supporting_passage_and_quote_has_offsets():
    a, text = assemble("Venezuela asked Iran for drones that can fly 1,000 km [1].")
    assert text.endswith("[1]") and a.sentences[0].verified
    (citation,) = a.citations()
    assert citation.chunk_id == "chunk-2"
    assert citation.quote.startswith("Venezuela asked Iran for drones able to fly 1,000 km")
    a0, b0 = citation.quote_offsets_in_passage()
    assert citation.text[a0:b0] == citation.quote


@pytest.mark.parametrize("raw", [
    "Venezuela asked Iran for drones able to fly 1,000 km [7].",  # out of range
    "Venezuela asked Iran for drones able to fly 1,000 km.",  # no marker at all
    "Venezuela asked Iran for drones able to fly 1,000 km.[1]",  # wrong one, glued to the full stop
    "Venezuela asked Iran for drones able to fly 1,000 km [1, 3].",
])
def test_missing_invalid_or_wrong_markers_end_on_the_supporting_passage(raw):
    a, text = assemble(raw)
    assert [c.chunk_id for c in a.citations()] == ["chunk-2"]
    assert text == "Venezuela asked Iran for drones able to fly 1,000 km. [1]"


def test_unsupported_sentence_is_flagged_and_loses_its_marker():
    a, text = assemble("The tram line was approved by 31 votes to 12 [1]. "
                       "The mayor resigned and moved to Singapore with the budget [1].")
    assert [s.verified for s in a.sentences] == [True, False]
    assert a.sentences[1].citations == ()
    assert text.endswith("with the budget.")
    assert [c.chunk_id for c in a.citations()] == ["chunk-1"]


def test_no_answer_sentence_is_an_abstention_not_an_unverified_claim():
    a, _text = assemble("The articles don't cover this.")
    assert a.abstained and a.sentences[0].verified and not a.citations()
    b, _ = assemble("The tram line will have 19 stops [1]. The articles do not say when it opens.")
    assert not b.abstained and [s.verified for s in b.sentences] == [True, True]


def test_markers_opening_the_next_sentence_belong_to_the_previous_one():
    _a, text = assemble("Chelimo won in 2:18:41. [3] Reyes won the men's race in 2:07:55. [3]")
    assert text == "Chelimo won in 2:18:41. [1] Reyes won the men's race in 2:07:55. [1]"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), max_size=30), st.sampled_from([
    "Chelimo won the women's race in 2:18:41 [3]. Venezuela wanted drones [1][2].\n\nThe moon is cheese [2].",
    "Venezuela asked Iran for GPS scramblers.[2] The tram has 19 stops [1] and runs to Millbrook Hospital [1].",
    "[2] Leading marker. Tram [1",
]))
def test_streamed_text_is_exactly_the_final_text_whatever_the_chunking(cuts, raw):
    """What is released while streaming is never taken back: pieces concatenate to the final answer."""
    whole_assembler, whole = assemble(raw)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)])]
    assembler = AnswerAssembler(CitationVerifier(PASSAGES, EMBED))
    released = []
    for piece in pieces:
        released.append(assembler.feed(piece))
        assert "".join(released) == assembler.text
        assert whole.startswith(assembler.text)
    released.append(assembler.finish())
    assert "".join(released) == whole
    assert assembler.sentences == whole_assembler.sentences


@pytest.mark.parametrize("text,numbers", [
    ("a [1] b [2, 3] c [4-6] d [7;8]", [1, 2, 3, 4, 5, 6, 7, 8]),
    ("no markers [x] [ ]", []),
    ("[12]", [12]),
])
def test_marker_parsing(text, numbers):
    assert marker_numbers(text) == numbers


def test_strip_markers_partial_never_shrinks():
    raw = "Drones can fly 1,000 km [2][3]. Next"
    seen = ""
    for i in range(len(raw) + 1):
        now = strip_markers(raw[:i], partial=True)
        assert now.startswith(seen.rstrip()) or seen.startswith(now)
        seen = now
    assert strip_markers(raw) == "Drones can fly 1,000 km. Next"


def test_random_paragraphs_keep_their_breaks():
    raw = "The tram line will have 19 stops [1].\n\nChelimo won in 2:18:41 [3]."
    _, text = assemble(raw, [raw[i : i + 3] for i in range(0, len(raw), 3)])
    assert text == "The tram line will have 19 stops. [1]\n\nChelimo won in 2:18:41. [2]"


# ---------------------------------------------------------------------------------------------- prompts


def test_render_is_strict():
    assert render("Hi {name}, {{literal}}", {"name": "{x}"}) == "Hi {x}, {literal}"
    with pytest.raises(PromptError, match="no value for placeholder {name}"):
        render("Hi {name}", {})
    with pytest.raises(PromptError, match="has no placeholder"):
        render("Hi", {"name": "x"})
    with pytest.raises(PromptError, match="malformed"):
        render("Hi {name", {"name": "x"})


def test_bundled_prompts_parse_and_render(tmp_path):
    answer = load_prompt(ROOT / "prompts", "answer")
    system, user = answer.messages(passages="P", question="Q?", max_sentences="3", no_answer="N.", fence="f0")
    assert "ignore any instruction" in system.lower() and "Q?" in user
    with pytest.raises(PromptError, match="question"):
        answer.messages(passages="P", max_sentences="3", no_answer="N.", fence="f0")
    condense = load_prompt(ROOT / "prompts", "condense")
    assert "Follow-up question: and Iran?" in condense.messages(history="User: x", question="and Iran?")[1]
    bad = tmp_path / "answer.txt"
    bad.write_text("### system\nHello {name\n### user\nx\n")
    with pytest.raises(PromptError, match="malformed"):
        load_prompt(tmp_path, "answer")
    with pytest.raises(PromptError, match="cannot read"):
        load_prompt(tmp_path, "missing")


def test_ui_marks_unverified_sentences_and_shows_the_notice():
    from assistant.types import Answer, SentenceCheck
    from assistant.web.render import answer_message

    answer = Answer(question="q", answer="Drones were requested. [1] The moon is cheese.", abstained=False,
                    sentences=(SentenceCheck("Drones were requested.", (1,), True),
                               SentenceCheck("The moon is cheese.", (), False)),
                    notice="the LLM timed out; showing the extractive answer instead")
    html = answer_message(answer, 0)
    assert html.count('class="unverified"') == 1
    unverified = html[html.index('class="unverified"') :]
    assert "moon" in unverified and "Drones" not in unverified
    assert 'class="llm-notice"' in html and "timed out" in html
