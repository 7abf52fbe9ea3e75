"""The short answer: the span of a cited sentence that answers a name/number/date/place/amount question.

Owns `answer_kind` (what a question asks for, from its wording: "who" -> person, "which team" ->
organization, "how much ... pay" -> amount, "why"/"what did X say" -> None) and `short_answer` (offsets of
the best span of one sentence). Rule based, no model. Candidates: runs of capitalised words with inner
connectors ("Bed Bath & Beyond"), quoted titles, numbers with currency/scale/unit, percentages, dates and,
for "which <thing>", lower-case noun phrases ("sesame seeds"). A span the question already says is no
answer, and the question's words are trimmed off the edges ("Year of the Rabbit" -> "Rabbit"). `_score` is
a weighted sum of named parts (W_*): fit with the kind, including the look of a person/organization/place
name; nearness to the question's words; the question's own words right before it ("ban on which
appliance" -> "ban on gas stoves"); the asked-for noun beside it; the sentence subject for subject
questions; earliness. It does not choose the sentence (the answerer does), nor judge that the sentence
is relevant, nor render anything. `explain` lists the top candidates with their scores, for tuning.
Over 300 lines because each answer kind (name, number, date, place, amount, measure) has its own
candidate patterns and checks; they share the ranking and are tested as one table (tests/test_short_answer.py).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from index.lexical import STOPWORDS, normalize, tokenize
from index.sentences import split_sentences

_LEXICON = """
person: person man woman leader politician president minister singer star superstar actor actress athlete
 player artist comedian celebrity billionaire pope republican democrat figure author writer musician rapper
 chef host ceo chancellor governor senator judge official candidate coach manager footballer legend icon
 designer winner prince princess king queen journalist presenter scientist founder boss chief lawmaker mp
 royal monarch director striker mayor architect spokesperson spokesman spokeswoman secretary ambassador
 commander captain owner chairman chairwoman executive editor
organization: team company firm airline chain network broadcaster brand group party newspaper paper band club
 giant retailer bank agency organisation organization manufacturer maker carrier channel supermarket
 restaurant university charity union studio label publisher automaker carmaker insurer operator platform store
 website regulator institution committee league
place: country nation state city town village capital county region province area part place continent island
 location destination territory district port airport stadium venue
date: year month day date week decade century
number: number count total tally percentage proportion share age population score rate
amount: amount price cost sum fee fine salary value limit budget worth revenue profit
measure: range distance length size height speed magnitude temperature weight depth time duration capacity
 efficacy
name: name title film movie show series book novel song album variant virus app holiday tournament event
 product drug vaccine animal creature species genre brand ingredient chemical sport drink food slogan program
 programme bill law award planet sitcom cartoon comedy ballad beverage flavor flavour color colour pet item
things: animal creature species ingredient chemical sport drink food pet beverage flavor flavour fruit
 vegetable plant tree bird fish insect dish meal snack dessert candy sweet clothing garment item fabric
 material metal mineral substance gas drug medicine disease illness condition body instrument vehicle
 tool device appliance game hobby activity crop
titled: film movie show series book novel song album title sitcom cartoon comedy ballad play slogan
skip: type kind sort form us uk eu
how_measure: long far tall high big large strong fast deep heavy wide old
connectors: of the de du da del la le von van der den y al bin &
titles: president prime minister gov governor sen senator chancellor secretary commissioner pope mayor ceo dr
 mr mrs ms republican democrat
title_words: vice former king queen prince princess duke duchess judge chief general
org_suffix: airlines airways inc corp group bank news network times post party university commission council
 agency association foundation institute bureau department ministry authority service fc united club company
 co ltd motors energy media records studios pictures rail
place_suffix: station park square street bay island islands valley county city airport beach river lake coast
 sea ocean canal bridge stadium region province
place_after: highlands mountains estuary area
not_person: album award awards prize day house tour open cup league festival museum week music best
places: afghanistan albania algeria argentina armenia australia austria azerbaijan bangladesh belarus belgium
 bolivia bosnia brazil bulgaria cambodia cameroon canada chile china colombia congo croatia cuba cyprus
 czechia denmark ecuador egypt england estonia ethiopia finland france georgia germany ghana greece guatemala
 haiti hungary iceland india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya
 korea kosovo kuwait laos latvia lebanon libya lithuania malaysia mali mexico moldova mongolia morocco myanmar
 nepal netherlands nicaragua niger nigeria norway pakistan panama paraguay peru philippines poland portugal
 qatar romania russia rwanda scotland senegal serbia singapore slovakia slovenia somalia spain sudan sweden
 switzerland syria taiwan tanzania thailand tunisia turkey uganda ukraine uruguay uzbekistan venezuela vietnam
 wales yemen zambia zimbabwe alabama alaska arizona arkansas california colorado connecticut delaware florida
 hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
 mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont
 virginia washington wisconsin wyoming africa asia europe antarctica us usa uk britain america new_zealand
 south_africa north_korea south_korea saudi_arabia united_states united_kingdom united_arab_emirates sri_lanka
 new_york new_jersey new_mexico new_hampshire north_carolina south_carolina north_dakota south_dakota
 west_virginia rhode_island hong_kong costa_rica
colors: red orange yellow green blue purple violet pink brown black white grey gray gold silver
initial_function: according amid despite many several among one two three another every thousands millions
 hundreds dozens however although though meanwhile instead still yet now today him
determiners: the a an its his her their our this that these those some all
vague: latest new first last major popular top biggest largest recent former other current
"""
_LEX = {name: frozenset(w.replace("_", " ") for w in words.split())
        for name, words in re.findall(r"^(\w+): (.+(?:\n .+)*)", _LEXICON, re.MULTILINE)}
_KINDS = ("person", "organization", "place", "date", "number", "amount", "measure", "name")
_FOCUS = {kind: _LEX[kind] for kind in _KINDS}  # the noun after "which"/"what" -> the kind of answer
_TITLED, _SKIP, _HOW_MEASURE, _CONNECTORS, _TITLE_WORDS, _ORG_SUFFIX, _PLACE_SUFFIX, _PLACES, _COLORS, \
    _DETERMINERS, _VAGUE = (_LEX[k] for k in ("titled", "skip", "how_measure", "connectors", "title_words",
                                              "org_suffix", "place_suffix", "places", "colors", "determiners",
                                              "vague"))
_TITLES = _LEX["titles"]  # a run of names is also split before one of these: "Florida | Gov. Ron DeSantis"
_TITLE_WORDS |= _TITLES
_PLACE_AFTER = _PLACE_SUFFIX | _LEX["place_after"]  # "the Kiriva highlands"
_NOT_PERSON = _ORG_SUFFIX | _PLACE_SUFFIX | _LEX["not_person"]
_INITIAL_FUNCTION = STOPWORDS | _LEX["initial_function"]  # not a name at the start of a sentence or a quote
_MONEY_Q = re.compile(r"\b(pay|paid|cost|spen[dt]|earn|worth|value|price|charge|fined?|money|salary|fund|"
                      r"raise|bid|fee|budget|revenue|profit|wiped|sold for|bought)|[$€£]", re.IGNORECASE)
_PRICE_Q = re.compile(r"\b(pay|paid|cost|spen[dt]|worth|price|charge|fined?|salary|fee|budget|bid|sold for|bought)",
                      re.IGNORECASE)  # asks for a sum of money, unless it asks how much it changed:
_CHANGE_Q = re.compile(r"\b(ris[ei]n?|rose|fall|fell|fallen|gr[eo]wn?|grow|increase|decrease|drop|jump|climb|surge|"
                       r"declin|gain|los[te]|shr[iu]nk|soar|plung|slid|slump|up|down)", re.IGNORECASE)
_WH = re.compile(r"\b(which|what|who|whom|whose|when|where|how|why)\b", re.IGNORECASE)


# --------------------------------------------------------------------------- the question


class _Asked(NamedTuple):
    kind: str | None
    focus: str  # stem of the asked-for noun ("which team" -> "team"; "%" for "how much did X fall"), or ''
    words: frozenset[str]  # stems of all the question's content words
    names: frozenset[str]  # the question's capitalised words (not sentence-initial), lower case
    anchor: tuple[str, str]  # (stem, preposition) right before the wh-word: "ban on which ..." -> (ban, on)
    subject: bool  # the wh-phrase is the subject ("Which team won ...", not "Which team does he play for")
    nouns: tuple[str, ...] = ()  # the words naming the asked-for thing ("alcoholic drink")


@functools.lru_cache(maxsize=256)  # asked once per candidate sentence: short_answer, category, noun_spans
def _asked(question: str) -> _Asked:
    spans = split_sentences(question)  # a quiz preamble ("X happened this week.") is no part of the question
    clause = normalize(question[spans[-1].start:spans[-1].end] if spans else question)
    wh = _WH.search(clause)
    before = re.findall(r"[\w’'-]+", clause[:wh.start()]) if wh else []
    prep = before[-1] if before and before[-1] in STOPWORDS else ""
    word = (before[-2] if len(before) > 1 else "") if prep else (before[-1] if before else "")
    kind, nouns, subject = _kind(clause, wh)
    if wh and subject and not before:
        after = clause[wh.end():].split()[len(nouns) + 1:len(nouns) + 3]
        subject = not (after[:1] in (["do"], ["does"], ["did"])
                       or after[1:2] in (["he"], ["she"], ["it"], ["they"]))
    focus = "%" if nouns == ["%"] else (tokenize(nouns[-1]) or [""])[0] if nouns else ""
    names = frozenset(normalize(w) for w in re.findall(r"(?<=\w[\s,’'])[A-Z][\w.-]*", question))
    return _Asked(kind, focus, frozenset(tokenize(question)), names, ((tokenize(word) or [""])[0], prep),
                  bool(subject and wh and not before), tuple(nouns))


def _kind(clause: str, wh: re.Match | None) -> tuple[str | None, list[str], bool]:
    """(kind, the words naming the asked-for thing, whether it may be a subject question)."""
    word = wh.group(1) if wh else "why"
    raw = [w.strip("?,.“”\"‘") for w in clause[wh.end():].split()] if wh else []
    rest = [re.sub(r"[’']s$", "", w).strip("’'") for w in raw]
    if word in ("who", "whom", "whose", "when", "where", "why"):
        return {"why": None, "when": "date", "where": "place"}.get(word, "person"), [], word == "who"
    if word == "how":
        nxt, noun = (rest + ["", ""])[:2]
        if nxt == "much" and _MONEY_Q.search(clause):
            # "how much did it cost": a sum of money; "how much did revenue grow": mostly a change
            sum_asked = _PRICE_Q.search(clause) and not _CHANGE_Q.search(clause)
            return ("amount" if sum_asked else "number"), [], False
        if nxt == "much":  # "how much land": a measure; "how much did X fall": a change, mostly a percentage
            return ("measure", [noun], False) if noun and noun not in STOPWORDS else ("number", ["%"], False)
        if nxt == "many":
            return "number", [w for w in rest[1:3] if w not in STOPWORDS and w not in _SKIP][:1], False
        return ("measure" if nxt in _HOW_MEASURE else None), [], False
    if rest[:1] in (["is"], ["was"], ["are"], ["were"]):  # "what is the name of ...", "what was X's time"
        skip = 2 if rest[1:2] in (["the"], ["their"], ["its"]) else 1
        if rest[skip:skip + 2] == ["name", "of"]:  # "what is the name of Tidewell's mayor": the mayor
            skip += 2
        owner = next((i for i, w in enumerate(raw[:9]) if i >= skip and re.search(r"[’']s$|s[’']$", w)), None)
        skip = owner + 1 if owner is not None else skip
        raw, rest = raw[skip:], rest[skip:]
    if rest[:1] in (["percentage"], ["proportion"]):
        return "number", rest[:1], False
    nouns, skipped = [], False
    for i, w in enumerate(rest[:7]):  # the noun phrase after which/what, up to a stopword or a possessive
        if w in _SKIP or w in ("of", "the", "following") and not nouns:
            skipped = skipped or w not in ("us", "uk", "eu")
            continue
        if w in STOPWORDS or w in ("do", "does", "has") or len(nouns) == 4 or w.endswith("ed") and nouns:
            break
        nouns.append(w)
        if w != raw[i]:  # "which state's governor": the state is asked for
            break
    found = [(i, next(k for k in _KINDS if n in _FOCUS[k] or n.rstrip("s") in _FOCUS[k])) for i, n in
             enumerate(nouns) if any(n in lex or n.rstrip("s") in lex for lex in _FOCUS.values())]
    if not found:
        return ("name", nouns, True) if word == "which" or skipped else (None, nouns, False)
    end = 0  # the last of the first run of asked-for nouns: "sports team" -> team, "artist won" -> artist
    while end + 1 < len(found) and found[end + 1][0] == found[end][0] + 1:
        end += 1
    i, kind = found[end]
    money = kind == "number" and nouns[i] != "number" and _MONEY_Q.search(clause)
    return ("amount" if money else kind), nouns[:i + 1], True


def asked_clause(question: str) -> str:
    """The sentence of the question that asks (a quiz question may open with sentences of context)."""
    spans = split_sentences(question)
    return question[spans[-1].start:spans[-1].end] if spans else question


def question_focus(question: str) -> str:
    """The stemmed noun the question asks for ("which team" -> "team", "the name of X's mayor" -> "mayor"),
    or '' when it names none."""
    focus = _asked(question).focus
    return "" if focus == "%" else focus


def answer_kind(question: str) -> str | None:
    """'person', 'organization', 'place', 'date', 'number', 'amount', 'measure', 'name' (any proper name:
    'which team/company/film/party...'), or None when the question does not ask for such a thing
    (why/how/what did X say/what did X ask for ...)."""
    return _asked(question).kind


# --------------------------------------------------------------------------- the sentence's candidates

_NUM = r"(?<![\w.\-])-?\d+(?:[.,:]\d+)*"
_SCALE = r"(?:\s?(?:tn|bn|m|k)\b|\s(?:trillion|billion|million|thousand|hundred)\b)"
_UNIT = (r"(?:\s|-)?(?:km|kilomet(?:re|er)s?|miles?|mph|metres?|meters?|cm|mm|feet|foot|ft|inch(?:es)?|kg|"
         r"kilograms?|tonnes?|tons?|lbs?|mg|g|grams?|litres?|liters?|gallons?|"
         r"degrees?(?: Fahrenheit| Celsius)?|°[CF]?|minutes?|seconds?|hours?|days?|weeks?|months?|years?|"
         r"decades?|centuries|acres?|hectares?|MW|GW|kWh|knots?|points?)\b")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Aug|Sept?|Oct|Nov|Dec)\b\.?)")
_WEEKDAY = r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
_NUMERIC = [  # (type, pattern); group 1 or 2 of a measure is its bare number
    ("money", re.compile(rf"(?:US\$|A\$|C\$|[$€£¥])\s?\d+(?:[.,]\d+)*{_SCALE}?|\d+(?:[.,]\d+)*{_SCALE}?"
                         r"\s(?:euros?|dollars?|pounds?|yen|yuan|rupees?|pesos?|francs?|r[ou]bles?|lira)\b")),
    ("percent", re.compile(rf"{_NUM}(?:\s?%|\spercent\b|\sper cent\b)")),
    ("measure", re.compile(rf"\b[Mm]agnitude\s({_NUM})|({_NUM}{_SCALE}?){_UNIT}|(\d{{1,2}}:\d\d(?::\d\d)?)")),
    ("date", re.compile(rf"\b(?:{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s\d{{4}})?|\d{{1,2}}\s{_MONTH}"
                        rf"(?:\s\d{{4}})?|{_MONTH}(?:\s\d{{4}})?)")),
    ("weekday", re.compile(_WEEKDAY)),
    ("year", re.compile(r"(?<![\w.,$€£])(?:1[5-9]\d\d|20\d\d)\b(?![.,]\d|%)")),
    ("decade", re.compile(r"(?<![\w.,$€£])(?:1[5-9]\d0|20\d0)s\b")),
    ("count", re.compile(rf"{_NUM}{_SCALE}?|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                         rf"fifteen|twenty|a dozen)\b", re.IGNORECASE)),
]
_TOKEN = re.compile(r"[^\s“”\"()\[\];!?–—]+")
_ABBREVIATION = re.compile(r"(\b[A-Z]|Jr|Sr|St|Gov|Dr)\.$")  # keeps its dot: "U.S.", "Jr.", "Gov."


class _Tok(NamedTuple):
    start: int
    end: int
    text: str
    low: str  # accent-folded lower case
    cap: bool  # capitalised, and not a sentence-initial function word
    brk: str  # the punctuation right after it, '' if none (a run of names stops there)


class _Cand(NamedTuple):
    start: int
    end: int
    ctype: str  # money percent measure date weekday year decade count | proper quoted np
    t0: int  # first and last token
    t1: int


def _tokens(sentence: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(sentence):
        s, e = m.start(), m.end()
        while s < e and sentence[s] in "‘'’":
            s += 1
        while e > s and sentence[e - 1] in ",.:'’‘" and not _ABBREVIATION.search(sentence[s:e]):
            e -= 1
        word = re.sub(r"[’']s$|(?<=[A-Z])-[a-z].*", "", sentence[s:e])  # "Apple's", "BBC-commissioned"
        if not word:
            continue
        initial = not toks or toks[-1].brk in (":", "“", "‘") or sentence[s - 1:s] in ("“", "‘", "(")
        cap = any(c.isupper() for c in word) and not (initial and normalize(word) in _INITIAL_FUNCTION)
        if toks and sentence[toks[-1].end:s].strip() and not toks[-1].brk:
            toks[-1] = toks[-1]._replace(brk=sentence[toks[-1].end:s].strip())
        toks.append(_Tok(s, s + len(word), word, normalize(word), cap, sentence[s + len(word):m.end()]))
    return toks


def _common(tok: _Tok) -> bool:
    """A sentence-initial word that looks like a common noun or verb ("Researchers", "Mounting")."""
    return bool(re.search(r"(ing|ers|ion|s)$", tok.low)) and tok.low not in _PLACES


def _runs(toks: list[_Tok]) -> list[tuple[int, int]]:
    """Token ranges of capitalised-word runs ("Bed Bath & Beyond", "PowerCore 20") and of their parts:
    before and from a title ("New Zealand | Prime Minister Jacinda Ardern"), places inside ("Western |
    Australia"), and a run with the place after its comma ("Mobile, Alabama")."""
    out, i, n = [], 0, len(toks)
    while i < n:
        if not toks[i].cap or toks[i].low in _CONNECTORS:
            i += 1
            continue
        j = i
        while j + 1 < n and not toks[j].brk:
            if toks[j + 1].cap or re.fullmatch(r"\d{1,3}", toks[j + 1].text) and not re.match(_MONTH,
                                                                                           toks[j].text):
                j += 1
            elif toks[j + 1].low in _CONNECTORS and j + 2 < n and toks[j + 2].cap and not toks[j + 1].brk \
                    and not (j == 0 and _common(toks[0])):  # not "Residents of Oymyakon"
                j += 2
            else:
                break
        out.append((i, j))
        for k in range(i + 1, j + 1):
            if toks[k].low.rstrip(".") in _TITLES and toks[k - 1].low.rstrip(".") not in _TITLE_WORDS:
                out += [(k, j), (i, k - 1)]
        out += [(k, k + w - 1) for w in (1, 2) for k in range(i, j + 2 - w) if (k, w) != (i, j - i + 1)
                and " ".join(t.low for t in toks[k:k + w]) in _PLACES]
        for w in (2, 1) if toks[j].brk == "," else ():
            place = j + w < n and " ".join(t.low for t in toks[j + 1:j + 1 + w]) in _PLACES
            if place and toks[j + 1].cap and (w == 2 or toks[j + 1].brk or j + 2 == n or not toks[j + 2].cap):
                out.append((i, j + w))
                break
        i = j + 1
    return out


def _noun_phrases(toks: list[_Tok], asked: _Asked, anchors: list[int]) -> list[tuple[int, int]]:
    """Lower-case noun phrases for "which <thing>": a modifier + the thing ("sesame seeds"), an apposition
    ("vinyl chloride - a chemical"), the words right after the question's own ("ban on | gas stoves")."""
    def content(k: int) -> bool:
        return 0 <= k < len(toks) and toks[k].low not in STOPWORDS | _VAGUE and not toks[k].low[:1].isdigit()

    out = [(k, k) for k, t in enumerate(toks) if asked.focus in ("color", "colour") and t.low in _COLORS]
    for h in (h for h, t in enumerate(toks) if asked.focus and asked.focus in tokenize(t.low)):
        if content(h - 1) and not toks[h - 1].brk:
            out.append((h - 1, h))
        k = h - 1
        while k >= 0 and toks[k].low not in _DETERMINERS and h - k < 3 and not toks[k].brk:
            k -= 1
        if k >= 1 and toks[k].low in ("a", "an") and toks[k - 1].brk and content(k - 1):
            out.append((k - 2 if content(k - 2) and not toks[k - 2].brk else k - 1, k - 1))
    for k in anchors:
        k += 1
        while k < len(toks) and toks[k].low in _DETERMINERS:
            k += 1
        j = k
        while j + 1 < len(toks) and j - k < 2 and not toks[j].brk and content(j + 1):
            j += 1
        out += [(k, j)] if content(k) else []
    return out


def _candidates(sentence: str, toks: list[_Tok], asked: _Asked, anchors: list[int]) -> list[_Cand]:
    spans: list[tuple[int, int, str]] = []
    for ctype, pattern in _NUMERIC:
        for m in pattern.finditer(sentence):
            s, e = m.span(1 if m.group(1) else 2) if ctype == "measure" and asked.kind == "number" and (
                m.group(1) or m.group(2)) else m.span()  # "how many minutes": the number
            month = re.match(_MONTH, m.group()) if ctype == "date" and asked.focus == "month" else None
            spans.append((s + month.start(), s + month.end(), ctype) if month else (s, e, ctype))
    spans += [(m.start(1), m.end(1) - (m.group(1)[-1] in ",."), "quoted") for m in
              re.finditer(r"[“\"]([^”\"]{2,80})[”\"]", sentence) if m.group(1)[:1].isupper()
              and len(m.group(1).split()) <= 8]
    cands = []
    for s, e, ctype in spans:
        idx = [k for k, t in enumerate(toks) if t.end > s and t.start < e]
        if ctype == "count" and any(t != "count" and s2 < e and s < e2 for s2, e2, t in spans):
            continue  # the number of "34 percent", "$2tn", "2031" is no count of its own
        if idx and not set(tokenize(sentence[s:e])) <= asked.words:
            cands.append(_Cand(s, e, ctype, idx[0], idx[-1]))
    tok_spans = [(a, b, "proper") for a, b in _runs(toks)]
    if asked.kind == "name":
        tok_spans += [(a, b, "np") for a, b in _noun_phrases(toks, asked, anchors)]
    for a, b, ctype in tok_spans:
        def asked_word(k: int) -> bool:
            return set(tokenize(toks[k].low)) <= asked.words and toks[k].low not in _CONNECTORS
        while a < b and (toks[a].low in _CONNECTORS | _DETERMINERS | asked.names or asked_word(a) and (
                toks[a + 1].low in _CONNECTORS or toks[a].low.rstrip(".") in _TITLE_WORDS)):  # "Year of the|"
            a += 1
        while b > a and ctype == "proper" and toks[b].low in _CONNECTORS | asked.names:  # "Order of Satan|UK"
            b -= 1
        low = [t.low for t in toks[a:b + 1]]
        if (set(tokenize(" ".join(low))) or set(low)) <= asked.words or all(
                w.rstrip(".") in _TITLE_WORDS or w in _INITIAL_FUNCTION for w in low) or ctype == "proper" \
                and re.fullmatch(rf"{_MONTH}|{_WEEKDAY}", sentence[toks[a].start:toks[b].end]):
            continue  # said by the question, a title or function word alone, a date
        cands.append(_Cand(toks[a].start, toks[b].end, ctype, a, b))
    return cands


# --------------------------------------------------------------------------- ranking

_FIT = {  # kind -> candidate type -> how well it fits (names also by their look, see _looks)
    "person": {"proper": 1.0, "quoted": 0.2},
    "organization": {"proper": 1.0, "quoted": 0.5},
    "place": {"proper": 1.0},
    "date": {"date": 1.0, "year": 1.0, "weekday": 0.7, "decade": 0.6},
    "number": {"count": 1.0, "percent": 0.9, "measure": 0.8, "money": 0.5, "year": 0.2},
    "amount": {"money": 1.0, "percent": 0.2, "count": 0.2, "measure": 0.1},  # a sum of money, nothing else
    "measure": {"measure": 1.0, "percent": 0.8, "count": 0.2, "money": 0.3},  # "how long": with its unit
    "name": {"quoted": 1.2, "proper": 1.0, "np": 0.8},
}
MIN_FIT = 0.3  # a candidate that fits the kind less is no answer ("Researchers" for "which city")
W_FIT = 2.0  # fit with the kind, including the look of a name
W_NEAR = 1.0  # closeness to the question's words in the sentence
W_ANCHOR = 1.0  # right after the question's words before its wh-word ("ban on" | gas stoves)
W_PREP = 0.4  # right after the question's preposition before its wh-word ("in" | Nepal)
W_FOCUS = 0.6  # the asked-for noun (for numbers: the counted noun) right beside it
W_SUBJECT = 0.6  # the sentence subject, for a subject question ("Which company announced ...")
W_LENGTH = 0.15  # per extra word of a person's name (full names over surnames), up to 3
W_EARLY = 0.2  # earlier in the sentence


def _fit(c: _Cand, toks: list[_Tok], asked: _Asked) -> float:
    if c.ctype == "quoted" and asked.focus in _TITLED:
        return 1.6  # "which film": the quoted title
    if c.ctype == "percent" and asked.focus == "%":
        return 1.1  # "how much did it fall"
    fit = _FIT[asked.kind].get(c.ctype, 0.0) * (0.5 if asked.focus == "year" and c.ctype != "year" else 1.0)
    if c.ctype != "proper":
        return fit
    words = [t.low.rstrip(".") for t in toks[c.t0:c.t1 + 1]]  # how much the name looks like the kind asked
    text, before = " ".join(words), [t.low for t in toks[max(c.t0 - 2, 0):c.t0]]
    if asked.focus and asked.focus in tokenize(" ".join(before if before[-1:] == ["of"] else before[-1:])):
        return fit  # "the port city of Brenmouth"
    place = text in _PLACES or words[-1] in _PLACE_SUFFIX | _PLACES or " ".join(words[-2:]) in _PLACES or (
        c.t1 + 1 < len(toks) and toks[c.t1 + 1].low in _PLACE_AFTER)
    acronym = len(words) == 1 and len(toks[c.t0].text) > 1 and toks[c.t0].text.isupper()
    cue = c.t0 > 0 and toks[c.t0 - 1].low in _FOCUS["person"] and not toks[c.t0 - 1].cap  # "director X Y"
    titled = any(w in _TITLES for w in words[1:])  # "Microsoft CEO Satya Nadella"
    org = not place and not cue and not titled and (
        words[-1] in _ORG_SUFFIX or acronym or c.t0 > 0 and toks[c.t0 - 1].low == "the")
    person = cue or titled or not place and not org and len(set(words) - _TITLE_WORDS) <= 3 and not (
        set(words) & _NOT_PERSON) and all(re.fullmatch(r"[A-Z][\w'’.-]*|[a-z]{1,3}", t.text)
                                          for t in toks[c.t0:c.t1 + 1])
    if asked.kind == "person":
        look = (1.0 if len(words) > 1 else 0.6) * (0.7 if set(words) & _PLACES else 1.0) if person else 0.2
    elif asked.kind == "organization":
        look = 1.0 if org else 0.3 if place or cue else 0.5 if person and len(words) > 1 else 0.7
    elif asked.kind == "place":
        exact = text in _PLACES if asked.focus in ("country", "nation", "state") else place
        look = 1.0 if exact else 0.6 if place else 0.3 if org or titled else 0.5
    else:
        look = 0.8 if person and len(words) > 1 else 1.0
    return fit * look * (0.35 if c.t0 == c.t1 == 0 and _common(toks[0]) else 1.0)


def _score(c: _Cand, fit: float, toks: list[_Tok], asked: _Asked, near: list[int], anchors: list[int],
           preps: list[int]) -> float:
    nearness = min(sum(1.0 / (1.0 + max(min(abs(k - c.t0), abs(k - c.t1)) - 1, 0) / 2.0)
                       for k in near if not c.t0 <= k <= c.t1), 2.0) / 2.0
    start = c.t0
    while start > 0 and toks[start - 1].low in _DETERMINERS:
        start -= 1
    beside = [toks[k] for k in (c.t1 + 1, c.t0 - 1, c.t0 - 2, c.t1 + 2) if 0 <= k < len(toks)]
    beside = beside[:1] if c.ctype in ("count", "measure", "money", "percent") else beside
    focused = any(asked.focus and asked.focus in tokenize(t.low) for t in beside) or c.ctype == "np" and (
        asked.focus in tokenize(toks[c.t1].low) or toks[c.t1].low in _COLORS)
    length = min(c.t1 - c.t0, 3) if c.ctype == "proper" and asked.kind == "person" else 0
    return (W_FIT * fit + W_NEAR * nearness + W_ANCHOR * (start - 1 in anchors)
            + W_PREP * (start - 1 in preps) + W_FOCUS * focused + W_SUBJECT * (asked.subject and start == 0)
            + W_LENGTH * length            + W_EARLY * (1.0 - toks[c.t0].start / max(toks[-1].end, 1)))


def _ranked(question: str, sentence: str) -> list[tuple[float, _Cand]]:
    asked, toks = _asked(question), _tokens(sentence)
    if asked.kind is None or not toks:
        return []
    (stem, prep), best = asked.anchor, {}
    anchors = [k + bool(prep) for k, t in enumerate(toks) if stem and stem in tokenize(t.low)
               and (not prep or k + 1 < len(toks) and toks[k + 1].low == prep)]  # "ban on" | which ...
    preps = [k for k, t in enumerate(toks) if prep and t.low == prep and prep not in ("the", "a", "an")]
    near = [k for k, t in enumerate(toks) if set(tokenize(t.low)) & asked.words]
    for c in _candidates(sentence, toks, asked, anchors):
        fit = _fit(c, toks, asked)
        if fit >= MIN_FIT:
            scored = (_score(c, fit, toks, asked, near, anchors, preps), c)
            best[c.start, c.end] = max(best.get((c.start, c.end), scored), scored)
    return sorted(best.values(), key=lambda sc: (-sc[0], sc[1].start, -sc[1].end))


def short_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """Character offsets [start, end) in `sentence` of the span that answers `question`, or None when the
    question asks for no name/number/date/place/amount or the sentence holds no fitting span."""
    ranked = _ranked(question, sentence)
    return (ranked[0][1].start, ranked[0][1].end) if ranked else None


_THINGS = frozenset(t for w in _LEX["things"] for t in tokenize(w))


def category(question: str) -> str | None:
    """The common-noun class a "which <thing>" question asks for ("alcoholic drink", "household pets"), or
    None. Its answer is a common noun ("whisky", "cats") that capitalisation cannot find: the answerer
    ranks `noun_spans` by their similarity to this phrase."""
    asked = _asked(question)
    if asked.kind == "name" and asked.focus in _THINGS and asked.nouns != ("%",):
        return " ".join(asked.nouns)
    return None


def noun_spans(question: str, sentence: str, longest: int = 3) -> list[tuple[int, int]]:
    """Offsets of every run of 1..`longest` content words in `sentence` that the question does not say
    (no stopwords, numbers or the question's names), the candidates for a `category` answer."""
    asked, toks = _asked(question), _tokens(sentence)

    def usable(t: _Tok) -> bool:
        return (t.low not in _INITIAL_FUNCTION | _VAGUE and not t.low[:1].isdigit() and t.low not in asked.names
                and not set(tokenize(t.low)) <= asked.words)

    spans = []
    for i in range(len(toks)):
        for j in range(i, min(i + longest, len(toks))):
            if not usable(toks[j]):
                break
            spans.append((toks[i].start, toks[j].end))
            if toks[j].brk:
                break
    return spans


def explain(question: str, sentence: str, n: int = 5) -> list[tuple[float, str, str]]:
    """The best `n` candidates as (score, type, text), best first: for tuning and debugging."""
    return [(round(sc, 3), c.ctype, sentence[c.start:c.end]) for sc, c in _ranked(question, sentence)[:n]]
