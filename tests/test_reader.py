"""The fitted reader (assistant/answering/reader.py) on articles written for these tests (tests/reader_articles/).

The kind of fact asked decides what may answer: a count is never a range, a length never a sum of money; a
question the articles don't answer is abstained on, saying what the closest passage does say; link lines are
never quoted; the model file is small, holds no text, and a missing or broken one falls back to the rules."""

from __future__ import annotations

import json
import re

import pytest

from assistant.answering.reader import MODEL_PATH, STAGE1, STAGE2, ReaderModel, load_model
from tests.conftest import ROOT

ARTICLES = ROOT / "tests" / "reader_articles"


def test_the_model_file_is_small_and_holds_numbers_not_text():
    assert MODEL_PATH.is_file(), "the fitted reader is committed (python benchmarks/train_reader.py)"
    assert MODEL_PATH.stat().st_size <= 25 * 1024 * 1024
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["stage1_features"] == list(STAGE1) and data["stage2_features"] == list(STAGE2)
    assert 0.0 < data["threshold"] < 1.0
    # A tree dump holds numbers, LightGBM's keywords and the feature names: no run of words like prose.
    dump = data["stage1"] + data["stage2"]
    assert not re.findall(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){3,}\b", dump)
    columns = {" ".join(f"Column_{i}" for i in range(len(names))) for names in (STAGE1, STAGE2)}
    assert set(re.findall(r"feature_names=(.*)", dump)) == columns  # one column per feature, in that order


def test_a_missing_or_broken_model_file_gives_one_line_and_no_model(tmp_path):
    lines: list[str] = []
    assert load_model(tmp_path / "nowhere.json", log=lines.append) is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1, "stage1": "tree')
    assert load_model(broken, log=lines.append) is None
    assert len(lines) == 2 and all("\n" not in line and "rule-based" in line for line in lines)


def test_the_rules_answer_when_the_model_file_is_unreadable(tmp_path, capsys, minilm):
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    settings = Settings(data_dir=tmp_path / "data", embedding="minilm", index_samples_on_start=False,
                        reader_model=broken)
    assistant = build_assistant(settings, embed_model=minilm)
    assistant.index([ARTICLES])
    answer = assistant.ask("How much did the bridge in Kessel cost?", as_of="2025-12-01")
    assert "4.7 million euros" in answer.answer
    assert capsys.readouterr().err.count("reader model unavailable") == 1


@pytest.fixture(scope="module")
def reader_assistant(tmp_path_factory, minilm):
    from assistant.answering.reader import ReaderAnswerer
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("reader") / "data", embedding="minilm",
                        index_samples_on_start=False)
    assistant = build_assistant(settings, embed_model=minilm)
    assert isinstance(assistant.answerer, ReaderAnswerer) and isinstance(assistant.answerer.model, ReaderModel)
    assert assistant.index([ARTICLES]).added == 4
    return assistant


def ask(assistant, question: str):
    return assistant.ask(question, as_of="2025-12-01")


@pytest.mark.slow
@pytest.mark.parametrize("question, holds, never", [
    ("How much did the bridge in Kessel cost?", "4.7 million euros", "metres"),
    ("How long is the new bridge in Kessel?", "310 metres", "euros"),
    ("How many people attended the opening of the Kessel bridge?", "2,400", "euros"),
    ("Who is Kessel's public works director?", "Marta Lindqvist", "euros"),
    ("How much did the repairs of the Nordhavn tram depot cost?", "410,000 crowns", "metres"),
    ("How much does a return ferry ticket to Marrow Island cost for a car?", "142 dollars", "euros"),
])
def test_the_answer_holds_the_asked_kind_of_fact(reader_assistant, question, holds, never):
    answer = ask(reader_assistant, question)
    assert not answer.abstained, answer.answer
    assert holds in answer.answer
    assert holds in answer.short_answer or holds.split()[0] in answer.short_answer
    assert never not in answer.short_answer


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "How many drones did Ostrava Bay receive?",  # the article gives a range (1,000 km), not a count
    "How much does the Kessel bridge weigh?",  # a length and a cost, no weight
])
def test_a_fact_of_the_asked_kind_that_no_article_holds_is_abstained_on(reader_assistant, question):
    answer = ask(reader_assistant, question)
    assert answer.abstained
    assert "1,000" not in answer.short_answer and "metres" not in answer.short_answer
    assert answer.answer.startswith("The indexed articles don't say")


@pytest.mark.slow
def test_an_abstention_says_what_the_closest_passage_does_say(reader_assistant):
    answer = ask(reader_assistant, "How many drones did Ostrava Bay receive?")
    assert answer.abstained
    if answer.citations:  # the closest sentence, cited once
        assert len(answer.citations) == 1 and "[1]" in answer.answer
        assert answer.citations[0].article_id == "drone-order"


@pytest.mark.slow
def test_link_lines_are_never_quoted(reader_assistant):
    for question in ("What did the ferry company promise for Marrow Island?",
                     "What did the Ostrava Bay navy hold near the coast?"):
        answer = ask(reader_assistant, question)
        assert "Previously" not in answer.answer and "Read more" not in answer.answer
