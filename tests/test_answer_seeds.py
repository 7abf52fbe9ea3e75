"""The default answerer on the two seed articles with the real MiniLM model, and the `ask --json` contract.

What the answer says, what it cites, whether it abstains; the issue's own example is checked word for word."""

from __future__ import annotations

import json
import re

import pytest

from index.intake.articles import Article, read_articles
from tests.conftest import SEEDS, run_cli

SEED_IDS = {"000_583d8edab110d701", "004_04393ed08951e6b7"}
QUESTION = "What did Venezuela ask Iran for?"
CITATION_KEYS = {"n", "article_id", "title", "source", "url", "published_at", "text", "quote", "start", "end"}


@pytest.fixture(scope="module")
def article_texts():
    from tests.conftest import SAMPLES

    return {a.id: a.text for a in read_articles([SEEDS, SAMPLES]) if isinstance(a, Article)}


def check_citations(answer_text: str, citations, article_texts) -> None:
    """Markers [n] are numbered by first use and each maps to a citation whose quote is in its passage."""
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer_text)]
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(first_use) + 1)), f"markers not in order of first use: {markers}"
    assert sorted(c.n for c in citations) == first_use, "one citation per marker, no orphans"
    for c in citations:
        article = article_texts[c.article_id]
        assert article[c.start : c.end] == c.quote, "quote offsets point into the article"
        assert c.quote and c.quote in c.text, "the quote is inside the cited passage"
        assert article[c.passage_start : c.passage_end] == c.text


@pytest.fixture(scope="module")
def seeds_only_assistant(tmp_path_factory, minilm):
    """Exactly the issue's set-up: only the two seed articles indexed."""
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("seeds-only") / "data", embedding="minilm",
                        index_samples_on_start=False)
    assistant = build_assistant(settings, embed_model=minilm)
    assert assistant.index([SEEDS]).added == 2
    return assistant


IRAN_SENTENCE = ("According to the US government documents, Velásquez told an unnamed Iranian official that "
                 "Venezuela needed \"passive detection equipment\", \"GPS scramblers,\" and \"drones with 1,000 km "
                 "range.\"")


@pytest.mark.slow
def test_venezuela_question_is_answered_from_the_iran_sentence_alone(seeds_only_assistant, article_texts):
    """Exactly the issue's set-up: the answer is the sentence about Iran, with its one citation, and nothing
    about Russia or China."""
    answer = seeds_only_assistant.ask(QUESTION)
    assert not answer.abstained, answer.answer
    assert answer.answer == IRAN_SENTENCE + " [1]"
    [citation] = answer.citations
    assert citation.article_id == "000_583d8edab110d701" and citation.quote == IRAN_SENTENCE
    check_citations(answer.answer, answer.citations, article_texts)


@pytest.mark.slow
def test_venezuela_question_with_the_samples_indexed_too(seeded_minilm_assistant, article_texts):
    """With the bundled samples as well (what a new user of the app has), the answer is one sentence that
    names what was asked of Iran, from a seed or the sample article that retells the story."""
    answer = seeded_minilm_assistant.ask(QUESTION)
    text = answer.answer.lower()
    assert not answer.abstained, answer.answer
    assert "drone" in text and "gps" in text and "passive detection" in text, answer.answer
    assert "russia" not in text and "china" not in text, answer.answer
    cited = {c.article_id for c in answer.citations}
    assert len(answer.citations) == 1 and cited <= SEED_IDS | {"venezuela-seeks-military-aid"}, cited
    check_citations(answer.answer, answer.citations, article_texts)


@pytest.mark.slow
@pytest.mark.parametrize("question, expected_short, in_answer", [
    ("Who is Venezuela's transport minister?", "Ramón Celestino Velásquez", "Minister of Transport"),
    ("When did the Russian military transport plane arrive in Caracas?", "October 26", "Il-76"),
])
def test_seed_questions_lead_with_a_short_answer(seeds_only_assistant, question, expected_short, in_answer):
    answer = seeds_only_assistant.ask(question)
    assert not answer.abstained, answer.answer
    assert answer.short_answer == expected_short
    assert in_answer in answer.answer and answer.answer.count("[1]") == 1


@pytest.mark.slow
def test_photo_captions_and_headings_are_never_claims(seeds_only_assistant):
    """Both seeds carry a photo caption and section headings; no question may be answered with them."""
    for question in ("What is the population of Caracas?", "Who took the photo of Maduro and Putin?",
                     "What did the handout picture released by the Venezuelan Presidency show?"):
        answer = seeds_only_assistant.ask(question)
        assert "Getty" not in answer.answer and "Photo:" not in answer.answer, answer.answer
        assert "Russia’s cooperation with Venezuela [" not in answer.answer, answer.answer


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "What is the recipe for traditional Polish pierogi dough?",
    "How tall is Mount Everest?",
    "Which programming language did Guido van Rossum create?",
])
def test_off_topic_question_abstains(seeded_minilm_assistant, question):
    answer = seeded_minilm_assistant.ask(question)
    assert answer.abstained, answer.answer
    assert answer.citations == ()
    assert not re.search(r"\[\d+\]", answer.answer)
    assert answer.answer.startswith("The indexed articles don't say")


@pytest.mark.slow
def test_seed_retrieval_finds_both_articles(seeded_minilm_assistant):
    retrieval = seeded_minilm_assistant.retriever.search(QUESTION, top_k=5)
    assert SEED_IDS <= {p.chunk.article_id for p in retrieval.passages}


def test_ask_json_contract(tmp_path):
    data = str(tmp_path / "data")
    proc = run_cli("index", str(SEEDS), "--embedding", "hashing", "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("ask", QUESTION, "--json", "--embedding", "hashing", "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.strip().splitlines()
    result = json.loads(line)
    assert {"answer", "abstained", "citations", "timings_ms"} <= set(result)
    assert isinstance(result["answer"], str) and isinstance(result["abstained"], bool)
    assert isinstance(result["timings_ms"], dict) and result["timings_ms"]
    assert all(isinstance(v, (int, float)) for v in result["timings_ms"].values())
    assert not result["abstained"] and result["citations"], "the seeds answer this even with hashing vectors"
    texts = {a.id: a.text for a in read_articles([SEEDS]) if isinstance(a, Article)}
    for n, c in enumerate(result["citations"], start=1):
        assert CITATION_KEYS <= set(c), set(c) ^ CITATION_KEYS
        assert c["n"] == n and f"[{n}]" in result["answer"]
        assert isinstance(c["start"], int) and isinstance(c["end"], int)
        assert texts[c["article_id"]][c["start"] : c["end"]] == c["quote"]
        assert c["quote"] in c["text"]
        for key in ("title", "source", "url", "published_at"):
            assert isinstance(c[key], str)


def test_ask_json_abstention_has_no_citations(tmp_path):
    data = str(tmp_path / "data")
    assert run_cli("index", str(SEEDS), "--embedding", "hashing", "--data-dir", data).returncode == 0
    proc = run_cli("ask", "pierogi dough recipe with potatoes", "--json", "--embedding", "hashing",
                   "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["abstained"] is True and result["citations"] == []
