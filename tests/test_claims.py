"""What `is_claim` lets the extractive answerer quote: ordinary news sentences (with quotes, colons, numbers,
dashes and names) stay claims; link lines, teasers, lists and runs of headlines, subheads, captions and
credits never are. Every sentence here was written for this test."""

from __future__ import annotations

import pytest

from assistant.answering.extractive import is_claim

NEWS_SENTENCES = [
    "The city council voted 7-2 on Tuesday to extend the tram line to the harbour.",
    "\u201cWe will not back down,\u201d the union\u2019s leader, Maria Okafor, told a rally of 3,000 workers.",
    "The verdict was clear: the jury found the former mayor guilty on all four counts.",
    "More than 84,000 households lost power when the storm reached the coast on Friday night.",
    "Previously, the company had said it would keep its factory in Leeds open until 2027.",
    "Opinion polls published on Sunday put the governing party 6 points behind its main rival.",
    "The mayor - who took office in May - said the budget would be balanced by next spring.",
    "Real Madrid beat Barcelona 3-1, with Vinicius Junior scoring twice in the second half.",
    "The launch is scheduled for 10:30 a.m. local time on Thursday, NASA said.",
    "Prime Minister Ana Lind said: \u201cThe border will reopen on March 1.\u201d",
    "Related charges were filed against two other men in federal court in Houston.",
    "Watchdog groups said the $2.4 billion contract had been awarded without a public tender.",
    "Photos taken by a drone on Monday showed deep cracks along the dam\u2019s western wall.",
    "U.S. President Joe Biden met Chinese leader Xi Jinping in Bali for more than three hours.",
    "Sales of electric cars rose 38% in the first quarter \u2014 the fastest growth since 2021.",
    "The singer announced her next tour, Taylor Swift | The Eras Tour, in a post on Tuesday.",
    "Palm Springs:The city on Monday ordered all workers and visitors to wear face masks.",
    "Shares of Northwind Energy fell 12 percent after the company cut its profit forecast.",
    "The minister told reporters:",
    "Inflation in the euro area slowed to 2.9% in October, according to Eurostat.",
    # a hard-wrapped line of a paragraph (no closing punctuation, more than a heading's words)
    "the flooding closed 14 schools and left about 2,000 people without drinking water for",
]

JUNK = {
    # link lines and teasers
    "previously": "Previously: The council first debated the tram line in 2019",
    "read more": "Read more: Why the harbour bridge is closing for repairs",
    "read more caps": "READ MORE: Ten things to know before the vote",
    "related": "Related: Flood warnings issued across the valley",
    "related glued": "RELATED:Highway 9 reopens after rockslide",
    "see also": "See also the council's full statement on the budget",
    "more": "More: Storm leaves thousands without power in the north",
    "more glued": "More:Local bakery wins national bread award, judges say",
    "more on": "More on the trial:",
    "more news": "More weather news from the Valley Herald:",
    "also read": "Also read: Court blocks the new zoning law",
    "click here": "Click here to read the full report.",
    "sign up": "Sign up for our morning newsletter to get the day's top stories.",
    "newsletter plug": "Get our free weekly newsletter Sign up here to receive the best stories every Friday.",
    "watch": "Watch: Firefighters rescue a horse from a frozen lake",
    "photos": "Photos: The parade through the old town",
    "photos caps label": "PHOTOS OF THE HARVEST FESTIVAL 2023:",
    "listen": "Listen: The week in politics, with our correspondents",
    "opinion": "Opinion: The council should not raise parking fees again",
    "pointer": "See the full list of winners here.",
    "social": "Follow Dana Weiss on Twitter at @danaweiss.",
    "kicker": "FACT CHECK:Mayor's claim about crime figures is misleading",
    "glued headline": "Tram line vote:Council approves extension despite protests",
    "glued question headline": "Marta Ibarra for chair?:Growers name a rival in the cooperative vote.",
    "bare url": "https://www.example-news.com/2023/02/10/tram-line-vote",
    "url in line": "Tickets are on sale at www.harbourfest.example until Friday.",
    "url after sentence": "An earlier version of this story misstated the cost. https://example.com/story/123",
    # lists and runs of headlines
    "pipes": "Politics | Business | Sport | Culture | Weather",
    "pipe headlines": "Council Approves Tram Line | Harbour Bridge Closes | Storm Hits the Coast",
    "bullets": "Budget Vote Delayed \u2022 Mayor Faces Recall \u2022 New Stadium Plans Revealed",
    "middle dots": "Home \u00b7 World \u00b7 Local News \u00b7 Contact Us",
    "dashes": "Markets Rally - Oil Falls - Gold Hits Record High",
    "headline run": "Trending Now Storm Batters Coast Council Approves Tram Line Stocks Slide on Rate Fears "
                    "Chiefs Favored in Final",
    # subheads (short lines without closing punctuation)
    "subhead": "What happens next",
    "subhead 2": "A long road to the vote",
    # captions and credits
    "caption credit": "Firefighters battle the blaze near the harbour on Tuesday Jane Roe/Reuters",
    "agency credit": "Stringer/AFP/Getty Images",
    "paper credit": "Volunteers fill sandbags in the rain. Ann Lee/The Valley Herald",
    "photo caption": "Photo: Residents leave the flooded district by boat (Getty Images)",
    "photograph": "Photograph: Tom Hale/AP",
    "courtesy": "Courtesy of the Harbour Museum",
    "byline": "By Maria Lopez, Harbor Ledger",
}


@pytest.mark.parametrize("sentence", NEWS_SENTENCES)
def test_news_sentences_stay_claims(sentence):
    assert is_claim(sentence) is True


@pytest.mark.parametrize("kind", list(JUNK))
def test_junk_is_never_a_claim(kind):
    assert is_claim(JUNK[kind]) is False, JUNK[kind]


def test_enough_cases():
    assert len(NEWS_SENTENCES) >= 15 and len(JUNK) >= 30


def test_the_headline_itself_is_no_claim():
    title = "Council Approves Tram Line After Four-Year Debate"
    assert is_claim("Council approves tram line after four-year debate.", title) is False
    assert is_claim("The council approved the tram line after a four-year debate.", title) is True
