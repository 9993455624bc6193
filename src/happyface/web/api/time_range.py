"""Times as the API takes them: typed, never refused for being odd, clamped to what is stored.

The API's schema promises that any ISO 8601 time is accepted, so a time in year 1 or 9999 is
not an error: it is simply before the first run (404) or after the newest (the newest run).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ...durations import parse_duration
from ...instants import Interval
from ...storage.store import BEGINNING, END
from ..pages.timemachine import TimeQuery

DEFAULT_SPAN = timedelta(days=1)
ALL = (BEGINNING, END)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def iso_only(value: object) -> object:
    """An ISO 8601 time, or one relative to now as the pages take it (`-6h`, `-1d12h`).

    What pydantic would also take as a time (Unix seconds) is refused: the API speaks ISO 8601.
    """
    if isinstance(value, str) and value.startswith("-"):
        return _before_now(value)
    if not isinstance(value, str | datetime) or (
        isinstance(value, str) and not _ISO_DATE.match(value)
    ):
        raise ValueError(
            "expected an ISO 8601 time such as 2026-11-25T12:00:00Z, or -6h before now"
        )
    return value


def _before_now(text: str) -> datetime:
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text[1:]))
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is no time before now: write -6h, -2d or -1d12h") from None


def instant(value: datetime) -> datetime:
    """`value` as aware UTC, clamped to [1970, 9999]; naive times are UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # an offset pushing year 1 or 9999 out of range
        return BEGINNING if value.year < 5000 else END
    return min(max(value, BEGINNING), END)


def at_query(at: datetime | None, step: float) -> TimeQuery:
    """The time machine's query for an `at` parameter (None: live)."""
    return TimeQuery(None if at is None else instant(at), step)


def interval(start: datetime | None, end: datetime | None, now: datetime) -> Interval:
    """[start, end] with defaults: end now, start a day before end."""
    stop = instant(end) if end is not None else now
    begin = instant(start) if start is not None else max(stop - DEFAULT_SPAN, BEGINNING)
    return Interval(begin, stop)
