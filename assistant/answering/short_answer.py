"""The short answer: the span of a cited sentence that answers a name/number/date/place/amount/measure/
reason question, and never a span of another kind.

Owns `answer_kind` (what a question asks for, from its wording: "who" -> person, "which team" ->
organization, "how much ... pay" -> amount, "how many" -> number, "how far" -> measure, "why" -> reason,
"what did X say" -> None), `measure_family` (the unit family a measure asks for: "how long is" -> length,
"how long did it last" -> duration, "how heavy" -> mass, "how fast" -> speed, "how big" -> area...),
`short_answer` (offsets of the best span of one sentence), `holds_kind` (whether a sentence holds a fact
of the kind asked) and `ranked_spans` (the ranking, as features for a learned reader). Rule based, no model.
Candidates: runs of capitalised words with inner connectors ("Bed Bath & Beyond"), quoted titles, numbers
with a currency (symbols, ISO codes, currency words: "SEK 410,000", "410,000 crowns"), scale or unit (each
unit in one family, table `_UNITS`: "310 metres" is a length, "12 days" a duration), percentages, dates,
for "which <thing>" lower-case noun phrases ("sesame seeds"), and for a reason the clause after a cue
("recalled due to | fire risks", table `_REASON_CUES`). The kind decides what may answer: a count only a
bare number (or a measure in the counted unit: "how many miles"), never a measure, sum, year or date; a
measure of a known family only a measure of that family (`_FAMILY_Q`, `_FAMILY_ALSO`: a length is never
euros, "how much loan relief" names no family and may be); an amount only money; a reason only a clause.
A span the question already says is no answer, and the question's words are trimmed off the edges ("Year
of the Rabbit" -> "Rabbit"). `_score` is a weighted sum of named parts (W_*): fit with the kind, including
the look of a person/organization/place name; nearness to the question's words; the question's own words
right before it ("ban on which appliance" -> "ban on gas stoves"); the asked-for noun beside it; the
sentence subject for subject questions; earliness. It does not choose the sentence (the answerer does),
nor judge that the sentence is relevant, nor render anything. `explain` lists the top candidates with their
scores, for tuning. Over 300 lines because each answer kind (name, number, date, place, amount, measure,
reason) has its own candidate patterns and checks; they share the ranking and are tested as one table
(tests/test_short_answer.py, tests/test_answer_kinds.py).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from index.text.sentences import split_sentences
from index.text.terms import STOPWORDS, normalize, tokenize

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
 efficacy width altitude diameter elevation velocity wingspan rainfall snowfall
reason: reason motive
name: name title film movie show series book novel song album variant virus app holiday tournament event
 product drug vaccine animal creature species genre brand ingredient chemical sport drink food slogan program
 programme bill law award planet sitcom cartoon comedy ballad beverage flavor flavour color colour pet item
things: animal creature species ingredient chemical sport drink food pet beverage flavor flavour fruit
 vegetable plant tree bird fish insect dish meal snack dessert candy sweet clothing garment item fabric
 material metal mineral substance gas drug medicine disease illness condition body instrument vehicle
 tool device appliance game hobby activity crop
titled: film movie show series book novel song album title sitcom cartoon comedy ballad play slogan
skip: type kind sort form us uk eu
how_measure: long far tall high big large strong fast deep heavy wide old hot cold warm thick
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
_KINDS = ("person", "organization", "place", "date", "number", "amount", "measure", "name", "reason")
_FOCUS = {kind: _LEX[kind] for kind in _KINDS}  # the noun after "which"/"what" -> the kind of answer
_FOCUS_WORDS = frozenset().union(*_FOCUS.values())
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
_MONEY_NOUN = re.compile(r"(money|cash|revenue|profit|income|funding|debt|tax|aid|damages|compensation)s?$")
_CHANGE_Q = re.compile(r"\b(ris[ei]n?|rose|fall|fell|fallen|gr[eo]wn?|grow|increase|decrease|drop|jump|climb|surge|"
                       r"declin|gain|los[te]|shr[iu]nk|soar|plung|slid|slump|up|down)", re.IGNORECASE)
_WH = re.compile(r"\b(which|what|who|whom|whose|when|where|how|why)\b", re.IGNORECASE)
_MASS_Q = re.compile(r"\bweigh(?:s|ed|ing)?\b|\bheavy\b")  # "how much does it weigh": a mass, not a sum
_CAUSE_Q = re.compile(r"\s*(?:caused|prompted|triggered|sparked|forced|drove|led to)\b")  # "what caused ..."
_HOW_MANY = re.compile(r"\bhow many\b")
_DIMENSION_Q = re.compile(r"\bhow (deep|tall|high|wide|thick)\b")
_DIMENSION_CUE = {  # a length answers "how deep" only when the sentence says it is a depth ("stretches 265 metres")
    "deep": r"deep\w*|depths?|below|beneath|under\w*|down|bottom|floor|seabed|sink\w*|sank|dive\w*|dove",
    "tall": r"tall\w*|height\w*|high\w*|rise|rises|rising|rose|stand|stands|soar\w*",
    "high": r"high\w*|height\w*|altitude|elevation|above|tall\w*|rise|rises|rising|rose|climb\w*|peak\w*|"
            r"summit|soar\w*|reach\w*|up",
    "wide": r"wide\w*|width|across|breadth|diameter|span\w*|broad\w*",
    "thick": r"thick\w*|deep\w*|depth",
}
_DIMENSION_CUE = {k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in _DIMENSION_CUE.items()}
_AGE_BEFORE = frozenset({"aged", "age", "ages", "turned", "turns", "turn", "turning"})

# The unit family a measure question asks for: first by its "how <adjective>" (in this order: "how long
# did it last" is a duration, "how long is it" a length), then by the asked-for noun (_FAMILIES).
_DURATION_WORDS = (  # "how long" + one of these asks for a duration
    r"ago|last|lasts|lasted|lasting|take|takes|took|taken|spend|spent|stay|stayed|serve|served|wait|waited|"
    r"remain|remained|been|live|lived|continue|continued|survive|survived|keep|kept|hold|held|sentenced|"
    r"jailed|imprisoned|banned|suspended|delayed|closed|flight|journey|trip|trial|sentence|ban|strike|war|"
    r"career|reign|term|tenure|marriage|hearing|mission|lockdown|suspension|delay|shutdown|visit|outage|"
    r"blackout|siege|ceasefire|truce|contract|deal|loan|stint|absence|drought|heatwave|walkout|standoff|"
    r"speech|film|movie|show|episode|song|video|meeting|session|debate|operation|surgery|voyage|recovery|"
    r"treatment|process|break|operate|function|work|fly|prison|jail|custody|hospital|hang|hanging|trapped|"
    r"stuck|stranded|missing|detained|waiting|facing")
_FAMILY_Q = [(family, re.compile(pattern), also) for family, pattern, also in [  # + what else fits
    ("duration", rf"\bfor how long\b|\bhow long\b.*\b(?:{_DURATION_WORDS})\b", {}),
    ("length", r"\bhow long\b", {"duration": 0.5}),  # "how long is a score": twenty years
    ("length", r"\bhow (?:far|high|deep)\b", {"percent": 0.6}),  # "how high is inflation", "how deep"
    ("length", r"\bhow (?:tall|wide|thick)\b", {}),
    ("mass", r"\bhow heavy\b|\bweigh(?:s|ed|ing)?\b", {}),
    ("speed", r"\bhow fast\b|\bhow strong\b.*\b(?:winds?|gusts?)\b|\b(?:winds?|gusts?)\b.*\bhow strong\b",
     {}),
    ("temperature", r"\bhow (?:hot|cold|warm)\b", {}),
    ("area", r"\bhow (?:big|large)\b", {}),
    ("magnitude", r"\bhow strong\b", {}),
    ("age", r"\bhow old\b", {}),
]]
_FAMILIES = {name: frozenset(words.split()) for name, words in re.findall(r"^(\w+): (.+(?:\n .+)*)", """
length: range distance length height depth width altitude diameter elevation wingspan reach rainfall snowfall
 rain snow
speed: speed velocity
mass: weight mass
temperature: temperature
duration: time duration
magnitude: magnitude
area: area land acreage territory ground forest farmland woodland
volume: volume water oil fuel
power: power electricity energy
""", re.MULTILINE)}  # the asked-for noun ("what range", "how much land") -> the unit family asked for


# --------------------------------------------------------------------------- the question


class _Asked(NamedTuple):
    kind: str | None
    focus: str  # stem of the asked-for noun ("which team" -> "team"; "%" for "how much did X fall"), or ''
    words: frozenset[str]  # stems of all the question's content words
    names: frozenset[str]  # the question's capitalised words (not sentence-initial), lower case
    anchor: tuple[str, str]  # (stem, preposition) right before the wh-word: "ban on which ..." -> (ban, on)
    subject: bool  # the wh-phrase is the subject ("Which team won ...", not "Which team does he play for")
    nouns: tuple[str, ...] = ()  # the words naming the asked-for thing ("alcoholic drink")
    family: str | None = None  # the unit family asked for: "how far" -> length, "how many miles" -> length
    fits: tuple[tuple[str, float], ...] = ()  # for a measure of a known family: candidate sort -> fit
    count: bool = False  # asks for a count ("how many drones"): a bare number, never a measure, sum or year
    counted: str = ""  # the counted noun, as a unit would be written canonically ("how many kilometres")
    change: bool = False  # asks how much something changed ("how far did shares fall"): a percentage fits
    dimension: str = ""  # "how deep/tall/high/wide/thick": the sentence must say which dimension it measures


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
    count = kind == "number" and (bool(_HOW_MANY.search(clause)) or focus in ("number", "count", "tally"))
    many = _HOW_MANY.search(clause) if count else None
    after = [w.strip("?,.") for w in clause[many.end():].split()[:3]] if many else []
    unit = next((w for w in after if _unit_family(w)), "")  # "how many total days": the unit counted
    counted = _canon(unit or (nouns[0] if nouns and many else ""))
    family, also = _family(clause, nouns) if kind == "measure" else (_unit_family(unit), {})
    measured = family and kind == "measure"
    fits = tuple(({family: 1.0} | _FAMILY_ALSO.get(family, {}) | also).items()) if measured else ()
    dimension = _DIMENSION_Q.search(clause)
    return _Asked(kind, focus, frozenset(tokenize(question)), names, ((tokenize(word) or [""])[0], prep),
                  bool(subject and wh and not before), tuple(nouns), family, fits, count, counted,
                  bool(_CHANGE_Q.search(clause)), dimension.group(1) if dimension and measured else "")


def _unit_family(word: str) -> str | None:
    """The family of a unit word ("miles" -> length), None for any other word."""
    return next((family for family, pattern in _UNIT_WORD.items() if word and pattern.fullmatch(word)), None)


def _family(clause: str, nouns: list[str]) -> tuple[str | None, dict[str, float]]:
    """The unit family a measure question asks for, by its wording or else its noun, and what else fits."""
    for family, pattern, also in _FAMILY_Q:
        if pattern.search(clause):
            return family, also
    noun = nouns[-1] if nouns else ""
    return next((f for f, words in _FAMILIES.items() if noun in words or noun.rstrip("s") in words), None), {}


def _kind(clause: str, wh: re.Match | None) -> tuple[str | None, list[str], bool]:
    """(kind, the words naming the asked-for thing, whether it may be a subject question)."""
    if wh is None:
        return None, [], False
    word = wh.group(1)
    raw = [w.strip("?,.“”\"‘") for w in clause[wh.end():].split()]
    rest = [re.sub(r"[’']s$", "", w).strip("’'") for w in raw]
    if word in ("who", "whom", "whose", "when", "where", "why"):
        return {"why": "reason", "when": "date", "where": "place"}.get(word, "person"), [], word == "who"
    if word == "what" and _CAUSE_Q.match(clause, wh.end()):
        return "reason", [], False  # "what caused the outage"
    if word == "how":
        nxt, noun = (rest + ["", ""])[:2]
        # "how much did it cost", "how high is the fine", "how much revenue was lost": a sum; "how much did
        # revenue grow": a change
        sum_asked = _PRICE_Q.search(clause) and not _CHANGE_Q.search(clause) or nxt == "much" and _MONEY_NOUN.match(
            noun)
        if nxt == "much" and _MONEY_Q.search(clause) or nxt in ("big", "large", "high") and _PRICE_Q.search(
                clause):
            return ("amount" if sum_asked else "number"), [], False
        if nxt == "much" and _MASS_Q.search(clause):
            return "measure", [], False  # "how much does the bridge weigh"
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
        if w in STOPWORDS or w in ("do", "does", "has") or len(nouns) == 4 or w.endswith("ed") and nouns and (
                w not in _FOCUS_WORDS):  # "which team signed", but "what top speed"
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
    """'person', 'organization', 'place', 'date', 'number' (a count, a percentage, a rate...), 'amount' (a
    sum of money), 'measure' (a quantity with a unit, see `measure_family`), 'name' (any proper name: 'which
    team/company/film/party...'), 'reason' ('why ...', 'what caused ...'), or None when the question does
    not ask for such a thing (how did X happen/what did X say/what did X ask for ...)."""
    return _asked(question).kind


def measure_family(question: str) -> str | None:
    """The unit family the question asks for: 'length' (how long is/how far/how tall/high/deep/wide, range,
    distance...), 'duration' (how long did X last/take, how long ago, time), 'mass' (how heavy, weigh),
    'speed' (how fast, speed), 'area' (how big/large, how much land), 'temperature' (how hot/cold),
    'magnitude' (how strong), 'age' (how old), 'volume', 'power'; for a count of units ("how many miles")
    the family of that unit. None when it asks for no measure or the wording names no family."""
    return _asked(question).family


# --------------------------------------------------------------------------- the sentence's candidates

_NUM = r"(?<![\w.\-])-?\d+(?:[.,:]\d+)*"
_SCALE = r"(?:\s?(?:tn|bn|m|k)\b|\s(?:trillion|billion|million|thousand|hundred|crore|lakh)\b)"
_UNITS = [  # (family, the unit words after a number); a family listed earlier wins ("km/h" before "km")
    ("speed", (r"km/h|kmh|kph|mph|knots?|m/s|met(?:re|er)s? per second|"
               r"(?:kilomet(?:re|er)s?|km|miles?|metres?|meters?) (?:per|an|a) hour")),
    ("area", (r"square (?:kilomet(?:re|er)s?|km|miles?|met(?:re|er)s?|feet|foot|yards?)|"
              r"sq\.? ?(?:km|mi|m|ft)|km2|km²|m2|m²|hectares?|ha|acres?")),
    ("volume", (r"lit(?:re|er)s?|gallons?|barrels?|cubic (?:met(?:re|er)s?|feet|foot)|m3|m³|ml|"
                r"millilit(?:re|er)s?")),
    ("length", (r"km|kilomet(?:re|er)s?|nautical miles|miles?|met(?:re|er)s?|cm|centimet(?:re|er)s?|mm|"
                r"millimet(?:re|er)s?|feet|foot|ft|inch(?:es)?|yards?|light[ -]years?|"
                r"m(?=[\s-](?:long|high|tall|deep|wide|away|across|thick|below|above|"
                r"in (?:length|height|diameter)))")),
    ("mass", r"kg|kilograms?|kilos?|tonnes?|tons?|lbs?|pounds?|ounces?|oz|mg|milligrams?|grams?|g|stone"),
    ("temperature", r"degrees?(?: Fahrenheit| Celsius| C| F)?|°[CF]?|(?<=\d)[CF]"),
    ("duration", (r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|decades?|"
                  r"centuries|century)(?:[\s-]olds?)?")),
    ("power", r"[MGk]Wh?|TWh|megawatts?|gigawatts?|kilowatts?"),
    ("magnitude", r"magnitude"),
    ("points", r"points?|pts"),
]
_UNIT = r"(?:\s|-)?(?:" + "|".join(f"(?P<{family}>{units})" for family, units in _UNITS) + r")(?!\w)"
_UNIT_WORD = {family: re.compile(units, re.IGNORECASE) for family, units in _UNITS}  # "how many miles"
_UNIT_ALIAS = dict(re.findall(r"(\w+)=(\w+)", """km=kilometre kilometer=kilometre meter=metre m=metre
 cm=centimetre centimeter=centimetre mm=millimetre millimeter=millimetre ft=foot feet=foot inche=inch mi=mile
 kg=kilogram kilo=kilogram lb=pound g=gram mg=milligram ton=tonne hr=hour min=minute sec=second
 centurie=century liter=litre ha=hectare pt=point"""))
_MEASURE_FAMILY = {"mag": "magnitude", "clock": "duration"}  # measures whose family is no unit group
_CURRENCY = (r"dollars?|euros?|pounds?(?: sterling)?|pence|cents?|yen|yuan|renminbi|crowns?|kronor|kronur|"
             r"krona|kroner|krone|francs?|rupees?|rupiahs?|rand|pesos?|lira|liras|lire|zlotys?|złotys?|"
             r"forints?|baht|ringgits?|dirhams?|riyals?|rials?|shekels?|naira|r[ou]bles?|hryvnias?|hryvnyas?|"
             r"reais|dinars?|korunas?|lei|leva|kuna|shillings?|cedis?|taka|dong|kwacha|tenge|won")
_ISO = (r"USD|EUR|GBP|SEK|NOK|DKK|ISK|CHF|JPY|CNY|RMB|INR|AUD|CAD|NZD|HKD|SGD|ZAR|BRL|MXN|ARS|CLP|COP|RUB|"
        r"UAH|TRY|PLN|HUF|CZK|RON|BGN|KRW|IDR|THB|MYR|PHP|VND|PKR|BDT|AED|SAR|QAR|KWD|ILS|EGP|NGN|KES|GHS")
_SUM = rf"\d+(?:[.,]\d+)*{_SCALE}?"
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Aug|Sept?|Oct|Nov|Dec)\b\.?)")
_WEEKDAY = r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
_NUMERIC = [  # (type, pattern); a measure's bare number is its group "mag" or "num", its family a named group
    ("money", re.compile(  # "$2tn", "US$5", "₹40 crore", "SEK 410,000", "5m USD", "300 Swiss francs"
        rf"(?:(?:US|AU|A|CA|C|NZ|HK|S|NT|R|MX)?\$|[€£¥₹₩₽₺₪₦₱₴₫฿]|\bRs\.?|\bRp\.?|\b(?:{_ISO}))\s?{_SUM}"
        rf"|(?<![\w.,]){_SUM}\s?(?:{_ISO})\b"
        rf"|(?<![\w.,])(?!(?:1[5-9]|20)\d\d\s(?:[A-Z][a-z]+\s)?won\b)"  # not "in 1998 won the race"
        rf"{_SUM}\s(?:[A-Z][a-z]+\s){{0,2}}(?:{_CURRENCY})\b")),
    ("percent", re.compile(rf"{_NUM}(?:\s?%|\spercent\b|\sper cent\b)")),
    ("measure", re.compile(rf"\b[Mm]agnitude\s(?P<mag>{_NUM})|(?P<num>{_NUM}{_SCALE}?){_UNIT}"
                           rf"|(?P<clock>\d{{1,2}}:\d\d(?::\d\d)?)")),
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
    ctype: str  # money percent measure date weekday year decade count | proper quoted np | reason
    t0: int  # first and last token
    t1: int
    unit: str = ""  # a measure's unit family ("length"), a reason's cue group ("r0")
    word: str = ""  # a measure's unit, canonical ("km" -> "kilometre")


def _canon(unit: str) -> str:
    """A unit or counted noun in one spelling: "kms" -> "kilometre", "years old" -> "year"."""
    word = re.sub(r"[\s-]olds?$", "", normalize(unit).strip(" -"))
    word = word[:-1] if len(word) > 2 and word.endswith("s") and not word.endswith("ss") else word
    return _UNIT_ALIAS.get(word, word)


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
    spans: list[tuple[int, int, str, str, str]] = []
    for ctype, pattern in _NUMERIC:
        for m in pattern.finditer(sentence):
            s, e, unit, word = m.start(), m.end(), "", ""
            if ctype == "measure":  # its family from the unit group that matched ("km" -> length)
                number = "mag" if m.group("mag") else "num" if m.group("num") else ""
                unit = _MEASURE_FAMILY.get(m.lastgroup or "", m.lastgroup or "")
                word = _canon(sentence[m.end("num"):e]) if number == "num" else unit
                if asked.kind == "number" and number:
                    s, e = m.span(number)  # "how many minutes": the number
                elif asked.family == "age" and word == "year" and number == "num":
                    s, e = m.span(number)  # "how old": "37", not "37-year-old" (but "6-month-old")
            month = re.match(_MONTH, m.group()) if ctype == "date" and asked.focus == "month" else None
            spans.append((s + month.start(), s + month.end(), ctype, unit, word) if month else
                         (s, e, ctype, unit, word))
    spans += [(m.start(1), m.end(1) - (m.group(1)[-1] in ",."), "quoted", "", "") for m in
              re.finditer(r"[“\"]([^”\"]{2,80})[”\"]", sentence) if m.group(1)[:1].isupper()
              and len(m.group(1).split()) <= 8]
    cands = []
    for s, e, ctype, unit, word in spans:
        idx = [k for k, t in enumerate(toks) if t.end > s and t.start < e]
        if ctype == "count" and any(t != "count" and s2 < e and s < e2 for s2, e2, t, _, _ in spans):
            continue  # the number of "34 percent", "$2tn", "2031", "1,000 km" is no count of its own
        if idx and not set(tokenize(sentence[s:e])) <= asked.words:
            cands.append(_Cand(s, e, ctype, idx[0], idx[-1], unit, word))
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


_NOT_TIME = (r"(?!\s+(?:\d|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|a few) "
             r"(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)\b|(?:midnight|noon|dawn|dark|then|"
             rf"that|this|which|last|next|years?|months?|weeks?|days?|hours?|decades?)\b|{_MONTH}|{_WEEKDAY}|"
             r"the (?:start|beginning|end|first|second|last|same)\b))")  # "after three years", "since May"
_REASON_CUES = [  # (strength, cues): the reason is the clause right after its cue; earlier cues win a tie
    (1.0, (r"because(?: of)?|owing to|as an? (?:direct )?result of|on account of|in order (?:to|that)|"
           r"so as to|so that|blamed(?: [\w'’-]+){0,4}? on|due to(?!\s+(?:be|begin|start|open|close|end|"
           r"finish|arrive|take|meet|hold|resume|return|launch|vote|report|appear|retire|step|go|come|expire|"
           r"sign|face|leave|run|make|announce|publish|deliver|stand|hear|give|become|have|visit|travel|"
           r"speak|attend|testify|rule|decide|release|receive|undergo|complete|enter|reopen)\b)")),
    (0.9, (r"(?:caused|triggered|prompted|sparked|driven|fuell?ed) by|citing|in protest (?:at|against|over)|"
           r"in response to|in retaliation for")),
    (0.8, (r"amid|for fear (?:of|that)|in a bid to|in an effort to|(?:accused|convicted|guilty|suspected) of|"
           r"charged with|(?:sued|fined|arrested|jailed|punished|critici[sz]ed|banned|sacked|fired|suspended|"
           r"condemned|blamed|apologi[sz]ed) for|over(?= (?:concerns?|fears?|worries|allegations|claims|"
           r"accusations|complaints|safety|security|a (?:row|dispute|scandal|lack|shortage|failure)|"
           r"the (?:death|killing|handling|lack))\b)")),
    (0.6, (rf"(?<!named )(?<!looked )after{_NOT_TIME}|(?<!the )following{_NOT_TIME}|since{_NOT_TIME}|"
           r"in the wake of|thanks to|blamed")),
]
_REASON_CUE = re.compile(r"\b(?:" + "|".join(f"(?P<r{i}>{cues})" for i, (_, cues) in enumerate(_REASON_CUES))
                         + r")\b", re.IGNORECASE)
_CUE_STRENGTH = {f"r{i}": strength for i, (strength, _) in enumerate(_REASON_CUES)}
_REASON_END = re.compile(  # where the reason clause stops: punctuation, a new clause, the sentence's end
    r"\s*(?:(?<!\d),|,(?!\d)|[;:()\[\]“”\"–—]|\s-\s|\.(?=\s*$|\s+[A-Z“\"‘'])|$"
    r"|\s(?:and|but) (?=(?:said|says|added|told|he|she|they|it|its|his|her|their|was|were|has|have|had|is|"
    r"are|will|would|then|officials|police)\b)|\s(?:according to)\b)")
_BLAMED_END = re.compile(r"\s(?:for|over)\s")  # "blamed | the weather | for the delays"
REASON_WORDS = 20  # a reason clause is cut after this many words


def _reasons(sentence: str, toks: list[_Tok], asked: _Asked) -> list[_Cand]:
    """For a "why" question: the clause after each reason cue ("recalled due to | fire risks", "after | a
    row over expenses"), up to the next comma or clause, unless the question already says all of it."""
    cands = []
    for m in _REASON_CUE.finditer(sentence):
        start = m.end()
        while start < len(sentence) and sentence[start] in " “\"‘'":
            start += 1
        end = _REASON_END.search(sentence, start).start()
        if m.group().lower() == "blamed":
            end = min(end, next((b.start() for b in _BLAMED_END.finditer(sentence, start, end)), end))
        words = list(re.finditer(r"\S+", sentence[start:end]))
        if not words:
            continue
        end = start + words[min(len(words), REASON_WORDS) - 1].end()
        while end > start and sentence[end - 1] in ".,;:!?’'":
            end -= 1
        idx = [k for k, t in enumerate(toks) if t.end > start and t.start < end]
        if idx and end > start and not set(tokenize(sentence[start:end])) <= asked.words:
            cands.append(_Cand(start, end, "reason", idx[0], idx[-1], m.lastgroup or ""))
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
_COUNT_FIT = {"count": 1.0}  # "how many drones": a bare count (a measure: in that unit), never a percentage
# (none of the 132 count questions of train and val has one for answer: "82.4 percent" is no number of adults)
_FAMILY_ALSO = {  # a measure question of a known family: a measure of that family fits 1.0, these too
    "area": {"length": 0.6, "volume": 0.6, "percent": 0.5},  # "how big": mostly an area
    "age": {"duration": 1.0, "count": 0.8},  # "how old": "83 years old", "aged 83"
    "magnitude": {"speed": 0.8},  # "how strong was the storm": its winds
}
CHANGE_PERCENT_FIT = 0.9  # a percentage for a change asked as a measure ("how far did shares fall")
MIN_FIT = 0.3  # a candidate that fits the kind less is no answer ("Researchers" for "which city")
W_FIT = 2.0  # fit with the kind, including the look of a name
W_NEAR = 1.0  # closeness to the question's words in the sentence
W_ANCHOR = 1.0  # right after the question's words before its wh-word ("ban on" | gas stoves)
W_PREP = 0.4  # right after the question's preposition before its wh-word ("in" | Nepal)
W_FOCUS = 0.6  # the asked-for noun (for numbers: the counted noun) right beside it
W_SUBJECT = 0.6  # the sentence subject, for a subject question ("Which company announced ...")
W_LENGTH = 0.15  # per extra word of a person's name (full names over surnames), up to 3
W_EARLY = 0.2  # earlier in the sentence


def _aged(c: _Cand, toks: list[_Tok], sentence: str) -> bool:
    """Whether a number is someone's age: "54-year-old", "aged 54", "turned 54", "54 years old", "Ines
    Calloway, 54," or "Calloway (54)", not "18 steel pontoons" or "worked for 18 years"."""
    text = " ".join(t.low for t in toks[c.t0:c.t1 + 1])
    after = [t.low.strip(",.") for t in toks[c.t1 + 1:c.t1 + 3]]
    before = toks[c.t0 - 1] if c.t0 else None
    if "-old" in text or after[:1] == ["old"] or after[:2] in (["years", "old"], ["year", "old"]):
        return True
    if before is not None and (before.low.strip(",") in _AGE_BEFORE or before.low == "of" and c.t0 > 1
                               and toks[c.t0 - 2].low == "age"):
        return True
    if sentence[c.start - 1:c.start] == "(" and sentence[c.end:c.end + 1] == ")":
        return True
    return before is not None and before.cap and before.brk == "," and toks[c.t1].brk == ","


def _fit(c: _Cand, toks: list[_Tok], asked: _Asked, sentence: str = "") -> float:
    if c.ctype == "quoted" and asked.focus in _TITLED:
        return 1.6  # "which film": the quoted title
    if c.ctype == "percent" and asked.focus == "%":
        return 1.1  # "how much did it fall"
    if asked.kind == "reason":
        return _CUE_STRENGTH.get(c.unit, 0.0)
    if asked.count:  # never a sum, a year or a date; a measure only in the counted unit ("how many miles")
        after = toks[c.t1 + 1].low if c.t1 + 1 < len(toks) else ""
        if c.ctype == "count" and _unit_family(after) and _canon(after) != asked.counted:
            return 0.0  # "two years", "five kilometres": a measure written in words, not a count of the thing
        return (1.0 if c.word and c.word == asked.counted else 0.0) if c.ctype == "measure" else \
            _COUNT_FIT.get(c.ctype, 0.0)
    if asked.fits:  # a measure in a unit of the family asked: "how long is it" -> metres, never euros
        sort = c.unit if c.ctype == "measure" else c.ctype
        if asked.family == "age" and sort in ("count", "duration") and not _aged(c, toks, sentence):
            return 0.0  # "how old is the architect": not "18 pontoons"
        if asked.dimension and sort != "percent" and not _DIMENSION_CUE[asked.dimension].search(sentence):
            return 0.0  # "how deep is the water": not "the crossing stretches 265 metres"
        if sort == "count" and not (c.t0 == c.t1 and re.fullmatch(r"\d{1,3}", toks[c.t0].text)):
            return 0.0  # "aged 83", not "400m"
        fit = dict(asked.fits).get(sort, 0.0)
        return max(fit, CHANGE_PERCENT_FIT) if sort == "percent" and asked.change else fit
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


@functools.lru_cache(maxsize=4096)  # the answerer asks for the span and whether the kind is held
def _ranked(question: str, sentence: str) -> tuple[tuple[float, _Cand], ...]:
    asked, toks = _asked(question), _tokens(sentence)
    if asked.kind is None or not toks:
        return ()
    (stem, prep), best = asked.anchor, {}
    anchors = [k + bool(prep) for k, t in enumerate(toks) if stem and stem in tokenize(t.low)
               and (not prep or k + 1 < len(toks) and toks[k + 1].low == prep)]  # "ban on" | which ...
    preps = [k for k, t in enumerate(toks) if prep and t.low == prep and prep not in ("the", "a", "an")]
    near = [k for k, t in enumerate(toks) if set(tokenize(t.low)) & asked.words]
    reason = asked.kind == "reason"
    for c in _reasons(sentence, toks, asked) if reason else _candidates(sentence, toks, asked, anchors):
        fit = _fit(c, toks, asked, sentence)
        if fit >= MIN_FIT:
            scored = (_score(c, fit, toks, asked, near, anchors, preps), c)
            best[c.start, c.end] = max(best.get((c.start, c.end), scored), scored)
    return tuple(sorted(best.values(), key=lambda sc: (-sc[0], sc[1].start, -sc[1].end)))


def short_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """Character offsets [start, end) in `sentence` of the span that answers `question`, or None when the
    question asks for no name/number/date/place/amount/measure/reason or the sentence holds no span of that
    kind (a count question and a sentence with only "a 1,000 km range": None)."""
    ranked = _ranked(question, sentence)
    return (ranked[0][1].start, ranked[0][1].end) if ranked else None


def holds_kind(question: str, sentence: str) -> bool | None:
    """None when the question asks for no particular kind of fact; else whether `sentence` holds one of the
    kind asked (a count, a measure in the asked unit family, a sum of money, a date, a name, a reason cue
    such as "because", "due to", "after", "citing", "amid"...): True exactly when `short_answer` has one."""
    if _asked(question).kind is None:
        return None
    return bool(_ranked(question, sentence))


def ranked_spans(question: str, sentence: str, n: int = 5) -> list[tuple[float, int, int, str]]:
    """The best `n` candidate spans as (score, start, end, candidate type), best first: the ranking
    `short_answer` takes the first of, as features for a learned reader. Empty unless `holds_kind` is True."""
    return [(sc, c.start, c.end, c.ctype) for sc, c in _ranked(question, sentence)[:n]]


_THINGS = frozenset(t for w in _LEX["things"] for t in tokenize(w))


def category(question: str) -> str | None:
    """The common-noun class a "which <thing>" question asks for ("alcoholic drink", "household pets"), or
    None. Its answer is a common noun ("whisky", "cats") that capitalisation cannot find: the answerer
    ranks `noun_spans` by their similarity to this phrase."""
    asked = _asked(question)
    return thing_asked(question) if asked.kind == "name" and asked.focus in _THINGS else None


_KIND_THING = {"person": "person", "place": "place", "organization": "organization", "date": "date"}


def thing_asked(question: str) -> str | None:
    """What the answer is an instance of, as a phrase a sentence model can compare with a sentence's words:
    the asked-for nouns ("which European capital" -> "european capital", "which team" -> "team"), else a
    word for the kind (who -> "person", where -> "place"); None when the question names neither."""
    asked = _asked(question)  # its nouns are lower case already
    if asked.nouns and asked.nouns != ("%",):
        return " ".join(asked.nouns)
    return _KIND_THING.get(asked.kind or "")


def novel_capitals(question: str, sentence: str) -> int:
    """How many capitalised words (not a sentence-initial function word) `sentence` has that the question does not
    say: the names that could be the answer of a "which"/"who" question."""
    asked = _asked(question)
    return sum(1 for t in _tokens(sentence) if t.cap and t.low not in asked.names
               and not set(tokenize(t.low)) <= asked.words)


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
    return [(round(sc, 3), ctype, sentence[a:b]) for sc, a, b, ctype in ranked_spans(question, sentence, n)]


# --------------------------------------------------------------------------- what was asked for

_REQUEST_Q = re.compile(r"^\s*what\b.*\b(?:ask|request|want|seek|demand|call|appeal|press|urge)\w*\b.*\bfor\s*\??\s*$",
                        re.IGNORECASE)
_REQUEST_VERB = re.compile(r"\b(?:ask(?:ed|s|ing)?|request(?:ed|s|ing)?|want(?:ed|s)?|s(?:ought|eeks?|eeking)|"
                           r"demand(?:ed|s)?|call(?:ed|s)? on|appeal(?:ed|s)?|press(?:ed)?|urg(?:ed|es))\b[^.;]*?\bfor\b",
                           re.IGNORECASE)
_ITEM_SPLIT = re.compile(r",?\s+and\s+(?:for\s+)?|,(?!\d)\s*(?:for\s+)?", re.IGNORECASE)
_ITEM_END = re.compile(r"\s+(?:to|that|which|who|able|so|in order|as|because|after|from)\b.*$", re.IGNORECASE)


def requested_items(question: str, sentence: str) -> list[tuple[int, int]]:
    """For "What did X ask (Y) for?": offsets of the things the sentence says were asked for, each cut to
    its noun phrase ("drones able to fly 1,000 km, for GPS scramblers ..." -> "drones", "GPS scramblers");
    [] for other questions or when the sentence names no request."""
    if not _REQUEST_Q.search(question):
        return []
    match = _REQUEST_VERB.search(sentence)
    if not match:
        return []
    tail_start = match.end()
    tail = sentence[tail_start:].rstrip(" .\"'\u201d")
    items: list[tuple[int, int]] = []
    position = 0
    for part in _ITEM_SPLIT.split(tail):
        at = tail.find(part, position)
        position = at + len(part)
        item = _ITEM_END.sub("", part).strip(" \"'\u201c\u201d")
        words = item.split()
        if words and words[0].islower() and words[0].endswith("ed"):
            break  # ", and urged Beijing to ...": a new clause, not one more thing asked for
        if not words or len(words) > 6 or set(tokenize(item)) <= _asked(question).words:
            continue
        begin = tail_start + tail.find(item, at)
        items.append((begin, begin + len(item)))
        if len(items) == 4:
            break
    return items
