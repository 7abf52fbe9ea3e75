"""The reader's decisions with a stand-in model (fixed probabilities): the fitted trees are tested in
tests/test_reader.py; here, what the answerer does with what they say. Articles written for these tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.answering.reader import STAGE1, STAGE2, ReaderAnswerer, sentence_features
from assistant.types import Passage
from index.storage.store import StoredChunk


class Stand_in:
    """A model whose stage 2 gives each sentence the probability of the first phrase of `odds` it holds."""

    def __init__(self, odds: dict[str, float], threshold: float = 0.3, extra_threshold: float = 0.5) -> None:
        self.odds, self.threshold, self.extra_threshold = odds, threshold, extra_threshold
        self.shortlist, self.passages = 8, 5
        from assistant.answering.reader import RULES_BELOW

        self.rules_below = RULES_BELOW
        self.texts: list[str] = []

    def predict1(self, rows: np.ndarray) -> np.ndarray:
        return np.linspace(0.9, 0.1, len(rows))

    def predict2(self, rows: np.ndarray) -> np.ndarray:
        return np.array([next((p for phrase, p in self.odds.items() if phrase in text), 0.01)
                         for text in self.texts[: len(rows)]])


class Answerer(ReaderAnswerer):
    def stage2_rows(self, question, pool, rows1, p1, picked):
        self.model.texts = [pool[i].text for i in picked]
        return super().stage2_rows(question, pool, rows1, p1, picked)


def passage(article: str, text: str, rank: int, group: str = "") -> Passage:
    chunk = StoredChunk(chunk_id=f"{article}#0", article_id=article, text=text, start=0, end=len(text),
                        title=article.replace("-", " ").title(), group=group)
    return Passage(chunk=chunk, score=1.0 / rank, dense=0.5, lexical=1.0, rank=rank)


def answerer(odds: dict[str, float], **kwargs) -> Answerer:
    return Answerer(None, lambda term: 1.0, model=Stand_in(odds, **kwargs))


DRONES = passage("drone-order", "The coastal state asked its ally for drones with a 1,000 km range. "
                                "Officials would not say whether any had been delivered.", 1)


def test_features_have_one_column_each_and_one_row_per_sentence():
    reader = answerer({})
    pool, rows = reader.stage1("What did the coastal state ask for?", [DRONES])
    assert rows.shape == (len(pool), len(STAGE1)) and len(STAGE2) > len(STAGE1)
    assert np.isfinite(rows).all()
    assert sentence_features("Anything?", [], lambda t: 1.0, None).shape == (0, len(STAGE1))


def test_a_count_question_is_never_answered_by_a_range():
    reader = answerer({"1,000 km": 0.95})
    draft = reader.answer("How many drones did the coastal state receive?", [DRONES])
    assert draft.abstained and "1,000" not in draft.short_answer


def test_below_the_threshold_it_abstains_and_quotes_the_closest_sentence():
    reader = answerer({"1,000 km": 0.4}, threshold=0.5)
    draft = reader.answer("What did the coastal state ask its ally for?", [DRONES])
    assert draft.abstained
    assert draft.text.startswith("The indexed articles don't say")
    assert "1,000 km range" in draft.text and "[1]" in draft.text and len(draft.citations) == 1


def test_when_the_reader_is_unsure_of_every_sentence_the_rules_decide():
    from assistant.answering.extractive import ExtractiveAnswerer
    from assistant.answering.reader import RULES_BELOW

    question = "What did the coastal state ask its ally for?"
    unsure = answerer({"1,000 km": RULES_BELOW / 2}, threshold=0.0).answer(question, [DRONES])
    rules = ExtractiveAnswerer(None, lambda term: 1.0).answer(question, [DRONES])
    assert replace(unsure, short_answer="") == rules  # the rules' answer, and what was asked for as short answer
    assert unsure.short_answer == "drones with a 1,000 km range"


BRIDGE = [
    passage("kessel-bridge", "The new bridge in Kessel cost 4.7 million euros. It is 310 metres long.", 1),
    passage("kessel-wire", "The new bridge in Kessel cost 4.7 million euros. It is 310 metres long.", 2,
            group="kessel-bridge"),
    passage("kessel-council", "Kessel's council said the bridge came in under its budget of 5 million "
                              "euros.", 3),
]


def test_a_length_question_takes_the_length_and_never_the_cost():
    reader = answerer({"cost 4.7": 0.9, "310 metres": 0.6})
    draft = reader.answer("How long is the new bridge in Kessel?", BRIDGE)
    assert not draft.abstained and draft.short_answer == "310 metres"


def test_a_second_story_joins_when_likely_but_a_wire_copy_never_does():
    reader = answerer({"cost 4.7": 0.9, "under its budget": 0.8}, extra_threshold=0.5)
    draft = reader.answer("How much did the new bridge in Kessel cost?", BRIDGE)
    assert not draft.abstained
    assert [c.article_id for c in draft.citations] == ["kessel-bridge", "kessel-council"]
    assert draft.short_answer == "4.7 million euros"  # one thing asked: the best source's answer


@pytest.mark.parametrize("extra, joined", [(0.95, False), (0.5, True)])
def test_the_second_source_bar_decides(extra, joined):
    reader = answerer({"cost 4.7": 0.9, "under its budget": 0.8}, extra_threshold=extra)
    draft = reader.answer("How much did the new bridge in Kessel cost?", BRIDGE)
    assert (len(draft.citations) == 2) is joined


def test_what_was_asked_for_lists_the_items():
    text = "The coastal state asked its ally for drones, for radio jammers and for spare parts for its boats."
    reader = answerer({"radio jammers": 0.9})
    draft = reader.answer("What did the coastal state ask its ally for?", [passage("order", text, 1)])
    assert draft.short_answer == "drones, radio jammers, spare parts for its boats"


def test_the_remembered_sentence_model_embeds_each_text_once_and_survives_a_full_memory():
    from assistant.answering.reader import RememberedEmbed

    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts])

    remembered = RememberedEmbed(embed, size=3)
    assert remembered(["a", "bb"]).tolist() == [[1.0, 1.0], [2.0, 1.0]]
    assert remembered(["bb", "ccc"]).tolist() == [[2.0, 1.0], [3.0, 1.0]] and calls[-1] == ["ccc"]
    assert remembered(["a", "dddd"]).shape == (2, 2)  # the memory was full: both embedded afresh
    assert calls[-1] == ["a", "dddd"]


def test_the_thing_asked_for_and_the_new_names_of_a_sentence():
    from assistant.answering import short_answer as sa

    assert sa.thing_asked("Residents of which European capital will vote on a scooter ban?") == "european capital"
    assert sa.thing_asked("Which team signed the striker?") == "team"
    assert sa.thing_asked("Who opened the bridge?") == "person"
    assert sa.thing_asked("What did the coastal state ask for?") is None
    # "Mayor", "Lena", "Ostrava" and "Harbour" are new; "Tidewell" is the question's own name
    assert sa.novel_capitals("Who opened the Tidewell bridge?",
                             "Mayor Lena Ostrava opened the Tidewell bridge at the Harbour.") == 4
    assert sa.novel_capitals("Who opened the Tidewell bridge?", "The Tidewell bridge opened on time.") == 0


class WordVectors:
    """A stand-in fast model: each text is the normalised sum of one axis per word, so texts that share
    words are similar and others are orthogonal."""

    def __init__(self, related: dict[str, str]) -> None:
        self.related = related  # a word -> the word whose axis it takes ("lisbon" counts as "capital")
        self.axes: dict[str, int] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            v = np.zeros(256)
            for w in text.lower().split():
                w = self.related.get(w, w)
                v[self.axes.setdefault(w, len(self.axes))] += 1.0
            out.append(v / (np.linalg.norm(v) or 1.0))
        return np.array(out)


def test_the_sentence_naming_a_thing_of_the_asked_type_fits_best():
    reader = Answerer(None, lambda term: 1.0, model=Stand_in({}),
                      shortlist_embed=WordVectors({"lisbon": "capital"}))
    q = "Residents of which European capital will vote on a scooter ban?"
    sentences = reader.split([passage("scooters", "Voters in Lisbon will decide on the scooter ban in April. "
                                                  "Operators said the ban would cost jobs.", 1)])
    fits = reader.type_fits(q, sentences, [None] * len(sentences))
    assert fits[0, 0] > 0.5 and fits[1, 0] < fits[0, 0] and (fits[:, 1:] == -1).all()
    pool = reader.split([DRONES])
    assert (reader.type_fits("What did the coastal state ask for?", pool, [None] * len(pool)) == -1).all()
    # the words after a count: "three partners" does not fit "how many missiles", "three missiles" does
    texts = ["They sought help from three partners.", "They delivered three missiles.",
             "Officials gave no figure for the whole shipment."]
    answers = [(texts[0], 22, 27), (texts[1], 15, 20), None]
    sentences = reader.split([passage("m", " ".join(texts), 1)])
    assert [s.text for s in sentences] == texts
    fits = reader.type_fits("How many missiles were delivered?", sentences, answers)
    assert fits[1, 2] > 0.9 > fits[0, 2] and fits[2, 1] == fits[2, 2] == -1.0


def test_the_model_file_says_when_the_rules_decide(tmp_path):
    import json

    from assistant.answering.reader import MODEL_PATH, RULES_BELOW, ReaderModel

    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert 0.0 <= data["rules_below"] <= 1.0  # chosen on val by benchmarks/train_reader.py
    assert ReaderModel.load(MODEL_PATH).rules_below == data["rules_below"]
    data["rules_below"] = 0.123
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    assert ReaderModel.load(tmp_path / "m.json").rules_below == 0.123
    del data["rules_below"]  # an older file: the default
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    assert ReaderModel.load(tmp_path / "m.json").rules_below == RULES_BELOW
