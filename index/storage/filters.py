"""What a search may return, defined once: `SearchFilters` (outlets, publication-day bounds) and the table of
its day bounds (`DAY_BOUNDS`), from which Chroma's `where` (`vectors._to_metadata_filters`), tantivy's query
(`LexicalIndex.search`) and the Python check (`passes`) are each translated. `tests/test_filter_parity.py`
checks that the three keep the same chunks for every field, undated articles included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchFilters:
    """What a search may return. `date_from`/`date_to` are the user's publication-date filter (undated
    articles fail `date_to`); `since`/`as_of` are the question's time awareness (the window a time
    expression implies, and the day it is asked): both keep undated articles, which are neutral."""

    sources: tuple[str, ...] = ()
    date_from: str = ""  # YYYY-MM-DD inclusive
    date_to: str = ""
    since: str = ""  # published on or after (or undated)
    as_of: str = ""  # published on or before (or undated)

    def __bool__(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.since or self.as_of)


def day_number(iso_date: str) -> int:
    """'2025-11-03' -> 20251103; 0 for unknown."""
    digits = iso_date[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


@dataclass(frozen=True)
class DayBound:
    """One publication-day field of `SearchFilters`, defined once: which side of the day it bounds, and
    whether undated chunks (day 0) pass it. Chroma's `where` (`vectors._to_metadata_filters`), tantivy's
    query (`LexicalIndex.search`) and the Python check (`passes`) all translate from `DAY_BOUNDS`."""

    field: str  # the SearchFilters attribute (YYYY-MM-DD)
    lower: bool  # True: published on or after the day; False: on or before it
    keeps_undated: bool  # the question's own time awareness keeps undated articles; a user's date filter not


DAY_BOUNDS = (
    DayBound("date_from", lower=True, keeps_undated=False),
    DayBound("date_to", lower=False, keeps_undated=False),
    DayBound("since", lower=True, keeps_undated=True),
    DayBound("as_of", lower=False, keeps_undated=True),
)


def day_bounds(filters: SearchFilters | None) -> list[tuple[DayBound, int]]:
    """The bounds `filters` sets, each with its day as a number (YYYYMMDD)."""
    if not filters:
        return []
    return [(b, day_number(getattr(filters, b.field))) for b in DAY_BOUNDS if getattr(filters, b.field)]


def passes(meta: dict[str, Any], filters: SearchFilters) -> bool:
    """`filters` applied to one chunk's metadata in Python (what `_to_metadata_filters` asks of Chroma)."""
    if filters.sources and meta.get("source") not in filters.sources:
        return False
    day = int(meta.get("published_day") or 0)
    for bound, value in day_bounds(filters):
        if not day:
            if not bound.keeps_undated:
                return False
        elif day < value if bound.lower else day > value:
            return False
    return True
