"""The rules of issue 11 as unit tests with exact expected outputs: what counts as a claim, dangling
openings and lead-ins, the sentence group an answer is made of, the short answer in the draft, fusion and
the recency prior, how an as-of date becomes filters, and the short passages citations show."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.answering.extractive import ExtractiveAnswerer, dangling, is_claim, is_lead_in
from assistant.answering.generative import focus
from assistant.retrieval.dates import plan_dates
from assistant.retrieval.hybrid import convex_fusion, recency_prior
from assistant.retrieval.timewindow import BadDateError
from assistant.types import Citation, Passage
from index.storage.store import SearchFilters, StoredChunk


@pytest.mark.parametrize("text, title, expected", [
    ("The council approved the tram line on Tuesday.", "", True),
    ("Where will Jimmy Carter be buried?", "", False),
    ("“Who could have seen this coming?”", "", False),
    ("Photo: Venezuelan leader Nicolás Maduro and Russian President Vladimir Putin (Getty Images)", "", False),
    ("This handout picture released by the Venezuelan Presidency shows Maduro in Caracas.", "", False),
    ("Maduro speaks in Caracas on Monday. (Photo by Jane Roe/Reuters)", "", False),
    ("By Maria Lopez, Harbor Ledger", "", False),
    ("Updated 10:42 GMT, November 3", "", False),
    ("Russia’s cooperation with Venezuela", "", False),  # a section heading: no closing punctuation
    ("Tidewell Opens Floating Bridge.", "Tidewell opens floating bridge", False),  # the headline itself
    ("The minister told reporters:", "", True),  # a lead-in is a claim; it brings the next sentence
])
def test_what_is_a_claim(text, title, expected):
    assert is_claim(text, title) is expected


@pytest.mark.parametrize("text, expected", [
    ("In it, Venezuela asked Russia to modernize its radars.", True),
    ("This was the first request of its kind.", True),
    ("He said the talks would resume.", True),
    ("They declined to comment.", True),
    ("The same documents show that Venezuela sought support from Iran.", True),
    ("This week, the council approved the line.", False),
    ("That morning the bridge opened.", False),
    ("Maduro asked China for deeper military cooperation.", False),
    ("Italy won the match.", False),
])
def test_dangling_openings(text, expected):
    assert dangling(text) is expected


@pytest.mark.parametrize("text, expected", [
    ("The ministry listed three demands:", True),
    ("Here's what we know.", True),
    ("The ministry listed three demands.", False),
])
def test_lead_ins(text, expected):
    assert is_lead_in(text) is expected


ARTICLE = ("The records say Maduro addressed a letter to Russian President Vladimir Putin. In it, Venezuela asked "
           "Russia to modernize its radars. The ministry listed two more demands:\nIran should send drones. "
           "Officials in Caracas did not comment.")


def _chunk(text: str = ARTICLE, start: int = 0, title: str = "Venezuela asks for help") -> StoredChunk:
    return StoredChunk(chunk_id="c1", article_id="a1", text=text, start=start, end=start + len(text), title=title,
                       source="Harbor Ledger", published_at="2025-11-01")


def _sentences(answerer: ExtractiveAnswerer):
    return answerer.split([Passage(_chunk(), 1.0, rank=1)])


def _answerer() -> ExtractiveAnswerer:
    return ExtractiveAnswerer(None, idf=lambda term: 1.0)


def _scored(sentences, scores):
    for sentence, score in zip(sentences, scores):
        sentence.score = score
        sentence.similarity = 0.5
    return sorted(sentences, key=lambda s: -s.score)


def test_a_dangling_sentence_brings_the_one_it_refers_to():
    answerer = _answerer()
    first, dangling_one, lead_in, follow, last = _sentences(answerer)
    ranked = _scored([first, dangling_one, lead_in, follow, last], [0.4, 0.9, 0.3, 0.3, 0.2])
    assert [s.text for s in answerer.select(ranked)] == [first.text, dangling_one.text]


def test_a_lead_in_brings_the_sentence_it_introduces():
    answerer = _answerer()
    first, dangling_one, lead_in, follow, last = _sentences(answerer)
    ranked = _scored([first, dangling_one, lead_in, follow, last], [0.3, 0.3, 0.9, 0.4, 0.2])
    assert [s.text for s in answerer.select(ranked)] == [lead_in.text, follow.text]


def test_a_dangling_sentence_without_its_antecedent_is_passed_over():
    answerer = _answerer()
    text = "In it, Venezuela asked Russia to modernize its radars. Officials in Caracas did not comment on it."
    sentences = answerer.split([Passage(_chunk(text), 1.0, rank=1)])
    ranked = _scored(sentences, [0.9, 0.8])
    assert [s.text for s in answerer.select(ranked)] == ["Officials in Caracas did not comment on it."]


def test_one_sentence_answer_with_its_short_answer_and_a_short_passage():
    answerer = _answerer()
    text = ("Aldermoor United signed Luca Ferrante on Tuesday. The fee was 38 million euros, a club record. "
            "Fans gathered outside the stadium. The striker will wear number nine.")
    passage = Passage(_chunk(text, start=100, title="Ferrante joins Aldermoor"), 1.0, rank=1)
    draft = answerer.answer("How much was the fee Aldermoor United paid for Ferrante?", [passage])
    assert draft.text == "The fee was 38 million euros, a club record. [1]"
    assert draft.short_answer == "38 million euros"
    (citation,) = draft.citations
    assert citation.quote == "The fee was 38 million euros, a club record."
    assert citation.text == ("Aldermoor United signed Luca Ferrante on Tuesday. The fee was 38 million euros, a club "
                             "record. Fans gathered outside the stadium.")
    assert (citation.passage_start, citation.start) == (100, 100 + text.index("The fee"))


def test_a_question_for_a_sum_of_money_abstains_when_no_strong_sentence_holds_one():
    answerer = _answerer()
    text = "The Tidewell bridge opened on Saturday. It stretches 265 metres across the estuary."
    passage = Passage(_chunk(text, title="Tidewell opens bridge"), 1.0, rank=1)
    assert answerer.answer("How much did the Tidewell bridge cost?", [passage]).abstained
    assert not answerer.answer("How long is the Tidewell bridge?", [passage]).abstained


def test_citation_window_is_the_quote_and_one_sentence_each_side():
    text = "One. Two is here. Three is the quote. Four follows. Five."
    chunk = _chunk(text, start=50)
    start = 50 + text.index("Three")
    citation = Citation.from_chunk(1, chunk, start, start + len("Three is the quote."))
    assert citation.text == "Two is here. Three is the quote. Four follows."
    assert citation.quote == "Three is the quote." and citation.quote_offsets_in_passage() == (13, 32)


def test_generative_passages_are_focused_on_the_question_within_the_budget():
    text = " ".join(f"Filler sentence number {i} about nothing much." for i in range(60))
    text += " Venezuela asked Iran for drones. " + " ".join(f"More filler {i} here." for i in range(60))
    passage = Passage(_chunk(text), 1.0, rank=1)
    shown = focus(passage, "What did Venezuela ask Iran for?", 40)
    assert "Venezuela asked Iran for drones." in shown.chunk.text
    assert text[shown.chunk.start : shown.chunk.end] == shown.chunk.text
    assert len(shown.chunk.text) < 300
    assert focus(passage, "anything", 100_000) is passage


def test_convex_fusion_normalises_both_scores():
    fused = convex_fusion({"a": 0.9, "b": 0.5, "c": 0.7}, {"a": 0.0, "b": 10.0}, 0.75)
    assert fused == pytest.approx({"a": 0.75, "b": 0.25, "c": 0.375})


def test_recency_prior_decays_by_age_and_undated_is_neutral():
    priors = recency_prior([20250110, 20250103, 0, 20250111], dt.date(2025, 1, 10), 7.0)
    assert priors[0] == pytest.approx(1.0)
    assert priors[1] == pytest.approx(2.718281828 ** -1)
    assert priors[3] == pytest.approx(1.0)  # published "after" the as-of day never gets more than today
    assert priors[2] == pytest.approx((priors[0] + priors[1] + priors[3]) / 3)


def test_plan_dates_window_replaces_the_recency_prior():
    plan = plan_dates("Which team won this week?", SearchFilters(sources=("X",)), "2023-01-06")
    assert plan.filters == SearchFilters(sources=("X",), as_of="2023-01-06", since="2022-12-31")
    assert plan.window is not None and plan.window.expression == "this week" and plan.recency_as_of is None
    plan = plan_dates("Which team won the cup?", None, dt.date(2023, 1, 6))
    assert plan.filters == SearchFilters(as_of="2023-01-06") and plan.recency_as_of == dt.date(2023, 1, 6)
    assert plan_dates("Which team won the cup?", None, "2023-01-06", recency=False).recency_as_of is None
    ignored = plan_dates("Which team won this week?", None, "2023-01-06", use_dates=False)
    assert ignored.filters == SearchFilters() and ignored.as_of is None and ignored.window is None
    with pytest.raises(BadDateError, match="2023-02-30"):
        plan_dates("Which team won?", None, "2023-02-30")


def test_a_written_answer_gets_the_short_answer_of_its_first_cited_sentence():
    from assistant.answering.interfaces import Draft
    from assistant.service import _short_answer_of
    from assistant.types import SentenceCheck

    sentences = (SentenceCheck("The articles say a lot.", (), True),
                 SentenceCheck("Iran sent drones in 2024 to Venezuela.", (1,), True))
    draft = Draft("The articles say a lot. Iran sent drones in 2024 to Venezuela. [1]", False, (), sentences)
    assert _short_answer_of("In what year did Iran send drones?", draft) == "2024"
    assert _short_answer_of("Why did Iran send drones?", draft) == ""
    unverified = Draft(draft.text, False, (), (SentenceCheck("Iran sent drones in 2024.", (), False),))
    assert _short_answer_of("In what year did Iran send drones?", unverified) == ""


def test_date_bounds_that_exclude_nothing_are_not_sent_to_the_vector_search():
    from assistant.retrieval.hybrid import _without_idle_bounds

    asked = SearchFilters(sources=("X",), as_of="2026-12-01", since="2025-01-01")
    assert _without_idle_bounds(asked, (20250110, 20251119)) == SearchFilters(sources=("X",))
    narrow = SearchFilters(as_of="2025-11-01", since="2025-10-20")
    assert _without_idle_bounds(narrow, (20250110, 20251119)) == narrow
    assert _without_idle_bounds(narrow, (0, 0)) == SearchFilters(since="2025-10-20")  # nothing dated


def _two_passages(answerer: ExtractiveAnswerer):
    """One claim sentence from the retriever's top passage and one from a weaker passage."""
    top = answerer.split([Passage(_chunk("The coffee chain adds olive oil to its new drinks."), 1.0, rank=1)])[0]
    other = answerer.split([Passage(_chunk("Starbucks stopped its shipments to Russia in March."), 0.5, rank=2)])[0]
    return top, other


def _set(sentence, score, key):
    sentence.score, sentence.key, sentence.similarity = score, key, 0.5
    return sentence


def test_among_strong_sentences_the_retrievers_confidence_in_the_passage_decides():
    answerer = _answerer()
    top, other = _two_passages(answerer)
    ranked = sorted([_set(top, 0.50, 1.10), _set(other, 0.55, 0.85)], key=lambda s: -s.key)
    assert answerer.select(ranked) == [top]


def test_the_passage_prior_brings_no_weak_sentence_in_and_turns_no_abstention_into_an_answer():
    answerer = _answerer()
    top, other = _two_passages(answerer)
    weak_top = sorted([_set(top, 0.30, 0.90), _set(other, 0.60, 0.80)], key=lambda s: -s.key)
    assert answerer.select(weak_top) == [other]  # 0.30 is under keep_ratio x 0.60: not a strong sentence
    both_weak = sorted([_set(top, 0.20, 0.80), _set(other, 0.20, 0.50)], key=lambda s: -s.key)
    assert answerer.select(both_weak) == []  # under min_score, whatever the retriever thought


def test_the_top_passages_best_sentences_are_embedded_even_with_little_coverage():
    embedded: list[list[str]] = []

    def embed(texts):
        embedded.append(texts)
        return [[1.0, 0.0]] * len(texts)

    answerer = ExtractiveAnswerer(None, idf=lambda term: 1.0, shortlist_embed=lambda texts: [[1.0, 0.0]] * len(texts),
                                  sentence_embed=embed, sentences_embedded=2)
    digest = Passage(_chunk("The coffee chain adds a spoonful of olive oil to a line of beverages."), 1.0, rank=1)
    wordy = StoredChunk(chunk_id="c2", article_id="a2", title="Starbucks", source="", published_at="2025-11-01",
                        text=" ".join(f"Starbucks sold new drinks in shop number {i} this week." for i in range(8)),
                        start=0, end=0)
    answerer.answer("Which ingredient is in the new Starbucks drinks?", [digest, Passage(wordy, 0.9, rank=2)])
    assert any("olive oil" in text for text in embedded[0][1:])


def test_a_which_thing_question_gets_the_common_noun_nearest_the_thing_under_the_fast_model():
    vectors = {"sport": [1.0, 0.0], "skateboarding": [0.9, 0.436]}

    def fast(texts):  # a stand-in for the static model: only "skateboarding" is near "sport"
        return [vectors.get(t, [0.0, 1.0]) for t in texts]

    answerer = ExtractiveAnswerer(None, idf=lambda term: 1.0, shortlist_embed=fast)
    text = "Ana Ruiz became the first skateboarding world champion from Dunmore at the age of 14."
    found = answerer.typed_span("Ana Ruiz became the first world champion in which sport?", text)
    assert found is not None and text[found[0]:found[1]] == "skateboarding"
    assert answerer.typed_span("Which team does Ana Ruiz play for?", text) is None  # no common-noun thing
    vectors["skateboarding"] = [0.2, 0.98]  # nothing near enough: the rules decide
    assert answerer.typed_span("Ana Ruiz became the first world champion in which sport?", text) is None
