"""Time expressions in a question -> publication window [period start, as-of date] (assistant/retrieval/timewindow.py)."""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest

from assistant.errors import AssistantError
from assistant.retrieval.timewindow import _RULES, BadDateError, TimeWindow, parse_as_of, resolve_window

D = datetime.date
WED = D(2024, 5, 15)  # a Wednesday
TUE = D(2024, 5, 14)
MON = D(2024, 5, 13)
SAT = D(2024, 5, 18)
SUN = D(2024, 5, 19)
FEB = D(2026, 2, 10)  # a Tuesday in February, for month names without a year
HAMLIN = (
    "NFL player Damar Hamlin suffered an on-field medical emergency this week. "
    "He is a valued member of which team?"
)
TECH_GIANT = (
    "The value of which tech giant fell below $2tn this week after shares dropped by as much as 4.3%?"
)

WINDOWS = [
    # same day
    ("What happened today?", WED, D(2024, 5, 15)),
    ("Who spoke this morning?", WED, D(2024, 5, 15)),
    ("Who plays tonight?", WED, D(2024, 5, 15)),
    ("What was announced this afternoon?", WED, D(2024, 5, 15)),
    ("Who speaks this evening?", WED, D(2024, 5, 15)),
    # days
    ("What happened yesterday?", WED, D(2024, 5, 14)),
    ("What happened yesterday?", D(2024, 3, 1), D(2024, 2, 29)),
    ("What happened the day before yesterday?", WED, D(2024, 5, 13)),
    ("What happened day before yesterday?", WED, D(2024, 5, 13)),
    ("Who resigned 3 days ago?", WED, D(2024, 5, 12)),
    ("Who resigned ten days ago?", WED, D(2024, 5, 5)),
    ("What fell in the last 5 days?", WED, D(2024, 5, 10)),
    ("What rose over the past 10 days?", WED, D(2024, 5, 5)),
    ("What happened in the past 48 hours?", WED, D(2024, 5, 13)),
    # weeks
    ("What happened this week?", WED, D(2024, 5, 9)),
    ("What happened this week?", D(2025, 1, 2), D(2024, 12, 27)),
    ("Who resigned earlier this week?", WED, D(2024, 5, 9)),
    ("What happened last week?", WED, D(2024, 5, 2)),
    ("What happened last week?", D(2024, 1, 3), D(2023, 12, 21)),
    ("What happened in the past week?", WED, D(2024, 5, 2)),
    ("Who won a week ago?", WED, D(2024, 5, 2)),
    ("Who won two weeks ago?", WED, D(2024, 4, 25)),
    ("Who won 2 weeks ago?", WED, D(2024, 4, 25)),
    ("Who won three weeks ago?", WED, D(2024, 4, 18)),
    ("Who won twelve weeks ago?", WED, D(2024, 2, 15)),
    ("What rose over the last 2 weeks?", WED, D(2024, 5, 1)),
    ("What rose over the past three weeks?", WED, D(2024, 4, 24)),
    # weekends: the most recent Saturday on or before as-of; "last weekend" on a weekend -> the one before
    ("What happened this weekend?", WED, D(2024, 5, 11)),
    ("What happened this weekend?", SAT, D(2024, 5, 18)),
    ("What happened this weekend?", SUN, D(2024, 5, 18)),
    ("What happened last weekend?", WED, D(2024, 5, 11)),
    ("What happened last weekend?", SAT, D(2024, 5, 11)),
    ("What happened last weekend?", SUN, D(2024, 5, 11)),
    # weekdays
    ("Who resigned on Tuesday?", TUE, D(2024, 5, 14)),
    ("Who resigned on Tuesday?", MON, D(2024, 5, 7)),
    ("Who resigned on tuesday?", WED, D(2024, 5, 14)),
    ("What did the Senate pass Tuesday?", WED, D(2024, 5, 14)),
    ("Tuesday's vote was won by whom?", WED, D(2024, 5, 14)),
    ("Who resigned last Tuesday?", TUE, D(2024, 5, 7)),
    ("Who resigned last Tuesday?", WED, D(2024, 5, 14)),
    ("What happened on Sunday?", WED, D(2024, 5, 12)),
    ("What happened last Sunday?", D(2024, 1, 1), D(2023, 12, 31)),
    ("What has fallen since Friday?", WED, D(2024, 5, 10)),
    # months relative to as-of
    ("What happened this month?", WED, D(2024, 5, 1)),
    ("Who resigned earlier this month?", WED, D(2024, 5, 1)),
    ("What happened last month?", WED, D(2024, 4, 1)),
    ("What happened last month?", D(2024, 1, 15), D(2023, 12, 1)),
    ("What happened in the past month?", WED, D(2024, 4, 1)),
    ("Who won two months ago?", WED, D(2024, 3, 1)),
    ("Who won 3 months ago?", WED, D(2024, 2, 1)),
    ("Who won two months ago?", D(2024, 1, 15), D(2023, 11, 1)),
    ("What rose over the last 3 months?", WED, D(2024, 2, 15)),
    # month names
    ("What happened in March?", FEB, D(2025, 3, 1)),
    ("What happened in February?", FEB, D(2026, 2, 1)),
    ("What happened in January?", FEB, D(2026, 1, 1)),
    ("What happened in December?", D(2024, 1, 10), D(2023, 12, 1)),
    ("What happened in March 2024?", FEB, D(2024, 3, 1)),
    ("Which bank failed in March 2023?", D(2023, 6, 1), D(2023, 3, 1)),
    ("The March 2024 report said what?", FEB, D(2024, 3, 1)),
    ("What happened in March of 2024?", FEB, D(2024, 3, 1)),
    ("What has changed since March?", FEB, D(2025, 3, 1)),
    ("Who resigned on March 5?", FEB, D(2025, 3, 5)),
    ("Who resigned March 5th?", FEB, D(2025, 3, 5)),
    ("Who resigned on 5 March?", FEB, D(2025, 3, 5)),
    ("Who resigned on the 5th of March?", FEB, D(2025, 3, 5)),
    ("Who resigned on March 5, 2024?", FEB, D(2024, 3, 5)),
    ("Who resigned on 5 March 2024?", FEB, D(2024, 3, 5)),
    ("What has fallen since March 5, 2024?", FEB, D(2024, 3, 5)),
    ("Who resigned on February 5?", FEB, D(2026, 2, 5)),
    ("Who resigned on February 12?", FEB, D(2025, 2, 12)),
    ("Who was born on February 29?", FEB, D(2024, 2, 29)),
    ("What happened in May?", FEB, D(2025, 5, 1)),
    ("What happened in May 2024?", FEB, D(2024, 5, 1)),
    ("What happened on May 5?", FEB, D(2025, 5, 5)),
    ("What happened in early May?", FEB, D(2025, 5, 1)),
    ("What happened in mid-May?", FEB, D(2025, 5, 1)),
    ("What happened last May?", FEB, D(2025, 5, 1)),
    ("What happened at the end of May?", FEB, D(2025, 5, 1)),
    ("What happened last February?", FEB, D(2025, 2, 1)),
    ("What happened this February?", FEB, D(2026, 2, 1)),
    ("What did the March jobs report show?", FEB, D(2025, 3, 1)),
    ("What happened in March last year?", FEB, D(2025, 3, 1)),
    ("What happened in January this year?", FEB, D(2026, 1, 1)),
    # years
    ("What happened this year?", WED, D(2024, 1, 1)),
    ("Who resigned earlier this year?", WED, D(2024, 1, 1)),
    ("What happened last year?", WED, D(2023, 1, 1)),
    ("What happened last year?", D(2024, 1, 1), D(2023, 1, 1)),
    ("Who won two years ago?", WED, D(2022, 1, 1)),
    ("What happened in 2024?", WED, D(2024, 1, 1)),
    ("What has changed since 2020?", WED, D(2020, 1, 1)),
    ("What happened during 2023?", WED, D(2023, 1, 1)),
    ("Who won the election of 2022?", WED, D(2022, 1, 1)),
    ("What has risen from 2021 to now?", WED, D(2021, 1, 1)),
    ("What happened in early 2023?", WED, D(2023, 1, 1)),
    ("What has changed since January?", D(2024, 1, 1), D(2024, 1, 1)),
    ("What has changed since January?", WED, D(2024, 1, 1)),
    # several expressions: the narrowest (latest start) wins
    ("Last year a bill passed; which senator blocked it this week?", WED, D(2024, 5, 9)),
    ("After last month's vote, who resigned yesterday?", WED, D(2024, 5, 14)),
    ("In 2023 it was promised; what happened on Monday?", WED, D(2024, 5, 13)),
    ("What was planned in 2027 and announced this week?", D(2026, 12, 1), D(2026, 11, 25)),
    ("Since March 2024 prices rose; what fell two weeks ago?", FEB, D(2026, 1, 21)),
    # real news-quiz phrasings
    (HAMLIN, D(2023, 1, 6), D(2022, 12, 31)),
    (TECH_GIANT, D(2023, 1, 6), D(2022, 12, 31)),
]

NO_WINDOW = [
    ("Which seed did the FDA recently add to its list of major food allergens?", D(2023, 1, 6)),
    ("What is the latest on the strike?", WED),
    ("Who is now the prime minister?", WED),
    ("Who currently leads the party?", WED),
    ("Which country has the largest population?", WED),
    ("", WED),
    ("The probe has travelled 25,000 miles. Where is it heading?", WED),
    ("Which firm is worth more than $2tn?", WED),
    ("Why did 2,000 people protest outside parliament?", WED),
    ("How many people died of Covid-19?", WED),
    ("Which country hosted COP27?", WED),
    ("Which team won Euro 2024?", WED),
    ("What happened in 2027?", D(2026, 12, 1)),
    ("What happened in March 2027?", FEB),
    ("What is planned for December this year?", FEB),
    ("What happened in 1850?", WED),
    ("Who resigned on February 30?", FEB),
    ("Which company may face a fine?", FEB),
    ("May the regulator block the deal?", FEB),
    ("Why did Theresa May resign?", FEB),
    ("Why did thousands join a march in Paris?", FEB),
    ("Which church holds services on Ash Wednesday?", WED),
    ("Who won the most states on Super Tuesday?", WED),
    ("How much did shoppers spend during Black Friday?", WED),
    ("Which film starred Tuesday Weld?", WED),
    ("What happened tuesday?", WED),
    ("Who sang with June Carter?", WED),
    ("Which museum is open on Sundays?", WED),
]


@pytest.mark.parametrize(("question", "as_of", "start"), WINDOWS)
def test_resolve_window_start(question: str, as_of: datetime.date, start: datetime.date) -> None:
    window = resolve_window(question, as_of)
    assert window is not None, question
    assert (window.start, window.end) == (start, as_of)
    assert window.expression and window.expression.lower() in " ".join(question.split()).lower()


@pytest.mark.parametrize(("question", "as_of"), NO_WINDOW)
def test_resolve_window_none(question: str, as_of: datetime.date) -> None:
    assert resolve_window(question, as_of) is None


@pytest.mark.parametrize(
    ("question", "as_of", "expression"),
    [
        ("Last week, who resigned?", WED, "Last week"),
        ("What happened the day before yesterday?", WED, "the day before yesterday"),
        ("Who resigned last Tuesday?", WED, "last Tuesday"),
        ("What happened in March 2024?", FEB, "in March 2024"),
        ("What happened this\n  week?", WED, "this week"),
        ("Who spoke today, this morning?", WED, "today"),  # a tie goes to the first in the question
        ("Last year a bill passed; which senator blocked it this week?", WED, "this week"),
    ],
)
def test_expression_is_the_matched_text(question: str, as_of: datetime.date, expression: str) -> None:
    window = resolve_window(question, as_of)
    assert window is not None and window.expression == expression


@pytest.mark.parametrize(
    ("window", "label"),
    [
        (TimeWindow(D(2023, 1, 1), D(2023, 1, 6), "last week"), "since 2023-01-01 (last week)"),
        (TimeWindow(D(2023, 1, 6), D(2023, 1, 6), "today"), "on 2023-01-06 (today)"),
    ],
)
def test_label(window: TimeWindow, label: str) -> None:
    assert window.label() == label


def test_label_from_resolved_window() -> None:
    assert resolve_window("What happened today?", D(2023, 1, 6)).label() == "on 2023-01-06 (today)"
    window = resolve_window("What happened this week?", D(2023, 1, 6))
    assert window.label() == "since 2022-12-31 (this week)"


def test_window_is_frozen() -> None:
    window = TimeWindow(D(2023, 1, 1), D(2023, 1, 6), "last week")
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.start = D(2020, 1, 1)  # type: ignore[misc]


def test_rules_are_a_table() -> None:
    assert _RULES and all(isinstance(rx, re.Pattern) and callable(fn) for rx, fn in _RULES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-01-06", D(2023, 1, 6)),
        (" 2024-02-29 ", D(2024, 2, 29)),
        ("today", D(2023, 1, 6)),
        ("Today", D(2023, 1, 6)),
        ("", D(2023, 1, 6)),
        (None, D(2023, 1, 6)),
        (D(2020, 5, 1), D(2020, 5, 1)),
        (datetime.datetime(2020, 5, 1, 13, 30), D(2020, 5, 1)),
    ],
)
def test_parse_as_of(value: str | datetime.date | None, expected: datetime.date) -> None:
    assert parse_as_of(value, today=D(2023, 1, 6)) == expected


def test_parse_as_of_defaults_to_the_real_today() -> None:
    assert parse_as_of(None) == datetime.date.today()
    assert parse_as_of("today") == datetime.date.today()


def test_parse_as_of_message_example() -> None:
    with pytest.raises(BadDateError) as info:
        parse_as_of("2023-13-01")
    assert str(info.value) == "as-of date '2023-13-01' is not a valid YYYY-MM-DD date"


@pytest.mark.parametrize(
    "value", ["2023-13-01", "yesterday", "01/02/2023", "2023-02-30", "2023-1-6", "20230106", "2023-01-06\nx"]
)
def test_parse_as_of_bad(value: str) -> None:
    with pytest.raises(BadDateError) as info:
        parse_as_of(value, today=D(2023, 1, 6))
    message = str(info.value)
    assert isinstance(info.value, AssistantError)
    assert "\n" not in message and repr(value) in message
