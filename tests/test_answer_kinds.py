"""The short answer knows the kind of fact asked: a count is never a measure, a sum or a year; a measure is in
a unit of the family asked (a length never in euros, a weight never in metres); money comes in any currency;
a "why" question is answered by the clause after a reason cue. Also `holds_kind` and `ranked_spans`, the
features a learned reader uses."""

from __future__ import annotations

import pytest

from assistant.answering.short_answer import (
    answer_kind,
    explain,
    holds_kind,
    measure_family,
    ranked_spans,
    short_answer,
)


def span_text(question: str, sentence: str) -> str | None:
    span = short_answer(question, sentence)
    return None if span is None else sentence[span[0]:span[1]]


# --------------------------------------------------------------------------- counts

@pytest.mark.parametrize("question, sentence, expected", [
    ("How many drones did Iran deliver?", "Iran sent 12 drones with a 1,000 km range.", "12"),
    ("How many drones did Iran deliver?", "Iran delivered drones with a 1,000 km range.", None),  # a range
    ("How many drones did Iran deliver?", "The drones, which cost $20 million, arrived in 2022.", None),
    ("How many drones did Iran deliver?", "The drones arrived on March 3 at the airbase.", None),  # a date
    ("How many drones did Iran deliver?", "The 40-tonne shipment of drones left in May.", None),  # a mass
    ("How many ferries does the company run?", "The company runs nine ferries on 300 km of routes.", "nine"),
    ("How many copies did the album sell?", "The album sold 2m copies in its first year.", "2m"),
    ("How many people live in the hamlet?", "The hamlet, 2m above the river, is home to 140 people.", "140"),
    # a count of units: the number of a measure in that unit, never another unit
    ("How many miles did the walkers cover?", "The walkers covered 26 miles in 9 hours.", "26"),
    ("How many kilometres long is the tunnel?", "The tunnel runs 57 km under the mountains.", "57"),
    ("How many total days did the crew spend in orbit?", "The crew spent 188 days 40 km higher.", "188"),
    ("How many hours did the talks last?", "The talks lasted 14 miles away from the capital.", None),
    ("After how many weeks did the strike end?", "The ten-week walkout ended after 3 weeks of talks.", "3"),
])
def test_a_count_is_a_bare_number_never_a_measure_sum_year_or_date(question, sentence, expected):
    assert answer_kind(question) == "number"
    assert span_text(question, sentence) == expected


# --------------------------------------------------------------------------- measures and their unit families

@pytest.mark.parametrize("question, family", [
    ("How long is the bridge?", "length"),
    ("How long will the new canal be?", "length"),
    ("How far is the island from the coast?", "length"),
    ("How tall is the tower?", "length"),
    ("How deep is the lake?", "length"),
    ("What range do the missiles have?", "length"),
    ("What is the height of the dam?", "length"),
    ("How long did the strike last?", "duration"),
    ("How long ago did the volcano last erupt?", "duration"),
    ("For how long will the road be closed?", "duration"),
    ("How long has she been in office?", "duration"),
    ("What was the winner's time?", "duration"),
    ("How heavy is the new locomotive?", "mass"),
    ("How much does the bell weigh?", "mass"),
    ("What is the weight of the satellite?", "mass"),
    ("How fast can the train travel?", "speed"),
    ("What top speed did the car reach?", "speed"),
    ("How strong were the winds on the coast?", "speed"),
    ("How big is the wildfire?", "area"),
    ("How much land has the fire burned?", "area"),
    ("How hot did it get in the capital?", "temperature"),
    ("How strong was the earthquake?", "magnitude"),
    ("How old is the conductor?", "age"),
    ("How many miles did she swim?", "length"),  # a count of units: that unit's family
    ("How many drones did Iran deliver?", None),
    ("How much did the repairs cost?", None),
    ("What size was the crowd?", None),  # a measure, but the wording names no family
    ("Who won the race?", None),
])
def test_measure_family(question, family):
    assert measure_family(question) == family


@pytest.mark.parametrize("question, sentence, expected", [
    # length
    ("How long is the bridge?", "The bridge cost 4.7 million euros and is 310 metres long.", "310 metres"),
    ("How long is the bridge?", "The 310m-long bridge took three years to build.", "310m"),
    ("How long is the bridge?", "The bridge cost 4.7 million euros.", None),  # a sum is no length
    ("How far did the balloon drift?", "The balloon drifted 85 miles in 6 hours before landing.", "85 miles"),
    ("How tall is the new tower?", "At 330 feet, the £40m tower is the tallest in the county.", "330 feet"),
    ("How tall is the new tower?", "The tower cost £40m and took 30 months to build.", None),
    # duration
    ("How long did the strike last?", "The strike at the 300-metre dock lasted 12 days.", "12 days"),
    ("How long did the strike last?", "Dockers walked out at the 300-metre quay.", None),
    ("How long ago did the volcano erupt?", "It erupted 3,000 years ago, 40 km from here.", "3,000 years"),
    ("What was the winner's time?", "She finished the 42 km course in 2:21:07.", "2:21:07"),
    # mass: a cost or a length is no weight
    ("How much does the bridge weigh?", "The bridge cost 4.7 million euros and is 310 metres long.", None),
    ("How much does the bridge weigh?", "The bridge weighs 2,300 tonnes and cost €4.7m.", "2,300 tonnes"),
    ("How heavy was the catfish?", "The catfish weighed 31 pounds and was 1.5 metres long.", "31 pounds"),
    # speed
    ("How fast can the train go?", "The 200-metre train reaches 320 km/h on the new line.", "320 km/h"),
    ("How strong were the winds?", "Gusts of 150 mph tore roofs off 40 homes.", "150 mph"),
    # area, temperature, magnitude, age
    ("How big is the fire?", "The fire has burned 4,800 hectares and is 20 km from town.", "4,800 hectares"),
    ("How much land has the fire burned?", "Flames swept across 12 square miles.", "12 square miles"),
    ("How hot did it get in the city?", "The city sweltered at 41.2C, 300 km from the coast.", "41.2C"),
    ("How strong was the earthquake?", "A magnitude 6.1 quake struck 30 km south of here.", "magnitude 6.1"),
    ("How old is the singer?", "The 83-year-old singer cancelled three concerts.", "83"),
    ("How old is the foal?", "The 6-month-old foal was found 2 miles away.", "6-month-old"),
])
def test_a_measure_is_in_a_unit_of_the_family_asked(question, sentence, expected):
    assert answer_kind(question) == "measure"
    assert span_text(question, sentence) == expected


@pytest.mark.parametrize("question, sentence, expected", [
    ("How far did shares fall?", "Shares fell 12% on Tuesday after the warning.", "12%"),  # a change
    ("How high is inflation?", "Inflation stands at 6.4%, the highest in 30 years.", "6.4%"),
    ("How high is the tower?", "The tower is 300 metres high and 5% taller than planned.", "300 metres"),
])
def test_a_figurative_measure_may_be_a_percentage_but_a_unit_of_the_family_comes_first(question, sentence,
                                                                                      expected):
    assert span_text(question, sentence) == expected


# --------------------------------------------------------------------------- money

@pytest.mark.parametrize("sentence, expected", [
    ("Repairs cost 410,000 crowns.", "410,000 crowns"),
    ("Repairs to the 310-metre pier cost SEK 410,000.", "SEK 410,000"),
    ("Repairs cost 410,000 SEK, the council said.", "410,000 SEK"),
    ("Repairs cost NOK 2.5 million.", "NOK 2.5 million"),
    ("Repairs cost 2.5 million Norwegian kroner.", "2.5 million Norwegian kroner"),
    ("Repairs cost 75,000 Swiss francs.", "75,000 Swiss francs"),
    ("Repairs cost ₹40 crore.", "₹40 crore"),
    ("Repairs cost 1.2 billion yen.", "1.2 billion yen"),
    ("Repairs cost 3 million zlotys.", "3 million zlotys"),
    ("Repairs cost 900,000 rand.", "900,000 rand"),
    ("Repairs cost 18 million hryvnias.", "18 million hryvnias"),
    ("Repairs cost 650 million won.", "650 million won"),
    ("Repairs cost US$3.5m.", "US$3.5m"),
    ("Repairs cost 85 cents per household.", "85 cents"),
    ("Repairs cost 4.7 million euros; the pier is 310 metres long.", "4.7 million euros"),
    ("The pier is 310 metres long and reopened on May 3.", None),  # a money question is never a length
])
def test_a_sum_of_money_in_any_currency(sentence, expected):
    question = "How much did the repairs cost?"
    assert answer_kind(question) == "amount"
    assert span_text(question, sentence) == expected


def test_a_year_before_won_is_no_sum():
    assert span_text("How much did the club pay?", "Ruiz, who in 1998 won the cup, joined the club.") is None


@pytest.mark.parametrize("question, sentence, expected", [
    ("How much did egg prices rise?", "Egg prices rose 7.1% in May, to $4.20 a dozen.", "7.1%"),
    ("By how much did the harvest fall?", "The harvest fell 34 percent, or 1,200 tonnes.", "34 percent"),
    ("How big was the fine?", "The regulator fined the bank €2.1bn on Monday.", "€2.1bn"),
])
def test_plain_how_much_and_how_big_still_work(question, sentence, expected):
    assert span_text(question, sentence) == expected


# --------------------------------------------------------------------------- reasons

@pytest.mark.parametrize("question", [
    "Why did the minister resign?",
    "Why were thousands of flights cancelled this week?",
    "What caused the blackout in the capital?",
    "What was the reason for the closure of the bridge?",
    "For what reason did the council close the library?",
])
def test_reason_questions(question):
    assert answer_kind(question) == "reason"
    assert measure_family(question) is None


@pytest.mark.parametrize("question, sentence, expected", [
    ("Why did the minister resign?", "The minister quit on Friday after a row over expenses worth £12,000.",
     "a row over expenses worth £12,000"),
    ("Why were the flights cancelled?", "Flights were cancelled due to thick fog, it said.", "thick fog"),
    ("Why were the flights cancelled?",
     "The airline cancelled 40 flights because of a pilots' strike and said it was sorry.",
     "a pilots' strike"),
    ("Why did the company recall the heaters?", "The company recalled 9,000 heaters, citing a risk of fire.",
     "a risk of fire"),
    ("Why did the council close the pool?", "The pool was shut amid fears over a leaking roof.",
     "fears over a leaking roof"),
    ("What caused the blackout?", "Engineers blamed the blackout on a bad transformer.", "a bad transformer"),
    ("Why were the trains late?", "The operator blamed the storm for the delays.", "the storm"),
    ("Why was the singer sued?", "The singer was sued for breaching a recording contract.",
     "breaching a recording contract"),
    # no reason cue, or a cue that is no reason
    ("Why did the minister resign?", "The minister resigned on Friday, the party said.", None),
    ("Why did the bridge close?", "The bridge is due to close on Friday for repairs.", None),
    ("Why did the museum reopen?", "The museum reopened after three years of building work.", None),
    ("Why did the museum reopen?", "The museum has been open since May.", None),
    ("Why did the mayor resign after the flood?", "The mayor resigned after the flood.", None),  # asked
])
def test_the_reason_is_the_clause_after_a_reason_cue(question, sentence, expected):
    assert span_text(question, sentence) == expected


# --------------------------------------------------------------------------- holds_kind and ranked_spans

@pytest.mark.parametrize("question, sentence, expected", [
    ("What did the mayor say about the bridge?", "The mayor said the bridge was a triumph.", None),  # no kind
    ("How did the fire start?", "The fire started on Tuesday near the 4 km ridge.", None),
    ("How many drones did Iran deliver?", "Iran delivered drones with a 1,000 km range.", False),
    ("How many drones did Iran deliver?", "Iran delivered 12 drones.", True),
    ("How much does the bridge weigh?", "The bridge cost 4.7 million euros and is 310 metres long.", False),
    ("How long is the bridge?", "The bridge cost 4.7 million euros and is 310 metres long.", True),
    ("How much did the repairs cost?", "The pier is 310 metres long.", False),
    ("Why did the ferry sink?", "The ferry sank because it was overloaded.", True),
    ("Why did the ferry sink?", "The ferry sank in 40 metres of water on Sunday.", False),
    ("Who designed the bridge?", "The bridge was designed by Ingrid Halvorsen.", True),
])
def test_holds_kind(question, sentence, expected):
    assert holds_kind(question, sentence) is expected
    if expected is not None:
        assert (short_answer(question, sentence) is not None) is expected


def test_ranked_spans_expose_the_ranking_short_answer_takes_the_first_of():
    question = "How big is the fire?"
    sentence = "The fire has burned 4,800 hectares and is 20 km from the town of Ostby."
    ranked = ranked_spans(question, sentence)
    assert [(sentence[a:b], ctype) for _, a, b, ctype in ranked] == [("4,800 hectares", "measure"),
                                                                   ("20 km", "measure")]
    scores = [score for score, *_ in ranked]
    assert scores == sorted(scores, reverse=True) and all(isinstance(s, float) for s in scores)
    assert ranked[0][1:3] == short_answer(question, sentence)
    assert len(ranked_spans(question, sentence, n=1)) == 1
    explained = [(text, ctype) for _, ctype, text in explain(question, sentence)]
    assert explained == [("4,800 hectares", "measure"), ("20 km", "measure")]
    assert ranked_spans("How many drones did Iran deliver?", "Drones with a 1,000 km range.") == []
    assert ranked_spans("What did the mayor say?", "The mayor said yes.") == []
    reason = ranked_spans("Why did the ferry sink?", "The ferry sank because it was overloaded.")
    assert [ctype for *_, ctype in reason] == ["reason"]
