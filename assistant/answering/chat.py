"""Conversations: the per-session chat history and turning follow-up questions into standalone ones.

`ChatSession` is one browser session's conversation (kept in Gradio state, so each session has its own).
`Condenser` is the interface for rewriting a follow-up ("And what about China?") into a question that can
be retrieved on its own ("What did Venezuela ask China for?"); it returns None when the question already
stands alone. `RuleCondenser` needs no LLM. "What about X" / "and X?" swaps X for the last name of the same
kind in the previous question (`name_kind`: a place for a place, a person for a person, from a small word list
of its own), or a phrase for the one with the same last noun ("the men's race" for "the women's race"); a
name with nothing of its kind to replace leaves the question as typed ("what about China" after a marathon
question). A subject pronoun ("what did it ask China for", "what did she say about ...") becomes the previous
question's subject; other pronoun or very short follow-ups get the previous topic added in brackets.
An LLM-based condenser plugs in through the same interface (picked in `assistant.factory`).
It does not retrieve or answer (see `assistant.service`) nor render (see `assistant.web.render`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.types import Answer
from index.text.terms import STOPWORDS

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
_LEAD = re.compile(r"^(?:and|but|also|so|ok(?:ay)?)\b[,\s]*", re.IGNORECASE)  # "And what ..." -> "what ..."
_AUX = r"(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should|may|might)"
_SUBJECT_PRONOUN = re.compile(rf"\b{_AUX}\s+(?P<pronoun>it|they|he|she)\b", re.IGNORECASE)  # "did | it ask"
_SUBJECT_SLOT = re.compile(  # a question's subject starts after its first auxiliary ("What did | X ask")
    rf"^\s*(?:(?:what|who|whom|when|where|why|how|which)\b[^?]*?\s)?(?P<aux>{_AUX})\s+(?P<det>the\s+)?",
    re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")
_DETERMINERS = frozenset(["the", "a", "an", "its", "his", "her", "their", "this", "that"])
_DEGREE = frozenset(["much", "many", "long", "far", "often", "old", "big", "soon"])  # "how much": no content

# What kind of thing a name is, so that "what about X" only swaps like for like (a country for a country, a
# person for a person, never a country for a race). A small list of our own, not a gazetteer: a name it does
# not know has no kind, and may then only replace the one other name of no known kind.
_KINDS_LEXICON = """
places: afghanistan albania algeria angola argentina armenia australia austria azerbaijan bahrain bangladesh
 belarus belgium bhutan bolivia bosnia botswana brazil bulgaria burundi cambodia cameroon canada chad chile
 china colombia congo croatia cuba cyprus czechia czech_republic denmark ecuador egypt eritrea estonia
 ethiopia fiji finland france gabon gambia georgia germany ghana greece greenland guatemala guinea guyana
 haiti honduras hungary iceland india indonesia iran iraq ireland israel italy jamaica japan jordan
 kazakhstan kenya korea kosovo kuwait kyrgyzstan laos latvia lebanon liberia libya lithuania luxembourg
 madagascar malawi malaysia maldives mali malta mauritania mexico moldova monaco mongolia montenegro morocco
 mozambique myanmar namibia nepal netherlands holland nicaragua niger nigeria norway oman pakistan palestine
 panama paraguay peru philippines poland portugal qatar romania russia rwanda scotland senegal serbia
 singapore slovakia slovenia somalia spain sudan suriname sweden switzerland syria taiwan tajikistan
 tanzania thailand togo tunisia turkey turkmenistan uganda ukraine uruguay uzbekistan venezuela vietnam
 wales yemen zambia zimbabwe england britain great_britain uk u.k us u.s usa america united_states
 united_kingdom united_arab_emirates uae new_zealand south_africa north_korea south_korea saudi_arabia
 sri_lanka costa_rica el_salvador ivory_coast hong_kong puerto_rico gaza crimea africa asia europe
 antarctica oceania latin_america middle_east alabama alaska arizona arkansas california colorado
 connecticut delaware florida hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
 massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon
 pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming new_york new_jersey
 new_mexico new_hampshire north_carolina south_carolina north_dakota south_dakota west_virginia rhode_island
 ontario quebec bavaria catalonia london paris berlin madrid rome moscow beijing shanghai tokyo delhi mumbai
 cairo lagos nairobi istanbul tehran caracas kyiv kiev warsaw vienna brussels amsterdam stockholm oslo
 copenhagen helsinki dublin lisbon athens ankara baghdad damascus beirut jerusalem riyadh dubai doha karachi
 dhaka bangkok jakarta manila seoul sydney melbourne toronto montreal vancouver ottawa chicago boston
 houston seattle atlanta miami los_angeles san_francisco mexico_city bogota lima santiago buenos_aires
 havana johannesburg geneva zurich milan munich
place_words: city county province region island islands river lake valley bay coast sea ocean mountains
 peninsula district
event_words: marathon race cup open championship championships games olympics festival awards award prize
 summit conference tournament election series derby rally expo fair
org_words: inc corp corporation company co ltd plc group bank party university college council commission
 ministry department agency association foundation institute union airlines airways motors fc club network
 federation league organization organisation board
person_titles: president prime minister chancellor senator sen governor gov mayor king queen prince princess
 pope mr mrs ms dr sir lady lord judge general coach secretary
"""
_KIND_WORDS = {name: frozenset(w.replace("_", " ") for w in words.split())
               for name, words in re.findall(r"^(\w+): (.+(?:\n .+)*)", _KINDS_LEXICON, re.MULTILINE)}
_PLACES, _PLACE_WORDS, _EVENT_WORDS, _ORG_WORDS, _PERSON_TITLES = (
    _KIND_WORDS[k] for k in ("places", "place_words", "event_words", "org_words", "person_titles"))


def name_kind(name: str) -> str | None:
    """'place', 'event', 'organization' or 'person' for a capitalised name, from its words alone
    ("China", "Lakeport Marathon", "Voltic Inc", "Amara Chelimo"), or None when they do not tell."""
    words = [w.lower().rstrip(".") for w in _POSSESSIVE.sub("", name.strip()).split()]
    if words[:1] == ["the"]:
        words = words[1:]
    if not words:
        return None
    if " ".join(words) in _PLACES or words[-1] in _PLACE_WORDS:
        return "place"
    if set(words) & _EVENT_WORDS:
        return "event"
    if words[-1] in _ORG_WORDS or (len(words) == 1 and len(name) > 1 and name.isupper()):
        return "organization"
    if words[0] in _PERSON_TITLES or (2 <= len(words) <= 3 and all(w.isalpha() for w in words)):
        return "person"
    return None


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


def _subject(question: str) -> tuple[str, str | None] | None:
    """The subject of a question when it is a name right after the first auxiliary ("What did | Venezuela
    ask", "How effective was | Norvance's RSV vaccine"), with the name's kind; None when it is not."""
    slot = _SUBJECT_SLOT.match(question)
    if slot is None:
        return None
    name = next((e for e in _entities(question) if e[0] == slot.end()), None)
    if name is None:
        return None
    start, end, text = name
    owner = re.search(r"['’]s\b", text)
    tail = question[end:].rstrip(" ?").split()
    if owner and slot.start("aux") > 0 and slot["aux"].lower() in ("is", "was", "are", "were") and (
            0 < len(tail) <= 2 and not any(w.lower() in STOPWORDS for w in tail)):
        end += len(question[end:].rstrip(" ?"))  # "How effective was | Norvance's RSV vaccine?": to the end
    elif _POSSESSIVE.search(text):
        return None  # "What did Norvance's ...": the subject is what follows, which rules cannot delimit
    return question[slot.start("det") if slot["det"] else start:end], name_kind(text)


def _swap_name(previous: str, focus: str) -> str | None:
    """The previous question with its last name of the focus's kind replaced by the focus, or None when it
    has no such name (a country never replaces a race)."""
    name = re.sub(r"^the\s+", "", focus, flags=re.IGNORECASE)
    kind = name_kind(name)
    same = [e for e in _entities(previous) if name_kind(e[2]) == kind]
    if not same or (kind is None and len(same) > 1):
        return None
    start, end, text = same[-1]
    possessive = _POSSESSIVE.search(text)
    end -= len(possessive.group()) if possessive else 0
    if previous[:start].lower().endswith("the "):
        focus = name
    return f"{previous[:start]}{focus}{previous[end:]}"


def _swap_noun(previous: str, focus: str) -> str | None:
    """"the men's race" after "Who won the ... women's race?": the phrase with the same last noun replaced."""
    words = focus.split()
    if words[0].lower() in _DETERMINERS:
        words = words[1:]
    if not words or len(words) > 4 or words[-1].lower() in STOPWORDS | _PRONOUNS:
        return None
    tokens = list(_WORD.finditer(previous))
    head = words[-1].lower()
    heads = [i for i, t in enumerate(tokens) if t.group().lower() == head and t.group()[0].islower()]
    if not heads:
        return None
    last = first = heads[-1]
    while (last - first + 1 < len(words) and first > 0 and tokens[first - 1].group()[0].islower()
           and tokens[first - 1].group().lower() not in STOPWORDS
           and previous[tokens[first - 1].end():tokens[first].start()].isspace()):
        first -= 1
    start, end = tokens[first].start(), tokens[last].end()
    phrase = " ".join(words)
    if previous[start:end].lower() == phrase.lower():
        return None
    return f"{previous[:start]}{phrase}{previous[end:]}"


def _resolve_subject(question: str, previous: str) -> str | None:
    """"And what did it ask China for?" -> "What did Venezuela ask China for?": a subject pronoun replaced by
    the previous question's subject, when the follow-up says what it asks on its own (a name, or two content
    words: "what did she say about the budget"); a bare "how much did they cost" is left to `_topic`."""
    match = _SUBJECT_PRONOUN.search(question)
    subject = _subject(previous)
    if match is None or subject is None:
        return None
    text, kind = subject
    pronoun = match["pronoun"].lower()
    if (pronoun in ("he", "she") and kind not in ("person", None)) or (pronoun == "it" and kind == "person"):
        return None
    skip = STOPWORDS | _PRONOUNS | _QUESTION_WORDS | _DEGREE
    content = [w for w in _WORD.findall(question) if w.lower() not in skip]
    if not _entities(question) and len(content) < 2:
        return None
    out = f"{question[:match.start('pronoun')]}{text}{question[match.end('pronoun'):]}"
    out = _LEAD.sub("", out)
    return out[:1].upper() + out[1:]


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
                if re.sub(r"^the\s+", "", focus, flags=re.IGNORECASE)[:1].isupper():
                    return _swap_name(previous, focus)  # a name: like for like, else left as typed
                return _swap_noun(previous, focus) or f"{focus} ({_topic(previous)})?"
        resolved = _resolve_subject(question, previous)
        if resolved:
            return resolved
        words = [w.lower() for w in _WORD.findall(question)]
        content = [w for w in words if w not in STOPWORDS and w not in _PRONOUNS]
        refers_back = any(w in _PRONOUNS for w in words)
        if not _entities(question) and (len(content) <= 1 or (refers_back and len(content) <= 4)):
            topic = _topic(previous)
            if topic and topic.lower() not in question.lower():
                return f"{question.rstrip('?. ')} ({topic})?"
        return None
