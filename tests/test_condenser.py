"""The rule condenser (`assistant.answering.chat.RuleCondenser`): follow-ups rewritten into questions that
retrieve on their own, and only when the rewrite makes sense. Each case is one previous question, one
follow-up and the exact rewrite (None: the follow-up is retrieved as typed)."""

from __future__ import annotations

import pytest

from assistant.answering.chat import RuleCondenser, Turn, name_kind
from assistant.types import Answer

VENEZUELA = "What did Venezuela ask Iran for?"
MARATHON = "Who won the Lakeport Marathon women's race?"
RECALL = "Why is Voltic recalling its PowerCore 20 power banks?"
MINISTER = "Why did Prime Minister Ana Ruiz resign?"


def _condense(previous: str, follow_up: str) -> str | None:
    return RuleCondenser().condense(follow_up, [Turn(previous, Answer(previous, "an answer", False))])


@pytest.mark.parametrize(("previous", "follow_up", "expected"), [
    # a subject pronoun stands for the previous question's subject
    (VENEZUELA, "And what did it ask China for?", "What did Venezuela ask China for?"),
    (MINISTER, "What did she say about the budget?",
     "What did Prime Minister Ana Ruiz say about the budget?"),
    ("What did Amara Chelimo say after the Lakeport Marathon?", "what did she say about the heat?",
     "What did Amara Chelimo say about the heat?"),
    (RECALL, "How many units has it sold?", "How many units has Voltic sold?"),
    ("When did the Fed raise rates?", "So what did it say about inflation?",
     "What did the Fed say about inflation?"),
    ("How effective was Norvance's RSV vaccine?", "Is it safe for older adults?",
     "Is Norvance's RSV vaccine safe for older adults?"),
    # "what about X" / "and X": X replaces the previous question's last name of its own kind
    (VENEZUELA, "And what about China?", "What did Venezuela ask China for?"),
    (VENEZUELA, "and Russia", "What did Venezuela ask Russia for?"),
    (VENEZUELA, "What about New Zealand?", "What did Venezuela ask New Zealand for?"),
    ("What did Amara Chelimo say after the Lakeport Marathon?", "And what about Tomas Reyes?",
     "What did Tomas Reyes say after the Lakeport Marathon?"),
    ("Who won the Lakeport Marathon?", "What about the Harbor Cup?", "Who won the Harbor Cup?"),
    ("What did Voltic announce?", "And what about Anker?", "What did Anker announce?"),  # both: no known kind
    # a phrase replaces the one with the same last noun
    (MARATHON, "And what about the men's race?", "Who won the Lakeport Marathon men's race?"),
    # with nothing to substitute, the previous topic is added
    (RECALL, "How much did they cost?", "How much did they cost (Voltic PowerCore 20)?"),
    (MINISTER, "Why did he quit?", "Why did he quit (Prime Minister Ana Ruiz)?"),
    ("What did Venezuela ask Iran for?", "And the price?", "the price (Venezuela Iran)?"),
])
def test_a_follow_up_is_rewritten(previous, follow_up, expected):
    assert _condense(previous, follow_up) == expected


@pytest.mark.parametrize(("previous", "follow_up"), [
    # a name of another kind than anything in the previous question: never a nonsense substitution
    (MARATHON, "And what about China?"),
    ("Who won the Lakeport Marathon women's race and in what time?", "And what about China?"),
    (MARATHON, "What about Tomas Reyes?"),
    ("Who won the Lakeport Marathon?", "What about Kenya?"),
    (VENEZUELA, "And what about Tomas Reyes?"),
    ("What did Biden tell Xi?", "And Trump?"),  # two names of no known kind: which one is meant is unclear
    # questions that stand alone
    (VENEZUELA, "Who won the Lakeport Marathon?"),
    (VENEZUELA, "How effective was Norvance's RSV vaccine?"),
    (VENEZUELA, "And how many drones did Iran send?"),
    (VENEZUELA, "How many drones has Iran sent to Venezuela since 2020?"),
    (MARATHON, "Why is Voltic recalling its PowerCore 20 power banks?"),
])
def test_a_question_is_left_as_typed(previous, follow_up):
    assert _condense(previous, follow_up) is None


def test_nothing_is_rewritten_without_a_history():
    assert RuleCondenser().condense("And what did it ask China for?", []) is None


@pytest.mark.parametrize(("name", "kind"), [
    ("China", "place"), ("New Zealand", "place"), ("Tehran", "place"), ("Kiriva Island", "place"),
    ("Lakeport Marathon", "event"), ("the Harbor Cup", "event"),
    ("Voltic Inc", "organization"), ("NATO", "organization"),
    ("Amara Chelimo", "person"), ("Prime Minister Ana Ruiz", "person"),
    ("Voltic", None), ("PowerCore 20", None),
])
def test_the_kind_of_a_name(name, kind):
    assert name_kind(name) == kind
