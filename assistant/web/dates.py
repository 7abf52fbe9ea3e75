"""The days people type into the app's *As of* box, read as dates, and said back in words.

Owns what the box accepts: empty (today), ISO `2023-02-03`, written dates in either order (`3 Feb 2023`,
`Feb 3, 2023`, `3 February`, the year defaulting to this one), numeric dates with slashes or dots when
they can only mean one day (`13/02/2023`; year first, `2023/02/03`, is always year-month-day), the presets the app offers (`today`,
`yesterday`, `a week ago`, `a month ago`, `N days/weeks/months ago`), and the one-line refusals: a numeric
date such as `03/02/2023` that could be 3 February or 2 March is refused with both readings named, not
guessed. Parsing is python-dateutil's; this module decides what counts as one unambiguous day. It does
not import Gradio nor know what the day is used for (see `assistant.retrieval.dates`).
"""

from __future__ import annotations

import datetime as dt
import re

from assistant.errors import AssistantError

PRESETS = (("Today", "today"), ("A week ago", "a week ago"), ("A month ago", "a month ago"))
EXAMPLES = "3 Feb 2023, 2023-02-03 or Feb 3, 2023"

_AGO = re.compile(r"^(?P<n>an?|one|two|three|four|five|six|\d{1,3})\s+(?P<unit>day|week|month|year)s?\s+ago$")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMERIC = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})$")


class DateNotUnderstood(AssistantError):
    """The as-of text is not one clear day; the message says why and what to type."""


def _months_back(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):  # the same day of the month, or that month's last day
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _relative(text: str, today: dt.date) -> dt.date | None:
    if text in ("today", "now"):
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    match = _AGO.match(text)
    if not match:
        return None
    n = _NUMBERS.get(match["n"]) or int(match["n"])
    unit = match["unit"]
    if unit == "day":
        return today - dt.timedelta(days=n)
    if unit == "week":
        return today - dt.timedelta(weeks=n)
    return _months_back(today, n * (12 if unit == "year" else 1))


def _numeric(text: str) -> dt.date | None:
    """`d/m/y` or `m/d/y`: a day only when one reading is possible (or both readings are the same day)."""
    match = _NUMERIC.match(text)
    if not match:
        return None
    a, b, year = int(match[1]), int(match[2]), int(match[3])
    if year < 100:
        year += 2000
    readings = []
    for day, month in ((a, b), (b, a)):
        try:
            readings.append(dt.date(year, month, day))
        except ValueError:
            continue
    readings = list(dict.fromkeys(readings))
    if not readings:
        raise DateNotUnderstood(f"{text!r} is not a date; type it like {EXAMPLES}")
    if len(readings) > 1:
        first, second = (f"{d.day} {d:%B %Y}" for d in readings)
        raise DateNotUnderstood(f"{text!r} could be {first} or {second}; type it with the month's name "
                                f"(like 3 Feb 2023) or as YYYY-MM-DD")
    return readings[0]


def understand_date(text: str | None, *, today: dt.date | None = None) -> dt.date:
    """The day `text` names ("" = today). Raises DateNotUnderstood with a one-line reason."""
    today = today or dt.date.today()
    raw = " ".join((text or "").split())
    lowered = raw.lower().rstrip(".")
    if not lowered:
        return today
    relative = _relative(lowered, today)
    if relative is not None:
        return relative
    iso = re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", lowered)  # year first: always y-m-d
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[3]), int(iso[4]))
    except ValueError:
        raise DateNotUnderstood(f"{raw!r} is not a real day (year-month-day); type it like {EXAMPLES}") from None
    numeric = _numeric(lowered)
    if numeric is not None:
        return numeric
    if not re.search(r"\d", lowered):
        raise DateNotUnderstood(f"{raw!r} does not name a day; type it like {EXAMPLES}, or pick a preset")
    from dateutil import parser

    # Two different defaults show which parts the text left out: a missing day is refused, a missing
    # year is this year.
    first, second = dt.datetime(today.year, 1, 1), dt.datetime(today.year, 2, 2)
    try:
        one = parser.parse(raw, default=first, dayfirst=True)
        two = parser.parse(raw, default=second, dayfirst=True)
    except (ValueError, OverflowError):
        raise DateNotUnderstood(f"{raw!r} is not a date; type it like {EXAMPLES}") from None
    if one.day != two.day:
        raise DateNotUnderstood(f"{raw!r} names no day of the month; type it like {EXAMPLES}")
    if one.month != two.month:
        raise DateNotUnderstood(f"{raw!r} names no month; type it like {EXAMPLES}")
    if one.time() != dt.time() and re.fullmatch(r"\d{1,2}", lowered):  # "3": read as a time, not a day
        raise DateNotUnderstood(f"{raw!r} is not a date; type it like {EXAMPLES}")
    return one.date()


def said_back(day: dt.date, *, today: dt.date | None = None) -> str:
    """'Friday 3 February 2023', with '(today)' / '(in the future)' when it is."""
    today = today or dt.date.today()
    words = f"{day:%A} {day.day} {day:%B %Y}"
    if day == today:
        return f"{words} (today)"
    if day > today:
        return f"{words} (later than today)"
    return words
