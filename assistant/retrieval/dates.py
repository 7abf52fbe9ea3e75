"""A question's as-of date -> the filters it is retrieved with: nothing published after the as-of day, the
window a time expression implies ("this week", "in March"), else the day the recency prior counts from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from assistant.retrieval import defaults
from assistant.retrieval.timewindow import TimeWindow, parse_as_of, resolve_window
from index.storage.store import SearchFilters


@dataclass(frozen=True)
class DatePlan:
    """How a question's as-of date shapes its retrieval: the filters to search with, the window a time
    expression implied, and the day the recency prior counts from (None: no prior)."""

    filters: SearchFilters
    as_of: dt.date | None = None
    window: TimeWindow | None = None
    recency_as_of: dt.date | None = None


def plan_dates(question: str, filters: SearchFilters | None, as_of: dt.date | str | None, *,
               use_dates: bool = True, recency: bool = defaults.RECENCY_PRIOR,
               windows: bool = defaults.TIME_WINDOWS) -> DatePlan:
    """Nothing published after the as-of day (default today); a time expression in the question ("this
    week", "in March") narrows the window; without one the recency prior applies (when `recency`).
    `use_dates=False` ignores dates entirely (for comparison runs)."""
    filters = filters or SearchFilters()
    if not use_dates:
        return DatePlan(filters)
    day = parse_as_of(as_of)
    window = resolve_window(question, day) if windows else None
    since = window.start.isoformat() if window is not None else ""
    filters = replace(filters, as_of=day.isoformat(), since=since)
    return DatePlan(filters, day, window, day if window is None and recency else None)
