"""Since when: how long a module or a category has been in the status it shows.

Built from the stored status periods (`storage/periods.py`), read once per page, so a page
never scans history to say it. A duration is measured to the time shown: now on the live
view, the run's start in the time machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ...status import Status
from ...storage.periods import Period, Subject


@dataclass(frozen=True)
class SinceView:
    """Since when a status holds, and for how long by the time shown."""

    since: datetime
    seconds: float
    text: str  # "since 13:45 UTC (2 h 10 min)"


def duration_text(seconds: float) -> str:
    """A duration for people: "under a minute", "12 min", "2 h", "2 h 10 min", "3 d 4 h"."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def clock_text(moment: datetime, shown_at: datetime) -> str:
    """A time of day in UTC, with its date when it is not the day shown."""
    if moment.date() == shown_at.date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%d %b %H:%M UTC")


def since_view(period: Period | None, status: Status, shown_at: datetime) -> SinceView | None:
    """Since when `status` holds; None when the period on record is not of that status."""
    if period is None or period.status is not status:
        return None
    seconds = max(0.0, (shown_at - period.since).total_seconds())
    text = f"since {clock_text(period.since, shown_at)} ({duration_text(seconds)})"
    return SinceView(period.since, seconds, text)


def since_of(
    periods: Mapping[Subject, Period], kind: str, ident: str, status: Status, shown_at: datetime
) -> SinceView | None:
    """`since_view` of one subject looked up in a page's periods."""
    return since_view(periods.get((kind, ident)), status, shown_at)
