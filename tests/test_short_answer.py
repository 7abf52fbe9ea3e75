"""The short answer span: the kind a question asks for, and the exact span picked from one sentence."""

from __future__ import annotations

import pytest

from assistant.answering.short_answer import answer_kind, category, noun_spans, short_answer


def span_text(question: str, sentence: str) -> str | None:
    span = short_answer(question, sentence)
    if span is None:
        return None
    start, end = span
    assert 0 <= start < end <= len(sentence)
    return sentence[start:end]


# --------------------------------------------------------------------------- answer_kind


@pytest.mark.parametrize("question, kind", [
    ("Who won the men's race at the marathon?", "person"),
    ("Which GOP leader sparked a dayslong stalemate?", "person"),
    ("Which former pope was laid to rest this week?", "person"),
    ("Which pop star won the most awards?", "person"),
    ("Which airline cancelled thousands of flights?", "organization"),
    ("He is a valued member of which team?", "organization"),
    ("Which professional sports team visited the White House?", "organization"),  # the head noun, not "sports"
    ("Which candy brand changed its packaging?", "organization"),
    ("Where were the faulty battery cells made?", "place"),
    ("Which US state's governor signed the ban?", "place"),  # the owner of the possessive is asked for
    ("In which European country is he being held?", "place"),
    ("When is the next meeting of the committee?", "date"),
    ("In what year were the masks taken from the village?", "date"),
    ("The emergency will end in which month of this year?", "date"),
    ("How many power banks is the company recalling?", "number"),
    ("By how much did the grape harvest fall this year?", "number"),
    ("What percentage of adults will be obese by 2035?", "number"),
    ("How much are the club paying for the striker?", "amount"),
    ("Approximately how much money did the committee spend on legal services?", "amount"),
    ("How much revenue have the winemakers lost this year?", "amount"),  # a sum lost, not a change
    ("How much did the club's revenue grow?", "number"),
    ("What is the current debt limit?", "amount"),
    ("What range did Venezuela want for the drones it requested from Iran?", "measure"),
    ("How long will the tram line be?", "measure"),
    ("What was the runner's winning time at the marathon?", "measure"),
    ("How much land has the fire scorched?", "measure"),
    ("Which film scored the most Oscar nominations?", "name"),
    ("What is the name of the new trade deal?", "name"),
    ("What type of Russian aircraft landed in Caracas?", "name"),
    ("Which virus is England set to eradicate?", "name"),
    ("Why did the minister resign?", "reason"),
    ("How did the fire start?", None),
    ("What did Venezuela ask Russia for?", None),
    ("What did the mayor say about the bridge?", None),
    ("The director was suspended after doing what?", None),
    ("", None),
])
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


def test_quiz_preamble_is_not_the_question():
    # The "who" of the first sentence is not what is asked; the last sentence is.
    q = "The party argued this week over who should lead it. Which state was the winner elected in?"
    assert answer_kind(q) == "place"


# --------------------------------------------------------------------------- short_answer: each kind

CASES = [
    # person: full names, titles the question already says are trimmed, role nouns before names
    ("Who was named the new head coach of the club on Friday?",
     "The club appointed Marta Lindqvist as head coach on Friday, ending a month-long search.", "Marta Lindqvist"),
    ("Which party leader blocked the budget vote this week?",
     "The vote collapsed after opposition leader Daniel Okafor refused to back the deal.", "Daniel Okafor"),
    ("Which Venezuelan minister told an Iranian official what equipment Venezuela needed?",
     "Transport Minister Ramón Celestino Velásquez spoke with an Iranian official whose name was not disclosed.",
     "Ramón Celestino Velásquez"),
    ("Which politician announced a run for governor?",
     "Former mayor Linda Hayes announced on Monday that she will run for governor.", "Linda Hayes"),
    # organization
    ("Which airline cancelled thousands of flights over the holidays?",
     "Southwest Airlines cancelled more than 15,000 flights over the holidays, stranding passengers.",
     "Southwest Airlines"),
    ("Which broadcaster was criticised in the review?",
     "The review found that the BBC had failed to explain economic policy clearly.", "BBC"),
    ("Which company announced layoffs?",
     "In a memo on Wednesday, Amazon said it would cut 18,000 jobs.", "Amazon"),
    ("Which team does she play for?",
     "She signed a one-year deal with the Phoenix Mercury, the team announced on Tuesday.", "Phoenix Mercury"),
    ("Which candy brand changed its packaging?",
     "M&M’s unveiled a new pack featuring only its female characters.", "M&M"),  # possessive 's left out
    # place
    ("Huge crowds gathered in which country to mourn the singer?",
     "Thousands of fans packed the streets of Recife, Brazil, on Tuesday to mourn the singer.", "Brazil"),
    ("Which town has the coldest winters on record?",
     "Residents of Oymyakon, Russia, endure the lowest winter temperatures of any settlement.", "Oymyakon, Russia"),
    ("Which US state's governor signed the ban?",
     "Texas Republican Gov. Greg Abbott signed the ban into law on Tuesday.", "Texas"),
    ("A lost radioactive capsule was found in which country?",
     "Search crews found the capsule beside a highway in Western Australia on Wednesday.", "Australia"),
    ("Which country's prime minister said she would step down?",
     "New Zealand Prime Minister Jacinda Ardern said she would step down within weeks.", "New Zealand"),
    ("In which city is the shipyard that built the bridge?",
     "The bridge was built by Harlund Marine Works, a shipyard in the port city of Brenmouth.", "Brenmouth"),
    # date
    ("When is the deadline to file taxes this year?",
     "Most taxpayers must file their returns by April 18, the agency said.", "April 18"),
    ("In which month will the emergency end?",
     "The government plans to end the emergency on May 11, officials said Monday.", "May"),
    ("In what year was the bridge completed?",
     "The bridge, completed in 1932, carried trains until the 1980s.", "1932"),
    ("The ozone layer could fully recover by when?",
     "Scientists expect the ozone layer to heal to 1980s levels by 2066 over Antarctica.", "2066"),
    ("When does the striker's contract expire?",
     "He has signed a contract running until June 2031 and will wear the number 9 shirt.", "June 2031"),
    # number (a year is not a count; the counted noun of the question sits next to the number)
    ("How many copies did the memoir sell on its first day?",
     "The publisher said the memoir sold more than 400,000 copies on its first day, and a million in the US.",
     "400,000"),
    ("How many states have banned the app on government phones?",
     "A total of 31 states have banned the app on government phones since 2022.", "31"),
    ("How many people were evacuated from the valley in 2023?",
     "In 2023, about 3,200 people were evacuated from the valley.", "3,200"),
    ("About how many viewers watched the final?",
     "The final drew 113 million viewers, the third-largest audience ever.", "113 million"),
    ("How many masks did the museum return?", "The museum returned 14 masks that were taken in 1911.", "14"),
    ("Which three-digit number will stop working for millions of customers?",
     "Customers with digital landlines will no longer be able to dial 411 for directory help.", "411"),
    # percentages
    ("By how much did the harvest fall?",
     "The cooperative, which has 1,150 members, said the harvest fell 34 percent from last year.", "34 percent"),
    ("How much have egg prices risen over the past year?",
     "Egg prices have jumped 70% since last January, according to new data.", "70%"),
    ("What share of new infections does the variant cause?",
     "The variant now causes 41% of new infections.", "41%"),
    ("What is the bank's new policy rate?",
     "The bank cut its main policy rate on Thursday to 3.25 percent from 3.50 percent.", "3.25 percent"),
    # amount: currency forms
    ("How much is the club paying for the striker?",
     "Rivertown FC will pay €7.8 million for the striker, the club confirmed.", "€7.8 million"),
    ("How much is the club paying for the midfielder?",
     "The club will pay 7.8 million euros for the midfielder, plus bonuses.", "7.8 million euros"),
    ("How much did ministers spend on the programme last year?",
     "Ministers spent £1.2bn on the programme last year, up from £900m in 2021.", "£1.2bn"),
    ("How much was the company worth at its peak?",
     "The company was valued at $2tn at its peak, but the shares have since fallen 4.3%.", "$2tn"),
    ("What is the current debt limit?",
     "The country hit its debt ceiling, which now stands at $31.4 trillion, in January.", "$31.4 trillion"),
    ("The drugmaker will cap monthly insulin costs at which amount?",
     "The drugmaker said it will cap monthly insulin costs at $35 for most patients.", "$35"),
    # measure
    ("What range did Venezuela want for the drones it requested from Iran?",
     "Venezuela asked Iran for drones able to fly 1,000 km, and for GPS scramblers.", "1,000 km"),
    ("How long will the new tram line be?",
     "The tram line will run 14.2 km from the station to the harbour.", "14.2 km"),
    ("How strong was the aftershock?", "A magnitude 6.3 aftershock struck on Monday, injuring hundreds.",
     "magnitude 6.3"),
    ("What was the runner's winning time?",
     "She crossed the line in 2:18:41, more than a minute inside the record.", "2:18:41"),
    # name: titles, common-noun answers, capitalised names that are no person
    ("Which film scored the most nominations?",
     "The offbeat film “Paper Lanterns” led the field with 11 nominations.", "Paper Lanterns"),
    ("Which seed did the regulator add to its allergen list?",
     "The agency decided to put sesame seeds on the list of major allergens.", "sesame seeds"),
    ("A regulator suggested a possible ban on which type of home appliance?",
     "Safety officials said they are considering a ban on gas stoves.", "gas stoves"),
    ("According to the zodiac, 2023 is the year of which animal?",
     "The festival marked the start of the Year of the Rabbit.", "Rabbit"),
    ("Which virus is the country set to eliminate?",
     "Screening has cut deaths from Hepatitis C by 35% in five years.", "Hepatitis C"),
    ("Which chemical worried residents most after the derailment?",
     "Crews burned off vinyl chloride – a chemical that can raise cancer risk – after the crash.", "vinyl chloride"),
    ("Which colour is the comet?", "A bright green comet is passing close to Earth this week.", "green"),
    ("Which national holiday was celebrated on Monday?",
     "Schools closed for Martin Luther King Jr. Day, a national holiday honouring the civil rights leader.",
     "Martin Luther King Jr. Day"),
    ("Which Voltic product is being recalled?",
     "The recall covers the PowerCore 20, a battery pack sold between March 2024 and August 2025.", "PowerCore 20"),
    # quiz style: a preamble sentence before the question
    ("A football player collapsed on the field this week. He is a valued member of which team?",
     "The 25-year-old Denver Broncos safety is recovering after collapsing during Sunday’s game, the team said.",
     "Denver Broncos"),
    ("Temperatures in the coldest town plunged to -60 degrees this week. Which town holds that title?",
     "The title of coldest town belongs to Oymyakon, Russia.", "Oymyakon, Russia"),
    ("The party argued this week over who should lead it. Which senator finally won the vote?",
     "Senator Maria Alvarez won the vote after three rounds of balloting.", "Maria Alvarez"),
    # accents: folded when comparing with the question, kept in the span
    ("Who is the president of the growers' cooperative?",
     "The cooperative's president, Marta Ibárruri, said the drought was the worst in memory.", "Marta Ibárruri"),
    ("Where did Pelé's funeral take place?", "The funeral of Pele was held in Santos, Brazil.", "Santos, Brazil"),
]


@pytest.mark.parametrize("question, sentence, expected", CASES)
def test_short_answer(question, sentence, expected):
    assert span_text(question, sentence) == expected


# --------------------------------------------------------------------------- no short answer


@pytest.mark.parametrize("question, sentence", [
    ("Why did the minister resign?", "The minister resigned on Friday, the party said."),  # no reason given
    ("How did the fire start?", "The fire started near Pine Hollow on Tuesday, burning 4,800 hectares."),
    ("What did Venezuela ask Russia for?", "Venezuela asked Russia to supply missiles and Sukhoi jets."),
    ("What did the mayor say about the bridge?", "Mayor Rosalind Achterberg said the bridge was a triumph."),
    ("How many people were injured?", "Nobody was hurt, the police said."),  # no number at all
    ("In what year did the museum open?", "The museum opened to great fanfare, the curator said."),
    ("Which company did Elon Musk buy?", "Elon Musk bought the company after months of talks."),  # all asked
    ("Which city hosted the summit?", "The summit was held in the city, officials said."),
    ("Which country did the president visit?", "However, the president did not say when he would travel."),
    ("Who won the race?", ""),
])
def test_no_short_answer(question, sentence):
    assert short_answer(question, sentence) is None


@pytest.mark.parametrize("question, sentence, not_expected", [
    ("Which company announced layoffs?", "The company said on Monday that it would cut jobs at Amazon.", "The"),
    ("Which team won the cup?", "He said the Rovers had won the cup for the first time.", "He"),
    ("Which country will host the games?", "In a vote on Friday, Italy was chosen to host the games.", "In"),
])
def test_sentence_initial_function_words_are_no_answer(question, sentence, not_expected):
    got = span_text(question, sentence)
    assert got is not None and not got.startswith(not_expected)


@pytest.mark.parametrize("question, sentence, expected", [
    # an age is a number said to be one: not any small number of the sentence
    ("How old is the architect?", "The 54-year-old architect drew the plans.", "54"),
    ("How old is the architect?", "Ines Calloway, 54, drew the plans for the bridge.", "54"),
    ("How old is the architect?", "The architect, aged 54, drew the plans.", "54"),
    ("How old is the architect?", "Calloway (54) drew the plans.", "54"),
    ("How old is Carter?", "Carter turned 99 on Sunday.", "99"),
    ("How old is the architect?", "The bridge rests on 18 steel pontoons.", None),
    ("How old is the architect?", "Calloway has worked in Tidewell for 18 years.", None),
    # "how deep/tall/high/wide" asks for that dimension: a length of something else is no answer
    ("How deep is the water under the bridge?", "The crossing stretches 265 metres over the estuary.", None),
    ("How deep is the lake?", "The lake is 40 metres deep at its centre.", "40 metres"),
    ("How tall is the new tower?", "The tower rises 310 metres above the harbour.", "310 metres"),
    ("How tall is the new tower?", "The tower's foundations cover a plot 80 metres long.", None),
    ("How high is inflation in Aldmark?", "Inflation in Aldmark is 4.5 percent.", "4.5 percent"),
    # a count is never a percentage
    ("How many adults took part in the trial?", "The vaccine was 82.4 percent effective in the trial.", None),
    ("How many adults took part in the trial?",
     ("The trial enrolled 24,600 adults, and the vaccine was 82.4 percent effective."), "24,600"),
])
def test_the_fact_asked_is_the_one_the_sentence_states(question, sentence, expected):
    assert span_text(question, sentence) == expected


def test_spans_are_offsets_into_the_sentence():
    sentence = "  Rivertown FC will pay €7.8 million for the striker."
    start, end = short_answer("How much will the club pay?", sentence)
    assert sentence[start:end] == "€7.8 million"


@pytest.mark.parametrize("prediction, answers, expected", [
    ("Buffalo Bills", ["Buffalo Bills"], True),
    ("the Buffalo Bills", ["Buffalo Bills"], True),  # normalized like best_f1: article, case, accents
    ("Velasquez", ["Velásquez"], True),
    ("M&M", ["M&M’s"], True),  # possessive dropped
    ("Bills", ["Buffalo Bills"], False),
    ("", [""], False),
])
def test_exact_match(prediction, answers, expected):
    from assistant.evaluation.metrics import exact_match

    assert exact_match(prediction, answers) is expected


@pytest.mark.parametrize("question, expected", [
    ("New research says the ingredients in which alcoholic drink keep skin healthy?", "alcoholic drink"),
    ("Ana Ruiz became the first world champion in which sport?", "sport"),
    ("The council weighed a cull of which household pets?", "household pets"),
    ("Which film won the most awards this week?", None),  # a title: capitalised, the rules find it
    ("Which team does he play for?", None),
])
def test_category_is_the_common_noun_thing_a_question_asks_for(question, expected):
    assert category(question) == expected


def test_noun_spans_are_runs_of_content_words_the_question_does_not_say():
    question = "The ingredients in which alcoholic drink keep skin healthy?"
    sentence = "Chemists in Dunmore found that residue from whisky-making protects skin."
    spans = [sentence[a:b] for a, b in noun_spans(question, sentence)]
    assert "whisky-making" in spans and "Dunmore" in spans and "residue" in spans
    assert not any(w in s.split() for s in spans for w in ("skin", "in", "that", "from"))
