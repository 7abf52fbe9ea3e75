"""Conversations: the per-session chat history and turning follow-up questions into standalone ones.

`ChatSession` is one browser session's conversation (kept in Gradio state, so each session has its own).
`Condenser` is the interface for rewriting a follow-up ("And what about China?") into a question that can
be retrieved on its own ("What did Venezuela ask China for?"); it returns None when the question already
stands alone. `RuleCondenser` needs no LLM: it handles "what about X" / "and X?" by swapping X for the last
named entity of the previous question, and pronoun or very short follow-ups by adding the previous topic.
An LLM-based condenser plugs in through the same interface (picked in `assistant.factory`).
It does not retrieve or answer (see `assistant.service`) nor render (see `assistant.web.render`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.types import Answer
from index.lexical import STOPWORDS

MAX_TURNS = 50


@dataclass(frozen=True)
class Turn:
    """One exchange: what was asked, what it was understood as, and the answer given."""

    question: str
    answer: Answer

    @property
    def standalone(self) -> str:
        """The question as retrieved (the rewrite when there was one)."""
        return self.answer.standalone_question or self.question


@dataclass
class ChatSession:
    turns: list[Turn] = field(default_factory=list)

    def add(self, answer: Answer) -> None:
        self.turns.append(Turn(answer.question, answer))
        del self.turns[:-MAX_TURNS]

    def clear(self) -> None:
        self.turns.clear()

    @property
    def answers(self) -> list[Answer]:
        return [t.answer for t in self.turns]


class Condenser(Protocol):
    name: str

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        """The standalone form of `question` given the earlier turns, or None if it needs no rewrite."""
        ...


_FOCUS = re.compile(
    r"^(?:and\s+|but\s+|also\s+|ok(?:ay)?[,\s]+|so\s+)?"
    r"(?:(?:what|how)\s+about|(?:and\s+)?the\s+same\s+for|same\s+for|what\s+of|and\s+for|and)\s+"
    r"(?P<focus>[^?]+?)\s*\??$",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(["it", "its", "they", "them", "their", "theirs", "he", "him", "his", "she", "her", "hers",
                       "this", "that", "these", "those", "there", "then", "one"])
_QUESTION_WORDS = frozenset(["what", "who", "whom", "when", "where", "why", "how", "which", "did", "does", "do",
                             "is", "are", "was", "were", "can", "could", "will", "would", "should", "has", "have"])
_ENTITY = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?(?:[A-Z][\w'’.-]*|\d[\w.,]*\b))*")
_WORD = re.compile(r"[\w'’-]+")


def _entities(question: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of runs of capitalised words, leaving out the question's first word."""
    first = _WORD.search(question)
    out = []
    for match in _ENTITY.finditer(question):
        start, text = match.start(), match.group()
        if first is not None and start == first.start():
            rest = text.split(None, 1)
            if len(rest) < 2:
                continue
            start, text = match.end() - len(rest[1]), rest[1]
        if text.lower() not in STOPWORDS and text != "I":
            out.append((start, start + len(text), text))
    return out


def _topic(question: str) -> str:
    """What an earlier question was about: its named entities, else its content words."""
    names = [text for _, _, text in _entities(question)]
    if names:
        return " ".join(dict.fromkeys(names))
    words = [w for w in _WORD.findall(question) if w.lower() not in STOPWORDS and len(w) > 2]
    return " ".join(words)


class RuleCondenser:
    """Rule-based follow-up rewriting for the extractive backend (no LLM)."""

    name = "rules"

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        if not history:
            return None
        previous = history[-1].standalone.strip()
        question = " ".join(question.split())
        focus_match = _FOCUS.match(question)
        if focus_match:
            focus = focus_match["focus"].strip(" ,.")
            focus_words = focus.lower().split()
            if focus_words[0] not in _QUESTION_WORDS and len(focus_words) <= 6:
                entities = _entities(previous)
                if entities and focus[:1].isupper():
                    start, end, _ = entities[-1]
                    return f"{previous[:start]}{focus}{previous[end:]}"
                return f"{focus} ({_topic(previous)})?"
        words = [w.lower() for w in _WORD.findall(question)]
        content = [w for w in words if w not in STOPWORDS and w not in _PRONOUNS]
        refers_back = any(w in _PRONOUNS for w in words)
        if not _entities(question) and (len(content) <= 1 or (refers_back and len(content) <= 4)):
            topic = _topic(previous)
            if topic and topic.lower() not in question.lower():
                return f"{question.rstrip('?. ')} ({topic})?"
        return None
