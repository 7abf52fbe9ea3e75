"""Time expressions in a news question, resolved against the day the question is asked (the as-of date).

Owns: reading the as-of date (`parse_as_of`) and turning the time expression in a question ("last week",
"on Tuesday", "in March 2024", "since 2020") into a publication window (`resolve_window`).
Does not: filter, rank or fetch anything (retrieval applies the window to article dates), and does not
read durations ("for three weeks"), future plans or vague words ("recently", "latest", "now", "currently").

The rule: the window is [start of the period the expression names, as-of date]. An article cannot report
an event before the period began, but it may report it any time after, up to the as-of day; an article
published after the as-of date is never used. A period that starts after the as-of date ("in 2027" asked
in 2026 is a plan, not a past event) gives no window. Week arithmetic counts back from the as-of day:
"this week" is the seven days up to and including it (as-of - 6), "last week" / "past week" the seven
before those (as-of - 13), "N weeks ago" as-of - (7N + 6). "past month/year" read like "last month/year".

Matching: case-insensitive whole words, except month names and bare weekday names, which count only
capitalised ("a march in Paris"); bare "May" counts only after in/since/of/last/this/early/late/mid or before
a day or year. A bare weekday or month is skipped next to a capitalised word ("Super Tuesday", "Black
Friday", "June Carter"); after on/last/past/this/since a weekday always counts. Years count only after
in/since/during/of/from, so "Euro 2024" and "COP27" give no window. When matches overlap the longest wins
("the day before yesterday" over "yesterday", "last Tuesday" over "Tuesday"); of the rest, the narrowest
window (latest start, then earliest in the question) wins. To support a new expression, add one entry to
`_RULES`: a compiled regex and a resolver (match, as-of) -> period start, or None for no window.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from assistant.errors import AssistantError

Date = datetime.date
Resolver = Callable[[re.Match[str], Date], Date | None]


class BadDateError(AssistantError):
    """The as-of date is neither "today" nor a valid YYYY-MM-DD date."""


@dataclass(frozen=True)
class TimeWindow:
    """Publication days an answering article may have: start..end inclusive (end is the as-of date)."""

    start: datetime.date
    end: datetime.date
    expression: str

    def label(self) -> str:
        where = "on" if self.start == self.end else "since"
        return f"{where} {self.start.isoformat()} ({self.expression})"


def parse_as_of(value: str | datetime.date | None, today: datetime.date | None = None) -> datetime.date:
    """None/""/"today" -> today (datetime.date.today() unless `today` given); "YYYY-MM-DD" -> that date;
    a date (or datetime) is taken as is. Anything else raises BadDateError with ONE line, e.g.:
    as-of date '2023-13-01' is not a valid YYYY-MM-DD date"""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = value.strip() if isinstance(value, str) else None
    if value is None or (text is not None and text.lower() in ("", "today")):
        return today if today is not None else datetime.date.today()
    if text is not None and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    shown = value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
    raise BadDateError(f"as-of date {shown!r} is not a valid YYYY-MM-DD date")


# fmt: off
_NUM_WORDS = ["a", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
              "twelve"]
_NUM = r"(\d{1,3}|" + "|".join(_NUM_WORDS) + r")"
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
# fmt: on
_MON = "(?P<mon>" + "|".join(_MONTHS) + ")"
_MON_NOT_MAY = "(?P<mon>" + "|".join(m for m in _MONTHS if m != "May") + ")"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD = "(?P<wd>" + "|".join(w.capitalize() for w in _WEEKDAYS) + ")"
_MONTH_LEAD = "in|since|of|last|this|early|late|mid|during|from"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})\b"
# Optional lead-in word, kept in the matched text ("since March 5"); it starts with \b or the pattern does.
_LEAD = r"(?:(?i:\b(?:in|on|since|during|of|from|early|late|mid)(?: |-))|\b)"


def _rx(pattern: str, ignore_case: bool = True) -> re.Pattern[str]:
    """Compile `pattern` with each literal space meaning any run of whitespace."""
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE if ignore_case else 0)


def _n(word: str) -> int:
    return int(word) if word.isdigit() else max(1, _NUM_WORDS.index(word.lower()))


def _back(days: int) -> Resolver:
    return lambda m, as_of: as_of - datetime.timedelta(days=days)


def _hours(m: re.Match[str], as_of: Date) -> Date:
    return as_of - datetime.timedelta(days=math.ceil(int(m[1]) / 24))


def _month_start(as_of: Date, months_back: int) -> Date:
    return as_of.replace(day=1) - relativedelta(months=months_back)


def _weekend(m: re.Match[str], as_of: Date) -> Date:
    back = (as_of.weekday() - 5) % 7  # most recent Saturday on or before as-of
    if m[1].lower() == "last" and as_of.weekday() >= 5:
        back += 7
    return as_of - datetime.timedelta(days=back)


def _weekday(m: re.Match[str], as_of: Date) -> Date:
    back = (as_of.weekday() - _WEEKDAYS.index(m["wd"].lower())) % 7
    if back == 0 and (m.groupdict().get("pre") or "").lower() in ("last", "past"):
        back = 7
    return as_of - datetime.timedelta(days=back)


def _standalone(m: re.Match[str]) -> bool:
    """False when a capitalised word comes right before: part of a name ("Ash Wednesday", "Black Friday")."""
    return re.search(r"\b[A-Z][\w'’-]*\s+$", m.string[: m.start()]) is None


def _year(m: re.Match[str], as_of: Date) -> Date | None:
    year = int(m["year"])
    return Date(year, 1, 1) if 1900 <= year <= as_of.year else None


def _calendar(m: re.Match[str], as_of: Date) -> Date | None:
    """Month forms: with a year (or this/last year) that month or day, None if it starts after as-of;
    without one the most recent such month (first day <= as-of) or day (<= as-of)."""
    g = m.groupdict()
    month = _MONTHS.index(g["mon"]) + 1
    day = int(g["day"]) if g.get("day") else None
    year = int(g["year"]) if g.get("year") else None
    if g.get("rel"):
        year = as_of.year - (g["rel"].lower() == "last")
    if year is not None:
        try:
            start = Date(year, month, day or 1)
        except ValueError:
            return None
        return start if start <= as_of else None
    if day is not None:
        for y in range(as_of.year, as_of.year - 9, -1):  # 9 years always include a 29 February
            try:
                start = Date(y, month, day)
            except ValueError:
                continue
            if start <= as_of:
                return start
        return None
    y = as_of.year if month <= as_of.month else as_of.year - 1
    if month == as_of.month and (g.get("pre") or "").lower() == "last":
        y -= 1
    return Date(y, month, 1)


_RULES: list[tuple[re.Pattern[str], Resolver]] = [
    (_rx(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b"), _back(0)),
    (_rx(r"\b(?:yesterday|last night)\b"), _back(1)),
    (_rx(r"\b(?:the )?day before yesterday\b"), _back(2)),
    (_rx(r"\b(?:last|past) (\d{1,3}) hours\b"), _hours),
    (_rx(r"\b(?:earlier )?this week\b"), _back(6)),
    (_rx(r"\b(?:last|past) week\b"), _back(13)),
    (_rx(rf"\b{_NUM} weeks? ago\b"), lambda m, d: d - datetime.timedelta(days=7 * _n(m[1]) + 6)),
    (_rx(rf"\b(?:last|past) {_NUM} weeks\b"), lambda m, d: d - datetime.timedelta(weeks=_n(m[1]))),
    (_rx(rf"\b{_NUM} days? ago\b"), lambda m, d: d - datetime.timedelta(days=_n(m[1]))),
    (_rx(rf"\b(?:last|past) {_NUM} days\b"), lambda m, d: d - datetime.timedelta(days=_n(m[1]))),
    (_rx(r"\b(this|last) weekend\b"), _weekend),
    (_rx(r"\b(?:earlier )?this month\b"), lambda m, d: _month_start(d, 0)),
    (_rx(r"\b(?:last|past) month\b"), lambda m, d: _month_start(d, 1)),
    (_rx(rf"\b{_NUM} months? ago\b"), lambda m, d: _month_start(d, _n(m[1]))),
    (_rx(rf"\b(?:last|past) {_NUM} months\b"), lambda m, d: d - relativedelta(months=_n(m[1]))),
    (_rx(r"\b(?:earlier )?this year\b"), lambda m, d: Date(d.year, 1, 1)),
    (_rx(r"\b(?:last|past) year\b"), lambda m, d: Date(d.year - 1, 1, 1)),
    (_rx(rf"\b{_NUM} years? ago\b"), lambda m, d: Date(d.year - _n(m[1]), 1, 1)),
    (_rx(r"\b(?:in|since|during|of|from) (?:(?:early|late|mid)[\s-]*)?" + _YEAR + r"(?![.,]?\d|%)"), _year),
    (_rx(rf"\b(?P<pre>last|past|on|this|since) {_WD}\b"), _weekday),
    (_rx(rf"\b{_WD}\b(?! [A-Z])", False), lambda m, d: _weekday(m, d) if _standalone(m) else None),
    (_rx(rf"{_LEAD}{_MON} {_DAY},? {_YEAR}", False), _calendar),
    (_rx(rf"{_LEAD}{_DAY} (?:of )?{_MON},? {_YEAR}", False), _calendar),
    (_rx(rf"{_LEAD}{_MON} {_DAY}\b", False), _calendar),
    (_rx(rf"{_LEAD}{_DAY} (?:of )?{_MON}\b", False), _calendar),
    (_rx(rf"{_LEAD}{_MON},? (?:of )?{_YEAR}", False), _calendar),
    (_rx(rf"{_LEAD}{_MON},? (?:of )?(?i:(?P<rel>this|last) year)\b", False), _calendar),
    (_rx(rf"(?i:\b(?P<pre>{_MONTH_LEAD})(?: |-)){_MON}\b", False), _calendar),
    (_rx(rf"\b{_MON_NOT_MAY}\b(?! [A-Z])", False), lambda m, d: _calendar(m, d) if _standalone(m) else None),
]


def resolve_window(question: str, as_of: datetime.date) -> TimeWindow | None:
    """The publication window a time expression in `question` implies, or None when it has none."""
    question = question or ""
    found = [(m, resolve) for pattern, resolve in _RULES for m in pattern.finditer(question)]
    found.sort(key=lambda f: (f[0].start() - f[0].end(), f[0].start()))  # longest first
    claimed = bytearray(len(question))  # 1 where a longer match already stands
    best: tuple[Date, int, str] | None = None
    for m, resolve in found:
        if any(claimed[m.start() : m.end()]):
            continue  # overlaps a longer match: "yesterday" inside "the day before yesterday"
        claimed[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        start = resolve(m, as_of)
        if start is None:
            continue
        candidate = (min(start, as_of), -m.start(), " ".join(m[0].split()))
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else TimeWindow(start=best[0], end=as_of, expression=best[2])
